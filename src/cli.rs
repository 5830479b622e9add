//! The command line: thin wrappers over the library, results on stdout, logs on stderr.
//!
//! Exit codes: 0 clean, 1 findings (something was redacted, flagged or quarantined), 2 the tool
//! failed (bad arguments, invalid rules, index locked).

use crate::config::{AllowEntry, Config};
use crate::detect::Detectors;
use crate::error::ExitStatus;
use crate::fingerprint::Fingerprinter;
use crate::index::IndexReaderHandle;
use crate::ledger::{Ledger, Release};
use crate::limits::Budget;
use crate::model::*;
use crate::pipeline::{self, DataDirs, Engine, ScanOptions};
use crate::quarantine::QuarantineStore;
use crate::report::{human_line, FileReport};
use crate::sniff::{sniff, Sniffed};
use anyhow::{bail, Context, Result};
use clap::{Parser, Subcommand, ValueEnum};
use rayon::prelude::*;
use std::collections::BTreeMap;
use std::io::{BufRead, IsTerminal, Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Parser, Debug)]
#[command(name = "ragsan", version, about = "Keeps poisoned and sensitive content out of RAG knowledge bases")]
pub struct Cli {
    /// Settings file (default: ./ragsan.toml when present).
    #[arg(long, global = true)]
    config: Option<PathBuf>,
    /// Rule directory to use instead of the embedded rules (injection/, secrets/, pii/).
    #[arg(long, global = true)]
    detectors: Option<PathBuf>,
    /// Data directory: index, quarantine, reports, HMAC key (default ./ragsan-data).
    #[arg(long, global = true)]
    data: Option<PathBuf>,
    #[command(subcommand)]
    cmd: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Scan files and directories into the index; quarantine what fails; write a report.
    Scan {
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        #[arg(long, value_enum, default_value_t = Format::Human)]
        format: Format,
        /// Write results here instead of stdout.
        #[arg(short, long)]
        output: Option<PathBuf>,
        /// Worker threads (default: all cores).
        #[arg(long, default_value_t = 0)]
        threads: usize,
        /// No progress bar.
        #[arg(short, long)]
        quiet: bool,
    },
    /// Judge one file (or stdin with `-`) and print its verdict; touches no index.
    Check {
        file: PathBuf,
        /// File name to take the type hint from when reading stdin.
        #[arg(long)]
        filename: Option<String>,
        #[arg(long, value_enum, default_value_t = Format::Json)]
        format: Format,
    },
    /// Read NDJSON {"id","text"} on stdin, write one NDJSON verdict per line.
    Detect,
    /// Print the text of a document: visible text, or JSON with hidden spans and their reasons.
    Extract {
        file: PathBuf,
        #[arg(long, value_enum, default_value_t = ExtractFormat::Text)]
        format: ExtractFormat,
    },
    /// Search the index.
    Search {
        query: String,
        #[arg(long, value_enum, default_value_t = Format::Human)]
        format: Format,
        #[arg(long, default_value_t = 10)]
        limit: usize,
    },
    /// Re-judge what is indexed: skip unchanged sources, run only new or changed rules over
    /// stored chunks, re-ingest changed files, drop removed ones; report the delta.
    Rescan {
        /// Limit to sources under these paths (and pick up new files there).
        paths: Vec<PathBuf>,
        #[arg(long, value_enum, default_value_t = Format::Human)]
        format: Format,
    },
    /// Review quarantined files.
    Quarantine {
        #[command(subcommand)]
        cmd: QuarantineCmd,
    },
    /// Print the JSON Schema of the verdict.
    Schema,
    /// Run the pre-upload HTTP service (POST /v1/check answers with the `check` verdict).
    Serve(crate::serve::ServeArgs),
    /// Inspect and test detector rules.
    Rules {
        #[command(subcommand)]
        cmd: RulesCmd,
    },
}

#[derive(Subcommand, Debug)]
enum QuarantineCmd {
    /// List quarantined files.
    List {
        #[arg(long, value_enum, default_value_t = Format::Human)]
        format: Format,
    },
    /// Show one quarantined file's sidecar (no values).
    Show { id: String },
    /// Release a quarantined file: record a reviewed exception and run the pipeline again.
    Release {
        id: String,
        /// Why this is safe; recorded in the ledger and the audit log.
        #[arg(long)]
        reason: String,
    },
}

