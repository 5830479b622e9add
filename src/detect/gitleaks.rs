//! Import of gitleaks rule configurations (`gitleaks.toml`) as a ragsan rule file.
//!
//! Teams that already maintain gitleaks rules can reuse them: each `[[rules]]` entry becomes a
//! `[[rule]]` with id `secret.gitleaks.<id>`, its regex (RE2 syntax, which the `regex` crate
//! accepts almost entirely), `secretGroup` renamed to the `value` capture group, `entropy` as
//! `min_entropy`, `keywords` kept as the prefilter, and allowlist `regexes` and `stopwords`
//! (per rule and global) turned into `allow` patterns on the value.
//!
//! ragsan refuses rules without examples, and gitleaks rules have none. The converter therefore
//! *derives* one: it walks the regex's syntax tree and builds a matching string (random-looking
//! characters from each class, so entropy gates pass), then proves it by running the converted
//! rule through the real detect path. An example can also be given explicitly with a comment
//! line `# ragsan-example: <rule id> <text>` (and `# ragsan-negative: <rule id> <text>`) anywhere
//! in the gitleaks file. A rule for which no example fires, or whose regex the `regex` crate
//! rejects, is left out and listed in the header comment with the reason, so an import never
//! yields a file that fails to load. Path-only rules, `paths`/`commits` allowlists and
//! `regexTarget = "line"` cannot be expressed on extracted text and are noted, not applied.

use super::rules::RuleSpec;
use super::Detectors;
use crate::error::RuleError;
use crate::model::{Action, Severity};
use regex_syntax::hir::{Class, Hir, HirKind};
use serde::{Deserialize, Serialize};

/// Longest derived example; gitleaks patterns are token-sized.
const MAX_EXAMPLE: usize = 4096;
/// Depth cap when walking a regex syntax tree (the tree is user input).
const MAX_DEPTH: usize = 64;
/// Largest gitleaks file accepted.
const MAX_INPUT: usize = 8 << 20;

#[derive(Debug, Deserialize, Default)]
#[serde(default)]
struct Config {
    #[serde(rename = "rules")]
    rules: Vec<GlRule>,
    allowlist: Option<GlAllow>,
    allowlists: Vec<GlAllow>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(default)]
struct GlRule {
    id: String,
    description: String,
    regex: Option<String>,
    #[serde(rename = "secretGroup")]
    secret_group: Option<usize>,
    entropy: Option<f64>,
    keywords: Vec<String>,
    path: Option<String>,
    allowlist: Option<GlAllow>,
    allowlists: Vec<GlAllow>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(default)]
struct GlAllow {
    regexes: Vec<String>,
    stopwords: Vec<String>,
    paths: Vec<String>,
    commits: Vec<String>,
    #[serde(rename = "regexTarget")]
    regex_target: Option<String>,
    condition: Option<String>,
}

#[derive(Serialize)]
struct Out<'a> {
    rule: &'a [RuleSpec],
}

