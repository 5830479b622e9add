//! Works out what a file really is from its bytes, and checks that against its name.
//!
//! The allowlist is PDF, DOCX, HTML and plain text/Markdown. Magic bytes decide; the extension
//! is a claim that must agree. An executable or ZIP named `.pdf`, a PDF with a ZIP appended
//! (polyglot), an encrypted Office container and anything unknown are rejected with a typed
//! reason before any parser sees them. A ZIP named like a Word document but cut off before its
//! central directory is the exception: its members cannot be listed, so it goes to the DOCX
//! reader, which rejects it as damaged (unextractable) with the exact fault.

use crate::model::{DocKind, Reason};
use memchr::memmem;

/// Outcome of sniffing: the kind to extract as, or a rejection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Sniffed {
    Accept(DocKind),
    Reject { reason: Reason, detail: String },
}

/// What the file name claims.
fn claimed(ext: Option<&str>) -> Option<DocKind> {
    let ext = ext?.to_ascii_lowercase();
    Some(match ext.as_str() {
        "pdf" => DocKind::Pdf,
        "docx" | "docm" | "dotx" | "dotm" => DocKind::Docx,
        "html" | "htm" | "xhtml" | "shtml" => DocKind::Html,
        "txt" | "text" | "md" | "markdown" | "mdown" | "rst" | "csv" | "tsv" | "log" | "json" | "jsonl" | "ndjson"
        | "yaml" | "yml" | "toml" | "ini" | "cfg" | "conf" | "env" | "xml" | "adoc" => DocKind::Text,
        _ => return None,
    })
}

fn is_pdf(bytes: &[u8]) -> bool {
    // The header may be preceded by junk; readers accept it within the first 1024 bytes.
    memmem::find(&bytes[..bytes.len().min(1024)], b"%PDF-").is_some()
}

fn is_zip(bytes: &[u8]) -> bool {
    bytes.starts_with(b"PK\x03\x04") || bytes.starts_with(b"PK\x05\x06")
}

fn is_ole(bytes: &[u8]) -> bool {
    bytes.starts_with(&[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1])
}

/// A ZIP end-of-central-directory record near the end of a non-ZIP file: a polyglot.
fn has_zip_tail(bytes: &[u8]) -> bool {
    let tail = &bytes[bytes.len().saturating_sub(64 * 1024 + 22)..];
    memmem::rfind(tail, b"PK\x05\x06").is_some() && memmem::find(bytes, b"PK\x03\x04").is_some()
}

/// The ZIP end-of-central-directory record sits within the last 64 KiB + 22 bytes (comment
/// length is 16 bits); a truncated archive has none.
fn has_zip_end_record(bytes: &[u8]) -> bool {
    let tail = &bytes[bytes.len().saturating_sub(0xFFFF + 22)..];
    memmem::rfind(tail, b"PK\x05\x06").is_some()
}

fn looks_html(bytes: &[u8]) -> bool {
    let head = &bytes[..bytes.len().min(4096)];
    let s = String::from_utf8_lossy(head).to_ascii_lowercase();
    let t = s.trim_start_matches('\u{feff}').trim_start();
    t.starts_with("<!doctype html")
        || t.starts_with("<html")
        || (t.starts_with('<') && (s.contains("<html") || s.contains("<body") || s.contains("<head")))
}

