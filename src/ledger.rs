//! The ledger: an embedded transactional store (redb) of what was ingested, per source path.
//!
//! It records content hash, size, mtime, verdict, ruleset and extractor versions, time and chunk
//! ids, so `rescan` can skip unchanged sources without extracting them and know exactly which
//! rules are new. It also holds quarantine releases (allowlist entries with a required reason).
//! The index is committed before the ledger; after a crash between the two, the ledger is
//! behind, which `rescan` repairs by re-ingesting what it cannot vouch for.
//!
//! A `rescan` after a rule change finds most sources unchanged and clean under the new rules.
//! Rather than rewriting every such record just to change its ruleset digest, it stores one
//! *vouch* `D → E` ("every record still naming ruleset D now stands under E") when all records
//! naming D were checked. Records are read with vouches resolved, so callers never see them.
//! Writing any record under D removes the vouch from D (rules reverted to D judge afresh), which
//! only ever makes the ledger claim *less* checking than was done: safe.

use crate::model::{Reason, VerdictKind};
use anyhow::{Context, Result};
use rayon::prelude::*;
use redb::{Database, ReadableTable, TableDefinition};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::Path;

const SOURCES: TableDefinition<&str, &[u8]> = TableDefinition::new("sources");
const META: TableDefinition<&str, &[u8]> = TableDefinition::new("meta");
const RELEASES: TableDefinition<&str, &[u8]> = TableDefinition::new("releases");

/// What the ledger knows about one source path.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SourceRecord {
    pub path: String,
    pub sha256: Option<String>,
    pub size: Option<u64>,
    /// Modification time, nanoseconds since the epoch.
    pub mtime_ns: Option<i128>,
    pub verdict: VerdictKind,
    pub reason: Option<Reason>,
    pub ruleset: String,
    pub extractor: String,
    /// Unix seconds of the decision.
    pub time: i64,
    pub chunk_ids: Vec<String>,
    /// Rules that fired on this source (ids), to re-judge it when those rules change.
    pub rules: Vec<String>,
    /// The engine's [`settings_digest`](crate::pipeline::Engine::settings_digest) when it was
    /// judged; absent in records of earlier versions, which a re-scan therefore re-judges.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub settings: Option<String>,
}

/// A quarantine release: a reviewed decision to let specific findings through.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Release {
    /// sha256 of the released content.
    pub sha256: String,
    /// Rule ids suppressed for this content.
    pub rules: Vec<String>,
    pub reason: String,
    pub path: String,
    pub time: i64,
}

pub struct Ledger {
    db: Database,
}

/// Meta key prefix of vouches (`vouched:<old digest>` → new digest).
const VOUCH_PREFIX: &str = "vouched:";
/// Longest vouch chain followed; a longer (or cyclic) chain stops where it is, which is safe.
const MAX_VOUCH_CHAIN: usize = 64;

/// Ledger records decoded per parallel batch.
const DECODE_BATCH: usize = 4096;

