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

/// English-like prose of about `bytes` bytes, paragraphs of 5–9 sentences.
pub fn prose(bytes: usize, seed: u64) -> String {
    let mut r = Rng::new(seed);
    let mut s = String::with_capacity(bytes + 200);
    while s.len() < bytes {
        let sentences = 5 + r.next_u64() % 5;
        for _ in 0..sentences {
            let n = 8 + r.next_u64() % 14;
            for i in 0..n {
                let w = r.pick(WORDS);
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

/// A mixed corpus: prose, code, JSON, logs, lockfile hashes, long base64 lines, planted secrets.
pub fn mixed(bytes: usize, seed: u64) -> String {
    let mut r = Rng::new(seed);
    let mut s = String::with_capacity(bytes + 4096);
    while s.len() < bytes {
        match r.next_u64() % 7 {
            0 => s.push_str(&prose(600, r.next_u64())),
            1 => s.push_str(&format!(
                "fn handler(req: Request) -> Response {{\n    let id = req.param(\"id\");\n    let user = db.find(id)?;\n    Response::json(&user)\n}}\n// config {}\n",
                token(&mut r, 12)
            )),
            2 => s.push_str(&format!(
                "{{\"id\": \"{}\", \"name\": \"widget\", \"price\": {}, \"tags\": [\"a\", \"b\"], \"updated\": 1700000000{}}}\n",
                token(&mut r, 24),
                r.next_u64() % 1000,
                r.next_u64() % 1000
            )),
            3 => s.push_str(&format!(
                "2026-11-22T04:00:{:02}Z INFO request id={} path=/api/v1/items status=200 took={}ms\n",
                r.next_u64() % 60,
                token(&mut r, 16),
                r.next_u64() % 500
            )),
            4 => s.push_str(&format!(
                "  integrity sha512-{}==\n  resolved \"https://registry.example/pkg/-/pkg-1.2.{}.tgz\"\n",
                token(&mut r, 86),
                r.next_u64() % 10
            )),
            5 => {
                s.push_str(&token(&mut r, 76));
                s.push('\n');
            }
            _ => s.push_str(&format!(
                "export AWS_ACCESS_KEY_ID=AKIA{}\ncontact: {}@mailbox-example.org\n",
                token(&mut r, 16).to_uppercase().replace(['0', '1', '8', '9'], "Q"),
                token(&mut r, 8).to_lowercase()
            )),
        }
    }
    s
}
