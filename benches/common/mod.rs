//! Shared bench helpers: a deterministic generated corpus and the engine.
#![allow(dead_code)]

use ragsan::chunk::ChunkConfig;
use ragsan::fingerprint::{Fingerprinter, KeySource};
use ragsan::pipeline::Engine;
use ragsan::policy::Policy;
use ragsan::{Detectors, Limits};

pub fn engine() -> Engine {
    Engine {
        detectors: Detectors::embedded().expect("rules"),
        limits: Limits::default(),
        policy: Policy::default(),
        chunking: ChunkConfig::default(),
        fingerprinter: Fingerprinter::from_key(vec![7; 32], KeySource::Ephemeral),
        allow: Vec::new(),
        settings_digest: String::new(),
    }
}

/// A small deterministic PRNG so generated corpora are identical across runs.
pub struct Rng(u64);
impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed | 1)
    }
    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    pub fn pick<'a>(&mut self, xs: &'a [&'a str]) -> &'a str {
        xs[(self.next_u64() % xs.len() as u64) as usize]
    }
}

const WORDS: &[&str] = &[
    "the",
    "report",
    "describes",
    "quarterly",
    "results",
    "of",
    "our",
    "team",
    "and",
    "customers",
    "were",
    "happy",
    "with",
    "delivery",
    "times",
    "in",
    "each",
    "region",
    "while",
    "costs",
    "rose",
    "slightly",
    "because",
    "shipping",
    "partners",
    "changed",
    "their",
    "rates",
    "we",
    "expect",
    "growth",
    "next",
    "year",
    "system",
    "requirements",
    "include",
    "a",
    "modern",
    "browser",
    "please",
    "ignore",
    "the",
    "warning",
    "light",
    "if",
    "it",
    "flashes",
    "once",
    "assistant",
    "manager",
    "will",
    "review",
    "previous",
    "instructions",
    "for",
    "assembly",
    "are",
    "in",
    "chapter",
];

/// English-like prose of about `bytes` bytes, paragraphs of 5–9 sentences, *dense with trigger
/// words* (ignore, previous instructions, assistant, system requirements): the hard case.
pub fn prose(bytes: usize, seed: u64) -> String {
    prose_from(WORDS, bytes, seed)
}

fn prose_from(words: &[&str], bytes: usize, seed: u64) -> String {
    let mut r = Rng::new(seed);
    let mut s = String::with_capacity(bytes + 200);
    while s.len() < bytes {
        let sentences = 5 + r.next_u64() % 5;
        for _ in 0..sentences {
            let n = 8 + r.next_u64() % 14;
            for i in 0..n {
                let w = r.pick(words);
                if i == 0 {
                    let mut c = w.chars();
                    if let Some(f) = c.next() {
                        s.extend(f.to_uppercase());
                        s.push_str(c.as_str());
                    }
                } else {
                    s.push(' ');
                    s.push_str(w);
                }
            }
            s.push_str(". ");
        }
        s.push_str("\n\n");
    }
    s
}

const B62: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

pub fn token(r: &mut Rng, n: usize) -> String {
    (0..n).map(|_| B62[(r.next_u64() % 62) as usize] as char).collect()
}

/// Ordinary English prose with no trigger words: what most knowledge-base text looks like.
pub fn neutral_prose(bytes: usize, seed: u64) -> String {
    prose_from(NEUTRAL_WORDS, bytes, seed)
}

const NEUTRAL_WORDS: &[&str] = &[
    "the",
    "board",
    "approved",
    "a",
    "new",
    "budget",
    "for",
    "library",
    "renovation",
    "and",
    "staff",
    "moved",
    "books",
    "to",
    "temporary",
    "shelves",
    "in",
    "east",
    "wing",
    "while",
    "contractors",
    "replaced",
    "windows",
    "heating",
    "during",
    "summer",
    "months",
    "visitors",
    "can",
    "still",
    "borrow",
    "reserve",
    "titles",
    "online",
    "or",
    "at",
    "front",
    "desk",
    "opening",
    "hours",
    "remain",
    "same",
    "except",
    "on",
    "public",
    "holidays",
    "when",
    "building",
    "closes",
    "early",
    "children",
    "reading",
    "group",
    "meets",
    "every",
    "thursday",
    "afternoon",
    "with",
    "volunteers",
    "from",
    "local",
    "school",
    "who",
    "help",
    "younger",
    "readers",
    "choose",
    "stories",
    "their",
    "families",
    "enjoy",
];

