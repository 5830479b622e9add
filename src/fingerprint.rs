//! Keyed fingerprints for matched values.
//!
//! A report must say *which* secret was found without containing it. The fingerprint is
//! HMAC-SHA256 under a per-deployment key, so the same value maps to the same token across a
//! corpus (and across runs) while a reader without the key cannot confirm a guess. The key lives
//! in the data dir with 0600 permissions, or comes from `RAGSAN_HMAC_KEY` / the config.

use anyhow::{bail, Context, Result};
use hmac::{Hmac, Mac};
use sha2::Sha256;
use std::path::{Path, PathBuf};

/// Hex characters of the HMAC kept in tokens: 64 bits, enough to tell values apart in a corpus.
const FP_HEX_LEN: usize = 16;
pub const KEY_ENV: &str = "RAGSAN_HMAC_KEY";

#[derive(Clone)]
pub struct Fingerprinter {
    key: Vec<u8>,
    /// Where the key came from, for `--verbose` output (never the key itself).
    pub source: KeySource,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeySource {
    Env,
    File(PathBuf),
    /// Random per process: fingerprints are not comparable across runs.
    Ephemeral,
}

impl std::fmt::Debug for Fingerprinter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Fingerprinter").field("source", &self.source).finish_non_exhaustive()
    }
}

impl Fingerprinter {
    pub fn from_key(key: Vec<u8>, source: KeySource) -> Self {
        Fingerprinter { key, source }
    }

    /// Key from the environment, else from `path`; creates `path` (0600) when `create` is set.
    /// Without either, an ephemeral key.
    pub fn load(path: Option<&Path>, create: bool) -> Result<Self> {
        if let Ok(hexkey) = std::env::var(KEY_ENV) {
            let key = hex::decode(hexkey.trim()).with_context(|| format!("{KEY_ENV} must be hex"))?;
            if key.len() < 16 {
                bail!("{KEY_ENV} must hold at least 16 bytes (32 hex characters)");
            }
            return Ok(Self::from_key(key, KeySource::Env));
        }
        if let Some(p) = path {
            if p.exists() {
                let text = std::fs::read_to_string(p).with_context(|| format!("reading HMAC key {}", p.display()))?;
                let key =
                    hex::decode(text.trim()).with_context(|| format!("HMAC key file {} must be hex", p.display()))?;
                if key.len() < 16 {
                    bail!("HMAC key file {} holds fewer than 16 bytes", p.display());
                }
                return Ok(Self::from_key(key, KeySource::File(p.to_path_buf())));
            }
            if create {
                let key = random_key()?;
                match write_private(p, hex::encode(&key).as_bytes()) {
                    Ok(()) => return Ok(Self::from_key(key, KeySource::File(p.to_path_buf()))),
                    // Another process created it first: use theirs.
                    Err(_) if p.exists() => return Self::load(Some(p), false),
                    Err(e) => return Err(e),
                }
            }
        }
        Ok(Self::from_key(random_key()?, KeySource::Ephemeral))
    }

    /// Hex fingerprint of `value`.
    pub fn fingerprint(&self, value: &[u8]) -> String {
        // HMAC accepts keys of any length, so this cannot fail.
        let mut mac = match <Hmac<Sha256> as Mac>::new_from_slice(&self.key) {
            Ok(m) => m,
            Err(_) => return String::new(),
        };
        mac.update(value);
        let out = mac.finalize().into_bytes();
        let mut h = hex::encode(out);
        h.truncate(FP_HEX_LEN);
        h
    }
}

fn random_key() -> Result<Vec<u8>> {
    let mut key = vec![0u8; 32];
    getrandom::getrandom(&mut key).map_err(|e| anyhow::anyhow!("no OS randomness for the HMAC key: {e}"))?;
    Ok(key)
}

/// Writes a file readable by its owner only (temporary files are created 0600) and renames it
/// into place without replacing an existing key, so a kill mid-write never leaves a torn key.
fn write_private(path: &Path, contents: &[u8]) -> Result<()> {
    use std::io::Write;
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let mut tmp = tempfile::Builder::new().prefix(".hmac-").tempfile_in(dir)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        tmp.as_file().set_permissions(std::fs::Permissions::from_mode(0o600))?;
    }
    tmp.write_all(contents)?;
    tmp.as_file().sync_all()?;
    tmp.persist_noclobber(path)
        .map_err(|e| e.error)
        .with_context(|| format!("creating HMAC key {}", path.display()))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stable_and_keyed() {
        let a = Fingerprinter::from_key(vec![1; 32], KeySource::Ephemeral);
        let b = Fingerprinter::from_key(vec![2; 32], KeySource::Ephemeral);
        assert_eq!(a.fingerprint(b"v"), a.fingerprint(b"v"));
        assert_ne!(a.fingerprint(b"v"), a.fingerprint(b"w"));
        assert_ne!(a.fingerprint(b"v"), b.fingerprint(b"v"));
        assert_eq!(a.fingerprint(b"v").len(), FP_HEX_LEN);
    }

    #[cfg(unix)]
    #[test]
    fn key_file_created_private_and_reused() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("sub/hmac.key");
        let a = Fingerprinter::load(Some(&p), true).unwrap();
        let mode = std::fs::metadata(&p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        let b = Fingerprinter::load(Some(&p), false).unwrap();
        if std::env::var(KEY_ENV).is_err() {
            assert_eq!(a.fingerprint(b"x"), b.fingerprint(b"x"));
        }
    }
}