#[derive(Subcommand, Debug)]
enum RulesCmd {
    /// List the rules in use with their versions and digests.
    List {
        #[arg(long, value_enum, default_value_t = Format::Human)]
        format: Format,
    },
    /// Compile the rules and run every example and negative example.
    Check,
    /// Convert a gitleaks config (rules, keywords, entropy, allowlists) into a ragsan rule file.
    ImportGitleaks {
        file: PathBuf,
        /// Write the rule file here (e.g. detectors/secrets/gitleaks.toml) instead of stdout.
        #[arg(short, long)]
        output: Option<PathBuf>,
    },
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
enum Format {
    Human,
    Json,
    Ndjson,
    /// SARIF 2.1.0 (scan only).
    Sarif,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
enum ExtractFormat {
    Text,
    Json,
}

/// The published JSON Schema of the verdict (also `docs/verdict.schema.json`).
pub const VERDICT_SCHEMA: &str = include_str!("../docs/verdict.schema.json");

/// Entry point for the binary.
pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let code = if e.use_stderr() { ExitStatus::Error } else { ExitStatus::Clean };
            let _ = e.print();
            return code.into();
        }
    };
    init_logging();
    match run(cli) {
        Ok(s) => s.into(),
        Err(e) => {
            eprintln!("ragsan: error: {e:#}");
            ExitStatus::Error.into()
        }
    }
}

fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("RAGSAN_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("ragsan=warn,ragsan::serve=info"));
    let _ =
        tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).with_target(false).try_init();
}

struct Ctx {
    config: Config,
    dirs: DataDirs,
    detectors_dir: Option<PathBuf>,
}

impl Ctx {
    fn new(cli: &Cli) -> Result<Self> {
        let config = Config::load(cli.config.as_deref())?;
        let root = cli.data.clone().or_else(|| config.data_dir.clone()).unwrap_or_else(|| PathBuf::from("ragsan-data"));
        let detectors_dir = cli.detectors.clone().or_else(|| config.detectors.clone());
        Ok(Ctx { config, dirs: DataDirs::new(root), detectors_dir })
    }

    fn detectors(&self) -> Result<Detectors> {
        match &self.detectors_dir {
            Some(d) => Detectors::from_dir(d).with_context(|| format!("loading rules from {}", d.display())),
            None => Detectors::embedded().context("loading embedded rules"),
        }
    }

    fn key_path(&self) -> PathBuf {
        self.config.hmac_key_file.clone().unwrap_or_else(|| self.dirs.key())
    }

    /// `create`: generate the key file when missing (scan); otherwise use it if present.
    fn engine(&self, create_key: bool) -> Result<Engine> {
        let key = self.key_path();
        let fingerprinter = Fingerprinter::load(Some(&key), create_key)?;
        let mut engine = Engine::new(self.detectors()?, &self.config, fingerprinter);
        engine.allow.extend(self.releases());
        Ok(engine)
    }

    /// Quarantine releases, as allowlist entries. They are read from `releases.json`, the
    /// lock-free mirror of the ledger's releases, because the ledger itself is held exclusively
    /// by a running scan and hook calls run concurrently. An unreadable mirror is reported and
    /// ignored: without releases, documents stay quarantined (fail closed).
    fn releases(&self) -> Vec<AllowEntry> {
        let path = self.dirs.releases();
        let rels: Vec<Release> = match std::fs::read(&path) {
            Ok(b) => match serde_json::from_slice(&b) {
                Ok(r) => r,
                Err(e) => {
                    tracing::warn!("{}: unreadable, quarantine releases not applied: {e}", path.display());
                    return Vec::new();
                }
            },
            Err(_) => return Vec::new(),
        };
        rels.into_iter()
            .flat_map(|r| {
                let (sha, reason) = (r.sha256, r.reason);
                r.rules.into_iter().map(move |rule| AllowEntry {
                    rule: Some(rule),
                    sha256: Some(sha.clone()),
                    reason: reason.clone(),
                    ..Default::default()
                })
            })
            .collect()
    }
}