impl Ledger {
    pub fn open(path: &Path) -> Result<Self> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        }
        if !path.exists() {
            // Initialise in a temporary file and rename it into place, so a kill during creation
            // never leaves a half-written ledger behind.
            let dir = path.parent().unwrap_or(Path::new("."));
            let tmp = tempfile::Builder::new().prefix(".ledger-").tempfile_in(dir)?;
            {
                let db = Database::create(tmp.path())?;
                let w = db.begin_write()?;
                {
                    w.open_table(SOURCES)?;
                    w.open_table(META)?;
                    w.open_table(RELEASES)?;
                }
                w.commit()?;
            }
            tmp.as_file().sync_all()?;
            // Another process may have created it meanwhile; theirs is as good as ours.
            let _ = tmp.persist_noclobber(path);
        }
        let db = Database::create(path)
            .with_context(|| format!("opening ledger {} (is another ragsan using it?)", path.display()))?;
        Ok(Ledger { db })
    }

    pub fn get(&self, path: &str) -> Result<Option<SourceRecord>> {
        let r = self.db.begin_read()?;
        let vouches = read_vouches(&r)?;
        let t = r.open_table(SOURCES)?;
        Ok(match t.get(path)? {
            Some(v) => {
                let mut rec: SourceRecord = serde_json::from_slice(v.value())?;
                resolve(&vouches, &mut rec);
                Some(rec)
            }
            None => None,
        })
    }

    /// The meta key that vouches records judged by ruleset `digest` under a newer one.
    pub fn vouch_key(digest: &str) -> String {
        format!("{VOUCH_PREFIX}{digest}")
    }

    pub fn all(&self) -> Result<BTreeMap<String, SourceRecord>> {
        let r = self.db.begin_read()?;
        let vouches = read_vouches(&r)?;
        let t = r.open_table(SOURCES)?;
        let mut out = BTreeMap::new();
        // Records are decoded in parallel, a batch at a time: decoding is most of the cost of
        // reading a large ledger, and a batch bounds the raw copies held at once.
        let mut raw: Vec<(String, Vec<u8>)> = Vec::with_capacity(DECODE_BATCH);
        let flush = |raw: &mut Vec<(String, Vec<u8>)>, out: &mut BTreeMap<String, SourceRecord>| -> Result<()> {
            let decoded: Vec<(String, SourceRecord)> = raw
                .par_drain(..)
                .map(|(k, v)| {
                    serde_json::from_slice(&v).map(|mut r| {
                        resolve(&vouches, &mut r);
                        (k, r)
                    })
                })
                .collect::<Result<_, _>>()?;
            out.extend(decoded);
            Ok(())
        };
        for item in t.iter()? {
            let (k, v) = item?;
            raw.push((k.value().to_string(), v.value().to_vec()));
            if raw.len() == DECODE_BATCH {
                flush(&mut raw, &mut out)?;
            }
        }
        flush(&mut raw, &mut out)?;
        Ok(out)
    }

    /// Writes `put` and removes `remove` in one transaction.
    pub fn apply(&self, put: &[SourceRecord], remove: &[String]) -> Result<()> {
        self.apply_with_meta(put, remove, &[])
    }

    /// Writes `put`, removes `remove` and sets the `meta` entries in one transaction: one
    /// durable commit (one fsync) instead of one per step, and records never reach the ledger
    /// without the manifest of the ruleset they name. A record written under ruleset D removes
    /// any vouch from D first (see the module doc); `meta` may then set new ones.
    pub fn apply_with_meta(&self, put: &[SourceRecord], remove: &[String], meta: &[(&str, &str)]) -> Result<()> {
        if put.is_empty() && remove.is_empty() && meta.is_empty() {
            return Ok(());
        }
        let encoded: Vec<Vec<u8>> = put.par_iter().map(serde_json::to_vec).collect::<Result<_, _>>()?;
        let w = self.db.begin_write()?;
        {
            let mut t = w.open_table(SOURCES)?;
            for (r, v) in put.iter().zip(&encoded) {
                t.insert(r.path.as_str(), v.as_slice())?;
            }
            for p in remove {
                t.remove(p.as_str())?;
            }
            let mut m = w.open_table(META)?;
            let written: std::collections::BTreeSet<&str> = put.iter().map(|r| r.ruleset.as_str()).collect();
            for d in written {
                m.remove(Self::vouch_key(d).as_str())?;
            }
            for (k, v) in meta {
                m.insert(*k, v.as_bytes())?;
            }
        }
        w.commit().context("committing ledger")?;
        Ok(())
    }

    /// The meta key under which ruleset `digest`'s manifest is stored.
    pub fn manifest_key(digest: &str) -> String {
        format!("manifest:{digest}")
    }

    pub fn meta(&self, key: &str) -> Result<Option<String>> {
        let r = self.db.begin_read()?;
        let t = r.open_table(META)?;
        Ok(t.get(key)?.map(|v| String::from_utf8_lossy(v.value()).into_owned()))
    }

    pub fn set_meta(&self, key: &str, value: &str) -> Result<()> {
        let w = self.db.begin_write()?;
        {
            let mut t = w.open_table(META)?;
            t.insert(key, value.as_bytes())?;
        }
        w.commit()?;
        Ok(())
    }

    /// Stores the manifest of ruleset `digest`, so a later rescan knows what a source judged by
    /// that ruleset was checked against, whichever run judged it.
    pub fn put_manifest(&self, digest: &str, manifest: &str) -> Result<()> {
        self.set_meta(&Self::manifest_key(digest), manifest)
    }

    /// The manifest of ruleset `digest`, if one was stored.
    pub fn manifest(&self, digest: &str) -> Result<Option<String>> {
        self.meta(&Self::manifest_key(digest))
    }

    pub fn add_release(&self, rel: &Release) -> Result<()> {
        let w = self.db.begin_write()?;
        {
            let mut t = w.open_table(RELEASES)?;
            t.insert(rel.sha256.as_str(), serde_json::to_vec(rel)?.as_slice())?;
        }
        w.commit()?;
        Ok(())
    }

    pub fn releases(&self) -> Result<Vec<Release>> {
        let r = self.db.begin_read()?;
        let t = r.open_table(RELEASES)?;
        let mut out = Vec::new();
        for item in t.iter()? {
            let (_, v) = item?;
            out.push(serde_json::from_slice(v.value())?);
        }
        Ok(out)
    }
}

