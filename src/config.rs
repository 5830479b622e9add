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
        let text = std::fs::read_to_string(&p)
            .with_context(|| format!("reading config {}", p.display()))?;
        toml::from_str(&text).with_context(|| format!("invalid config {}", p.display()))
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
}
