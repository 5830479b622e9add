//! Core data types shared by every stage of the pipeline.
//!
//! These types are the contract between stages: extractors produce [`Extracted`], detectors
//! produce [`Finding`]s against its text, policy turns both into a [`Verdict`] and sanitized
//! text, and the sink stores [`Chunk`]s with [`Provenance`]. Nothing here holds a matched
//! secret value: findings carry byte ranges and fingerprints only.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::ops::Range;

/// The document formats ragsan accepts. Anything else is rejected at intake.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
#[serde(rename_all = "lowercase")]
pub enum DocKind {
    Pdf,
    Docx,
    Html,
    Text,
}

impl DocKind {
    pub fn as_str(self) -> &'static str {
        match self {
            DocKind::Pdf => "pdf",
            DocKind::Docx => "docx",
            DocKind::Html => "html",
            DocKind::Text => "text",
        }
    }
}

impl fmt::Display for DocKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One reason a human reader would not see a piece of text. A span may carry several.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
#[repr(u8)]
pub enum Hidden {
    /// `display:none`, `visibility:hidden`, a hiding CSS class.
    CssHidden = 0,
    /// HTML `hidden`/`aria-hidden`, hidden inputs, `<template>`.
    HiddenAttribute,
    /// `opacity:0` or a fully transparent colour.
    Transparent,
    /// HTML comments, DOCX comments.
    Comment,
    /// Text colour equal or close to the background.
    LowContrast,
    /// Font size too small to read.
    TinyFont,
    /// Positioned outside the page / viewport.
    OffPage,
    /// Clipped away by a clipping path or CSS clip.
    Clipped,
    /// Painted over by an opaque shape or image.
    Covered,
    /// PDF text render mode 3 or 7 (no fill, no stroke).
    InvisibleRenderMode,
    /// Horizontal scaling near zero.
    Squeezed,
    /// PDF optional content group switched off by default.
    OptionalContentOff,
    /// DOCX `w:vanish`, `w:specVanish`, `w:webHidden`.
    VanishedRun,
    /// Tracked deletion (`w:del`).
    TrackedDeletion,
    /// Zero-width, bidi control, tag or other invisible characters.
    InvisibleChars,
    /// Document metadata: PDF info/XMP, docProps, `<meta>`, JSON-LD.
    Metadata,
    /// Alternative text and titles (`alt`, `title`, `wp:docPr`).
    AltText,
    /// PDF annotations, form fields not drawn on the page.
    Annotation,
    /// Content never rendered: `<noscript>`, field instructions, custom XML.
    NonRendered,
    /// Text of an attachment or embedded file.
    Attachment,
}

impl Hidden {
    pub const ALL: [Hidden; 20] = [
        Hidden::CssHidden,
        Hidden::HiddenAttribute,
        Hidden::Transparent,
        Hidden::Comment,
        Hidden::LowContrast,
        Hidden::TinyFont,
        Hidden::OffPage,
        Hidden::Clipped,
        Hidden::Covered,
        Hidden::InvisibleRenderMode,
        Hidden::Squeezed,
        Hidden::OptionalContentOff,
        Hidden::VanishedRun,
        Hidden::TrackedDeletion,
        Hidden::InvisibleChars,
        Hidden::Metadata,
        Hidden::AltText,
        Hidden::Annotation,
        Hidden::NonRendered,
        Hidden::Attachment,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Hidden::CssHidden => "css_hidden",
            Hidden::HiddenAttribute => "hidden_attribute",
            Hidden::Transparent => "transparent",
            Hidden::Comment => "comment",
            Hidden::LowContrast => "low_contrast",
            Hidden::TinyFont => "tiny_font",
            Hidden::OffPage => "off_page",
            Hidden::Clipped => "clipped",
            Hidden::Covered => "covered",
            Hidden::InvisibleRenderMode => "invisible_render_mode",
            Hidden::Squeezed => "squeezed",
            Hidden::OptionalContentOff => "optional_content_off",
            Hidden::VanishedRun => "vanished_run",
            Hidden::TrackedDeletion => "tracked_deletion",
            Hidden::InvisibleChars => "invisible_chars",
            Hidden::Metadata => "metadata",
            Hidden::AltText => "alt_text",
            Hidden::Annotation => "annotation",
            Hidden::NonRendered => "non_rendered",
            Hidden::Attachment => "attachment",
        }
    }
}