/// Every vouch, old digest → new digest.
fn read_vouches(r: &redb::ReadTransaction) -> Result<BTreeMap<String, String>> {
    let t = r.open_table(META)?;
    let mut out = BTreeMap::new();
    for item in t.range(VOUCH_PREFIX..)? {
        let (k, v) = item?;
        let Some(old) = k.value().strip_prefix(VOUCH_PREFIX) else { break };
        out.insert(old.to_string(), String::from_utf8_lossy(v.value()).into_owned());
    }
    Ok(out)
}

/// The ruleset a record stands under, following vouches.
fn resolve(vouches: &BTreeMap<String, String>, rec: &mut SourceRecord) {
    for _ in 0..MAX_VOUCH_CHAIN {
        match vouches.get(&rec.ruleset) {
            Some(next) if *next != rec.ruleset => rec.ruleset = next.clone(),
            _ => break,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(p: &str) -> SourceRecord {
        SourceRecord {
            path: p.into(),
            sha256: Some("ab".into()),
            size: Some(3),
            mtime_ns: Some(1),
            verdict: VerdictKind::Clean,
            reason: None,
            ruleset: "r".into(),
            extractor: "e".into(),
            time: 0,
            chunk_ids: vec!["c1".into()],
            rules: vec![],
            settings: None,
        }
    }

    #[test]
    fn put_get_remove_persist() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("ledger.redb");
        {
            let l = Ledger::open(&p).unwrap();
            l.apply(&[rec("a"), rec("b")], &[]).unwrap();
            l.apply(&[], &["a".into()]).unwrap();
            l.set_meta("manifest", "{}").unwrap();
        }
        let l = Ledger::open(&p).unwrap();
        assert!(l.get("a").unwrap().is_none());
        assert_eq!(l.get("b").unwrap().unwrap(), rec("b"));
        assert_eq!(l.all().unwrap().len(), 1);
        assert_eq!(l.meta("manifest").unwrap().as_deref(), Some("{}"));
    }

    fn under(p: &str, ruleset: &str) -> SourceRecord {
        SourceRecord { ruleset: ruleset.into(), ..rec(p) }
    }

    #[test]
    fn vouches_resolve_in_chains_and_writing_under_a_digest_drops_its_vouch() {
        let dir = tempfile::tempdir().unwrap();
        let l = Ledger::open(&dir.path().join("ledger.redb")).unwrap();
        l.apply(&[under("a", "C"), under("b", "D")], &[]).unwrap();
        let (kc, kd) = (Ledger::vouch_key("C"), Ledger::vouch_key("D"));
        l.apply_with_meta(&[], &[], &[(kc.as_str(), "D"), (kd.as_str(), "E")]).unwrap();
        assert_eq!(l.get("a").unwrap().unwrap().ruleset, "E");
        assert_eq!(l.all().unwrap()["b"].ruleset, "E");
        // Rules reverted to D: a record judged now under D must not be read as E, and older
        // records under C fall back to D (checked under D at least), never to something newer.
        l.apply(&[under("c", "D")], &[]).unwrap();
        let all = l.all().unwrap();
        assert_eq!(all["c"].ruleset, "D");
        assert_eq!(all["b"].ruleset, "D");
        assert_eq!(all["a"].ruleset, "D");
        // Keys sorting after the prefix are not vouches.
        l.set_meta("zzz", "x").unwrap();
        assert_eq!(l.all().unwrap()["a"].ruleset, "D");
    }

    #[test]
    fn cyclic_vouches_terminate() {
        let dir = tempfile::tempdir().unwrap();
        let l = Ledger::open(&dir.path().join("ledger.redb")).unwrap();
        l.apply(&[under("a", "X")], &[]).unwrap();
        let (kx, ky) = (Ledger::vouch_key("X"), Ledger::vouch_key("Y"));
        l.apply_with_meta(&[], &[], &[(kx.as_str(), "Y"), (ky.as_str(), "X")]).unwrap();
        let r = l.get("a").unwrap().unwrap().ruleset;
        assert!(r == "X" || r == "Y");
    }
}
