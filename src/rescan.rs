//! Nightly re-scan: re-judge what is already indexed, doing only the work that changed.
//!
//! Sources whose content, extractor and (for quarantined ones) deciding rules are unchanged are
//! skipped without extraction. Changed and new sources are re-ingested; removed ones have their
//! chunks deleted. When the ruleset changed, only the new or changed rules run over the stored
//! text of every indexed chunk; chunks that now fail are pulled and their documents re-judged
//! through the full pipeline. The index is committed before the ledger, and chunks of sources
//! the ledger does not know (after a crash between the two) are reconciled, so a re-run after a
//! kill at any point ends consistent.

use crate::detect::Detectors;
use crate::index::{IndexReaderHandle, IndexSink};
use crate::ledger::{Ledger, SourceRecord};
use crate::model::*;
use crate::pipeline::{self, DataDirs, Engine, Outcome};
use crate::quarantine::QuarantineStore;
use crate::report::{FileReport, Summary};
use anyhow::{Context, Result};
use rayon::prelude::*;
use serde::Serialize;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::time::Instant;

/// A chunk pulled from the index because a new or changed rule matched its stored text.
#[derive(Debug, Clone, Serialize)]
pub struct Pulled {
    pub chunk_id: String,
    pub source_path: String,
    pub rules: Vec<String>,
}

/// A source whose verdict changed.
#[derive(Debug, Clone, Serialize)]
pub struct Rejudged {
    pub path: String,
    pub before: Option<VerdictKind>,
    pub after: VerdictKind,
    pub reason: Option<Reason>,
    pub rules: Vec<String>,
}

/// The delta a re-scan reports.
#[derive(Debug, Default, Serialize)]
pub struct RescanReport {
    pub ruleset: String,
    pub previous_ruleset: Option<String>,
    pub new_rules: Vec<String>,
    pub changed_rules: Vec<String>,
    pub removed_rules: Vec<String>,
    /// The matching engine changed since the last completed run (a new build of ragsan): every
    /// rule counts as changed, so every stored chunk is checked against every rule.
    pub engine_changed: bool,
    /// Sources re-judged because the judging settings (policy, limits, chunking, allowlist)
    /// differ from those that judged them.
    pub settings_changed: u64,
    /// Sources skipped without extraction.
    pub unchanged: u64,
    /// Files read and extracted this run.
    pub extracted: u64,
    pub new_sources: Vec<String>,
    pub changed_sources: Vec<String>,
    pub removed_sources: Vec<String>,
    pub chunks_checked: u64,
    pub pulled: Vec<Pulled>,
    pub rejudged: Vec<Rejudged>,
    /// Index chunks whose source the ledger did not know (left by an interrupted run).
    pub orphans_reconciled: Vec<String>,
    pub summary: Summary,
    /// Verdicts of every source processed this run.
    #[serde(skip)]
    pub reports: Vec<FileReport>,
}

