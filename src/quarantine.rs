//! The quarantine store: originals kept, content-addressed, with a value-free sidecar.
//!
//! Nothing is lost: a quarantined file's bytes are stored under their sha256 so they can be
//! reviewed and released later. The JSON sidecar says why (reason, rules, kinds, ranges,
//! locations, fingerprints) and never holds the matched values.

use crate::report::FileReport;
use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Sidecar {
    /// The sha256 of the original (also the file name); `none` when the bytes could not be read.
    pub id: String,
    /// Every source path this content was seen at.
    pub sources: Vec<String>,
    /// Whether the original bytes are stored next to the sidecar.
    pub original_stored: bool,
    /// The latest verdict record (findings carry offsets and fingerprints only).
    pub report: FileReport,
}

pub struct QuarantineStore {
    dir: PathBuf,
}

impl QuarantineStore {
    pub fn open(dir: &Path) -> Result<Self> {
        std::fs::create_dir_all(dir).with_context(|| format!("creating quarantine dir {}", dir.display()))?;
        Ok(QuarantineStore { dir: dir.to_path_buf() })
    }

    /// Stores `original` (when available) and writes or updates the sidecar. Returns its id.
    pub fn put(&self, report: &FileReport, original: Option<&[u8]>) -> Result<String> {
        // Unreadable files have no content hash: key them by a hash of the path instead.
        let id = match &report.sha256 {
            Some(s) => s.clone(),
            None => format!("path-{}", &crate::chunk::sha256_hex(report.path.as_bytes())[..32]),
        };
        let bin = self.dir.join(format!("{id}.bin"));
        let mut original_stored = bin.exists();
        if let (Some(bytes), false) = (original, original_stored) {
            write_atomic(&bin, bytes)?;
            original_stored = true;
        }
        let side = self.dir.join(format!("{id}.json"));
        let mut sources = match std::fs::read(&side) {
            Ok(b) => serde_json::from_slice::<Sidecar>(&b).map(|s| s.sources).unwrap_or_default(),
            Err(_) => Vec::new(),
        };
        if !sources.contains(&report.path) {
            sources.push(report.path.clone());
        }
        let sc = Sidecar { id: id.clone(), sources, original_stored, report: report.clone() };
        write_atomic(&side, &serde_json::to_vec_pretty(&sc)?)?;
        Ok(id)
    }

    pub fn list(&self) -> Result<Vec<Sidecar>> {
        let mut out = Vec::new();
        for e in std::fs::read_dir(&self.dir)? {
            let p = e?.path();
            if p.extension().is_some_and(|x| x == "json") {
                let b = std::fs::read(&p)?;
                out.push(serde_json::from_slice(&b).with_context(|| format!("reading {}", p.display()))?);
            }
        }
        out.sort_by(|a: &Sidecar, b: &Sidecar| a.id.cmp(&b.id));
        Ok(out)
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }
}

/// Writes via a temporary file and rename so a crash never leaves a half-written file.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    use std::io::Write;
    let dir = path.parent().unwrap_or(Path::new("."));
    let mut tmp = tempfile::NamedTempFile::new_in(dir).with_context(|| format!("writing in {}", dir.display()))?;
    tmp.write_all(bytes)?;
    tmp.as_file().sync_all()?;
    tmp.persist(path).with_context(|| format!("writing {}", path.display()))?;
    Ok(())
}