/// A set of [`Hidden`] reasons; empty means a reader sees the text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Visibility(u32);

impl Visibility {
    pub const VISIBLE: Visibility = Visibility(0);

    pub fn hidden(reason: Hidden) -> Self {
        Visibility(1 << reason as u8)
    }
    pub fn with(self, reason: Hidden) -> Self {
        Visibility(self.0 | 1 << reason as u8)
    }
    pub fn union(self, other: Visibility) -> Self {
        Visibility(self.0 | other.0)
    }
    pub fn contains(self, reason: Hidden) -> bool {
        self.0 & (1 << reason as u8) != 0
    }
    pub fn is_visible(self) -> bool {
        self.0 == 0
    }
    pub fn is_hidden(self) -> bool {
        self.0 != 0
    }
    pub fn reasons(self) -> impl Iterator<Item = Hidden> {
        Hidden::ALL.into_iter().filter(move |h| self.contains(*h))
    }
}

impl Serialize for Visibility {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeSeq;
        let mut seq = s.serialize_seq(None)?;
        for r in self.reasons() {
            seq.serialize_element(r.as_str())?;
        }
        seq.end()
    }
}

impl<'de> Deserialize<'de> for Visibility {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let v: Vec<Hidden> = Vec::deserialize(d)?;
        Ok(v.into_iter().fold(Visibility::VISIBLE, Visibility::with))
    }
}

/// Where a span came from inside its document. Kept small: extractors merge adjacent spans that
/// share an origin.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub struct Origin {
    /// 1-based page number (PDF).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub page: Option<u32>,
    /// Part of the container: a DOCX part name (`word/document.xml`), `head`, `info`, `attachment:NAME`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub part: Option<String>,
    /// Element or construct: `w:p`, `div`, `annotation`, `img@alt`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub element: Option<String>,
}

impl Origin {
    pub fn page(n: u32) -> Self {
        Origin { page: Some(n), ..Default::default() }
    }
    pub fn part(p: impl Into<String>) -> Self {
        Origin { part: Some(p.into()), ..Default::default() }
    }
    pub fn with_element(mut self, e: impl Into<String>) -> Self {
        self.element = Some(e.into());
        self
    }
}

/// A run of extracted text with one visibility and one origin.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Span {
    pub start: usize,
    pub end: usize,
    pub visibility: Visibility,
    pub origin: Origin,
    /// The font had no usable Unicode mapping: the text may be garbage.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub unmapped_font: bool,
    /// Page furniture (DOCX headers and footers): a reader sees it, so it is scanned and counts
    /// as visible (never as hidden), but it repeats on every page and is noise in a knowledge
    /// base, so it is kept out of the body text that is printed, chunked and indexed.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub furniture: bool,
}

impl Span {
    pub fn range(&self) -> Range<usize> {
        self.start..self.end
    }

    /// Whether the span belongs to the body text a reader sees (visible, not page furniture).
    pub fn is_body(&self) -> bool {
        self.visibility.is_visible() && !self.furniture
    }
}

/// Active or structural content found while extracting (not text): scripts, macros, launch
/// actions, polyglot tails. Policy turns these into findings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
pub enum SignalKind {
    #[serde(rename = "javascript")]
    JavaScript,
    LaunchAction,
    Macros,
    EmbeddedFile,
    Polyglot,
    ExternalReference,
    UnmappedFont,
    /// Self-referencing or excessively nested structures (XObject cycles), cut off by limits.
    RecursiveStructure,
}

