//! The only place with threads and channels.
//!
//! ```text
//! walker thread ──bounded──▶ rayon workers: read ≤ limit → sniff → extract → detect → policy
//!                                           → chunk → hash (plain function calls)
//!               ──bounded──▶ one sink (the calling thread): index writer · quarantine · report
//! ```
//! Both channels are bounded, so memory stays flat whatever the corpus size. `check` runs the
//! two halves of [`Engine::process_bytes`] itself: [`prepare`] (read, hash, sniff, extract; no
//! rules needed) on the current thread while the rules load on another, then
//! [`Engine::finish`]. A panic inside one document's processing is caught and turned into a
//! quarantine: one bad file never stops a batch.

use crate::chunk::{self, ChunkConfig};
use crate::config::{AllowEntry, Config};
use crate::detect::Detectors;
use crate::error::ExtractError;
use crate::extract::{self, EXTRACTOR_VERSION};
use crate::fingerprint::Fingerprinter;
use crate::index::IndexSink;
use crate::ledger::{Ledger, SourceRecord};
use crate::limits::{Budget, Limits};
use crate::model::*;
use crate::policy::{self, Policy};
use crate::quarantine::QuarantineStore;
use crate::report::{FileReport, Summary, TOOL_VERSION};
use crate::sniff::{sniff, Sniffed};
use anyhow::{Context, Result};
use crossbeam_channel::bounded;
use rayon::iter::{ParallelBridge, ParallelIterator};
use std::io::{Read, Write};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::time::Instant;

/// Everything compiled once and shared by `&` across workers.
#[derive(Debug)]
pub struct Engine {
    pub detectors: Detectors,
    pub limits: Limits,
    pub policy: Policy,
    pub chunking: ChunkConfig,
    pub fingerprinter: Fingerprinter,
    /// Allowlist entries from the config plus quarantine releases from the ledger.
    pub allow: Vec<AllowEntry>,
    /// Digest of the configured settings that turn findings into verdicts and text into
    /// chunks (policy, limits, chunking, the config's allowlist; not releases, which only ever
    /// widen one file's allowance). A re-scan that sees it change re-judges every source.
    pub settings_digest: String,
}

/// The result of processing one input.
#[derive(Debug)]
pub struct Outcome {
    pub report: FileReport,
    /// Chunks to index (empty when quarantined).
    pub chunks: Vec<Chunk>,
    /// The original bytes of a quarantined file read by [`Engine::process_path`], for the
    /// quarantine store; `process_bytes` callers hold the bytes already and get `None`.
    pub original: Option<Vec<u8>>,
    /// Modification time of the source file, nanoseconds since the epoch.
    pub mtime_ns: Option<i128>,
}

impl Outcome {
    pub fn provenance(&self) -> Provenance {
        Provenance {
            source_sha256: self.report.sha256.clone().unwrap_or_default(),
            text_sha256: String::new(),
            extractor: self.report.extractor.clone(),
            ruleset_digest: self.report.ruleset.clone(),
            tool_version: self.report.tool_version.clone(),
        }
    }
}

/// sha256 of the judging settings of `config` (see [`Engine::settings_digest`]).
pub fn settings_digest(config: &Config) -> String {
    use sha2::{Digest, Sha256};
    let v = serde_json::json!({
        "policy": config.policy,
        "limits": config.limits,
        "chunking": config.chunking,
        "allow": config.allow,
    });
    // 64 bits tell settings apart; it is stored in every ledger record.
    hex::encode(&Sha256::digest(v.to_string().as_bytes())[..8])
}

impl Engine {
    /// An engine with the settings of `config`.
    pub fn new(detectors: Detectors, config: &Config, fingerprinter: Fingerprinter) -> Self {
        Engine {
            detectors,
            limits: config.limits.clone(),
            policy: config.policy.clone(),
            chunking: config.chunking,
            fingerprinter,
            allow: config.allow.clone(),
            settings_digest: settings_digest(config),
        }
    }

    fn base_report(&self, path: &str) -> FileReport {
        FileReport {
            path: path.to_string(),
            sha256: None,
            size: None,
            kind: None,
            verdict: VerdictKind::Quarantined,
            reason: None,
            detail: None,
            findings: Vec::new(),
            signals: Vec::new(),
            chunks: 0,
            redactions: 0,
            suppressed: 0,
            hidden_bytes: 0,
            ruleset: self.detectors.digest().to_string(),
            tool_version: TOOL_VERSION.to_string(),
            extractor: EXTRACTOR_VERSION.to_string(),
            elapsed_ms: 0,
            quarantine_id: None,
        }
    }