/// Converts a gitleaks config into ragsan rule-file TOML (to be saved under `secrets/`).
pub fn convert(gitleaks_toml: &str) -> Result<String, RuleError> {
    let parse_err = |msg: String| RuleError::Parse { file: "gitleaks.toml".into(), msg };
    if gitleaks_toml.len() > MAX_INPUT {
        return Err(parse_err(format!("larger than {MAX_INPUT} bytes")));
    }
    let cfg: Config = toml::from_str(gitleaks_toml).map_err(|e| parse_err(e.to_string()))?;
    let (given_pos, given_neg) = explicit_examples(gitleaks_toml);
    let mut notes: Vec<String> = Vec::new();

    let mut global_allow: Vec<String> = Vec::new();
    for a in cfg.allowlist.iter().chain(cfg.allowlists.iter()) {
        allow_patterns(a, "global allowlist", &mut global_allow, &mut notes);
    }

    let mut out: Vec<RuleSpec> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for r in &cfg.rules {
        let slug = slug(&r.id);
        if slug.is_empty() {
            notes.push("skipped a rule without an id".into());
            continue;
        }
        if !seen.insert(slug.clone()) {
            notes.push(format!("skipped duplicate id {}", r.id));
            continue;
        }
        let Some(regex) = r.regex.as_deref().filter(|x| !x.is_empty()) else {
            notes.push(format!("skipped {}: path-only rule (ragsan scans text, not file names)", r.id));
            continue;
        };
        if r.path.is_some() {
            notes.push(format!("{}: `path` condition ignored", r.id));
        }
        let pattern = match r.secret_group {
            Some(g) if g > 0 => match name_group(regex, g) {
                Some(p) => p,
                None => {
                    notes.push(format!("skipped {}: secretGroup {g} not found", r.id));
                    continue;
                }
            },
            _ => regex.to_string(),
        };
        if let Err(e) = regex::RegexBuilder::new(&pattern).size_limit(16 << 20).build() {
            let first = e.to_string().lines().last().unwrap_or("").to_string();
            notes.push(format!("skipped {}: regex not supported ({first})", r.id));
            continue;
        }
        let mut allow = global_allow.clone();
        for a in r.allowlist.iter().chain(r.allowlists.iter()) {
            allow_patterns(a, &r.id, &mut allow, &mut notes);
        }
        let keywords: Vec<String> = r.keywords.iter().map(|k| k.trim().to_string()).filter(|k| !k.is_empty()).collect();
        let id = format!("secret.gitleaks.{slug}");
        let mut spec = RuleSpec {
            id: id.clone(),
            name: if r.description.is_empty() { r.id.clone() } else { r.description.clone() },
            label: slug.replace('-', "_"),
            version: 1,
            severity: Severity::High,
            action: Action::Redact,
            keywords,
            pattern,
            target: None,
            scope: Default::default(),
            min_entropy: r.entropy.filter(|e| *e > 0.0),
            validator: None,
            allow,
            context: None,
            context_window: 48,
            confidence: None,
            description: format!("Imported from gitleaks rule `{}`.", r.id),
            examples: Vec::new(),
            negative_examples: Vec::new(),
            references: Vec::new(),
            suppress_before: None,
            model: None,
            threshold: None,
        };
        let mut pos: Vec<String> = given_pos.iter().filter(|(k, _)| *k == r.id).map(|(_, v)| v.clone()).collect();
        let neg: Vec<String> = given_neg.iter().filter(|(k, _)| *k == r.id).map(|(_, v)| v.clone()).collect();
        spec.negative_examples = if neg.is_empty() { vec!["nothing secret in this line".to_string()] } else { neg };
        if pos.is_empty() {
            pos = derive_candidates(&spec);
        }
        match first_working(&spec, &pos) {
            Ok(Some(ex)) => spec.examples = vec![ex],
            Ok(None) => {
                notes.push(format!("skipped {}: no example fires (add `# ragsan-example: {} <text>`)", r.id, r.id));
                continue;
            }
            Err(msg) => {
                notes.push(format!("skipped {}: {msg}", r.id));
                continue;
            }
        }
        out.push(spec);
    }

    let body = toml::to_string(&Out { rule: &out }).map_err(|e| parse_err(format!("serialising: {e}")))?;
    let mut text = String::from("# Converted from a gitleaks configuration by `ragsan rules import-gitleaks`.\n");
    text.push_str(&format!("# {} rule(s) converted.\n", out.len()));
    for n in &notes {
        text.push_str("# note: ");
        text.push_str(&n.replace('\n', " "));
        text.push('\n');
    }
    text.push('\n');
    text.push_str(&body);
    Ok(text)
}

/// `# ragsan-example: <id> <text>` and `# ragsan-negative: <id> <text>` comment lines.
/// `(rule id, text)` pairs.
type Given = Vec<(String, String)>;

fn explicit_examples(src: &str) -> (Given, Given) {
    let mut pos = Vec::new();
    let mut neg = Vec::new();
    for line in src.lines() {
        let l = line.trim_start();
        let (rest, into) = if let Some(r) = l.strip_prefix("# ragsan-example:") {
            (r, &mut pos)
        } else if let Some(r) = l.strip_prefix("# ragsan-negative:") {
            (r, &mut neg)
        } else {
            continue;
        };
        let rest = rest.trim_start();
        if let Some((id, text)) = rest.split_once(char::is_whitespace) {
            into.push((id.to_string(), text.trim().to_string()));
        }
    }
    (pos, neg)
}

