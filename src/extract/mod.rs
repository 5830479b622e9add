//! Text extraction: one function per format behind a single entry point.
//!
//! Every extractor takes the raw bytes and a [`Budget`] and returns [`Extracted`]: all text in
//! document order, with spans that record what a reader would not see and where each piece came
//! from. Extractors never panic on input and never allocate without a limit; a hostile or
//! broken file is an [`ExtractError`], which policy turns into a quarantine.

pub mod css;
pub mod docx;
pub mod html;
pub mod pdf;
pub mod text;
pub mod xmlsafe;
pub mod zipsafe;

use crate::error::ExtractError;
use crate::limits::Budget;
use crate::model::{DocKind, Extracted};

/// Version of the extraction logic: a hand-bumped number for the format, plus a digest of this
/// module's source (from `build.rs`), so any change to the extractors marks stored text stale
/// and a re-scan re-extracts it. Over-eager on purpose: a comment edit costs one full
/// re-extraction after an upgrade, a forgotten bump would leave stale text in the index.
pub const EXTRACTOR_VERSION: &str = concat!("ragsan-extract/2+", env!("RAGSAN_EXTRACT_CODE"));

/// Extracts text of a document already identified as `kind`.
pub fn extract(kind: DocKind, bytes: &[u8], budget: &Budget) -> Result<Extracted, ExtractError> {
    let out = match kind {
        DocKind::Pdf => pdf::extract(bytes, budget)?,
        DocKind::Docx => docx::extract(bytes, budget)?,
        DocKind::Html => html::extract(bytes, budget)?,
        DocKind::Text => text::extract(bytes, budget)?,
    };
    budget.check_text(out.text.len())?;
    Ok(out)
}