    /// A verdict for a file that could not be processed at all.
    pub fn failed(&self, path: &str, reason: Reason, detail: String, size: Option<u64>) -> Outcome {
        let mut r = self.base_report(path);
        r.reason = Some(reason);
        r.detail = Some(detail);
        r.size = size;
        Outcome { report: r, chunks: Vec::new(), original: None, mtime_ns: None }
    }

    /// Reads `path` (at most the size limit) and processes it.
    pub fn process_path(&self, path: &Path) -> Outcome {
        let (prepared, read) = read_and_prepare(path, &self.limits);
        let mut out = self.finish(&path.display().to_string(), prepared);
        if let Some((bytes, mtime)) = read {
            out.mtime_ns = mtime;
            // The quarantine store keeps the original: hand over the buffer, no copy.
            if out.report.verdict == VerdictKind::Quarantined && out.report.reason != Some(Reason::TooLarge) {
                out.original = Some(bytes);
            }
        }
        out
    }

    /// Processes one document held in memory. `ext` is the file-name extension hint.
    pub fn process_bytes(&self, path: &str, bytes: &[u8], ext: Option<&str>) -> Outcome {
        self.finish(path, prepare(bytes, ext, &self.limits))
    }

    /// Scans, judges and chunks a document [`prepare`]d with this engine's limits.
    pub fn finish(&self, path: &str, p: Prepared) -> Outcome {
        let t0 = Instant::now();
        let mut r = self.base_report(path);
        r.sha256 = p.sha256;
        r.size = p.size;
        let quarantine = |mut r: FileReport, reason: Reason, detail: String| {
            r.verdict = VerdictKind::Quarantined;
            r.reason = Some(reason);
            r.detail = Some(detail);
            r.elapsed_ms = (p.elapsed + t0.elapsed()).as_millis() as u64;
            Outcome { report: r, chunks: Vec::new(), original: None, mtime_ns: None }
        };
        let ex = match p.stage {
            Stage::Rejected(reason, detail) => return quarantine(r, reason, detail),
            Stage::Extracted(kind, ex) => {
                r.kind = Some(kind);
                match ex {
                    Ok(ex) => ex,
                    Err(e) => return quarantine(r, e.reason(), e.to_string()),
                }
            }
            Stage::Panicked(kind) => {
                r.kind = Some(kind);
                return quarantine(r, Reason::Unextractable, PANIC_DETAIL.into());
            }
        };
        let work = catch_unwind(AssertUnwindSafe(|| {
            let matches = self.detectors.scan_keeping(&ex.text, |s, e| ex.visibility_of(s..e).is_hidden());
            let mut findings = policy::findings(&ex, &matches, &self.detectors, &self.fingerprinter);
            findings.extend(policy::signal_findings(&ex, &self.policy));
            let before = findings.len();
            let sha = r.sha256.as_deref();
            findings.retain(|f| !self.allow.iter().any(|a| a.matches(f, path, sha)));
            let suppressed = (before - findings.len()) as u32;
            let hidden: u64 =
                ex.spans.iter().filter(|s| s.visibility.is_hidden()).map(|s| (s.end - s.start) as u64).sum();
            let j = policy::judge(&ex, findings, &self.policy);
            (hidden, j, suppressed)
        }));
        let (hidden, j, suppressed) = match work {
            Ok(x) => x,
            Err(_) => return quarantine(r, Reason::Unextractable, PANIC_DETAIL.into()),
        };
        r.signals = ex.signals;
        r.hidden_bytes = hidden;
        r.suppressed = suppressed;
        r.verdict = j.verdict;
        r.reason = j.reason;
        r.findings = j.findings;
        r.redactions = j.redactions;
        if j.verdict == VerdictKind::Quarantined {
            let detail = quarantine_detail(&r.findings);
            return quarantine(r, j.reason.unwrap_or(Reason::PolicyRule), detail);
        }
        let chunks = chunk::chunk(&j.sanitized, self.chunking, &j.pages, &j.token_ranges);
        if chunks.is_empty() {
            r.detail = Some("no visible text to index".into());
        }
        r.chunks = chunks.len() as u32;
        r.elapsed_ms = (p.elapsed + t0.elapsed()).as_millis() as u64;
        Outcome { report: r, chunks, original: None, mtime_ns: None }
    }
}

const PANIC_DETAIL: &str = "internal error while processing (caught panic)";

/// A document after the steps that need no rules: hashed, size-checked, sniffed, extracted.
/// A hook call does these while the rules load ([`prepare_path`] on one thread, the rules on
/// another); [`Engine::finish`] does the rest.
#[derive(Debug)]
pub struct Prepared {
    sha256: Option<String>,
    size: Option<u64>,
    stage: Stage,
    elapsed: std::time::Duration,
}

