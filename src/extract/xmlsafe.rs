//! A pull parser over OOXML parts that cannot be turned into a bomb.
//!
//! OPC forbids DTDs in package parts, so any DOCTYPE is rejected outright: that closes entity
//! expansion (billion laughs, quadratic blow-up) and external entities (XXE) without having to
//! reason about them. Only the five predefined entities and numeric character references are
//! resolved; any other reference is malformed. Element nesting is capped (`max_xml_depth`), the
//! deadline is checked as events stream by, and names are resolved to a closed set of known
//! namespaces (transitional and Strict OOXML URIs alike), so callers match on local name +
//! namespace, never on prefixes.

use crate::error::{ExtractError, Limit};
use crate::limits::Budget;
use quick_xml::events::Event;
use quick_xml::name::ResolveResult;
use quick_xml::NsReader;
use std::borrow::Cow;

const FORMAT: &str = "xml";

/// The namespaces ragsan cares about; everything else is `Other`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ns {
    /// WordprocessingML main (`w:`).
    W,
    /// Office document relationships (`r:`).
    R,
    /// WordprocessingML drawing (`wp:`).
    Wp,
    /// Markup compatibility (`mc:`).
    Mc,
    /// VML (`v:`).
    V,
    /// Office math (`m:`).
    M,
    /// No namespace.
    None,
    Other,
}

fn classify(uri: &[u8]) -> Ns {
    let u = uri;
    let ends = |s: &[u8]| u.ends_with(s);
    if ends(b"/wordprocessingml/2006/main") || u == b"http://purl.oclc.org/ooxml/wordprocessingml/main" {
        Ns::W
    } else if ends(b"/officeDocument/2006/relationships")
        || u == b"http://purl.oclc.org/ooxml/officeDocument/relationships"
    {
        Ns::R
    } else if ends(b"/drawingml/2006/wordprocessingDrawing")
        || u == b"http://purl.oclc.org/ooxml/drawingml/wordprocessingDrawing"
    {
        Ns::Wp
    } else if u == b"http://schemas.openxmlformats.org/markup-compatibility/2006" {
        Ns::Mc
    } else if u == b"urn:schemas-microsoft-com:vml" {
        Ns::V
    } else if ends(b"/officeDocument/2006/math") || u == b"http://purl.oclc.org/ooxml/officeDocument/math" {
        Ns::M
    } else {
        Ns::Other
    }
}

/// Undeclared prefixes happen in sloppy generators; fall back on the conventional prefix.
fn classify_prefix(prefix: &[u8]) -> Ns {
    match prefix {
        b"w" => Ns::W,
        b"r" => Ns::R,
        b"wp" => Ns::Wp,
        b"mc" => Ns::Mc,
        b"v" => Ns::V,
        b"m" => Ns::M,
        _ => Ns::Other,
    }
}

fn resolve(r: &ResolveResult) -> Ns {
    match r {
        ResolveResult::Bound(ns) => classify(ns.as_ref()),
        ResolveResult::Unbound => Ns::None,
        ResolveResult::Unknown(p) => classify_prefix(p),
    }
}

#[derive(Debug, Clone)]
pub struct Attr {
    pub ns: Ns,
    pub local: String,
    pub value: String,
}

/// A start tag with resolved names and unescaped attribute values.
#[derive(Debug, Clone)]
pub struct Elem {
    pub ns: Ns,
    pub local: String,
    pub attrs: Vec<Attr>,
}

impl Elem {
    pub fn is(&self, ns: Ns, local: &str) -> bool {
        self.ns == ns && self.local == local
    }
    /// First attribute with this local name in namespace `ns`.
    pub fn attr_ns(&self, ns: Ns, local: &str) -> Option<&str> {
        self.attrs.iter().find(|a| a.ns == ns && a.local == local).map(|a| a.value.as_str())
    }
    /// First attribute with this local name in any namespace.
    pub fn attr(&self, local: &str) -> Option<&str> {
        self.attrs.iter().find(|a| a.local == local).map(|a| a.value.as_str())
    }
}