impl SignalKind {
    pub fn as_str(self) -> &'static str {
        match self {
            SignalKind::JavaScript => "javascript",
            SignalKind::LaunchAction => "launch_action",
            SignalKind::Macros => "macros",
            SignalKind::EmbeddedFile => "embedded_file",
            SignalKind::Polyglot => "polyglot",
            SignalKind::ExternalReference => "external_reference",
            SignalKind::UnmappedFont => "unmapped_font",
            SignalKind::RecursiveStructure => "recursive_structure",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Signal {
    pub kind: SignalKind,
    /// Short, value-free description (no document text).
    pub detail: String,
    pub origin: Origin,
}

/// The text of a document plus a record of what a reader would not see.
///
/// `text` holds every piece of extracted text, visible and hidden, in document order; `spans`
/// are sorted, non-overlapping ranges into it. Bytes of `text` not covered by any span are
/// treated as visible separators (newlines, spaces).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Extracted {
    pub text: String,
    pub spans: Vec<Span>,
    pub signals: Vec<Signal>,
}

impl Extracted {
    pub fn new() -> Self {
        Self::default()
    }

    /// Append `s` with the given visibility and origin, merging with the previous span when
    /// both match.
    pub fn push(&mut self, s: &str, visibility: Visibility, origin: &Origin) {
        self.push_flagged(s, visibility, origin, false)
    }

    pub fn push_flagged(&mut self, s: &str, visibility: Visibility, origin: &Origin, unmapped_font: bool) {
        self.push_span(s, visibility, origin, unmapped_font, false)
    }

    /// Append `s` with every span attribute given, merging with the previous span when all match.
    pub fn push_span(
        &mut self,
        s: &str,
        visibility: Visibility,
        origin: &Origin,
        unmapped_font: bool,
        furniture: bool,
    ) {
        if s.is_empty() {
            return;
        }
        let start = self.text.len();
        self.text.push_str(s);
        let end = self.text.len();
        if let Some(last) = self.spans.last_mut() {
            if last.end == start
                && last.visibility == visibility
                && last.unmapped_font == unmapped_font
                && last.furniture == furniture
                && &last.origin == origin
            {
                last.end = end;
                return;
            }
        }
        self.spans.push(Span { start, end, visibility, origin: origin.clone(), unmapped_font, furniture });
    }

    /// Append a visible separator that belongs to no span (a newline between blocks).
    pub fn push_separator(&mut self, s: &str) {
        self.text.push_str(s);
    }

    /// Ends the current line unless the text already ends with a newline.
    pub fn newline(&mut self) {
        if !self.text.is_empty() && !self.text.ends_with('\n') {
            self.text.push('\n');
        }
    }

    /// Ends the current paragraph with a blank line.
    pub fn paragraph_break(&mut self) {
        if self.text.is_empty() {
            return;
        }
        if self.text.ends_with("\n\n") {
            return;
        }
        if self.text.ends_with('\n') {
            self.text.push('\n');
        } else {
            self.text.push_str("\n\n");
        }
    }

    pub fn signal(&mut self, kind: SignalKind, detail: impl Into<String>, origin: Origin) {
        self.signals.push(Signal { kind, detail: detail.into(), origin });
    }

    /// Visibility of a byte range: the union of the visibility of every span it overlaps.
    pub fn visibility_of(&self, range: Range<usize>) -> Visibility {
        let mut v = Visibility::VISIBLE;
        for sp in self.spans_overlapping(range) {
            v = v.union(sp.visibility);
        }
        v
    }

    /// Spans overlapping `range`, found by binary search.
    pub fn spans_overlapping(&self, range: Range<usize>) -> impl Iterator<Item = &Span> {
        let first = self.spans.partition_point(|s| s.end <= range.start);
        self.spans[first..].iter().take_while(move |s| s.start < range.end.max(range.start + 1))
    }

    /// The first span overlapping `range`, for a location.
    pub fn origin_of(&self, range: Range<usize>) -> Option<&Origin> {
        self.spans_overlapping(range).next().map(|s| &s.origin)
    }