fn run(cli: Cli) -> Result<ExitStatus> {
    let ctx = Ctx::new(&cli)?;
    match cli.cmd {
        Command::Scan { paths, format, output, threads, quiet } => scan(&ctx, &paths, format, output, threads, quiet),
        Command::Check { file, filename, format } => check(&ctx, &file, filename.as_deref(), format),
        Command::Detect => detect(&ctx),
        Command::Extract { file, format } => extract(&ctx, &file, format),
        Command::Search { query, format, limit } => search(&ctx, &query, format, limit),
        Command::Rules { cmd } => rules(&ctx, cmd),
        Command::Rescan { paths, format } => rescan(&ctx, &paths, format),
        Command::Quarantine { cmd } => quarantine(&ctx, cmd),
        Command::Schema => {
            println!("{}", VERDICT_SCHEMA);
            Ok(ExitStatus::Clean)
        }
        Command::Serve(args) => crate::serve::run(ctx.engine(false)?, args),
    }
}

fn out_writer(output: Option<&Path>) -> Result<Box<dyn Write>> {
    Ok(match output {
        Some(p) => Box::new(std::io::BufWriter::new(
            std::fs::File::create(p).with_context(|| format!("creating {}", p.display()))?,
        )),
        None => Box::new(std::io::BufWriter::new(std::io::stdout().lock())),
    })
}

fn scan(
    ctx: &Ctx,
    paths: &[PathBuf],
    format: Format,
    output: Option<PathBuf>,
    threads: usize,
    quiet: bool,
) -> Result<ExitStatus> {
    let engine = ctx.engine(true)?;
    crate::interrupt::install();
    let mut out = out_writer(output.as_deref())?;
    let opts = ScanOptions { threads, progress: !quiet && std::io::stderr().is_terminal(), ..Default::default() };
    let mut all: Vec<FileReport> = Vec::new();
    let mut io_err: Option<std::io::Error> = None;
    let res = pipeline::scan(&engine, paths, &ctx.dirs, &opts, |r| {
        let w = match format {
            Format::Ndjson => {
                serde_json::to_string(r).map_err(std::io::Error::other).and_then(|s| writeln!(out, "{s}"))
            }
            Format::Human if r.verdict != VerdictKind::Clean => writeln!(out, "{}", human_line(r)),
            Format::Json | Format::Sarif => {
                all.push(r.clone());
                Ok(())
            }
            Format::Human => Ok(()),
        };
        if let Err(e) = w {
            io_err.get_or_insert(e);
        }
    })?;
    if let Some(e) = io_err {
        return Err(e).context("writing results");
    }
    match format {
        Format::Json => {
            all.sort_by(|a, b| a.path.cmp(&b.path));
            serde_json::to_writer_pretty(&mut out, &serde_json::json!({"files": all, "summary": res.summary}))?;
            writeln!(out)?;
        }
        Format::Human => {
            res.summary.write_human(&mut out)?;
            writeln!(
                out,
                "index: {}  quarantine: {}  report: {}",
                ctx.dirs.index().display(),
                ctx.dirs.quarantine().display(),
                res.report_path.display()
            )?;
        }
        Format::Sarif => {
            all.sort_by(|a, b| a.path.cmp(&b.path));
            let cwd = std::env::current_dir().ok().map(|d| pipeline::source_root(&d));
            serde_json::to_writer_pretty(&mut out, &crate::sarif::sarif(&all, &engine.detectors, cwd.as_deref()))?;
            writeln!(out)?;
        }
        Format::Ndjson => {}
    }
    out.flush()?;
    if res.summary.interrupted {
        eprintln!("ragsan: interrupted: {} files judged and committed; run again to finish", res.summary.files);
        return Ok(ExitStatus::Interrupted);
    }
    Ok(if res.summary.any_findings() { ExitStatus::Findings } else { ExitStatus::Clean })
}

