//! Typed errors for the library and the process exit status.
//!
//! Extraction errors are values, not panics: each maps to a quarantine [`Reason`] so a hostile
//! or broken file ends in a verdict with a clear, value-free message, and the batch goes on.

use crate::model::Reason;
use std::process::ExitCode;
use thiserror::Error;

/// A resource limit that stopped extraction. Closed set so reports can count them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Limit {
    FileSize,
    DecompressedBytes,
    CompressionRatio,
    ArchiveEntries,
    NestingDepth,
    XmlDepth,
    Pages,
    Operators,
    Objects,
    TextBytes,
    Time,
}

impl Limit {
    pub fn as_str(self) -> &'static str {
        match self {
            Limit::FileSize => "file_size",
            Limit::DecompressedBytes => "decompressed_bytes",
            Limit::CompressionRatio => "compression_ratio",
            Limit::ArchiveEntries => "archive_entries",
            Limit::NestingDepth => "nesting_depth",
            Limit::XmlDepth => "xml_depth",
            Limit::Pages => "pages",
            Limit::Operators => "operators",
            Limit::Objects => "objects",
            Limit::TextBytes => "text_bytes",
            Limit::Time => "time",
        }
    }
}

/// Why an extractor gave up. Messages never contain document text.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum ExtractError {
    #[error("encrypted or password-protected: {0}")]
    Encrypted(String),
    #[error("limit exceeded ({}): {detail}", .limit.as_str())]
    Limit { limit: Limit, detail: String },
    #[error("malformed {format}: {detail}")]
    Malformed { format: &'static str, detail: String },
    /// A container that is structurally dangerous: overlapping zip entries, duplicate parts,
    /// path traversal, DOCTYPE in OOXML.
    #[error("hostile structure: {0}")]
    Hostile(String),
    #[error("unsupported: {0}")]
    Unsupported(String),
    #[error("time budget of {0} ms exhausted")]
    TimedOut(u64),
}

impl ExtractError {
    pub fn limit(limit: Limit, detail: impl Into<String>) -> Self {
        ExtractError::Limit { limit, detail: detail.into() }
    }
    pub fn malformed(format: &'static str, detail: impl Into<String>) -> Self {
        ExtractError::Malformed { format, detail: detail.into() }
    }

    pub fn reason(&self) -> Reason {
        match self {
            ExtractError::Encrypted(_) => Reason::Encrypted,
            ExtractError::Limit { limit: Limit::Time, .. } | ExtractError::TimedOut(_) => Reason::TimedOut,
            ExtractError::Limit { .. } => Reason::LimitExceeded,
            ExtractError::Hostile(_) => Reason::HostileStructure,
            ExtractError::Malformed { .. } | ExtractError::Unsupported(_) => Reason::Unextractable,
        }
    }
}

/// Errors loading or compiling detector rules.
#[derive(Debug, Error)]
pub enum RuleError {
    #[error("{file}: {msg}")]
    Parse { file: String, msg: String },
    #[error("rule {id}: {msg}")]
    Invalid { id: String, msg: String },
    #[error("duplicate rule id {0}")]
    Duplicate(String),
    #[error("reading {path}: {source}")]
    Io { path: String, source: std::io::Error },
}

/// Process exit status: 0 clean, 1 findings, 2 tool error, 130 interrupted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitStatus {
    Clean = 0,
    Findings = 1,
    Error = 2,
    Interrupted = 130,
}

impl From<ExitStatus> for ExitCode {
    fn from(s: ExitStatus) -> Self {
        ExitCode::from(s as u8)
    }
}
