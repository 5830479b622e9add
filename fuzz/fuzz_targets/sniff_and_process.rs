//! The whole per-document path (sniff → extract → detect → policy → chunk) on arbitrary bytes
//! with each supported extension hint: always exactly one verdict, never a panic.
#![no_main]
use libfuzzer_sys::fuzz_target;
use ragsan::chunk::ChunkConfig;
use ragsan::fingerprint::{Fingerprinter, KeySource};
use ragsan::pipeline::Engine;
use ragsan::policy::Policy;
use ragsan::{Detectors, Limits};
use std::sync::OnceLock;

static ENGINE: OnceLock<Engine> = OnceLock::new();

fuzz_target!(|data: &[u8]| {
    let engine = ENGINE.get_or_init(|| Engine {
        detectors: Detectors::embedded().expect("rules"),
        limits: Limits { timeout_ms: 2_000, ..Limits::default() },
        policy: Policy::default(),
        chunking: ChunkConfig::default(),
        fingerprinter: Fingerprinter::from_key(vec![1; 32], KeySource::Ephemeral),
        allow: Vec::new(),
    });
    for ext in ["pdf", "docx", "html", "txt"] {
        let o = engine.process_bytes("fuzz", data, Some(ext));
        for c in &o.chunks {
            assert_eq!(c.sha256, ragsan::chunk::sha256_hex(c.text.as_bytes()));
        }
    }
});
