//! ragsan keeps poisoned and sensitive content out of RAG knowledge bases.
//!
//! Stages: [`sniff`] the real type → [`extract`] text with a record of what a reader cannot see
//! → [`detect`] instruction-like language, secrets and PII → policy (redact or quarantine) →
//! chunk → index only clean chunks with provenance.

pub mod detect;
pub mod error;
pub mod extract;
pub mod limits;
pub mod model;
pub mod sniff;

pub use detect::Detectors;
pub use error::{ExitStatus, ExtractError};
pub use limits::{Budget, Limits};
pub use model::*;
pub mod chunk;
pub mod cli;
pub mod config;
pub mod fingerprint;
pub mod index;
pub mod interrupt;
pub mod ledger;
pub mod pipeline;
pub mod policy;
pub mod quarantine;
pub mod report;
pub mod rescan;
pub mod sarif;
pub mod serve;