fn allow_patterns(a: &GlAllow, owner: &str, allow: &mut Vec<String>, notes: &mut Vec<String>) {
    if a.regex_target.as_deref().is_some_and(|t| t != "secret") {
        notes.push(format!(
            "{owner}: regexTarget `{}` applied to the secret value only",
            a.regex_target.as_deref().unwrap_or("")
        ));
    }
    if a.condition.as_deref().is_some_and(|c| c.eq_ignore_ascii_case("AND")) {
        notes.push(format!("{owner}: condition AND not supported; entries applied independently"));
    }
    for r in &a.regexes {
        if regex::Regex::new(r).is_ok() {
            allow.push(r.clone());
        } else {
            notes.push(format!("{owner}: allowlist regex not supported, dropped"));
        }
    }
    for w in &a.stopwords {
        if !w.is_empty() {
            allow.push(format!("(?i){}", regex::escape(w)));
        }
    }
    if !a.paths.is_empty() {
        notes.push(format!("{owner}: allowlist paths ignored (no file paths at detect time)"));
    }
    if !a.commits.is_empty() {
        notes.push(format!("{owner}: allowlist commits ignored"));
    }
}

fn slug(id: &str) -> String {
    id.trim()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || c == '-' || c == '_' { c.to_ascii_lowercase() } else { '_' })
        .collect()
}

/// Renames capture group `n` (counted like RE2: by opening parenthesis) to `value`.
fn name_group(p: &str, n: usize) -> Option<String> {
    let b = p.as_bytes();
    let mut count = 0usize;
    let mut i = 0usize;
    let mut class_depth = 0usize;
    while i < b.len() {
        let c = b[i];
        if c == b'\\' {
            i += 2;
            continue;
        }
        if class_depth > 0 {
            if c == b'[' && b.get(i + 1) == Some(&b':') {
                // POSIX class `[:alpha:]` inside a bracket expression.
                if let Some(end) = p[i..].find(":]") {
                    i += end + 2;
                    continue;
                }
            }
            if c == b'[' {
                class_depth += 1;
            } else if c == b']' {
                class_depth -= 1;
            }
            i += 1;
            continue;
        }
        if c == b'[' {
            class_depth = 1;
            i += 1;
            // A `]` right after `[` or `[^` is a literal.
            if b.get(i) == Some(&b'^') {
                i += 1;
            }
            if b.get(i) == Some(&b']') {
                i += 1;
            }
            continue;
        }
        if c == b'(' {
            let rest = &p[i + 1..];
            let named = rest.strip_prefix("?P<").or_else(|| rest.strip_prefix("?<"));
            if let Some(after) = named {
                count += 1;
                if count == n {
                    let close = after.find('>')?;
                    let name_start = i + 1 + (rest.len() - after.len());
                    return Some(format!("{}?P<value>{}", &p[..i + 1], &p[name_start + close + 1..]));
                }
            } else if !rest.starts_with('?') {
                count += 1;
                if count == n {
                    return Some(format!("{}?P<value>{}", &p[..i + 1], rest));
                }
            }
        }
        i += 1;
    }
    None
}

/// Candidate example texts for a rule: a string derived from its regex, bare and with the
/// first keyword in front (some rules need the keyword, some anchor at the start).
fn derive_candidates(spec: &RuleSpec) -> Vec<String> {
    let Ok(hir) = regex_syntax::ParserBuilder::new().build().parse(&spec.pattern) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for seed in [0x9e37_79b9_7f4a_7c15u64, 0x2545_f491_4f6c_dd1d, 0xdead_beef_cafe_f00d] {
        let mut rng = Rng(seed ^ fnv(&spec.id));
        let mut s = String::new();
        if gen(&hir, &mut rng, &mut s, 0).is_none() {
            continue;
        }
        let kw = spec.keywords.first().cloned().unwrap_or_default();
        out.push(s.clone());
        if !kw.is_empty() {
            out.push(format!("{kw} = \"{s}\""));
            out.push(format!("{kw} {s}"));
        }
        out.push(format!("{s}\n"));
    }
    out
}

