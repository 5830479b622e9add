//! Plain text and Markdown: encoding detection and binary rejection.
//!
//! Bytes are decoded by BOM, then as UTF-8 when valid, else by `chardetng` detection. Files that
//! are mostly NUL or control bytes are binaries wearing a text extension and are rejected.

use crate::error::ExtractError;
use crate::limits::Budget;
use crate::model::{Extracted, Origin, Visibility};

/// Share of NUL/control bytes in the first 8 KiB above which a "text" file is a binary.
const MAX_CONTROL_SHARE: f64 = 0.10;

pub fn extract(bytes: &[u8], budget: &Budget) -> Result<Extracted, ExtractError> {
    let text = decode(bytes)?;
    budget.check_text(text.len())?;
    let mut out = Extracted::new();
    out.push(&text, Visibility::VISIBLE, &Origin::default());
    Ok(out)
}

/// Decodes bytes of unknown encoding to UTF-8, rejecting binaries.
pub fn decode(bytes: &[u8]) -> Result<String, ExtractError> {
    if looks_binary(bytes) {
        return Err(ExtractError::malformed("text", "binary content (NUL or control bytes) in a text file"));
    }
    Ok(decode_lossy(bytes, None))
}

/// True when the head of `bytes` is dominated by NUL/control bytes (UTF-16 with a BOM is text).
pub fn looks_binary(bytes: &[u8]) -> bool {
    if bytes.starts_with(&[0xFF, 0xFE]) || bytes.starts_with(&[0xFE, 0xFF]) {
        return false;
    }
    let head = &bytes[..bytes.len().min(8192)];
    if head.is_empty() {
        return false;
    }
    let ctrl =
        head.iter().filter(|&&b| b == 0 || (b < 0x20 && !matches!(b, b'\n' | b'\r' | b'\t' | 0x0c | 0x1b))).count();
    ctrl as f64 / head.len() as f64 > MAX_CONTROL_SHARE
}

/// Decodes with BOM sniffing, then `hint` (a declared charset label), then UTF-8, then detection.
pub fn decode_lossy(bytes: &[u8], hint: Option<&'static encoding_rs::Encoding>) -> String {
    if let Some((enc, bom_len)) = encoding_rs::Encoding::for_bom(bytes) {
        let (s, _) = enc.decode_without_bom_handling(&bytes[bom_len..]);
        return s.into_owned();
    }
    if let Some(enc) = hint {
        let (s, _) = enc.decode_without_bom_handling(bytes);
        return s.into_owned();
    }
    if let Ok(s) = std::str::from_utf8(bytes) {
        return s.to_owned();
    }
    let mut det = chardetng::EncodingDetector::new();
    det.feed(bytes, true);
    let enc = det.guess(None, true);
    let (s, _) = enc.decode_without_bom_handling(bytes);
    s.into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::limits::Limits;

    #[test]
    fn utf8_and_latin1_and_utf16() {
        let l = Limits::default();
        let b = Budget::new(&l);
        assert_eq!(extract("héllo".as_bytes(), &b).unwrap().text, "héllo");
        assert_eq!(
            extract(b"caf\xe9 cr\xe8me br\xfbl\xe9e, \xe0 la carte", &b).unwrap().text,
            "café crème brûlée, à la carte"
        );
        let utf16: Vec<u8> =
            [0xFF, 0xFE].into_iter().chain("hi".encode_utf16().flat_map(|u| u.to_le_bytes())).collect();
        assert_eq!(extract(&utf16, &b).unwrap().text, "hi");
    }

    #[test]
    fn nul_heavy_is_rejected() {
        let l = Limits::default();
        let b = Budget::new(&l);
        let bin = vec![0u8; 1000];
        assert!(matches!(extract(&bin, &b), Err(ExtractError::Malformed { .. })));
    }
}
