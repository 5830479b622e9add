//! Shared helpers for the CLI integration tests: the real binary, real files, a temp data dir.
#![allow(dead_code)]

use serde_json::Value;
use std::path::{Path, PathBuf};

/// A fixed HMAC key so fingerprints in snapshots are stable.
pub const TEST_KEY: &str = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";

pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub fn ragsan() -> assert_cmd::Command {
    let mut c = assert_cmd::Command::cargo_bin("ragsan").expect("binary built");
    c.current_dir(root()).env("RAGSAN_HMAC_KEY", TEST_KEY).env_remove("RAGSAN_LOG");
    c
}

pub struct Expected {
    pub file: String,
    pub verdict: String,
    pub reasons: Vec<String>,
    pub planted_values: Vec<String>,
    pub injection_sentences: Vec<String>,
    pub clean_words: Vec<String>,
    pub hidden_reasons: Vec<String>,
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array().map(|a| a.iter().filter_map(|x| x.as_str().map(String::from)).collect()).unwrap_or_default()
}

/// The sample manifest written by scripts/make_samples.py.
pub fn expected() -> Vec<Expected> {
    let text = std::fs::read_to_string(root().join("tests/data/samples_expected.json")).expect("manifest");
    let v: Value = serde_json::from_str(&text).expect("manifest json");
    v["files"]
        .as_array()
        .expect("files")
        .iter()
        .map(|e| Expected {
            file: e["file"].as_str().unwrap_or_default().to_string(),
            verdict: e["verdict"].as_str().unwrap_or_default().to_string(),
            reasons: strings(&e["reasons"]),
            planted_values: strings(&e["planted_values"]),
            injection_sentences: strings(&e["injection_sentences"]),
            clean_words: strings(&e["clean_words"]),
            hidden_reasons: strings(&e["hidden_reasons"]),
        })
        .collect()
}

/// Every planted secret/PII value and injection sentence in the samples.
pub fn forbidden() -> Vec<String> {
    expected().into_iter().flat_map(|e| e.planted_values.into_iter().chain(e.injection_sentences)).collect()
}

pub fn ndjson(out: &[u8]) -> Vec<Value> {
    String::from_utf8_lossy(out)
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).expect("ndjson line"))
        .collect()
}

/// All files under `dir`, recursively.
pub fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(rd) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

/// Copies a directory tree (files and folders only).
pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap().flatten() {
        let p = e.path();
        let t = to.join(e.file_name());
        if p.is_dir() {
            copy_dir(&p, &t);
        } else {
            std::fs::copy(&p, &t).unwrap();
        }
    }
}