#[derive(Debug)]
enum Stage {
    /// Too large, unreadable, or refused by the type sniffer.
    Rejected(Reason, String),
    Extracted(DocKind, Result<Extracted, ExtractError>),
    /// The extractor panicked (caught): quarantined like any unextractable file.
    Panicked(DocKind),
}

/// Hash, size limit, type sniff and extraction of one document held in memory.
pub fn prepare(bytes: &[u8], ext: Option<&str>, limits: &Limits) -> Prepared {
    let t0 = Instant::now();
    let sha256 = Some(chunk::sha256_hex(bytes));
    let size = Some(bytes.len() as u64);
    let stage = if bytes.len() as u64 > limits.max_file_bytes {
        Stage::Rejected(Reason::TooLarge, too_large(bytes.len() as u64, limits))
    } else {
        match sniff(bytes, ext) {
            Sniffed::Reject { reason, detail } => Stage::Rejected(reason, detail),
            Sniffed::Accept(kind) => {
                let budget = Budget::new(limits);
                match catch_unwind(AssertUnwindSafe(|| extract::extract(kind, bytes, &budget))) {
                    Ok(ex) => Stage::Extracted(kind, ex),
                    Err(_) => Stage::Panicked(kind),
                }
            }
        }
    };
    Prepared { sha256, size, stage, elapsed: t0.elapsed() }
}

/// [`prepare`] for a file read from disk (at most the size limit), as [`Engine::process_path`]
/// reads it, for callers that do not keep the original.
pub fn prepare_path(path: &Path, limits: &Limits) -> Prepared {
    read_and_prepare(path, limits).0
}

/// The bytes of a file that could be read, and its mtime (ns since the epoch).
type ReadBack = Option<(Vec<u8>, Option<i128>)>;

/// Reads `path` without holding more than the size limit and prepares it; also hands back the
/// bytes read and the file's mtime, when it could be read.
fn read_and_prepare(path: &Path, limits: &Limits) -> (Prepared, ReadBack) {
    let t0 = Instant::now();
    let rejected = |size, reason, detail| Prepared {
        sha256: None,
        size,
        stage: Stage::Rejected(reason, detail),
        elapsed: t0.elapsed(),
    };
    match read_limited(path, limits.max_file_bytes) {
        Ok(ReadResult::Bytes(b, mtime)) => {
            let mut p = prepare(&b, path.extension().and_then(|e| e.to_str()), limits);
            p.elapsed = t0.elapsed();
            (p, Some((b, mtime)))
        }
        Ok(ReadResult::TooLarge(n)) => (rejected(Some(n), Reason::TooLarge, too_large(n, limits)), None),
        Err(e) => (rejected(None, Reason::Unreadable, format!("cannot read: {e}")), None),
    }
}

fn too_large(n: u64, limits: &Limits) -> String {
    format!("file is {n} bytes, over the {}-byte limit (limits.max_file_bytes)", limits.max_file_bytes)
}

/// Names the rules behind a quarantine, marking those that fired in hidden text.
fn quarantine_detail(findings: &[Finding]) -> String {
    let mut rules: Vec<String> = findings
        .iter()
        .filter(|f| f.action == Action::Quarantine || f.kind == FindingKind::Injection)
        .map(|f| if f.visibility.is_hidden() { format!("{} (hidden)", f.rule) } else { f.rule.clone() })
        .collect();
    rules.sort();
    rules.dedup();
    format!("flagged by {}", rules.join(", "))
}

enum ReadResult {
    Bytes(Vec<u8>, Option<i128>),
    TooLarge(u64),
}

/// Reads a file without ever holding more than `max + 1` bytes.
fn read_limited(path: &Path, max: u64) -> std::io::Result<ReadResult> {
    let f = std::fs::File::open(path)?;
    let meta = f.metadata()?;
    let len = meta.len();
    let mtime = mtime_ns(&meta);
    if len > max {
        return Ok(ReadResult::TooLarge(len));
    }
    let mut buf = Vec::with_capacity(len as usize);
    f.take(max + 1).read_to_end(&mut buf)?;
    if buf.len() as u64 > max {
        return Ok(ReadResult::TooLarge(buf.len() as u64));
    }
    Ok(ReadResult::Bytes(buf, mtime))
}

/// Modification time in nanoseconds since the epoch, when the platform has one.
pub fn mtime_ns(meta: &std::fs::Metadata) -> Option<i128> {
    let t = meta.modified().ok()?;
    Some(match t.duration_since(std::time::UNIX_EPOCH) {
        Ok(d) => d.as_nanos() as i128,
        Err(e) => -(e.duration().as_nanos() as i128),
    })
}

