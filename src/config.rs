//! `ragsan.toml`: deployment settings that extend the embedded defaults.
//!
//! Every section is optional and unknown keys are errors, so a typo never silently falls back to
//! a default. Looked up at `--config FILE`, else `./ragsan.toml` when present.

use crate::chunk::ChunkConfig;
use crate::limits::Limits;
use crate::policy::Policy;
use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Data directory (index, quarantine, reports, key). Default `./ragsan-data`.
    pub data_dir: Option<PathBuf>,
    /// HMAC key file. Default `<data_dir>/hmac.key`; `RAGSAN_HMAC_KEY` (hex) overrides both.
    pub hmac_key_file: Option<PathBuf>,
    /// Rule directory replacing the embedded rules.
    pub detectors: Option<PathBuf>,
    pub limits: Limits,
    pub policy: Policy,
    pub chunking: ChunkConfig,
    /// Reviewed exceptions; every suppressed finding is still counted in reports.
    #[serde(rename = "allow")]
    pub allow: Vec<AllowEntry>,
}

/// One allowlist entry: a finding is suppressed when every field given matches it.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AllowEntry {
    /// Rule id (`pii.email.address`).
    #[serde(default)]
    pub rule: Option<String>,
    /// Fingerprint of one specific value, as shown in reports.
    #[serde(default)]
    pub fingerprint: Option<String>,
    /// Source path prefix.
    #[serde(default)]
    pub path: Option<String>,
    /// sha256 of one specific file's content.
    #[serde(default)]
    pub sha256: Option<String>,
    /// Why this is allowed. Required: an exception nobody can explain is a hole.
    pub reason: String,
}

impl AllowEntry {
    pub fn validate(&self) -> Result<()> {
        if self.reason.trim().is_empty() {
            anyhow::bail!("allowlist entry without a reason");
        }
        if self.rule.is_none() && self.fingerprint.is_none() && self.path.is_none() && self.sha256.is_none() {
            anyhow::bail!(
                "allowlist entry ({}) matches everything: give a rule, fingerprint, path or sha256",
                self.reason
            );
        }
        Ok(())
    }

    pub fn matches(&self, f: &crate::model::Finding, path: &str, sha256: Option<&str>) -> bool {
        self.rule.as_ref().is_none_or(|r| *r == f.rule)
            && self.fingerprint.as_ref().is_none_or(|fp| f.fingerprint.as_deref() == Some(fp.as_str()))
            && self.path.as_ref().is_none_or(|p| path.starts_with(p.as_str()))
            && self.sha256.as_ref().is_none_or(|h| sha256 == Some(h.as_str()))
    }
}
impl Config {
    /// Loads `path`, or `./ragsan.toml` when `path` is None and that file exists, else defaults.
    pub fn load(path: Option<&Path>) -> Result<Self> {
        let p = match path {
            Some(p) => p.to_path_buf(),
            None => {
                let p = PathBuf::from("ragsan.toml");
                if !p.exists() {
                    return Ok(Config::default());
                }
                p
            }
        };
        let text = std::fs::read_to_string(&p).with_context(|| format!("reading config {}", p.display()))?;
        let c: Config = toml::from_str(&text).with_context(|| format!("invalid config {}", p.display()))?;
        for a in &c.allow {
            a.validate().with_context(|| format!("invalid config {}", p.display()))?;
        }
        Ok(c)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partial_config_extends_defaults_and_typos_fail() {
        let c: Config = toml::from_str("[limits]\nmax_file_bytes = 1024\n").unwrap();
        assert_eq!(c.limits.max_file_bytes, 1024);
        assert_eq!(c.limits.timeout_ms, Limits::default().timeout_ms);
        assert!(toml::from_str::<Config>("[limits]\nmax_file_byte = 1\n").is_err());
    }

    #[test]
    fn allow_entries_need_reason_and_selector() {
        let c: Config =
            toml::from_str("[[allow]]\nrule = \"pii.email.address\"\nreason = \"public address\"\n").unwrap();
        assert!(c.allow[0].validate().is_ok());
        assert!(toml::from_str::<Config>("[[allow]]\nrule = \"x\"\n").is_err());
        let c: Config = toml::from_str("[[allow]]\nreason = \"everything\"\n").unwrap();
        assert!(c.allow[0].validate().is_err());
    }
}