fn check(ctx: &Ctx, file: &Path, filename: Option<&str>, format: Format) -> Result<ExitStatus> {
    // Loading the rules and reading + extracting the file do not depend on each other: a hook
    // call does them at once (the engine uses the same limits, from the same config).
    let limits = &ctx.config.limits;
    let stdin = file == Path::new("-");
    let name = if stdin { filename.unwrap_or("-").to_string() } else { file.display().to_string() };
    let (engine, prepared) = std::thread::scope(|s| {
        let loader = s.spawn(|| ctx.engine(false));
        let prepared = if stdin {
            let mut buf = Vec::new();
            std::io::stdin().lock().take(limits.max_file_bytes + 1).read_to_end(&mut buf).context("reading stdin")?;
            let ext = Path::new(&name).extension().and_then(|e| e.to_str());
            pipeline::prepare(&buf, ext, limits)
        } else {
            pipeline::prepare_path(file, limits)
        };
        let engine = loader.join().map_err(|_| anyhow::anyhow!("loading the rules panicked"))??;
        anyhow::Ok((engine, prepared))
    })?;
    let outcome = engine.finish(&name, prepared);
    let r = outcome.report;
    let mut out = std::io::stdout().lock();
    match format {
        Format::Human => writeln!(out, "{}", human_line(&r))?,
        _ => writeln!(out, "{}", serde_json::to_string_pretty(&r)?)?,
    }
    out.flush()?;
    // The process ends now: freeing the compiled rules one allocation at a time was ~5% of a
    // hook call. It holds no file or lock that needs closing.
    std::mem::forget(engine);
    Ok(if r.has_findings() { ExitStatus::Findings } else { ExitStatus::Clean })
}

fn detect(ctx: &Ctx) -> Result<ExitStatus> {
    let det = ctx.detectors()?;
    let stdin = std::io::stdin();
    let mut lines = stdin.lock().lines();
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    let mut any = false;
    loop {
        // Batches keep memory flat on endless input while using every core.
        let batch: Vec<String> = lines.by_ref().take(512).collect::<Result<_, _>>().context("reading stdin")?;
        if batch.is_empty() {
            break;
        }
        let results: Vec<Result<serde_json::Value>> = batch
            .par_iter()
            .filter(|l| !l.trim().is_empty())
            .map(|line| {
                let v: serde_json::Value = serde_json::from_str(line).context("input line is not JSON")?;
                let text = v.get("text").and_then(|t| t.as_str()).unwrap_or("");
                Ok(detect_one(&det, v.get("id").cloned().unwrap_or_default(), text))
            })
            .collect();
        for r in results {
            let v = r?;
            any |= v["verdict"] != "clean";
            writeln!(out, "{v}")?;
        }
    }
    out.flush()?;
    Ok(if any { ExitStatus::Findings } else { ExitStatus::Clean })
}

fn detect_one(det: &Detectors, id: serde_json::Value, text: &str) -> serde_json::Value {
    let matches = det.scan(text);
    let mut verdict = VerdictKind::Clean;
    let findings: Vec<serde_json::Value> = matches
        .iter()
        .map(|m| {
            let r = det.rule(m.rule);
            let v = match (r.kind, r.spec.action) {
                (FindingKind::Injection, _) | (_, Action::Quarantine) => VerdictKind::Quarantined,
                (_, Action::Redact) => VerdictKind::Redacted,
                (_, Action::Flag) => VerdictKind::Flagged,
            };
            verdict = verdict.max(v);
            serde_json::json!({
                "rule": r.spec.id, "kind": r.kind, "label": r.spec.label, "severity": r.spec.severity,
                "start": m.start, "end": m.end, "score": m.score, "layers": m.layers,
            })
        })
        .collect();
    serde_json::json!({"id": id, "verdict": verdict, "findings": findings})
}

fn extract(ctx: &Ctx, file: &Path, format: ExtractFormat) -> Result<ExitStatus> {
    let limits = ctx.config.limits.clone();
    let bytes = std::fs::read(file).with_context(|| format!("reading {}", file.display()))?;
    if bytes.len() as u64 > limits.max_file_bytes {
        bail!("{}: {} bytes is over the {}-byte limit", file.display(), bytes.len(), limits.max_file_bytes);
    }
    let ext = file.extension().and_then(|e| e.to_str());
    let kind = match sniff(&bytes, ext) {
        Sniffed::Accept(k) => k,
        Sniffed::Reject { reason, detail } => {
            eprintln!("ragsan: {}: rejected ({}): {detail}", file.display(), reason.as_str());
            return Ok(ExitStatus::Findings);
        }
    };
    let budget = Budget::new(&limits);
    let ex = match crate::extract::extract(kind, &bytes, &budget) {
        Ok(x) => x,
        Err(e) => {
            eprintln!("ragsan: {}: cannot extract ({}): {e}", file.display(), e.reason().as_str());
            return Ok(ExitStatus::Findings);
        }
    };
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    match format {
        ExtractFormat::Text => out.write_all(ex.visible_text().as_bytes())?,
        ExtractFormat::Json => {
            let hidden: Vec<serde_json::Value> = ex
                .spans
                .iter()
                .filter(|s| s.visibility.is_hidden())
                .map(|s| serde_json::json!({"start": s.start, "end": s.end, "visibility": s.visibility, "location": s.origin, "text": &ex.text[s.start..s.end]}))
                .collect();
            // Page furniture is seen by a reader and scanned, but is not body text: listed apart.
            let furniture: Vec<serde_json::Value> = ex
                .spans
                .iter()
                .filter(|s| s.furniture && s.visibility.is_visible())
                .map(|s| serde_json::json!({"start": s.start, "end": s.end, "location": s.origin, "text": &ex.text[s.start..s.end]}))
                .collect();
            let v = serde_json::json!({
                "path": file.display().to_string(), "kind": kind, "visible_text": ex.visible_text(),
                "hidden": hidden, "furniture": furniture, "signals": ex.signals, "spans": ex.spans.len(),
            });
            serde_json::to_writer_pretty(&mut out, &v)?;
            writeln!(out)?;
        }
    }
    out.flush()?;
    Ok(ExitStatus::Clean)
}

