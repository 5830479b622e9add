//! The command line: thin wrappers over the library, results on stdout, logs on stderr.
//!
//! Exit codes: 0 clean, 1 findings (something was redacted, flagged or quarantined), 2 the tool
//! failed (bad arguments, invalid rules, index locked).

use crate::config::Config;
use crate::detect::Detectors;
use crate::error::ExitStatus;
use crate::fingerprint::Fingerprinter;
use crate::index::IndexReaderHandle;
use crate::limits::Budget;
use crate::model::*;
use crate::pipeline::{self, DataDirs, Engine, ScanOptions};
use crate::report::{human_line, FileReport};
use crate::sniff::{sniff, Sniffed};
use anyhow::{bail, Context, Result};
use clap::{Parser, Subcommand, ValueEnum};
use rayon::prelude::*;
use std::io::{BufRead, IsTerminal, Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Parser, Debug)]
#[command(
    name = "ragsan",
    version,
    about = "Keeps poisoned and sensitive content out of RAG knowledge bases"
)]
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
    /// Run the pre-upload HTTP service (POST /v1/check answers with the `check` verdict).
    Serve(crate::serve::ServeArgs),
    /// Inspect and test detector rules.
    Rules {
        #[command(subcommand)]
        cmd: RulesCmd,
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
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
enum Format {
    Human,
    Json,
    Ndjson,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
enum ExtractFormat {
    Text,
    Json,
}

/// Entry point for the binary.
pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let code = if e.use_stderr() {
                ExitStatus::Error
            } else {
                ExitStatus::Clean
            };
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
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn,ragsan::serve=info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .try_init();
}

struct Ctx {
    config: Config,
    dirs: DataDirs,
    detectors_dir: Option<PathBuf>,
}

impl Ctx {
    fn new(cli: &Cli) -> Result<Self> {
        let config = Config::load(cli.config.as_deref())?;
        let root = cli
            .data
            .clone()
            .or_else(|| config.data_dir.clone())
            .unwrap_or_else(|| PathBuf::from("ragsan-data"));
        let detectors_dir = cli.detectors.clone().or_else(|| config.detectors.clone());
        Ok(Ctx {
            config,
            dirs: DataDirs::new(root),
            detectors_dir,
        })
    }

    fn detectors(&self) -> Result<Detectors> {
        match &self.detectors_dir {
            Some(d) => Detectors::from_dir(d)
                .with_context(|| format!("loading rules from {}", d.display())),
            None => Detectors::embedded().context("loading embedded rules"),
        }
    }

    fn key_path(&self) -> PathBuf {
        self.config
            .hmac_key_file
            .clone()
            .unwrap_or_else(|| self.dirs.key())
    }

    /// `create`: generate the key file when missing (scan); otherwise use it if present.
    fn engine(&self, create_key: bool) -> Result<Engine> {
        let key = self.key_path();
        let fingerprinter = Fingerprinter::load(Some(&key), create_key)?;
        Ok(Engine {
            detectors: self.detectors()?,
            limits: self.config.limits.clone(),
            policy: self.config.policy.clone(),
            chunking: self.config.chunking,
            fingerprinter,
        })
    }
}

fn run(cli: Cli) -> Result<ExitStatus> {
    let ctx = Ctx::new(&cli)?;
    match cli.cmd {
        Command::Scan {
            paths,
            format,
            output,
            threads,
            quiet,
        } => scan(&ctx, &paths, format, output, threads, quiet),
        Command::Check {
            file,
            filename,
            format,
        } => check(&ctx, &file, filename.as_deref(), format),
        Command::Detect => detect(&ctx),
        Command::Extract { file, format } => extract(&ctx, &file, format),
        Command::Search {
            query,
            format,
            limit,
        } => search(&ctx, &query, format, limit),
        Command::Rules { cmd } => rules(&ctx, cmd),
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
    let mut out = out_writer(output.as_deref())?;
    let opts = ScanOptions {
        threads,
        progress: !quiet && std::io::stderr().is_terminal(),
        ..Default::default()
    };
    let mut all: Vec<FileReport> = Vec::new();
    let mut io_err: Option<std::io::Error> = None;
    let res = pipeline::scan(&engine, paths, &ctx.dirs, &opts, |r| {
        let w = match format {
            Format::Ndjson => serde_json::to_string(r)
                .map_err(std::io::Error::other)
                .and_then(|s| writeln!(out, "{s}")),
            Format::Human if r.verdict != VerdictKind::Clean => writeln!(out, "{}", human_line(r)),
            Format::Json => {
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
            serde_json::to_writer_pretty(
                &mut out,
                &serde_json::json!({"files": all, "summary": res.summary}),
            )?;
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
        Format::Ndjson => {}
    }
    out.flush()?;
    Ok(if res.summary.any_findings() {
        ExitStatus::Findings
    } else {
        ExitStatus::Clean
    })
}

fn check(ctx: &Ctx, file: &Path, filename: Option<&str>, format: Format) -> Result<ExitStatus> {
    let engine = ctx.engine(false)?;
    let outcome = if file == Path::new("-") {
        let max = engine.limits.max_file_bytes;
        let mut buf = Vec::new();
        std::io::stdin()
            .lock()
            .take(max + 1)
            .read_to_end(&mut buf)
            .context("reading stdin")?;
        let name = filename.unwrap_or("-");
        let ext = Path::new(name).extension().and_then(|e| e.to_str());
        engine.process_bytes(name, &buf, ext)
    } else {
        engine.process_path(file)
    };
    let r = outcome.report;
    let mut out = std::io::stdout().lock();
    match format {
        Format::Human => writeln!(out, "{}", human_line(&r))?,
        _ => writeln!(out, "{}", serde_json::to_string_pretty(&r)?)?,
    }
    Ok(if r.has_findings() {
        ExitStatus::Findings
    } else {
        ExitStatus::Clean
    })
}

fn detect(ctx: &Ctx) -> Result<ExitStatus> {
    let det = ctx.detectors()?;
    let stdin = std::io::stdin();
    let mut lines = stdin.lock().lines();
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    let mut any = false;
    loop {
        // Batches keep memory flat on endless input while using every core.
        let batch: Vec<String> = lines
            .by_ref()
            .take(512)
            .collect::<Result<_, _>>()
            .context("reading stdin")?;
        if batch.is_empty() {
            break;
        }
        let results: Vec<Result<serde_json::Value>> = batch
            .par_iter()
            .filter(|l| !l.trim().is_empty())
            .map(|line| {
                let v: serde_json::Value =
                    serde_json::from_str(line).context("input line is not JSON")?;
                let text = v.get("text").and_then(|t| t.as_str()).unwrap_or("");
                Ok(detect_one(
                    &det,
                    v.get("id").cloned().unwrap_or_default(),
                    text,
                ))
            })
            .collect();
        for r in results {
            let v = r?;
            any |= v["verdict"] != "clean";
            writeln!(out, "{v}")?;
        }
    }
    out.flush()?;
    Ok(if any {
        ExitStatus::Findings
    } else {
        ExitStatus::Clean
    })
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
                "start": m.start, "end": m.end, "score": m.score,
            })
        })
        .collect();
    serde_json::json!({"id": id, "verdict": verdict, "findings": findings})
}

fn extract(ctx: &Ctx, file: &Path, format: ExtractFormat) -> Result<ExitStatus> {
    let limits = ctx.config.limits.clone();
    let bytes = std::fs::read(file).with_context(|| format!("reading {}", file.display()))?;
    if bytes.len() as u64 > limits.max_file_bytes {
        bail!(
            "{}: {} bytes is over the {}-byte limit",
            file.display(),
            bytes.len(),
            limits.max_file_bytes
        );
    }
    let ext = file.extension().and_then(|e| e.to_str());
    let kind = match sniff(&bytes, ext) {
        Sniffed::Accept(k) => k,
        Sniffed::Reject { reason, detail } => {
            eprintln!(
                "ragsan: {}: rejected ({}): {detail}",
                file.display(),
                reason.as_str()
            );
            return Ok(ExitStatus::Findings);
        }
    };
    let budget = Budget::new(&limits);
    let ex = match crate::extract::extract(kind, &bytes, &budget) {
        Ok(x) => x,
        Err(e) => {
            eprintln!(
                "ragsan: {}: cannot extract ({}): {e}",
                file.display(),
                e.reason().as_str()
            );
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
            let v = serde_json::json!({
                "path": file.display().to_string(), "kind": kind, "visible_text": ex.visible_text(),
                "hidden": hidden, "signals": ex.signals, "spans": ex.spans.len(),
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
        Format::Json => writeln!(
            out,
            "{}",
            serde_json::to_string_pretty(&serde_json::json!({"count": count, "hits": hits}))?
        )?,
        Format::Ndjson => {
            for h in &hits {
                writeln!(out, "{}", serde_json::to_string(h)?)?;
            }
        }
    }
    Ok(ExitStatus::Clean)
}

fn rules(ctx: &Ctx, cmd: RulesCmd) -> Result<ExitStatus> {
    let det = ctx.detectors()?;
    let mut out = std::io::stdout().lock();
    match cmd {
        RulesCmd::List { format } => {
            if format == Format::Human {
                writeln!(
                    out,
                    "{:<52} {:<10} {:<9} {:<10} {:>3}  digest",
                    "id", "kind", "severity", "action", "ver"
                )?;
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
            let n_ex: usize = det
                .rules()
                .iter()
                .map(|r| r.spec.examples.len() + r.spec.negative_examples.len())
                .sum();
            writeln!(
                out,
                "{} rules, {} examples checked, {} failures; ruleset {}",
                det.rules().len(),
                n_ex,
                failures.len(),
                det.digest()
            )?;
            Ok(if failures.is_empty() {
                ExitStatus::Clean
            } else {
                ExitStatus::Error
            })
        }
    }
}