impl RescanReport {
    /// True when no rule was added or changed and the engine is the same.
    pub fn delta_is_empty(&self) -> bool {
        self.new_rules.is_empty() && self.changed_rules.is_empty() && !self.engine_changed
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Why {
    New,
    Changed,
    Rejudge,
    /// Judged under other settings.
    Settings,
}

/// What a stored manifest says about the ruleset that judged some sources.
#[derive(Debug, Default)]
struct Manifest {
    ruleset: Option<String>,
    /// [`crate::detect::ENGINE_VERSION`] of the build that wrote it; absent before it was
    /// recorded, which counts as a different engine.
    engine: Option<String>,
    /// Rule id → rule digest.
    rules: BTreeMap<String, String>,
}

/// The manifest of the previous completed run.
fn previous_manifest(ledger: &Ledger) -> Result<Manifest> {
    ledger.meta("manifest")?.map_or(Ok(Manifest::default()), |m| parse_manifest(&m))
}

/// The manifest of ruleset `digest`; an empty one (every rule new) if the ledger lacks it.
fn manifest_of(ledger: &Ledger, digest: &str) -> Result<Manifest> {
    ledger.manifest(digest)?.map_or(Ok(Manifest::default()), |m| parse_manifest(&m))
}

fn parse_manifest(m: &str) -> Result<Manifest> {
    let v: serde_json::Value = serde_json::from_str(m).context("ledger manifest")?;
    let rules = v["rules"]
        .as_object()
        .map(|o| o.iter().filter_map(|(k, d)| Some((k.clone(), d.as_str()?.to_string()))).collect())
        .unwrap_or_default();
    Ok(Manifest {
        ruleset: v["ruleset"].as_str().map(String::from),
        engine: v["engine"].as_str().map(String::from),
        rules,
    })
}

/// How the current rules differ from an earlier ruleset's.
#[derive(Debug, Clone, Default)]
struct RuleDelta {
    new: Vec<String>,
    changed: Vec<String>,
    removed: Vec<String>,
    /// The earlier ruleset was applied by another engine: every rule may now find otherwise.
    engine_changed: bool,
    /// New and changed rules (all of them when the engine changed): what must run over text
    /// judged by the earlier ruleset.
    run: HashSet<String>,
}

impl RuleDelta {
    fn between(det: &Detectors, earlier: &Manifest) -> Self {
        let mut d = RuleDelta {
            engine_changed: earlier.engine.as_deref() != Some(crate::detect::ENGINE_VERSION),
            ..Default::default()
        };
        for r in det.rules() {
            match earlier.rules.get(&r.spec.id) {
                None => d.new.push(r.spec.id.clone()),
                Some(digest) if *digest != r.digest => d.changed.push(r.spec.id.clone()),
                _ if d.engine_changed => {}
                _ => continue,
            }
            d.run.insert(r.spec.id.clone());
        }
        let earlier = &earlier.rules;
        let current: HashSet<&str> = det.rules().iter().map(|r| r.spec.id.as_str()).collect();
        d.removed = earlier.keys().filter(|k| !current.contains(k.as_str())).cloned().collect();
        d
    }

    /// Whether a decision that rested on rule `id` may differ now.
    fn touches(&self, id: &str) -> bool {
        self.run.contains(id) || self.removed.iter().any(|r| r == id)
    }
}

fn in_scope(path: &str, scope: &[PathBuf]) -> bool {
    scope.is_empty() || scope.iter().any(|s| Path::new(path).starts_with(s))
}

/// Files under `scope` (recursively), as display strings like `scan` records them.
fn files_in(scope: &[PathBuf]) -> Vec<String> {
    let mut out = Vec::new();
    for s in scope {
        for e in ignore::WalkBuilder::new(s).standard_filters(false).follow_links(false).build().flatten() {
            if e.file_type().is_some_and(|t| t.is_file()) {
                out.push(e.path().display().to_string());
            }
        }
    }
    out.sort();
    out.dedup();
    out
}

/// A known source found unchanged: its record, and whether it must be rewritten because its
/// mtime moved (to `mtime_ns`) while its content did not.
struct Unchanged<'a> {
    rec: &'a SourceRecord,
    dirty: bool,
    mtime_ns: Option<i128>,
}

/// Runs a re-scan over the data dir. `scope` limits it to sources under those paths (and finds
/// new files there); empty means every source the ledger knows.
pub fn rescan(engine: &Engine, dirs: &DataDirs, scope: &[PathBuf]) -> Result<RescanReport> {
    let t0 = Instant::now();
    let scope: Vec<PathBuf> = scope.iter().map(|p| crate::pipeline::source_root(p)).collect();
    let scope = scope.as_slice();
    let ledger = Ledger::open(&dirs.ledger())?;
    let quarantine = QuarantineStore::open(&dirs.quarantine())?;
    let mut sink = IndexSink::open(&dirs.index())?;
    let ingested = time::OffsetDateTime::now_utc().unix_timestamp();
    let det = &engine.detectors;

    let mut rep = RescanReport { ruleset: det.digest().to_string(), ..Default::default() };
    // The delta against the last completed run, for the report.
    let prev = previous_manifest(&ledger)?;
    let prev_digest = prev.ruleset.clone();
    rep.previous_ruleset = prev_digest.clone();
    let last = RuleDelta::between(det, &prev);
    (rep.new_rules, rep.changed_rules, rep.removed_rules) =
        (last.new.clone(), last.changed.clone(), last.removed.clone());
    // A ledger without a manifest has never seen a completed run: no engine to differ from.
    rep.engine_changed = last.engine_changed && prev.ruleset.is_some();
    let payload = manifest(engine);
    let known = ledger.all()?;
    // What each source must be checked against depends on the ruleset that judged *it*: a `scan`
    // of part of the corpus with newer rules leaves the rest judged by older ones. One delta per
    // ruleset digest found in the ledger; a digest whose manifest is unknown counts every rule
    // as new (a full re-judgement of its stored text).
    let mut deltas: BTreeMap<String, RuleDelta> = BTreeMap::new();
    for rec in known.values() {
        if rec.ruleset == det.digest() || deltas.contains_key(&rec.ruleset) {
            continue;
        }
        let d = if prev_digest.as_deref() == Some(rec.ruleset.as_str()) {
            last.clone()
        } else {
            RuleDelta::between(det, &manifest_of(&ledger, &rec.ruleset)?)
        };
        deltas.insert(rec.ruleset.clone(), d);
    }

    // 1. Classify known sources without extracting them: a stat each (a hash where the stat
    //    moved), in parallel, as the files may sit on slow or network storage.
    enum Class {
        OutOfScope,
        Removed,
        Queue(Why),
        /// Unchanged; `dirty` when its record must be rewritten (its mtime moved to `mtime_ns`).
        Unchanged {
            dirty: bool,
            mtime_ns: Option<i128>,
        },
    }
    // The walk for new files is one thread's work: it runs beside the stats.
    let classify = || {
        known
            .par_iter()
            .map(|(path, rec)| {
                if !in_scope(path, scope) {
                    return (path, rec, Class::OutOfScope);
                }
                let meta = match std::fs::metadata(path) {
                    Ok(m) if m.is_file() => m,
                    _ => return (path, rec, Class::Removed),
                };
                let same_stat =
                    rec.size == Some(meta.len()) && rec.mtime_ns.is_some() && rec.mtime_ns == pipeline::mtime_ns(&meta);
                let same_extractor = rec.extractor == crate::extract::EXTRACTOR_VERSION;
                let content_same = same_stat || {
                    // Stat changed (touched, copied): compare content before deciding to extract.
                    rec.sha256.is_some()
                        && sha256_file(Path::new(path), engine.limits.max_file_bytes).ok() == rec.sha256
                };
                if !content_same || !same_extractor {
                    return (path, rec, Class::Queue(Why::Changed));
                }
                // Judged under other settings (or by a version that did not record them): its
                // verdict and chunks may differ now, whatever the rules say.
                if rec.settings.as_deref() != Some(engine.settings_digest.as_str()) {
                    return (path, rec, Class::Queue(Why::Settings));
                }
                // Quarantined because of rules that changed or went away: judge again.
                if deltas.get(&rec.ruleset).is_some_and(|d| rec.rules.iter().any(|r| d.touches(r))) {
                    return (path, rec, Class::Queue(Why::Rejudge));
                }
                (path, rec, Class::Unchanged { dirty: !same_stat, mtime_ns: pipeline::mtime_ns(&meta) })
            })
            .collect::<Vec<(&String, &SourceRecord, Class)>>()
    };
    let (classes, found) = rayon::join(classify, || files_in(scope));
    let mut queue: BTreeMap<String, Why> = BTreeMap::new();
    // Borrowed: most are not rewritten (see the vouch below), so most are never cloned.
    let mut unchanged: Vec<Unchanged<'_>> = Vec::new();
    // Old rulesets with a source outside the scope: those cannot be vouched for wholesale.
    let mut partly_seen: HashSet<&str> = HashSet::new();
    let mut removed: Vec<String> = Vec::new();
    for (path, rec, class) in classes {
        match class {
            Class::OutOfScope => {
                partly_seen.insert(rec.ruleset.as_str());
            }
            Class::Removed => removed.push(path.clone()),
            Class::Queue(why) => {
                queue.insert(path.clone(), why);
            }
            Class::Unchanged { dirty, mtime_ns } => unchanged.push(Unchanged { rec, dirty, mtime_ns }),
        }
    }
    for p in found {
        if !known.contains_key(&p) {
            queue.insert(p, Why::New);
        }
    }

    tracing::debug!(ms = t0.elapsed().as_millis() as u64, sources = known.len(), "rescan: sources classified");
    // 2. New or changed rules over the stored text of every indexed chunk of unchanged sources,
    //    each against the rules that changed since its own ruleset. The chunks are streamed
    //    from the index, not collected: memory stays flat however large the knowledge base.
    let mut subsets: BTreeMap<&str, Detectors> = BTreeMap::new();
    for (digest, d) in &deltas {
        if !d.run.is_empty() {
            subsets.insert(digest.as_str(), det.subset(&d.run)?);
        }
    }
    // Only unchanged sources judged under an older ruleset need their chunks checked.
    let check: HashMap<&str, &Detectors> =
        unchanged.iter().filter_map(|u| Some((u.rec.path.as_str(), subsets.get(u.rec.ruleset.as_str())?))).collect();
    // The sink above created the index if it was missing, so a reader that cannot open it is
    // a broken index: an error, never a re-scan that vouches for chunks it could not read.
    let reader = IndexReaderHandle::open(&dirs.index())
        .with_context(|| format!("opening the index at {} to check stored chunks", dirs.index().display()))?;
    // A chunk none of the subsets' keywords occurs in cannot match: most are never decoded.
    let may_match = |bytes: &[u8]| subsets.values().any(|d| d.may_match_in(bytes));
    rep.pulled = if check.is_empty() {
        Vec::new()
    } else {
        reader.scan_chunks_where(may_match, |c| {
            let subset = check.get(c.source_path.as_str())?;
            let m = subset.scan(&c.text);
            if m.is_empty() {
                return None;
            }
            let mut rules: Vec<String> = m.iter().map(|m| subset.rule(m.rule).spec.id.clone()).collect();
            rules.sort();
            rules.dedup();
            Some(Pulled { chunk_id: c.chunk_id.clone(), source_path: c.source_path.clone(), rules })
        })?
    };
    let index_paths = reader.source_paths()?;
    // Every chunk of a checked source was checked, by keyword or by its rules.
    rep.chunks_checked = unchanged
        .iter()
        .filter(|u| check.contains_key(u.rec.path.as_str()))
        .map(|u| u.rec.chunk_ids.len() as u64)
        .sum();
    drop(check);
    drop(subsets);
    let pulled_paths: HashSet<&str> = rep.pulled.iter().map(|h| h.source_path.as_str()).collect();
    for p in &pulled_paths {
        queue.entry(p.to_string()).or_insert(Why::Rejudge);
    }
    unchanged.retain(|u| !pulled_paths.contains(u.rec.path.as_str()));
    // Chunks whose source the ledger does not know: left by a run killed between the index and
    // ledger commits. Re-ingest them when the file is there, else drop them.
    for p in index_paths.iter().filter(|p| !known.contains_key(*p) && in_scope(p, scope)) {
        rep.orphans_reconciled.push(p.clone());
        if Path::new(p).is_file() {
            queue.entry(p.clone()).or_insert(Why::New);
        } else {
            removed.push(p.clone());
        }
    }
    drop(reader);
    tracing::debug!(ms = t0.elapsed().as_millis() as u64, queued = queue.len(), "rescan: delta rules run");

    // 3. Apply: removals, then re-processing streamed to the writer.
    let prov_none = Provenance {
        source_sha256: String::new(),
        text_sha256: String::new(),
        extractor: crate::extract::EXTRACTOR_VERSION.into(),
        ruleset_digest: det.digest().into(),
        tool_version: crate::report::TOOL_VERSION.into(),
    };
    for p in &removed {
        sink.replace_source(p, None, VerdictKind::Clean, &[], &prov_none, ingested)?;
    }
    rep.removed_sources = removed.clone();
    let mut put: Vec<SourceRecord> = Vec::new();
    let items: Vec<(String, Why)> = queue.into_iter().collect();
    // Judged in parallel and streamed to this thread, the one writer, as they finish: the
    // index writer's own thread then indexes one source while the pool judges the next,
    // instead of the whole queue's indexing waiting for the commit. Bounded, so memory holds
    // a few outcomes whatever the queue's length.
    let (tx, rx) = crossbeam_channel::bounded::<(Why, Outcome)>(rayon::current_num_threads() * 2);
    std::thread::scope(|s| -> Result<()> {
        s.spawn(move || {
            // Stops judging once the writer is gone (it failed) or a stop is asked for.
            let _ = items.par_iter().try_for_each_with(tx, |tx, (p, why)| {
                if crate::interrupt::requested() {
                    return Err(());
                }
                tx.send((*why, engine.process_path(Path::new(p)))).map_err(|_| ())
            });
        });
        for (why, mut o) in rx {
            rep.extracted += 1;
            let prov = o.provenance();
            let path = o.report.path.clone();
            match why {
                Why::New => rep.new_sources.push(path.clone()),
                Why::Changed => rep.changed_sources.push(path.clone()),
                Why::Settings => rep.settings_changed += 1,
                Why::Rejudge => {}
            }
            let before = known.get(&path).map(|r| r.verdict);
            if o.report.verdict == VerdictKind::Quarantined {
                o.report.quarantine_id = Some(quarantine.put(&o.report, o.original.as_deref())?);
                sink.replace_source(&path, o.report.kind, o.report.verdict, &[], &prov, ingested)?;
            } else {
                sink.replace_source(&path, o.report.kind, o.report.verdict, &o.chunks, &prov, ingested)?;
            }
            if before != Some(o.report.verdict) {
                let mut rules: Vec<String> = o.report.findings.iter().map(|f| f.rule.clone()).collect();
                rules.sort();
                rules.dedup();
                rep.rejudged.push(Rejudged {
                    path: path.clone(),
                    before,
                    after: o.report.verdict,
                    reason: o.report.reason,
                    rules,
                });
            }
            put.push(pipeline::source_record(&o, &engine.settings_digest, ingested));
            rep.summary.add(&o.report);
            rep.reports.push(o.report);
        }
        Ok(())
    })?;
    rep.summary.interrupted |= crate::interrupt::requested();
    // Completion order is the pool's; the report's is the paths'.
    rep.new_sources.sort();
    rep.changed_sources.sort();
    rep.rejudged.sort_by(|a, b| a.path.cmp(&b.path));
    rep.reports.sort_by(|a, b| a.path.cmp(&b.path));
    tracing::debug!(ms = t0.elapsed().as_millis() as u64, "rescan: queue processed");
    // Unchanged sources passed the new rules: they now stand under the current ruleset. Where
    // every source judged by an old ruleset was in scope, one vouch says so instead of a
    // rewrite of each record (the sources of that ruleset not among `unchanged` were
    // re-processed or removed in this run, so their records no longer name it).
    rep.unchanged = unchanged.len() as u64;
    let mut vouched: Vec<String> = Vec::new();
    if !rep.summary.interrupted {
        vouched = deltas.keys().filter(|d| !partly_seen.contains(d.as_str())).cloned().collect();
        unchanged.retain(|u| u.dirty || (u.rec.ruleset != det.digest() && !vouched.contains(&u.rec.ruleset)));
    } else {
        unchanged.retain(|u| u.dirty);
    }
    sink.commit(&payload)?;
    sink.finish()?;
    tracing::debug!(ms = t0.elapsed().as_millis() as u64, "rescan: index committed");
    let restamp = !rep.summary.interrupted;
    put.extend(unchanged.into_iter().map(|u| {
        let mut r = u.rec.clone();
        if u.dirty {
            r.mtime_ns = u.mtime_ns;
        }
        if restamp {
            r.ruleset = det.digest().to_string();
        }
        r
    }));
    // Interrupted: what was re-judged is recorded, but the previous manifest stays, so the next
    // run computes the same rule delta and finishes the work.
    let key = Ledger::manifest_key(det.digest());
    let mut meta = vec![(key.as_str(), payload.as_str())];
    if !rep.summary.interrupted {
        meta.push(("manifest", payload.as_str()));
    }
    let vouch_keys: Vec<String> = vouched.iter().map(|d| Ledger::vouch_key(d)).collect();
    meta.extend(vouch_keys.iter().map(|k| (k.as_str(), det.digest())));
    ledger.apply_with_meta(&put, &removed, &meta)?;
    tracing::debug!(ms = t0.elapsed().as_millis() as u64, "rescan: ledger written");
    rep.summary.ruleset = det.digest().to_string();
    rep.summary.elapsed_ms = t0.elapsed().as_millis() as u64;
    Ok(rep)
}

/// The ruleset manifest stored with every commit.
pub fn manifest(engine: &Engine) -> String {
    let det = &engine.detectors;
    serde_json::json!({
        "ruleset": det.digest(),
        "engine": crate::detect::ENGINE_VERSION,
        "tool_version": crate::report::TOOL_VERSION,
        "extractor": crate::extract::EXTRACTOR_VERSION,
        "rules": det.rules().iter().map(|r| (r.spec.id.clone(), r.digest.clone())).collect::<BTreeMap<_, _>>(),
    })
    .to_string()
}

fn sha256_file(path: &Path, max: u64) -> Result<String> {
    use sha2::{Digest, Sha256};
    use std::io::Read;
    let f = std::fs::File::open(path)?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 16];
    let mut r = f.take(max + 1);
    loop {
        let n = r.read(&mut buf)?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
    }
    Ok(hex::encode(h.finalize()))
}