/// Where a scan keeps its state.
#[derive(Debug, Clone)]
pub struct DataDirs {
    pub root: PathBuf,
}

impl DataDirs {
    pub fn new(root: impl Into<PathBuf>) -> Self {
        DataDirs { root: root.into() }
    }
    pub fn index(&self) -> PathBuf {
        self.root.join("index")
    }
    pub fn quarantine(&self) -> PathBuf {
        self.root.join("quarantine")
    }
    pub fn reports(&self) -> PathBuf {
        self.root.join("reports")
    }
    pub fn key(&self) -> PathBuf {
        self.root.join("hmac.key")
    }
    pub fn ledger(&self) -> PathBuf {
        self.root.join("ledger.redb")
    }
    /// Lock-free mirror of the ledger's quarantine releases, read by every engine.
    pub fn releases(&self) -> PathBuf {
        self.root.join("releases.json")
    }
    pub fn audit(&self) -> PathBuf {
        self.reports().join("audit.ndjson")
    }
}

pub struct ScanOptions {
    pub threads: usize,
    /// Commit the index every this many sources (and at the end).
    pub commit_every: usize,
    pub progress: bool,
}

impl Default for ScanOptions {
    fn default() -> Self {
        ScanOptions { threads: 0, commit_every: 1000, progress: false }
    }
}

enum Candidate {
    File(PathBuf),
    Error(String, String),
}

/// The result of a scan.
pub struct ScanResult {
    pub summary: Summary,
    pub report_path: PathBuf,
}

/// Scans `inputs` into the data dir. `on_report` sees every file's verdict in completion order.
pub fn scan(
    engine: &Engine,
    inputs: &[PathBuf],
    dirs: &DataDirs,
    opts: &ScanOptions,
    mut on_report: impl FnMut(&FileReport),
) -> Result<ScanResult> {
    let t0 = Instant::now();
    let mut sink = IndexSink::open(&dirs.index())?;
    let ledger = Ledger::open(&dirs.ledger())?;
    let mut audit = crate::report::AuditLog::open(&dirs.audit())?;
    let mut pending: Vec<SourceRecord> = Vec::new();
    let quarantine = QuarantineStore::open(&dirs.quarantine())?;
    std::fs::create_dir_all(dirs.reports()).with_context(|| format!("creating {}", dirs.reports().display()))?;
    let stamp = time::OffsetDateTime::now_utc();
    let report_path = dirs.reports().join(format!("scan-{}-{}.ndjson", stamp.unix_timestamp(), std::process::id()));
    let mut report_file = std::io::BufWriter::new(
        std::fs::File::create(&report_path).with_context(|| format!("creating {}", report_path.display()))?,
    );
    let threads =
        if opts.threads == 0 { std::thread::available_parallelism().map_or(2, |n| n.get()) } else { opts.threads };
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .thread_name(|i| format!("ragsan-worker-{i}"))
        .build()
        .context("starting worker pool")?;

    let (cand_tx, cand_rx) = bounded::<Candidate>(256);
    let (out_tx, out_rx) = bounded::<Outcome>(threads * 2);
    let inputs: Vec<PathBuf> = inputs.iter().map(|p| source_root(p)).collect();
    let payload = crate::rescan::manifest(engine);
    // Before any record that names this ruleset, so a rescan can always tell what judged it.
    ledger.put_manifest(engine.detectors.digest(), &payload)?;

    let pb = if opts.progress {
        let pb = indicatif::ProgressBar::new_spinner();
        pb.set_style(
            indicatif::ProgressStyle::with_template("{spinner} {pos} files {msg} [{elapsed}]")
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_spinner()),
        );
        Some(pb)
    } else {
        None
    };

    let mut summary = Summary { ruleset: engine.detectors.digest().to_string(), ..Default::default() };
    let ingested = stamp.unix_timestamp();
    std::thread::scope(|s| -> Result<()> {
        s.spawn(move || walk(&inputs, &cand_tx));
        let out_tx2 = out_tx.clone();
        s.spawn(move || {
            pool.install(|| {
                cand_rx.into_iter().par_bridge().for_each_with(out_tx2, |tx, c| {
                    if crate::interrupt::requested() {
                        return; // drain what is queued without judging it
                    }
                    let o = match c {
                        Candidate::File(p) => engine.process_path(&p),
                        Candidate::Error(p, e) => engine.failed(&p, Reason::Unreadable, e, None),
                    };
                    let _ = tx.send(o);
                })
            })
        });
        drop(out_tx);
        for mut o in out_rx {
            let prov = o.provenance();
            let r = &mut o.report;
            if r.verdict == VerdictKind::Quarantined {
                r.quarantine_id = Some(quarantine.put(r, o.original.as_deref())?);
                // A source that used to be clean must leave the index now.
                sink.replace_source(&r.path, r.kind, r.verdict, &[], &prov, ingested)?;
            } else {
                sink.replace_source(&r.path, r.kind, r.verdict, &o.chunks, &prov, ingested)?;
            }
            pending.push(source_record(&o, &engine.settings_digest, ingested));
            let r = &o.report;
            serde_json::to_writer(&mut report_file, r)?;
            audit.record(r, "scan", ingested)?;
            report_file.write_all(b"\n")?;
            summary.add(r);
            on_report(r);
            if let Some(pb) = &pb {
                pb.inc(1);
                pb.set_message(format!("{} quarantined", summary.by_verdict.get("quarantined").copied().unwrap_or(0)));
            }
            if sink.pending() >= opts.commit_every {
                // Index first, then ledger: a crash in between leaves the ledger behind, which
                // re-ingestion repairs; never a ledger entry for chunks that are not there.
                sink.commit(&payload)?;
                ledger.apply(&std::mem::take(&mut pending), &[])?;
            }
        }
        Ok(())
    })?;
    sink.commit(&payload)?;
    summary.interrupted = crate::interrupt::requested();
    let meta: &[(&str, &str)] = if summary.interrupted { &[] } else { &[("manifest", payload.as_str())] };
    ledger.apply_with_meta(&pending, &[], meta)?;
    sink.finish()?;
    report_file.flush()?;
    audit.flush()?;
    if let Some(pb) = pb {
        pb.finish_and_clear();
    }
    summary.elapsed_ms = t0.elapsed().as_millis() as u64;
    Ok(ScanResult { summary, report_path })
}