/// Decides the kind of `bytes` given the file's extension (without the dot), if any.
pub fn sniff(bytes: &[u8], ext: Option<&str>) -> Sniffed {
    let claim = claimed(ext);
    let ext_disp = ext.map(|e| format!(".{e}")).unwrap_or_else(|| "no extension".into());
    let reject = |reason: Reason, detail: String| Sniffed::Reject { reason, detail };

    let detected: Option<DocKind> = if is_pdf(bytes) {
        if has_zip_tail(bytes) {
            return reject(Reason::TypeMismatch, "polyglot: PDF with an appended ZIP archive".into());
        }
        Some(DocKind::Pdf)
    } else if is_zip(bytes) {
        if memmem::find(bytes, b"[Content_Types].xml").is_some() && memmem::find(bytes, b"word/").is_some() {
            Some(DocKind::Docx)
        } else if claim == Some(DocKind::Docx) && !has_zip_end_record(bytes) {
            // A cut-off archive has no member list, so what it holds cannot be checked: it is a
            // damaged Word document, and the DOCX reader rejects it with the exact damage.
            Some(DocKind::Docx)
        } else {
            return reject(
                if claim.is_some() { Reason::TypeMismatch } else { Reason::UnsupportedType },
                format!("ZIP archive that is not a Word document ({ext_disp})"),
            );
        }
    } else if is_ole(bytes) {
        // Encrypted OOXML and legacy .doc both use the OLE compound file container.
        if memmem::find(bytes, &utf16le("EncryptedPackage")).is_some() {
            return reject(Reason::Encrypted, "encrypted Office document (OLE container)".into());
        }
        return reject(Reason::UnsupportedType, format!("OLE compound file (legacy Office) ({ext_disp})"));
    } else if let Some(t) = infer::get(bytes) {
        match t.mime_type() {
            "text/html" => Some(DocKind::Html),
            "text/xml" | "application/xml" => None,
            m => {
                let what =
                    if matches!(t.matcher_type(), infer::MatcherType::App) { "executable or binary" } else { "binary" };
                return reject(
                    if claim.is_some() { Reason::TypeMismatch } else { Reason::UnsupportedType },
                    format!("{what} content ({m}) with {ext_disp}"),
                );
            }
        }
    } else {
        None
    };

    match (detected, claim) {
        (Some(d), Some(c)) if d == c => Sniffed::Accept(d),
        (Some(d), None) => Sniffed::Accept(d),
        (Some(d), Some(c)) => {
            reject(Reason::TypeMismatch, format!("content is {d} but the name says {c} ({ext_disp})"))
        }
        (None, claim) => {
            // No magic: text-like content. HTML is recognised by markup, everything else must
            // be decodable text and claim a text-ish extension (or none).
            if crate::extract::text::looks_binary(bytes) {
                return reject(
                    if claim.is_some() { Reason::TypeMismatch } else { Reason::UnsupportedType },
                    format!("binary content of unknown type ({ext_disp})"),
                );
            }
            let html = looks_html(bytes);
            match claim {
                Some(DocKind::Html) => Sniffed::Accept(DocKind::Html),
                Some(DocKind::Text) => {
                    Sniffed::Accept(if html && ext == Some("xhtml") { DocKind::Html } else { DocKind::Text })
                }
                Some(c @ (DocKind::Pdf | DocKind::Docx)) => {
                    reject(Reason::TypeMismatch, format!("text content but the name says {c} ({ext_disp})"))
                }
                None if ext.is_none() => Sniffed::Accept(if html { DocKind::Html } else { DocKind::Text }),
                None => reject(Reason::UnsupportedType, format!("unsupported file type ({ext_disp})")),
            }
        }
    }
}

fn utf16le(s: &str) -> Vec<u8> {
    s.encode_utf16().flat_map(|u| u.to_le_bytes()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kind(b: &[u8], e: &str) -> Sniffed {
        sniff(b, Some(e))
    }

    #[test]
    fn accepts_matching_types() {
        assert_eq!(kind(b"%PDF-1.7\n...", "pdf"), Sniffed::Accept(DocKind::Pdf));
        assert_eq!(kind(b"<!DOCTYPE html><html></html>", "html"), Sniffed::Accept(DocKind::Html));
        assert_eq!(kind(b"# Title\n\nbody", "md"), Sniffed::Accept(DocKind::Text));
        assert_eq!(sniff(b"plain words", None), Sniffed::Accept(DocKind::Text));
    }

    #[test]
    fn rejects_mismatches() {
        let exe = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00";
        assert!(matches!(kind(exe, "pdf"), Sniffed::Reject { reason: Reason::TypeMismatch, .. }));
        assert!(matches!(kind(b"PK\x03\x04rest-of-zip", "pdf"), Sniffed::Reject { reason: Reason::TypeMismatch, .. }));
        assert!(matches!(kind(b"%PDF-1.4 body", "docx"), Sniffed::Reject { reason: Reason::TypeMismatch, .. }));
        assert!(matches!(kind(b"just text", "pdf"), Sniffed::Reject { reason: Reason::TypeMismatch, .. }));
        assert!(matches!(kind(b"just text", "exe"), Sniffed::Reject { reason: Reason::UnsupportedType, .. }));
    }

    #[test]
    fn truncated_word_archive_goes_to_the_docx_reader() {
        // A local header and part of a member, cut off before the central directory.
        let mut cut = b"PK\x03\x04\x14\x00\x00\x00\x08\x00".to_vec();
        cut.extend_from_slice(&[0u8; 16]);
        cut.extend_from_slice(b"[Content_Types].xml\x01\x02\x03");
        assert_eq!(kind(&cut, "docx"), Sniffed::Accept(DocKind::Docx));
        let budget_limits = crate::limits::Limits::default();
        let budget = crate::limits::Budget::new(&budget_limits);
        let err = crate::extract::extract(DocKind::Docx, &cut, &budget).unwrap_err();
        assert_eq!(err.reason(), Reason::Unextractable, "{err}");
        // Named as something else it is still a type mismatch; complete non-Word ZIPs too.
        assert!(matches!(kind(&cut, "pdf"), Sniffed::Reject { reason: Reason::TypeMismatch, .. }));
        let mut whole = cut.clone();
        whole.extend_from_slice(b"PK\x05\x06\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0");
        assert!(matches!(kind(&whole, "docx"), Sniffed::Reject { reason: Reason::TypeMismatch, .. }));
    }

    #[test]
    fn rejects_polyglot() {
        let mut b = b"%PDF-1.4\n1 0 obj<<>>endobj\n%%EOF\n".to_vec();
        b.extend_from_slice(b"PK\x03\x04....PK\x05\x06\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0");
        assert!(matches!(kind(&b, "pdf"), Sniffed::Reject { reason: Reason::TypeMismatch, .. }));
    }
}