#[derive(Debug, Clone)]
pub enum Ev {
    Start(Elem),
    End { ns: Ns, local: String },
    Text(String),
    Eof,
}

/// Bytes of a part as UTF-8 text: strips a UTF-8 BOM, decodes UTF-16 parts.
pub fn decode_part(bytes: &[u8]) -> Cow<'_, [u8]> {
    if let Some(rest) = bytes.strip_prefix(b"\xEF\xBB\xBF") {
        return Cow::Borrowed(rest);
    }
    if bytes.starts_with(&[0xFF, 0xFE]) || bytes.starts_with(&[0xFE, 0xFF]) {
        let enc = if bytes[0] == 0xFF { encoding_rs::UTF_16LE } else { encoding_rs::UTF_16BE };
        let (s, _) = enc.decode_with_bom_removal(bytes);
        // The declaration still says UTF-16; the reader ignores it for &[u8] input.
        return Cow::Owned(s.into_owned().into_bytes());
    }
    Cow::Borrowed(bytes)
}

/// Streaming reader enforcing the safety rules above.
pub struct SafeReader<'i, 'b> {
    reader: NsReader<&'i [u8]>,
    budget: &'b Budget<'b>,
    depth: u32,
    events: u32,
    done: bool,
}

fn xml_err(e: impl std::fmt::Display) -> ExtractError {
    ExtractError::malformed(FORMAT, e.to_string())
}

impl<'i, 'b> SafeReader<'i, 'b> {
    /// `bytes` must already be UTF-8 (see [`decode_part`]).
    pub fn new(bytes: &'i [u8], budget: &'b Budget<'b>) -> Self {
        let mut reader = NsReader::from_reader(bytes);
        let cfg = reader.config_mut();
        cfg.expand_empty_elements = true;
        cfg.trim_text(false);
        cfg.check_end_names = true;
        SafeReader { reader, budget, depth: 0, events: 0, done: false }
    }

    pub fn depth(&self) -> u32 {
        self.depth
    }

    pub fn next_event(&mut self) -> Result<Ev, ExtractError> {
        loop {
            if self.done {
                return Ok(Ev::Eof);
            }
            self.events = self.events.wrapping_add(1);
            if self.events % 4096 == 0 {
                self.budget.check_time()?;
            }
            let (res, ev) = self.reader.read_resolved_event().map_err(xml_err)?;
            let ns = resolve(&res);
            match ev {
                Event::DocType(_) => {
                    return Err(ExtractError::Hostile("DOCTYPE in an OOXML part (DTDs are forbidden)".into()))
                }
                Event::Start(s) => {
                    self.depth += 1;
                    if self.depth > self.budget.limits.max_xml_depth {
                        return Err(ExtractError::limit(
                            Limit::XmlDepth,
                            format!("XML nested deeper than {}", self.budget.limits.max_xml_depth),
                        ));
                    }
                    let local = String::from_utf8_lossy(s.local_name().as_ref()).into_owned();
                    let mut attrs = Vec::new();
                    for a in s.attributes() {
                        let a = a.map_err(xml_err)?;
                        let (ares, alocal) = self.reader.resolve_attribute(a.key);
                        let ans = resolve(&ares);
                        if a.key.as_ref().starts_with(b"xmlns") {
                            continue;
                        }
                        let value = a.unescape_value().map_err(xml_err)?.into_owned();
                        attrs.push(Attr {
                            ns: ans,
                            local: String::from_utf8_lossy(alocal.as_ref()).into_owned(),
                            value,
                        });
                    }
                    return Ok(Ev::Start(Elem { ns, local, attrs }));
                }
                Event::End(e) => {
                    self.depth = self.depth.saturating_sub(1);
                    let local = String::from_utf8_lossy(e.local_name().as_ref()).into_owned();
                    return Ok(Ev::End { ns, local });
                }
                Event::Empty(_) => {
                    // expand_empty_elements turns these into Start + End.
                    continue;
                }
                Event::Text(t) => {
                    let s = t.decode().map_err(xml_err)?;
                    return Ok(Ev::Text(s.into_owned()));
                }
                Event::CData(c) => {
                    let s = c.decode().map_err(xml_err)?;
                    return Ok(Ev::Text(s.into_owned()));
                }
                Event::GeneralRef(r) => {
                    if r.is_char_ref() {
                        let c = r.resolve_char_ref().map_err(xml_err)?;
                        let Some(c) = c else {
                            return Err(ExtractError::malformed(FORMAT, "bad character reference"));
                        };
                        return Ok(Ev::Text(c.to_string()));
                    }
                    let c = match &*r {
                        b"lt" => "<",
                        b"gt" => ">",
                        b"amp" => "&",
                        b"apos" => "'",
                        b"quot" => "\"",
                        _ => return Err(ExtractError::malformed(FORMAT, "reference to an undeclared entity")),
                    };
                    return Ok(Ev::Text(c.to_string()));
                }
                Event::Eof => {
                    self.done = true;
                    return Ok(Ev::Eof);
                }
                Event::Decl(_) | Event::PI(_) | Event::Comment(_) => continue,
            }
        }
    }