    /// Marks all text from byte `from` on as page furniture; a span that merged across `from`
    /// is split there so nothing before it changes.
    pub fn mark_furniture_from(&mut self, from: usize) {
        let mut first = self.spans.partition_point(|s| s.end <= from);
        if let Some(sp) = self.spans.get_mut(first) {
            if sp.start < from && self.text.is_char_boundary(from) {
                let mut tail = sp.clone();
                sp.end = from;
                tail.start = from;
                first += 1;
                self.spans.insert(first, tail);
            } else if sp.start < from {
                first += 1;
            }
        }
        for sp in self.spans.iter_mut().skip(first) {
            sp.furniture = true;
        }
    }

    /// The body text a reader sees: every byte not inside a hidden or page-furniture span.
    pub fn visible_text(&self) -> String {
        let mut out = String::with_capacity(self.text.len());
        let mut pos = 0;
        for sp in &self.spans {
            if sp.start > pos {
                out.push_str(&self.text[pos..sp.start]);
            }
            if sp.is_body() {
                out.push_str(&self.text[sp.start..sp.end]);
            }
            pos = sp.end;
        }
        if pos < self.text.len() {
            out.push_str(&self.text[pos..]);
        }
        out
    }

    /// Checks the structural invariants; used by tests and fuzz targets.
    pub fn check_invariants(&self) -> Result<(), String> {
        let mut prev = 0;
        for sp in &self.spans {
            if sp.start < prev || sp.end <= sp.start || sp.end > self.text.len() {
                return Err(format!("bad span {}..{} after {}", sp.start, sp.end, prev));
            }
            if !self.text.is_char_boundary(sp.start) || !self.text.is_char_boundary(sp.end) {
                return Err(format!("span {}..{} not on char boundary", sp.start, sp.end));
            }
            prev = sp.end;
        }
        Ok(())
    }
}

/// What a finding is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
pub enum FindingKind {
    Injection,
    Secret,
    Pii,
    /// Active content and structural threats found by extractors (scripts, macros, polyglots).
    Structure,
}

impl FindingKind {
    pub fn as_str(self) -> &'static str {
        match self {
            FindingKind::Injection => "injection",
            FindingKind::Secret => "secret",
            FindingKind::Pii => "pii",
            FindingKind::Structure => "structure",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Low,
    Medium,
    High,
    Critical,
}

/// What policy does with a finding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    /// Report only; the text is indexed unchanged.
    Flag,
    /// Replace the matched bytes with a fingerprint token.
    Redact,
    /// Keep the whole document out of the index.
    Quarantine,
}

/// One detection. Carries offsets and a keyed fingerprint, never the matched value.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Finding {
    pub rule: String,
    pub rule_version: u32,
    pub kind: FindingKind,
    /// The rule's label: `aws_access_key_id`, `override`, `email` …
    pub label: String,
    pub severity: Severity,
    pub action: Action,
    /// Byte offsets into the extracted text.
    pub start: usize,
    pub end: usize,
    pub visibility: Visibility,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub location: Option<Origin>,
    /// Keyed HMAC of the matched value (secrets and PII), or of the rule hit.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fingerprint: Option<String>,
    /// Statistical score or rule confidence in 0..=1.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub score: Option<f32>,
    /// Decoding layers peeled before the match (`base64`, `rot13` …).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub layers: Vec<String>,
}

/// Why a document was kept out of the index.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
pub enum Reason {
    /// Instruction-like language in visible text.
    Injection,
    /// Instruction-like language in text a reader cannot see.
    HiddenInjection,
    /// A rule whose action is quarantine (e.g. a private key block) fired.
    PolicyRule,
    /// Active content (macros, launch actions) under a quarantine policy.
    ActiveContent,
    /// Magic bytes disagree with the extension, or a polyglot.
    TypeMismatch,
    /// Not one of the accepted formats.
    UnsupportedType,
    /// Larger than the configured size limit.
    TooLarge,
    /// Password-protected or encrypted.
    Encrypted,
    /// A resource limit was hit while extracting (zip bomb, nesting, page count …).
    LimitExceeded,
    /// A structure built to attack parsers: overlapping or duplicate archive entries, headers
    /// that disagree with the central directory, path traversal, DOCTYPE in OOXML.
    HostileStructure,
    /// The time budget ran out.
    TimedOut,
    /// Malformed or otherwise unextractable.
    Unextractable,
    /// The file could not be read.
    Unreadable,
}