fn first_working(spec: &RuleSpec, candidates: &[String]) -> Result<Option<String>, String> {
    let check = |examples: Vec<String>| -> Result<Option<bool>, String> {
        let mut s = spec.clone();
        s.examples = examples;
        let text = toml::to_string(&Out { rule: &[s] }).map_err(|e| e.to_string())?;
        let d = Detectors::from_files(vec![("secrets/gitleaks.toml".into(), text)]).map_err(|e| e.to_string())?;
        let Some(ex) = d.rules().first().and_then(|r| r.spec.examples.first()) else {
            return Ok(None);
        };
        let fires = !d.scan(ex).is_empty();
        let neg_quiet =
            d.rules().first().map(|r| r.spec.negative_examples.iter().all(|n| d.scan(n).is_empty())).unwrap_or(false);
        if !neg_quiet {
            return Err("a negative example fires".into());
        }
        Ok(Some(fires))
    };
    for c in candidates {
        if c.is_empty() || c.len() > MAX_EXAMPLE {
            continue;
        }
        if check(vec![c.clone()])? == Some(true) {
            return Ok(Some(c.clone()));
        }
    }
    Ok(None)
}

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        // xorshift64*: deterministic, so re-imports give identical files.
        let mut x = self.0.max(1);
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next() % n as u64) as usize
        }
    }
}

fn fnv(s: &str) -> u64 {
    s.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| (h ^ b as u64).wrapping_mul(0x100_0000_01b3))
}

/// Appends one string matched by `h`; `None` when the tree is too deep or the output too long.
fn gen(h: &Hir, rng: &mut Rng, out: &mut String, depth: usize) -> Option<()> {
    if depth > MAX_DEPTH || out.len() > MAX_EXAMPLE {
        return None;
    }
    match h.kind() {
        HirKind::Empty | HirKind::Look(_) => {}
        HirKind::Literal(l) => out.push_str(std::str::from_utf8(&l.0).ok()?),
        HirKind::Class(c) => out.push(pick(c, rng)?),
        HirKind::Repetition(r) => {
            let max = r.max.unwrap_or(u32::MAX);
            let n = if r.min == 0 { 0 } else { 24u32.clamp(r.min, max.max(r.min)) };
            for _ in 0..n.min(MAX_EXAMPLE as u32) {
                gen(&r.sub, rng, out, depth + 1)?;
            }
        }
        HirKind::Capture(c) => gen(&c.sub, rng, out, depth + 1)?,
        HirKind::Concat(v) => {
            for x in v {
                gen(x, rng, out, depth + 1)?;
            }
        }
        HirKind::Alternation(v) => gen(v.first()?, rng, out, depth + 1)?,
    }
    Some(())
}