/// Makes about `bytes` bytes of one input class from a seed.
pub type Generator = fn(usize, u64) -> String;

/// The generated input classes of the mixed corpus, each on its own (name, generator).
pub const CLASSES: &[(&str, Generator)] = &[
    ("prose", neutral_prose),
    ("trigger_prose", prose),
    ("code", code),
    ("json", json),
    ("logs", logs),
    ("lockfile", lockfile),
    ("base64_lines", base64_lines),
    ("planted_secrets", planted_secrets),
];

fn repeat_until(bytes: usize, seed: u64, mut f: impl FnMut(&mut Rng, &mut String)) -> String {
    let mut r = Rng::new(seed);
    let mut s = String::with_capacity(bytes + 4096);
    while s.len() < bytes {
        f(&mut r, &mut s);
    }
    s
}

pub fn code(bytes: usize, seed: u64) -> String {
    repeat_until(bytes, seed, push_code)
}
pub fn json(bytes: usize, seed: u64) -> String {
    repeat_until(bytes, seed, push_json)
}
pub fn logs(bytes: usize, seed: u64) -> String {
    repeat_until(bytes, seed, push_log)
}
pub fn lockfile(bytes: usize, seed: u64) -> String {
    repeat_until(bytes, seed, push_lockfile)
}
pub fn base64_lines(bytes: usize, seed: u64) -> String {
    repeat_until(bytes, seed, push_base64)
}
/// Config lines with planted (random, non-example) AWS key ids and e-mail addresses, between
/// ordinary log lines so the density stays realistic (one planted pair per ~4 lines).
pub fn planted_secrets(bytes: usize, seed: u64) -> String {
    repeat_until(bytes, seed, |r, s| {
        push_secret(r, s);
        push_log(r, s);
        push_json(r, s);
    })
}

fn push_code(r: &mut Rng, s: &mut String) {
    s.push_str(&format!(
        "fn handler(req: Request) -> Response {{\n    let id = req.param(\"id\");\n    let user = db.find(id)?;\n    Response::json(&user)\n}}\n// config {}\n",
        token(r, 12)
    ));
}
fn push_json(r: &mut Rng, s: &mut String) {
    s.push_str(&format!(
        "{{\"id\": \"{}\", \"name\": \"widget\", \"price\": {}, \"tags\": [\"a\", \"b\"], \"updated\": 1700000000{}}}\n",
        token(r, 24),
        r.next_u64() % 1000,
        r.next_u64() % 1000
    ));
}
fn push_log(r: &mut Rng, s: &mut String) {
    s.push_str(&format!(
        "2026-11-22T04:00:{:02}Z INFO request id={} path=/api/v1/items status=200 took={}ms\n",
        r.next_u64() % 60,
        token(r, 16),
        r.next_u64() % 500
    ));
}
fn push_lockfile(r: &mut Rng, s: &mut String) {
    s.push_str(&format!(
        "  integrity sha512-{}==\n  resolved \"https://registry.example/pkg/-/pkg-1.2.{}.tgz\"\n",
        token(r, 86),
        r.next_u64() % 10
    ));
}
fn push_base64(r: &mut Rng, s: &mut String) {
    s.push_str(&token(r, 76));
    s.push('\n');
}
fn push_secret(r: &mut Rng, s: &mut String) {
    s.push_str(&format!(
        "export AWS_ACCESS_KEY_ID=AKIA{}\ncontact: {}@mailbox-example.org\n",
        token(r, 16).to_uppercase().replace(['0', '1', '8', '9'], "Q"),
        token(r, 8).to_lowercase()
    ));
}

/// A mixed corpus: prose, code, JSON, logs, lockfile hashes, long base64 lines, planted secrets.
pub fn mixed(bytes: usize, seed: u64) -> String {
    let mut r = Rng::new(seed);
    let mut s = String::with_capacity(bytes + 4096);
    while s.len() < bytes {
        match r.next_u64() % 7 {
            0 => s.push_str(&prose(600, r.next_u64())),
            1 => push_code(&mut r, &mut s),
            2 => push_json(&mut r, &mut s),
            3 => push_log(&mut r, &mut s),
            4 => push_lockfile(&mut r, &mut s),
            5 => push_base64(&mut r, &mut s),
            _ => push_secret(&mut r, &mut s),
        }
    }
    s
}
