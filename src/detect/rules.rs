//! The rule file format: TOML data under `detectors/{injection,secrets,pii}/`.
//!
//! Rules are data, parsed once and validated strictly (`deny_unknown_fields`): a typo in a rule
//! file is an error at load, never a rule that silently never fires. Each rule's identity is a
//! digest of the fields that change behaviour, so re-scans know exactly which rules are new or
//! changed.

use crate::error::RuleError;
use crate::model::{Action, FindingKind, Severity};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// Which text a rule's pattern runs over.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Target {
    /// The extracted text as is (secrets and PII: case and punctuation matter).
    Raw,
    /// NFKC, case-folded, invisible characters removed, disguises undone (injection).
    Normalized,
}

/// Where a rule applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Scope {
    /// Visible and hidden text.
    #[default]
    Any,
    /// Only text a reader cannot see (weaker signals that matter only when hidden).
    Hidden,
}

/// One rule as written in a file.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleSpec {
    /// `kind.topic.name`, never reused for a different meaning.
    pub id: String,
    pub name: String,
    /// Short label used in redaction tokens and reports: `aws_access_key_id`, `override`.
    pub label: String,
    #[serde(default = "one")]
    pub version: u32,
    pub severity: Severity,
    pub action: Action,
    /// Literals, matched ASCII-case-insensitively, at least one of which must occur for the
    /// pattern to run. Empty only for rules that cannot have one (then the rule runs through
    /// the `RegexSet` pass).
    #[serde(default)]
    pub keywords: Vec<String>,
    /// A regex for the linear-time `regex` crate. Capture group `value` (or else group 1, or else
    /// the whole match) is the sensitive range. Empty only for model rules.
    #[serde(default)]
    pub pattern: String,
    /// A statistical model file (relative to the rule file's folder) scored instead of a regex;
    /// see `scorer.rs`. Its bytes are part of the rule digest.
    #[serde(default)]
    pub model: Option<String>,
    /// Decision threshold for `model` (logit).
    #[serde(default)]
    pub threshold: Option<f32>,
    #[serde(default)]
    pub target: Option<Target>,
    #[serde(default)]
    pub scope: Scope,
    /// Minimum Shannon entropy (bits per char) of the value.
    #[serde(default)]
    pub min_entropy: Option<f64>,
    /// A named checksum or structure validator (see `validators.rs`).
    #[serde(default)]
    pub validator: Option<String>,
    /// Regexes; a value matching any of them is a known-harmless value (documentation sample).
    #[serde(default)]
    pub allow: Vec<String>,
    /// A regex that must match within `context_window` bytes before or after the match.
    #[serde(default)]
    pub context: Option<String>,
    #[serde(default = "default_window")]
    pub context_window: usize,
    /// A regex run on the text just before a match (the normalised text for injection rules);
    /// when it matches, the text is describing an attack ("attackers tell models to …"), not
    /// making one, and the match is dropped.
    #[serde(default)]
    pub suppress_before: Option<String>,
    /// Confidence reported as the finding's score (0..=1).
    #[serde(default)]
    pub confidence: Option<f32>,
    #[serde(default)]
    pub description: String,
    pub examples: Vec<String>,
    pub negative_examples: Vec<String>,
    /// Free-form references (format documentation).
    #[serde(default)]
    pub references: Vec<String>,
}

fn one() -> u32 {
    1
}
fn default_window() -> usize {
    48
}

/// A named regex fragment that many rules share, defined once in a pack (`[[frame]]`) and used
/// as `{{name}}` inside a rule's `suppress_before`. The quoted-mention frame of the injection
/// rules ("such as", "attackers write", "tells the model to" …) was a near-copy in fifty-five
/// rules; one definition keeps them equal. Rules are expanded at load, so a rule's digest covers
/// the frame's text: changing a frame changes every rule that uses it, as a re-scan must know.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FrameSpec {
    pub name: String,
    pub pattern: String,
    #[serde(default)]
    pub description: Option<String>,
    /// Texts before a match (normalised: lower case) that the frame must recognise.
    #[serde(default)]
    pub suppresses: Vec<String>,
    /// Texts before a match that it must not.
    #[serde(default)]
    pub keeps: Vec<String>,
}

/// One parsed pack file: its rules and the frames it defines.
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PackFile {
    #[serde(default)]
    pub rule: Vec<RuleSpec>,
    #[serde(default)]
    pub frame: Vec<FrameSpec>,
}

/// Whether `name` may name a frame: an identifier, so that `{{name}}` cannot be read as regex
/// syntax (`\{{2}` is a valid pattern).
pub fn is_frame_name(name: &str) -> bool {
    let mut c = name.chars();
    c.next().is_some_and(|f| f.is_ascii_alphabetic() || f == '_') && c.all(|x| x.is_ascii_alphanumeric() || x == '_')
}

/// `text` with each `{{name}}` (an identifier between double braces) replaced by the pattern
/// of frame `name` in a group of its own, so a frame's alternatives can never leak into the
/// pattern around it. Any other `{{` is regex syntax and stays; an unknown name is an error of
/// rule `id`.
pub fn expand_frames(
    id: &str,
    text: &str,
    frames: &std::collections::HashMap<String, String>,
) -> Result<String, RuleError> {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find("{{") {
        let after = &rest[i + 2..];
        let name = after.find("}}").map(|j| &after[..j]).filter(|n| is_frame_name(n));
        let Some(name) = name else {
            // Not a marker: keep one brace and look again from the next.
            out.push_str(&rest[..=i]);
            rest = &rest[i + 1..];
            continue;
        };
        let Some(p) = frames.get(name) else {
            return Err(RuleError::Invalid { id: id.to_string(), msg: format!("unknown frame `{{{{{name}}}}}`") });
        };
        out.push_str(&rest[..i]);
        out.push_str("(?:");
        out.push_str(p);
        out.push(')');
        rest = &after[name.len() + 2..];
    }
    out.push_str(rest);
    Ok(out)
}