/// A random member of the class, preferring ASCII letters and digits (so derived values look
/// like tokens and pass entropy gates), then other printable ASCII, then the first member.
fn pick(c: &Class, rng: &mut Rng) -> Option<char> {
    let ranges: Vec<(u32, u32)> = match c {
        Class::Unicode(u) => u.ranges().iter().map(|r| (r.start() as u32, r.end() as u32)).collect(),
        Class::Bytes(b) => {
            b.ranges().iter().map(|r| (r.start() as u32, r.end().min(0x7f) as u32)).filter(|(a, z)| a <= z).collect()
        }
    };
    let member = |ch: u32| ranges.iter().any(|&(a, z)| a <= ch && ch <= z);
    let alnum: Vec<char> = ('0'..='9').chain('a'..='z').chain('A'..='Z').filter(|&ch| member(ch as u32)).collect();
    if !alnum.is_empty() {
        return alnum.get(rng.below(alnum.len())).copied();
    }
    let printable: Vec<char> = (0x21u8..0x7f).map(char::from).filter(|&ch| member(ch as u32)).collect();
    if !printable.is_empty() {
        return printable.get(rng.below(printable.len())).copied();
    }
    ranges.first().and_then(|&(a, _)| char::from_u32(a))
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = r#"
title = "team rules"

[allowlist]
description = "global"
regexes = ['''^test_''']
paths = ['''vendor/''']

[[rules]]
id = "acme-api-key"
description = "ACME API key"
regex = '''\b(acme_[a-z0-9]{32})\b'''
secretGroup = 1
entropy = 3.0
keywords = ["acme_"]

[[rules]]
id = "widget-token"
description = "Widget token assigned to a variable"
regex = '''(?i)widget(?:.{0,20})(?:token|key)(?:\s*[:=]\s*)['"]?([A-Z0-9]{24})['"]?'''
secretGroup = 1
keywords = ["widget"]
[rules.allowlist]
stopwords = ["sampletoken"]

# ragsan-example: zeta-key ZETA-1234-ABCD-5678-EFGH
[[rules]]
id = "zeta-key"
regex = '''ZETA-\d{4}-[A-Z]{4}-\d{4}-[A-Z]{4}'''
keywords = ["zeta-"]

[[rules]]
id = "pkcs12-file"
path = '''\.p12$'''

[[rules]]
id = "lookbehind"
regex = '''(?<=key=)[a-z]{10}'''
"#;

    #[test]
    fn converts_and_loads() {
        let text = convert(SAMPLE).expect("converts");
        let d =
            Detectors::from_files(vec![("secrets/gitleaks.toml".into(), text.clone())]).expect("converted rules load");
        let ids: Vec<&str> = d.rules().iter().map(|r| r.id()).collect();
        assert_eq!(
            ids,
            vec!["secret.gitleaks.acme-api-key", "secret.gitleaks.widget-token", "secret.gitleaks.zeta-key"]
        );
        assert!(text.contains("path-only rule"));
        assert!(text.contains("skipped lookbehind"));
        assert!(text.contains("allowlist paths ignored"));
        // Secret group became the `value` group; entropy became min_entropy.
        let acme = &d.rules()[0];
        assert!(acme.spec.pattern.contains("(?P<value>acme_"));
        assert_eq!(acme.spec.min_entropy, Some(3.0));
        // The explicit example was used verbatim.
        assert_eq!(d.rules()[2].spec.examples, vec!["ZETA-1234-ABCD-5678-EFGH"]);
    }

    #[test]
    fn converted_rules_detect_and_respect_allowlists() {
        let d = Detectors::from_files(vec![("secrets/gitleaks.toml".into(), convert(SAMPLE).unwrap())]).unwrap();
        let m = d.scan("x acme_9f8e7d6c5b4a39281706f5e4d3c2b1a0 y");
        assert_eq!(m.len(), 1);
        assert_eq!(
            &"x acme_9f8e7d6c5b4a39281706f5e4d3c2b1a0 y"[m[0].start..m[0].end],
            "acme_9f8e7d6c5b4a39281706f5e4d3c2b1a0"
        );
        // Global allowlist regex on the value.
        assert!(d.scan("test_").is_empty());
        // Stopword from the rule allowlist.
        assert!(!d.scan("WIDGET_TOKEN = 'Q7W3E9R1T5Y8U2I4O6P0A3S5'").is_empty());
        assert!(d.scan("widget token = SAMPLETOKENSAMPLETOKEN1234").is_empty());
    }

    #[test]
    fn group_naming() {
        assert_eq!(name_group(r"(a)(b)", 2).as_deref(), Some("(a)(?P<value>b)"));
        assert_eq!(name_group(r"(?:x)[(]\((?P<k>y)", 1).as_deref(), Some(r"(?:x)[(]\((?P<value>y)"));
        assert_eq!(name_group(r"(a)", 3), None);
    }

    #[test]
    fn bad_input_is_an_error() {
        assert!(convert("[[rules]\nid=").is_err());
        let empty = convert("").unwrap();
        assert!(empty.contains("0 rule(s) converted"));
    }
}
