//! SARIF 2.1.0 output for code-scanning dashboards.
//!
//! One result per finding (and one per intake rejection), with stable `partialFingerprints`
//! built from the rule, the path and the value's keyed fingerprint (or its offsets), so a
//! dashboard tracks the same finding across runs. Messages never contain matched values.
//! Results are capped; the run says when it was truncated.

use crate::detect::Detectors;
use crate::model::*;
use crate::report::{FileReport, TOOL_VERSION};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::path::Path;

/// Most results written to one log.
pub const MAX_RESULTS: usize = 10_000;

fn level(s: Severity, a: Action) -> &'static str {
    match (a, s) {
        (Action::Quarantine, _) | (_, Severity::Critical | Severity::High) => "error",
        (_, Severity::Medium) => "warning",
        _ => "note",
    }
}

/// The SARIF log for `reports`. `base` (the working directory, symlinks resolved) becomes
/// `%SRCROOT%`: files under it are named relative to it, so locations and fingerprints do not
/// depend on where the tree is checked out; any other file gets an absolute `file:` URI.
pub fn sarif(reports: &[FileReport], det: &Detectors, base: Option<&Path>) -> Value {
    let mut rules: BTreeMap<String, Value> = BTreeMap::new();
    let mut results = Vec::new();
    let mut truncated = false;
    for r in reports {
        let (uri, location) = artifact(&r.path, base);
        if r.findings.is_empty() && r.verdict == VerdictKind::Quarantined {
            let reason = r.reason.map_or("quarantined", Reason::as_str);
            let id = format!("intake.{reason}");
            rules.entry(id.clone()).or_insert_with(|| {
                json!({"id": id, "name": reason, "shortDescription": {"text": format!("File quarantined at intake: {reason}")}})
            });
            if results.len() < MAX_RESULTS {
                results.push(json!({
                    "ruleId": id,
                    "level": "error",
                    "message": {"text": format!("Quarantined ({reason}): {}", r.detail.as_deref().unwrap_or(""))},
                    "locations": [{"physicalLocation": {"artifactLocation": location}}],
                    "partialFingerprints": {"ragsanFinding/v1": crate::chunk::sha256_hex(format!("{id}\0{uri}\0{}", r.sha256.as_deref().unwrap_or("")).as_bytes())},
                }));
            } else {
                truncated = true;
            }
            continue;
        }
        for f in &r.findings {
            rules.entry(f.rule.clone()).or_insert_with(|| {
                let spec = det.rules().iter().find(|x| x.spec.id == f.rule).map(|x| &x.spec);
                json!({
                    "id": f.rule,
                    "name": spec.map_or(f.label.as_str(), |s| s.name.as_str()),
                    "shortDescription": {"text": spec.map_or(f.label.clone(), |s| s.name.clone())},
                    "fullDescription": {"text": spec.map_or(String::new(), |s| s.description.clone())},
                    "properties": {"kind": f.kind, "severity": f.severity, "action": f.action, "version": f.rule_version},
                })
            });
            if results.len() >= MAX_RESULTS {
                truncated = true;
                continue;
            }
            let hidden: Vec<&str> = f.visibility.reasons().map(Hidden::as_str).collect();
            let mut msg = format!("{} {} ({})", f.kind.as_str(), f.label, f.rule);
            if !hidden.is_empty() {
                msg.push_str(&format!(" in hidden text: {}", hidden.join(", ")));
            }
            let identity = f.fingerprint.clone().unwrap_or_else(|| format!("{}:{}", f.start, f.end));
            results.push(json!({
                "ruleId": f.rule,
                "level": level(f.severity, f.action),
                "message": {"text": msg},
                "locations": [{
                    "physicalLocation": {"artifactLocation": location},
                    "logicalLocations": f.location.as_ref().map(|o| vec![json!({"fullyQualifiedName": origin_name(o)})]).unwrap_or_default(),
                }],
                "partialFingerprints": {"ragsanFinding/v1": crate::chunk::sha256_hex(format!("{}\0{uri}\0{identity}", f.rule).as_bytes())},
                "properties": {"verdict": r.verdict, "extractedTextRange": [f.start, f.end], "visibility": f.visibility, "fingerprint": f.fingerprint},
            }));
        }
    }
    let mut run = json!({
        "tool": {"driver": {
            "name": "ragsan",
            "version": TOOL_VERSION,
            "informationUri": "https://example.invalid/ragsan",
            "rules": rules.into_values().collect::<Vec<_>>(),
        }},
        "results": results,
        "properties": {"ruleset": det.digest(), "truncated": truncated, "maxResults": MAX_RESULTS},
    });
    if let Some(b) = base {
        let mut root = file_uri(b);
        if !root.ends_with('/') {
            root.push('/');
        }
        run["originalUriBaseIds"] = json!({SRCROOT: {"uri": root}});
    }
    json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [run],
    })
}

const SRCROOT: &str = "%SRCROOT%";

/// The URI that names `path` in results (also what fingerprints are built from) and its
/// `artifactLocation`.
fn artifact(path: &str, base: Option<&Path>) -> (String, Value) {
    let p = Path::new(path);
    if let Some(rel) = base.and_then(|b| p.strip_prefix(b).ok()).filter(|r| !r.as_os_str().is_empty()) {
        let uri = encode(&rel.to_string_lossy().replace('\\', "/"));
        return (uri.clone(), json!({"uri": uri, "uriBaseId": SRCROOT}));
    }
    let uri = if p.is_absolute() { file_uri(p) } else { encode(&path.replace('\\', "/")) };
    (uri.clone(), json!({"uri": uri}))
}

/// A `file:` URI for an absolute path; a directory's ends with `/` as SARIF base URIs must.
fn file_uri(p: &Path) -> String {
    let s = p.to_string_lossy().replace('\\', "/");
    format!("file://{}{}", if s.starts_with('/') { "" } else { "/" }, encode(&s))
}

/// Percent-encodes what may not stand in a URI path (RFC 3986 `pchar` and `/` stay).
fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~!$&'()*+,;=:@/".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn origin_name(o: &Origin) -> String {
    let mut parts = Vec::new();
    if let Some(p) = o.page {
        parts.push(format!("page {p}"));
    }
    if let Some(p) = &o.part {
        parts.push(p.clone());
    }
    if let Some(e) = &o.element {
        parts.push(e.clone());
    }
    parts.join(" / ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn artifacts_under_the_base_are_relative_and_others_absolute_file_uris() {
        let base = Path::new("/srv/rag");
        let (uri, loc) = artifact("/srv/rag/hr/pay slip#1.pdf", Some(base));
        assert_eq!(uri, "hr/pay%20slip%231.pdf");
        assert_eq!(loc, json!({"uri": "hr/pay%20slip%231.pdf", "uriBaseId": "%SRCROOT%"}));
        // A sibling whose name merely starts like the base is not under it.
        let (uri, loc) = artifact("/srv/ragged/a.txt", Some(base));
        assert_eq!(uri, "file:///srv/ragged/a.txt");
        assert!(loc.get("uriBaseId").is_none());
        assert_eq!(artifact("/srv/rag/a.txt", None).0, "file:///srv/rag/a.txt");
        assert_eq!(artifact("rel/a b.txt", None).0, "rel/a%20b.txt");
        assert_eq!(encode("é%?"), "%C3%A9%25%3F");
        assert_eq!(file_uri(Path::new("/")), "file:///");
    }
}