/// The fields that change behaviour, in canonical form, for the digest.
#[derive(Serialize)]
struct Canonical<'a> {
    id: &'a str,
    version: u32,
    kind: FindingKind,
    label: &'a str,
    severity: Severity,
    action: Action,
    keywords: Vec<String>,
    pattern: &'a str,
    target: Target,
    scope: Scope,
    min_entropy: Option<f64>,
    validator: &'a Option<String>,
    allow: &'a [String],
    context: &'a Option<String>,
    context_window: usize,
    suppress_before: &'a Option<String>,
    model: &'a Option<String>,
    threshold: Option<f32>,
}

impl RuleSpec {
    pub fn target_for(&self, kind: FindingKind) -> Target {
        self.target.unwrap_or(match kind {
            FindingKind::Injection => Target::Normalized,
            _ => Target::Raw,
        })
    }

    /// sha256 of the canonical behavioural fields.
    pub fn digest(&self, kind: FindingKind) -> String {
        let mut kw: Vec<String> = self.keywords.iter().map(|k| k.to_lowercase()).collect();
        kw.sort();
        let c = Canonical {
            id: &self.id,
            version: self.version,
            kind,
            label: &self.label,
            severity: self.severity,
            action: self.action,
            keywords: kw,
            pattern: &self.pattern,
            target: self.target_for(kind),
            scope: self.scope,
            min_entropy: self.min_entropy,
            validator: &self.validator,
            allow: &self.allow,
            context: &self.context,
            context_window: self.context_window,
            suppress_before: &self.suppress_before,
            model: &self.model,
            threshold: self.threshold,
        };
        let json = serde_json::to_vec(&c).unwrap_or_default();
        hex::encode(Sha256::digest(json))
    }
}

/// The rule kind a folder holds.
pub fn kind_for_dir(dir: &str) -> Option<FindingKind> {
    match dir {
        "injection" => Some(FindingKind::Injection),
        "secrets" | "secret" => Some(FindingKind::Secret),
        "pii" => Some(FindingKind::Pii),
        _ => None,
    }
}

/// Parses one rule file's text.
pub fn parse_file(name: &str, text: &str) -> Result<PackFile, RuleError> {
    toml::from_str(text).map_err(|e| RuleError::Parse { file: name.to_string(), msg: e.to_string() })
}

/// Parses one rule file from the JSON form `build.rs` writes for the embedded packs.
pub fn parse_json(name: &str, json: &str) -> Result<PackFile, RuleError> {
    serde_json::from_str(json).map_err(|e| RuleError::Parse { file: name.to_string(), msg: e.to_string() })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_expand_by_name_in_a_group_and_unknown_ones_are_errors() {
        let frames: std::collections::HashMap<String, String> =
            [("mention".to_string(), "such as$|e\\.g\\.$".to_string())].into_iter().collect();
        // In a group of its own: the frame's alternatives cannot leak into the pattern around it.
        assert_eq!(expand_frames("r", "zz{{mention}}|x$", &frames).unwrap(), "zz(?:such as$|e\\.g\\.$)|x$");
        assert_eq!(expand_frames("r", "{{{mention}}}", &frames).unwrap(), "{(?:such as$|e\\.g\\.$)}");
        // Braces that are not a marker are regex syntax (or a regex error the compiler reports).
        for kept in ["a{2,3}", "x{{2,3}}", r"\{{2}$", "{{mention"] {
            assert_eq!(expand_frames("r", kept, &frames).unwrap(), kept);
        }
        assert!(expand_frames("r", "{{nope}}", &frames).unwrap_err().to_string().contains("unknown frame `{{nope}}`"));
        let f = parse_file("f.toml", "[[frame]]\nname = \"m\"\npattern = 'x$'\nsuppresses = [\"x\"]\n").unwrap();
        assert_eq!((f.rule.len(), f.frame[0].name.as_str()), (0, "m"));
        assert!(parse_file("f.toml", "[[frame]]\nname = \"m\"\npatern = 'x'\n").is_err(), "typo in a frame");
    }

    #[test]
    fn unknown_fields_are_errors() {
        let t = r#"
[[rule]]
id = "x.y.z"
name = "n"
label = "l"
severity = "low"
action = "flag"
pattern = 'a'
examples = ["a"]
negative_examples = ["b"]
patern = "typo"
"#;
        assert!(parse_file("t.toml", t).is_err());
    }

    #[test]
    fn digest_changes_with_pattern_not_description() {
        let t = r#"
[[rule]]
id = "x.y.z"
name = "n"
label = "l"
severity = "low"
action = "flag"
pattern = 'a'
examples = ["a"]
negative_examples = ["b"]
"#;
        let mut r = parse_file("t.toml", t).unwrap().rule.remove(0);
        let d1 = r.digest(FindingKind::Secret);
        r.description = "changed".into();
        assert_eq!(d1, r.digest(FindingKind::Secret));
        r.pattern = "b".into();
        assert_ne!(d1, r.digest(FindingKind::Secret));
    }
}