    /// Skips to the end of the element just started (its children included).
    ///
    /// Reads raw events without resolving names or copying attributes and text (skipped
    /// subtrees such as Word's latent styles are a large part of some parts), while keeping
    /// the safety rules: DOCTYPE, the depth cap, undeclared entities and the deadline.
    pub fn skip_element(&mut self) -> Result<(), ExtractError> {
        let target = self.depth.saturating_sub(1);
        loop {
            if self.done {
                return Ok(());
            }
            self.events = self.events.wrapping_add(1);
            if self.events % 4096 == 0 {
                self.budget.check_time()?;
            }
            match self.reader.read_event().map_err(xml_err)? {
                Event::DocType(_) => {
                    return Err(ExtractError::Hostile("DOCTYPE in an OOXML part (DTDs are forbidden)".into()))
                }
                Event::Start(_) => {
                    self.depth += 1;
                    if self.depth > self.budget.limits.max_xml_depth {
                        return Err(ExtractError::limit(
                            Limit::XmlDepth,
                            format!("XML nested deeper than {}", self.budget.limits.max_xml_depth),
                        ));
                    }
                }
                Event::End(_) => {
                    self.depth = self.depth.saturating_sub(1);
                    if self.depth == target {
                        return Ok(());
                    }
                }
                Event::GeneralRef(r)
                    if !r.is_char_ref() && !matches!(&*r, b"lt" | b"gt" | b"amp" | b"apos" | b"quot") =>
                {
                    return Err(ExtractError::malformed(FORMAT, "reference to an undeclared entity"));
                }
                Event::Eof => {
                    self.done = true;
                    return Ok(());
                }
                _ => {}
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::limits::Limits;

    fn collect(xml: &str, limits: &Limits) -> Result<Vec<Ev>, ExtractError> {
        let b = Budget::new(limits);
        let mut r = SafeReader::new(xml.as_bytes(), &b);
        let mut v = Vec::new();
        loop {
            match r.next_event()? {
                Ev::Eof => return Ok(v),
                e => v.push(e),
            }
        }
    }

    fn text_of(evs: &[Ev]) -> String {
        evs.iter()
            .filter_map(|e| match e {
                Ev::Text(t) => Some(t.as_str()),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn skip_element_keeps_the_safety_rules() {
        let l = Limits { max_xml_depth: 8, ..Limits::default() };
        let b = Budget::new(&l);
        let xml = "<a><skip x=\"1\"><b>t &amp; u</b><c/></skip><after>kept</after></a>";
        let mut r = SafeReader::new(xml.as_bytes(), &b);
        assert!(matches!(r.next_event().unwrap(), Ev::Start(e) if e.local == "a"));
        assert!(matches!(r.next_event().unwrap(), Ev::Start(e) if e.local == "skip"));
        r.skip_element().unwrap();
        assert!(matches!(r.next_event().unwrap(), Ev::Start(e) if e.local == "after"));
        assert!(matches!(r.next_event().unwrap(), Ev::Text(t) if t == "kept"));
        // Depth cap and undeclared entities still fail inside a skipped subtree.
        let deep = format!("<a>{}{}</a>", "<d>".repeat(20), "</d>".repeat(20));
        let mut r = SafeReader::new(deep.as_bytes(), &b);
        r.next_event().unwrap();
        assert!(matches!(r.skip_element(), Err(ExtractError::Limit { limit: Limit::XmlDepth, .. })));
        let mut r = SafeReader::new(b"<a><b>&ghost;</b></a>", &b);
        r.next_event().unwrap();
        assert!(r.skip_element().is_err());
    }

    #[test]
    fn rejects_doctype_and_custom_entities() {
        let bomb =
            r#"<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;">]><a>&lol2;</a>"#;
        assert!(matches!(collect(bomb, &Limits::default()), Err(ExtractError::Hostile(_))));
        assert!(matches!(collect("<a>&lol;</a>", &Limits::default()), Err(ExtractError::Malformed { .. })));
    }

    #[test]
    fn resolves_predefined_and_numeric_refs() {
        let evs = collect("<a>x &lt;&amp;&#65;&#x42; y</a>", &Limits::default()).unwrap();
        assert_eq!(text_of(&evs), "x <&AB y");
    }

    #[test]
    fn caps_depth() {
        let l = Limits { max_xml_depth: 10, ..Limits::default() };
        let deep = format!("{}{}", "<a>".repeat(11), "</a>".repeat(11));
        assert!(matches!(collect(&deep, &l), Err(ExtractError::Limit { limit: Limit::XmlDepth, .. })));
        let ok = format!("{}{}", "<a>".repeat(10), "</a>".repeat(10));
        assert!(collect(&ok, &l).is_ok());
    }

    #[test]
    fn resolves_transitional_and_strict_namespaces() {
        for uri in [
            "http://schemas.openxmlformats.org/wordprocessingml/2006/main",
            "http://purl.oclc.org/ooxml/wordprocessingml/main",
        ] {
            let xml = format!(r#"<x:p xmlns:x="{uri}" x:val="1"><x:t>hi</x:t></x:p>"#);
            let evs = collect(&xml, &Limits::default()).unwrap();
            match &evs[0] {
                Ev::Start(e) => {
                    assert!(e.is(Ns::W, "p"));
                    assert_eq!(e.attr_ns(Ns::W, "val"), Some("1"));
                }
                other => panic!("{other:?}"),
            }
        }
        let evs = collect(r#"<p xmlns="urn:other"><t/></p>"#, &Limits::default()).unwrap();
        assert!(matches!(&evs[0], Ev::Start(e) if e.ns == Ns::Other));
    }

    #[test]
    fn strips_bom_and_decodes_utf16() {
        let l = Limits::default();
        let b = Budget::new(&l);
        let mut bytes = b"\xEF\xBB\xBF".to_vec();
        bytes.extend_from_slice(b"<a>ok</a>");
        let d = decode_part(&bytes);
        let mut r = SafeReader::new(&d, &b);
        assert!(matches!(r.next_event().unwrap(), Ev::Start(_)));
        assert!(matches!(r.next_event().unwrap(), Ev::Text(t) if t == "ok"));
        let u16: Vec<u8> =
            [0xFF, 0xFE].into_iter().chain("<a>é</a>".encode_utf16().flat_map(|u| u.to_le_bytes())).collect();
        let d = decode_part(&u16);
        assert_eq!(&*d, "<a>é</a>".as_bytes());
    }
}