impl Reason {
    pub fn as_str(self) -> &'static str {
        match self {
            Reason::Injection => "injection",
            Reason::HiddenInjection => "hidden_injection",
            Reason::PolicyRule => "policy_rule",
            Reason::ActiveContent => "active_content",
            Reason::TypeMismatch => "type_mismatch",
            Reason::UnsupportedType => "unsupported_type",
            Reason::TooLarge => "too_large",
            Reason::Encrypted => "encrypted",
            Reason::LimitExceeded => "limit_exceeded",
            Reason::HostileStructure => "hostile_structure",
            Reason::TimedOut => "timed_out",
            Reason::Unextractable => "unextractable",
            Reason::Unreadable => "unreadable",
        }
    }
}

/// The decision for one input. Ordered from mildest to strictest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
#[serde(rename_all = "lowercase")]
pub enum VerdictKind {
    Clean,
    /// Findings reported, text indexed unchanged.
    Flagged,
    /// Secrets/PII replaced by fingerprint tokens, then indexed.
    Redacted,
    /// Kept out of the index; original kept in the quarantine store.
    Quarantined,
}

impl VerdictKind {
    pub fn as_str(self) -> &'static str {
        match self {
            VerdictKind::Clean => "clean",
            VerdictKind::Flagged => "flagged",
            VerdictKind::Redacted => "redacted",
            VerdictKind::Quarantined => "quarantined",
        }
    }
}

/// A piece of sanitized visible text ready for the index.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Chunk {
    pub ordinal: u32,
    /// Byte range in the sanitized text.
    pub start: usize,
    pub end: usize,
    pub text: String,
    /// Hex sha256 of `text`.
    pub sha256: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub page: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub section: Option<String>,
    /// Redaction tokens inside this chunk.
    pub redactions: u32,
}

/// Where a chunk came from and what passed it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Provenance {
    pub source_sha256: String,
    pub text_sha256: String,
    pub extractor: String,
    pub ruleset_digest: String,
    pub tool_version: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn furniture_is_scanned_text_but_not_body_text() {
        let mut ex = Extracted::new();
        let o = Origin::part("a");
        ex.push("body ", Visibility::VISIBLE, &o);
        // Same visibility and origin: merges into the body span, so marking must split it.
        ex.push("footer", Visibility::VISIBLE, &o);
        ex.mark_furniture_from(5);
        assert_eq!(ex.text, "body footer");
        assert_eq!(ex.visible_text(), "body ");
        assert!(ex.visibility_of(5..11).is_visible(), "furniture is not hidden");
        assert_eq!(ex.spans.len(), 2);
        assert!(!ex.spans[0].furniture && ex.spans[1].furniture);
        ex.check_invariants().unwrap();
    }

    #[test]
    fn reason_names_match_serde_and_the_published_schema() {
        let schema: serde_json::Value =
            serde_json::from_str(include_str!("../docs/verdict.schema.json")).expect("schema is JSON");
        let listed = schema.to_string();
        for r in [
            Reason::Injection,
            Reason::HiddenInjection,
            Reason::PolicyRule,
            Reason::ActiveContent,
            Reason::TypeMismatch,
            Reason::UnsupportedType,
            Reason::TooLarge,
            Reason::Encrypted,
            Reason::LimitExceeded,
            Reason::HostileStructure,
            Reason::TimedOut,
            Reason::Unextractable,
            Reason::Unreadable,
        ] {
            assert_eq!(serde_json::to_value(r).unwrap(), serde_json::Value::String(r.as_str().into()));
            assert!(listed.contains(&format!("\"{}\"", r.as_str())), "{} missing from the schema", r.as_str());
        }
        let hostile = crate::error::ExtractError::Hostile("overlapping archive entries".into());
        assert_eq!(hostile.reason(), Reason::HostileStructure);
    }
}