fn search(ctx: &Ctx, query: &str, format: Format, limit: usize) -> Result<ExitStatus> {
    let idx = IndexReaderHandle::open(&ctx.dirs.index())?;
    let (count, hits) = idx.search(query, limit)?;
    let mut out = std::io::stdout().lock();
    match format {
        Format::Human => {
            writeln!(out, "{count} matching chunks")?;
            for h in &hits {
                let page = h.page.map(|p| format!(" p.{p}")).unwrap_or_default();
                writeln!(
                    out,
                    "\n{:.2}  {}{page}  chunk {} [{}..{}]  sha256 {}",
                    h.score.unwrap_or(0.0),
                    h.source_path,
                    h.ordinal,
                    h.start,
                    h.end,
                    &h.chunk_sha256[..12]
                )?;
                let snippet: String = h.text.chars().take(240).collect();
                writeln!(out, "    {}", snippet.replace('\n', " "))?;
            }
        }
        Format::Json | Format::Sarif => {
            writeln!(out, "{}", serde_json::to_string_pretty(&serde_json::json!({"count": count, "hits": hits}))?)?
        }
        Format::Ndjson => {
            for h in &hits {
                writeln!(out, "{}", serde_json::to_string(h)?)?;
            }
        }
    }
    Ok(ExitStatus::Clean)
}

fn rules(ctx: &Ctx, cmd: RulesCmd) -> Result<ExitStatus> {
    if let RulesCmd::ImportGitleaks { file, output } = &cmd {
        let text = std::fs::read_to_string(file).with_context(|| format!("reading {}", file.display()))?;
        let converted =
            crate::detect::gitleaks::convert(&text).with_context(|| format!("converting {}", file.display()))?;
        match output {
            Some(p) => std::fs::write(p, &converted).with_context(|| format!("writing {}", p.display()))?,
            None => std::io::stdout().lock().write_all(converted.as_bytes())?,
        }
        return Ok(ExitStatus::Clean);
    }
    let det = ctx.detectors()?;
    let mut out = std::io::stdout().lock();
    match cmd {
        RulesCmd::List { format } => {
            if format == Format::Human {
                writeln!(out, "{:<52} {:<10} {:<9} {:<10} {:>3}  digest", "id", "kind", "severity", "action", "ver")?;
            }
            for r in det.rules() {
                match format {
                    Format::Human => writeln!(
                        out,
                        "{:<52} {:<10} {:<9} {:<10} {:>3}  {}",
                        r.spec.id,
                        r.kind.as_str(),
                        format!("{:?}", r.spec.severity).to_lowercase(),
                        format!("{:?}", r.spec.action).to_lowercase(),
                        r.spec.version,
                        &r.digest[..12]
                    )?,
                    _ => writeln!(
                        out,
                        "{}",
                        serde_json::json!({"id": r.spec.id, "kind": r.kind, "label": r.spec.label, "severity": r.spec.severity,
                            "action": r.spec.action, "version": r.spec.version, "digest": r.digest, "file": r.file})
                    )?,
                }
            }
            if format == Format::Human {
                writeln!(out, "{} rules, ruleset {}", det.rules().len(), det.digest())?;
            }
            Ok(ExitStatus::Clean)
        }
        RulesCmd::Check => {
            let failures = crate::detect::selftest::self_test(&det);
            for f in &failures {
                writeln!(out, "FAIL {f}")?;
            }
            let n_ex: usize = det.rules().iter().map(|r| r.spec.examples.len() + r.spec.negative_examples.len()).sum();
            writeln!(
                out,
                "{} rules, {} examples checked, {} failures; ruleset {}",
                det.rules().len(),
                n_ex,
                failures.len(),
                det.digest()
            )?;
            Ok(if failures.is_empty() { ExitStatus::Clean } else { ExitStatus::Error })
        }
        RulesCmd::ImportGitleaks { .. } => Ok(ExitStatus::Clean),
    }
}

