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

/// Most results written to one log.
pub const MAX_RESULTS: usize = 10_000;

fn level(s: Severity, a: Action) -> &'static str {
    match (a, s) {
        (Action::Quarantine, _) | (_, Severity::Critical | Severity::High) => "error",
        (_, Severity::Medium) => "warning",
        _ => "note",
    }
}

pub fn sarif(reports: &[FileReport], det: &Detectors) -> Value {
    let mut rules: BTreeMap<String, Value> = BTreeMap::new();
    let mut results = Vec::new();
    let mut truncated = false;
    for r in reports {
        let uri = r.path.replace('\\', "/");
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
                    "locations": [{"physicalLocation": {"artifactLocation": {"uri": uri}}}],
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
                    "physicalLocation": {"artifactLocation": {"uri": uri}},
                    "logicalLocations": f.location.as_ref().map(|o| vec![json!({"fullyQualifiedName": origin_name(o)})]).unwrap_or_default(),
                }],
                "partialFingerprints": {"ragsanFinding/v1": crate::chunk::sha256_hex(format!("{}\0{uri}\0{identity}", f.rule).as_bytes())},
                "properties": {"verdict": r.verdict, "extractedTextRange": [f.start, f.end], "visibility": f.visibility, "fingerprint": f.fingerprint},
            }));
        }
    }
    json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "ragsan",
                "version": TOOL_VERSION,
                "informationUri": "https://example.invalid/ragsan",
                "rules": rules.into_values().collect::<Vec<_>>(),
            }},
            "results": results,
            "properties": {"ruleset": det.digest(), "truncated": truncated, "maxResults": MAX_RESULTS},
        }],
    })
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
