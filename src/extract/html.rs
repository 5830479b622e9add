//! html extraction (first level; grown by its own issue).

use crate::error::ExtractError;
use crate::limits::Budget;
use crate::model::Extracted;

pub fn extract(_bytes: &[u8], _budget: &Budget) -> Result<Extracted, ExtractError> {
    Err(ExtractError::Unsupported("html extractor not built yet".into()))
}