fn rescan(ctx: &Ctx, paths: &[PathBuf], format: Format) -> Result<ExitStatus> {
    let engine = ctx.engine(true)?;
    crate::interrupt::install();
    let rep = crate::rescan::rescan(&engine, &ctx.dirs, paths)?;
    {
        let mut audit = crate::report::AuditLog::open(&ctx.dirs.audit())?;
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        for r in &rep.reports {
            audit.record(r, "rescan", now)?;
        }
        audit.flush()?;
    }
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    match format {
        Format::Human => {
            writeln!(
                out,
                "ruleset {} (was {}): {} new, {} changed, {} removed rules",
                &rep.ruleset[..12],
                rep.previous_ruleset.as_deref().map_or("none", |s| &s[..s.len().min(12)]),
                rep.new_rules.len(),
                rep.changed_rules.len(),
                rep.removed_rules.len()
            )?;
            writeln!(
                out,
                "{} sources unchanged (not extracted), {} extracted: {} new, {} changed, {} re-judged; {} removed",
                rep.unchanged,
                rep.extracted,
                rep.new_sources.len(),
                rep.changed_sources.len(),
                rep.extracted as usize - rep.new_sources.len() - rep.changed_sources.len(),
                rep.removed_sources.len()
            )?;
            if rep.engine_changed {
                writeln!(out, "matching engine changed since the last run: every rule counts as changed")?;
            }
            if rep.settings_changed > 0 {
                writeln!(
                    out,
                    "{} sources re-judged because policy, limits, chunking or allowlist changed",
                    rep.settings_changed
                )?;
            }
            if !rep.delta_is_empty() {
                writeln!(
                    out,
                    "{} stored chunks checked against new/changed rules, {} pulled",
                    rep.chunks_checked,
                    rep.pulled.len()
                )?;
            }
            let mut by_rule: BTreeMap<&str, usize> = BTreeMap::new();
            for p in &rep.pulled {
                for r in &p.rules {
                    *by_rule.entry(r.as_str()).or_default() += 1;
                }
            }
            for (r, n) in by_rule {
                writeln!(out, "  pulled {n:>5} chunks  {r}")?;
            }
            for j in &rep.rejudged {
                writeln!(
                    out,
                    "  {} -> {:<11} {}  {}",
                    j.before.map_or("new", |v| v.as_str()),
                    j.after.as_str(),
                    j.path,
                    j.reason.map_or("", |r| r.as_str())
                )?;
            }
            for p in &rep.removed_sources {
                writeln!(out, "  removed     {p}")?;
            }
            if !rep.orphans_reconciled.is_empty() {
                writeln!(out, "{} sources reconciled after an interrupted run", rep.orphans_reconciled.len())?;
            }
        }
        _ => writeln!(out, "{}", serde_json::to_string_pretty(&rep)?)?,
    }
    out.flush()?;
    if rep.summary.interrupted {
        eprintln!("ragsan: interrupted: {} sources re-judged and committed; run again to finish", rep.extracted);
        return Ok(ExitStatus::Interrupted);
    }
    let findings = !rep.pulled.is_empty() || rep.reports.iter().any(|r| r.verdict != VerdictKind::Clean);
    Ok(if findings { ExitStatus::Findings } else { ExitStatus::Clean })
}