/// The ledger entry for an outcome that is about to be committed, judged by an engine with
/// settings digest `settings`.
pub fn source_record(o: &Outcome, settings: &str, time: i64) -> SourceRecord {
    let r = &o.report;
    let mut rules: Vec<String> = r.findings.iter().map(|f| f.rule.clone()).collect();
    rules.sort();
    rules.dedup();
    SourceRecord {
        path: r.path.clone(),
        sha256: r.sha256.clone(),
        size: r.size,
        mtime_ns: o.mtime_ns,
        verdict: r.verdict,
        reason: r.reason,
        ruleset: r.ruleset.clone(),
        extractor: r.extractor.clone(),
        time,
        chunk_ids: o.chunks.iter().map(|c| crate::index::chunk_id(&r.path, c)).collect(),
        rules,
        settings: Some(settings.to_string()),
    }
}

/// The identity of a scan root: absolute, with symlinks resolved. Every report, ledger key,
/// chunk and quarantine entry names its source by a path under such a root, so `scan corpus`,
/// `scan ./corpus` and `rescan /srv/rag/corpus` mean the same sources, and a nightly `rescan`
/// finds them from any working directory. A root that cannot be resolved (missing, unreadable)
/// is made absolute without touching the file system; walking it then reports the error there.
pub fn source_root(p: &Path) -> PathBuf {
    std::fs::canonicalize(p).or_else(|_| std::path::absolute(p)).unwrap_or_else(|_| p.to_path_buf())
}

/// Sends every file under `inputs` once, in a stable order, without following symlinks and
/// without skipping hidden or git-ignored files (a sanitizer must see everything).
fn walk(inputs: &[PathBuf], tx: &crossbeam_channel::Sender<Candidate>) {
    let mut seen = std::collections::HashSet::new();
    for input in inputs {
        let walker = ignore::WalkBuilder::new(input)
            .standard_filters(false)
            .follow_links(false)
            .sort_by_file_path(|a, b| a.cmp(b))
            .build();
        for entry in walker {
            let c = match entry {
                Ok(e) => {
                    if !e.file_type().is_some_and(|t| t.is_file()) {
                        continue;
                    }
                    let p = e.into_path();
                    if !seen.insert(p.clone()) {
                        continue;
                    }
                    Candidate::File(p)
                }
                Err(err) => {
                    let path = match &err {
                        ignore::Error::WithPath { path, .. } => path.display().to_string(),
                        _ => input.display().to_string(),
                    };
                    Candidate::Error(path, format!("cannot read: {err}"))
                }
            };
            if crate::interrupt::requested() || tx.send(c).is_err() {
                return;
            }
        }
    }
}
