//! Resource limits and the per-document budget every extractor honours.
//!
//! Hostile inputs (bombs, cycles, deep nesting) are cut off by these explicit limits rather than
//! by running out of memory. Defaults keep one document within about 256 MiB peak RSS and 10 s.

use crate::error::{ExtractError, Limit};
use serde::{Deserialize, Serialize};
use std::cell::Cell;
use std::rc::Rc;
use std::time::{Duration, Instant};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Limits {
    /// Largest input file accepted, bytes.
    pub max_file_bytes: u64,
    /// Total bytes any extractor may decompress for one document (all streams/entries).
    pub max_decompressed_bytes: u64,
    /// Largest single decompressed stream or archive entry.
    pub max_stream_bytes: u64,
    /// Largest decompressed/compressed ratio for one entry once past 1 MiB.
    pub max_compression_ratio: u64,
    /// Most entries in an archive.
    pub max_archive_entries: u64,
    /// Deepest nesting of containers (embedded documents, altChunks, XObjects).
    pub max_nesting_depth: u32,
    /// Deepest XML / HTML element nesting.
    pub max_xml_depth: u32,
    /// Most PDF pages processed.
    pub max_pages: u32,
    /// Most content-stream operators per page.
    pub max_operators_per_page: u64,
    /// Most PDF objects.
    pub max_objects: u64,
    /// Most extracted text bytes per document.
    pub max_text_bytes: u64,
    /// Time budget per document, milliseconds.
    pub timeout_ms: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_file_bytes: 64 << 20,
            max_decompressed_bytes: 160 << 20,
            max_stream_bytes: 64 << 20,
            max_compression_ratio: 200,
            max_archive_entries: 5_000,
            max_nesting_depth: 8,
            max_xml_depth: 256,
            max_pages: 5_000,
            max_operators_per_page: 2_000_000,
            max_objects: 1_000_000,
            max_text_bytes: 32 << 20,
            timeout_ms: 10_000,
        }
    }
}

/// The running budget for one document: a deadline and a decompression counter shared by all
/// parts of the extraction. Single-threaded by design (one document = one worker).
#[derive(Debug)]
pub struct Budget<'a> {
    pub limits: &'a Limits,
    deadline: Instant,
    decompressed: Rc<Cell<u64>>,
    /// Container nesting depth of the document being extracted (0 = top level).
    pub depth: u32,
}

impl<'a> Budget<'a> {
    pub fn new(limits: &'a Limits) -> Self {
        Budget {
            limits,
            deadline: Instant::now() + Duration::from_millis(limits.timeout_ms),
            decompressed: Rc::new(Cell::new(0)),
            depth: 0,
        }
    }

    /// A budget for a nested document sharing this one's deadline and decompression counter;
    /// fails past the depth cap.
    pub fn nested(&self) -> Result<Budget<'a>, ExtractError> {
        let depth = self.depth + 1;
        if depth > self.limits.max_nesting_depth {
            return Err(ExtractError::limit(
                Limit::NestingDepth,
                format!("container nesting deeper than {}", self.limits.max_nesting_depth),
            ));
        }
        Ok(Budget { limits: self.limits, deadline: self.deadline, decompressed: Rc::clone(&self.decompressed), depth })
    }

    /// Fails once the deadline has passed. Cheap enough to call every few thousand operations.
    pub fn check_time(&self) -> Result<(), ExtractError> {
        if Instant::now() >= self.deadline {
            Err(ExtractError::TimedOut(self.limits.timeout_ms))
        } else {
            Ok(())
        }
    }

    pub fn expired(&self) -> bool {
        Instant::now() >= self.deadline
    }

    /// Accounts for `n` more decompressed bytes; fails past the per-document cap.
    pub fn charge_decompressed(&self, n: u64) -> Result<(), ExtractError> {
        let total = self.decompressed.get().saturating_add(n);
        self.decompressed.set(total);
        if total > self.limits.max_decompressed_bytes {
            return Err(ExtractError::limit(
                Limit::DecompressedBytes,
                format!("more than {} bytes decompressed", self.limits.max_decompressed_bytes),
            ));
        }
        Ok(())
    }

    pub fn decompressed(&self) -> u64 {
        self.decompressed.get()
    }

    /// Fails when the extracted text is already past its cap.
    pub fn check_text(&self, len: usize) -> Result<(), ExtractError> {
        if len as u64 > self.limits.max_text_bytes {
            return Err(ExtractError::limit(
                Limit::TextBytes,
                format!("more than {} bytes of text", self.limits.max_text_bytes),
            ));
        }
        Ok(())
    }
}