fn quarantine(ctx: &Ctx, cmd: QuarantineCmd) -> Result<ExitStatus> {
    let store = QuarantineStore::open(&ctx.dirs.quarantine())?;
    let mut out = std::io::stdout().lock();
    match cmd {
        QuarantineCmd::List { format } => {
            let all = store.list()?;
            match format {
                Format::Human => {
                    for s in &all {
                        writeln!(
                            out,
                            "{}  {:<18} {}",
                            &s.id[..s.id.len().min(16)],
                            s.report.reason.map_or("", |r| r.as_str()),
                            s.sources.join(", ")
                        )?;
                    }
                    writeln!(out, "{} quarantined", all.len())?;
                }
                _ => writeln!(out, "{}", serde_json::to_string_pretty(&all)?)?,
            }
            Ok(ExitStatus::Clean)
        }
        QuarantineCmd::Show { id } => {
            let s = find_sidecar(&store, &id)?;
            writeln!(out, "{}", serde_json::to_string_pretty(&s)?)?;
            Ok(ExitStatus::Clean)
        }
        QuarantineCmd::Release { id, reason } => {
            if reason.trim().len() < 4 {
                bail!("--reason must say why this release is safe");
            }
            let s = find_sidecar(&store, &id)?;
            let mut rules: Vec<String> = s.report.findings.iter().map(|f| f.rule.clone()).collect();
            rules.sort();
            rules.dedup();
            if rules.is_empty() {
                bail!(
                    "{} was quarantined at intake ({}), not by a rule: it cannot be released, only fixed and re-scanned",
                    s.id,
                    s.report.reason.map_or("unknown", |r| r.as_str())
                );
            }
            let bin = store.dir().join(format!("{}.bin", s.id));
            let bytes = std::fs::read(&bin).with_context(|| format!("original of {} is not in the store", s.id))?;
            {
                let ledger = Ledger::open(&ctx.dirs.ledger())?;
                ledger.add_release(&Release {
                    sha256: s.id.clone(),
                    rules,
                    reason: reason.clone(),
                    path: s.report.path.clone(),
                    time: time::OffsetDateTime::now_utc().unix_timestamp(),
                })?;
                // The ledger is the record; the JSON mirror is what concurrent hook calls read.
                crate::quarantine::write_atomic(
                    &ctx.dirs.releases(),
                    &serde_json::to_vec_pretty(&ledger.releases()?)?,
                )?;
            }
            // Re-run the pipeline on the original at its source path, with the release applied.
            let engine = ctx.engine(true)?;
            let staged = tempfile::tempdir()?;
            let name =
                Path::new(&s.report.path).file_name().map(|n| n.to_os_string()).unwrap_or_else(|| "released".into());
            let staged_file = staged.path().join(&name);
            std::fs::write(&staged_file, &bytes)?;
            let mut o = engine.process_bytes(&s.report.path, &bytes, staged_file.extension().and_then(|e| e.to_str()));
            let now = time::OffsetDateTime::now_utc().unix_timestamp();
            if o.report.verdict != VerdictKind::Quarantined {
                let mut sink = crate::index::IndexSink::open(&ctx.dirs.index())?;
                let prov = o.provenance();
                sink.replace_source(&o.report.path, o.report.kind, o.report.verdict, &o.chunks, &prov, now)?;
                let manifest = crate::rescan::manifest(&engine);
                sink.commit(&manifest)?;
                sink.finish()?;
                let ledger = Ledger::open(&ctx.dirs.ledger())?;
                ledger.put_manifest(engine.detectors.digest(), &manifest)?;
                ledger.apply(&[pipeline::source_record(&o, &engine.settings_digest, now)], &[])?;
            } else {
                o.report.quarantine_id = Some(store.put(&o.report, Some(&bytes))?);
            }
            let mut audit = crate::report::AuditLog::open(&ctx.dirs.audit())?;
            audit.record(&o.report, "quarantine-release", now)?;
            audit.flush()?;
            writeln!(out, "{}", human_line(&o.report))?;
            writeln!(out, "release recorded for {} ({} findings suppressed): {reason}", s.id, o.report.suppressed)?;
            Ok(if o.report.verdict == VerdictKind::Quarantined { ExitStatus::Findings } else { ExitStatus::Clean })
        }
    }
}

fn find_sidecar(store: &QuarantineStore, id: &str) -> Result<crate::quarantine::Sidecar> {
    if id.len() < 6 {
        bail!("give at least 6 characters of the quarantine id");
    }
    let matches: Vec<_> = store.list()?.into_iter().filter(|s| s.id.starts_with(id)).collect();
    match matches.len() {
        0 => bail!("no quarantined file with id {id}"),
        1 => Ok(matches.into_iter().next().expect("one match")),
        n => bail!("{n} quarantined files start with {id}: give more characters"),
    }
}
