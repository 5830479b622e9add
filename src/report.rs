//! Per-file verdict records and the end-of-run summary.
//!
//! A [`FileReport`] is the verdict JSON of `check` and one line of a scan's NDJSON report: every
//! input gets exactly one. It holds offsets, labels and fingerprints, never a matched value.

use crate::model::*;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::io::Write;

pub const TOOL_VERSION: &str = env!("CARGO_PKG_VERSION");

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct FileReport {
    pub path: String,
    /// sha256 of the original bytes (absent when the file could not be read).
    pub sha256: Option<String>,
    pub size: Option<u64>,
    /// Detected type (absent when rejected before identification).
    pub kind: Option<DocKind>,
    pub verdict: VerdictKind,
    pub reason: Option<Reason>,
    /// Human-readable, value-free explanation of the reason (which limit, which mismatch).
    pub detail: Option<String>,
    pub findings: Vec<Finding>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub signals: Vec<Signal>,
    /// Chunks the sanitized text splits into (what `scan` indexes; 0 when quarantined).
    pub chunks: u32,
    pub redactions: u32,
    /// Findings suppressed by allowlist entries or quarantine releases (counted, not shown).
    #[serde(default)]
    pub suppressed: u32,
    /// Bytes of extracted text a reader would not see (kept out of the index).
    pub hidden_bytes: u64,
    pub ruleset: String,
    pub tool_version: String,
    pub extractor: String,
    pub elapsed_ms: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quarantine_id: Option<String>,
}

impl FileReport {
    pub fn has_findings(&self) -> bool {
        self.verdict != VerdictKind::Clean
    }
}

/// Counts for the end-of-run summary.
#[derive(Debug, Default, Clone, Serialize)]
pub struct Summary {
    pub files: u64,
    pub bytes: u64,
    pub chunks: u64,
    pub redactions: u64,
    pub suppressed: u64,
    pub by_verdict: BTreeMap<String, u64>,
    pub by_reason: BTreeMap<String, u64>,
    /// rule id → (files, findings)
    pub by_rule: BTreeMap<String, (u64, u64)>,
    pub elapsed_ms: u64,
    pub ruleset: String,
    /// The run was stopped by a signal before every file was judged; what was judged is committed.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub interrupted: bool,
}

impl Summary {
    pub fn add(&mut self, r: &FileReport) {
        self.files += 1;
        self.bytes += r.size.unwrap_or(0);
        self.chunks += u64::from(r.chunks);
        self.redactions += u64::from(r.redactions);
        self.suppressed += u64::from(r.suppressed);
        *self.by_verdict.entry(r.verdict.as_str().to_string()).or_default() += 1;
        if let Some(reason) = r.reason {
            *self.by_reason.entry(reason.as_str().to_string()).or_default() += 1;
        }
        let mut seen = std::collections::BTreeSet::new();
        for f in &r.findings {
            let e = self.by_rule.entry(f.rule.clone()).or_default();
            e.1 += 1;
            if seen.insert(f.rule.as_str()) {
                e.0 += 1;
            }
        }
    }

    pub fn any_findings(&self) -> bool {
        self.by_verdict.iter().any(|(k, v)| k != "clean" && *v > 0)
    }

    pub fn write_human(&self, w: &mut dyn Write) -> std::io::Result<()> {
        let secs = self.elapsed_ms as f64 / 1000.0;
        let mb = self.bytes as f64 / 1e6;
        writeln!(
            w,
            "\n{} files, {:.2} MB in {:.2} s ({:.1} files/s, {:.2} MB/s); {} chunks indexed, {} redactions",
            self.files,
            mb,
            secs,
            self.files as f64 / secs.max(1e-3),
            mb / secs.max(1e-3),
            self.chunks,
            self.redactions
        )?;
        let v = |k: &str| self.by_verdict.get(k).copied().unwrap_or(0);
        writeln!(
            w,
            "verdicts: {} clean, {} flagged, {} redacted, {} quarantined",
            v("clean"),
            v("flagged"),
            v("redacted"),
            v("quarantined")
        )?;
        if !self.by_reason.is_empty() {
            let reasons: Vec<String> = self.by_reason.iter().map(|(k, n)| format!("{k} {n}")).collect();
            writeln!(w, "quarantine reasons: {}", reasons.join(", "))?;
        }
        if !self.by_rule.is_empty() {
            writeln!(w, "\n{:<48} {:>7} {:>9}", "rule", "files", "findings")?;
            for (rule, (files, n)) in &self.by_rule {
                writeln!(w, "{rule:<48} {files:>7} {n:>9}")?;
            }
        }
        if self.suppressed > 0 {
            writeln!(w, "{} findings suppressed by allowlist entries or releases", self.suppressed)?;
        }
        writeln!(w, "ruleset {}", &self.ruleset[..self.ruleset.len().min(12)])?;
        Ok(())
    }
}

/// One human line for a file.
pub fn human_line(r: &FileReport) -> String {
    let mut rules: Vec<&str> = r.findings.iter().map(|f| f.rule.as_str()).collect();
    rules.sort_unstable();
    rules.dedup();
    let reason = r.reason.map(|x| x.as_str()).unwrap_or("");
    let mut line = format!("{:<11} {}", r.verdict.as_str(), r.path);
    if !reason.is_empty() {
        line.push_str(&format!("  [{reason}]"));
    }
    if let Some(d) = &r.detail {
        line.push_str(&format!("  {d}"));
    }
    if !rules.is_empty() {
        line.push_str(&format!("  ({})", rules.join(", ")));
    }
    line
}

/// One line of the audit log: a decision, without values.
pub fn audit_line(r: &FileReport, command: &str, time: i64) -> serde_json::Value {
    let mut rules: Vec<&str> = r.findings.iter().map(|f| f.rule.as_str()).collect();
    rules.sort_unstable();
    rules.dedup();
    serde_json::json!({
        "time": time, "command": command, "path": r.path, "sha256": r.sha256, "verdict": r.verdict,
        "reason": r.reason, "rules": rules, "findings": r.findings.len(), "redactions": r.redactions,
        "suppressed": r.suppressed, "chunks": r.chunks, "ruleset": r.ruleset, "tool_version": r.tool_version,
    })
}

/// Appends lines to the audit log (`<data>/reports/audit.ndjson`).
pub struct AuditLog {
    file: std::io::BufWriter<std::fs::File>,
}

impl AuditLog {
    pub fn open(path: &std::path::Path) -> std::io::Result<Self> {
        if let Some(d) = path.parent() {
            std::fs::create_dir_all(d)?;
        }
        let f = std::fs::OpenOptions::new().create(true).append(true).open(path)?;
        Ok(AuditLog { file: std::io::BufWriter::new(f) })
    }

    pub fn record(&mut self, r: &FileReport, command: &str, time: i64) -> std::io::Result<()> {
        serde_json::to_writer(&mut self.file, &audit_line(r, command, time))?;
        self.file.write_all(b"\n")
    }

    pub fn flush(&mut self) -> std::io::Result<()> {
        self.file.flush()
    }
}
