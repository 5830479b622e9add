//! Fonts: turning shown byte strings into Unicode text and glyph advances.
//!
//! A font is compiled once per resource dictionary entry into an immutable [`Font`]: how codes
//! are split (one byte, or the codespace ranges of a CMap), each code's Unicode text (ToUnicode
//! CMap first, then encoding + Differences + glyph names, then predefined UCS-2 CMaps) and each
//! code's width. When no mapping exists the code is emitted as a best guess and the font is
//! reported as unmapped, so callers can flag the span instead of indexing silent mojibake.
//! Every table built from input is bounded (`MAX_CMAP_ENTRIES`).

use super::cff;
use super::filters::decode_stream;
use super::glyphlist::GLYPHS;
use super::tables;
use crate::limits::Budget;
use lopdf::{Dictionary, Document, Object};
use std::collections::HashMap;

/// Most code mappings one CMap may define; beyond it ranges are truncated.
const MAX_CMAP_ENTRIES: usize = 200_000;

fn deref<'a>(doc: &'a Document, obj: &'a Object) -> &'a Object {
    match obj {
        Object::Reference(id) => doc.get_object(*id).unwrap_or(&Object::Null),
        o => o,
    }
}

fn get<'a>(doc: &'a Document, d: &'a Dictionary, key: &[u8]) -> Option<&'a Object> {
    d.get(key).ok().map(|o| deref(doc, o))
}

pub(crate) fn num(o: &Object) -> Option<f64> {
    match o {
        Object::Integer(i) => Some(*i as f64),
        Object::Real(r) => Some(*r as f64),
        _ => None,
    }
}

/// Unicode for an Adobe glyph name: the glyph list, `uniXXXX…`, `uXXXX[XX]`, `name.suffix`.
pub(crate) fn glyph_to_unicode(name: &[u8]) -> Option<String> {
    let name = std::str::from_utf8(name).ok()?;
    let base = name.split('.').next().unwrap_or(name);
    if base.is_empty() {
        return None;
    }
    if base.contains('_') {
        let parts: Option<String> = base.split('_').map(|p| glyph_to_unicode(p.as_bytes())).collect();
        return parts;
    }
    if let Ok(i) = GLYPHS.binary_search_by(|(n, _)| (*n).cmp(base)) {
        let (_, cp) = GLYPHS.get(i)?;
        return char::from_u32(*cp as u32).map(String::from);
    }
    if let Some(hex) = base.strip_prefix("uni") {
        if hex.len() >= 4 && hex.len() % 4 == 0 && hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            let units: Vec<u16> = hex
                .as_bytes()
                .chunks(4)
                .filter_map(|c| u16::from_str_radix(std::str::from_utf8(c).ok()?, 16).ok())
                .collect();
            return String::from_utf16(&units).ok();
        }
    }
    if let Some(hex) = base.strip_prefix('u') {
        if (4..=6).contains(&hex.len()) && hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            return u32::from_str_radix(hex, 16).ok().and_then(char::from_u32).map(String::from);
        }
    }
    None
}

/// One codespace range: codes of `len` bytes between `lo` and `hi` byte-wise.
#[derive(Debug, Clone)]
struct Codespace {
    len: usize,
    lo: Vec<u8>,
    hi: Vec<u8>,
}

/// A parsed CMap: codespaces plus code → Unicode text (ToUnicode) or code → CID (encoding).
#[derive(Debug, Clone, Default)]
pub(crate) struct CMap {
    codespaces: Vec<Codespace>,
    pub(crate) uni: HashMap<u32, String>,
    pub(crate) cid: HashMap<u32, u32>,
    cid_ranges: Vec<(u32, u32, u32)>,
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Hex(Vec<u8>),
    Int(i64),
    Name(Vec<u8>),
    Kw(Vec<u8>),
    Open,
    Close,
}

fn cmap_tokens(data: &[u8]) -> Vec<Tok> {
    let mut out = Vec::new();
    let mut i = 0;
    while let Some(&b) = data.get(i) {
        match b {
            b'%' => {
                while data.get(i).is_some_and(|&c| c != b'\n' && c != b'\r') {
                    i += 1;
                }
            }
            b'<' if data.get(i + 1) == Some(&b'<') => i += 2,
            b'>' if data.get(i + 1) == Some(&b'>') => i += 2,
            b'<' => {
                let start = i + 1;
                let mut j = start;
                while data.get(j).is_some_and(|&c| c != b'>') {
                    j += 1;
                }
                let hex: Vec<u8> =
                    data.get(start..j).unwrap_or(&[]).iter().copied().filter(u8::is_ascii_hexdigit).collect();
                let mut bytes = Vec::with_capacity(hex.len() / 2 + 1);
                for pair in hex.chunks(2) {
                    let s = std::str::from_utf8(pair).unwrap_or("0");
                    let v = u8::from_str_radix(s, 16).unwrap_or(0);
                    bytes.push(if pair.len() == 1 { v << 4 } else { v });
                }
                out.push(Tok::Hex(bytes));
                i = j + 1;
            }
            b'(' => {
                // Literal strings occur in CMap headers only; a bfchar destination may also be
                // one, so keep the bytes.
                let mut depth = 0usize;
                let mut bytes = Vec::new();
                i += 1;
                while let Some(&c) = data.get(i) {
                    i += 1;
                    match c {
                        b'\\' => {
                            if let Some(&n) = data.get(i) {
                                bytes.push(n);
                                i += 1;
                            }
                        }
                        b'(' => {
                            depth += 1;
                            bytes.push(c);
                        }
                        b')' if depth == 0 => break,
                        b')' => {
                            depth -= 1;
                            bytes.push(c);
                        }
                        _ => bytes.push(c),
                    }
                }
                out.push(Tok::Hex(bytes));
            }
            b'[' => {
                out.push(Tok::Open);
                i += 1;
            }
            b']' => {
                out.push(Tok::Close);
                i += 1;
            }
            b'/' => {
                let start = i + 1;
                i += 1;
                while data.get(i).is_some_and(|&c| is_regular(c)) {
                    i += 1;
                }
                out.push(Tok::Name(data.get(start..i).unwrap_or(&[]).to_vec()));
            }
            c if c.is_ascii_whitespace() || c == 0 => i += 1,
            _ => {
                let start = i;
                while data.get(i).is_some_and(|&c| is_regular(c)) {
                    i += 1;
                }
                if i == start {
                    i += 1;
                    continue;
                }
                let word = data.get(start..i).unwrap_or(&[]);
                match std::str::from_utf8(word).ok().and_then(|s| s.parse().ok()) {
                    Some(n) => out.push(Tok::Int(n)),
                    None => out.push(Tok::Kw(word.to_vec())),
                }
            }
        }
    }
    out
}

pub(crate) fn is_regular(c: u8) -> bool {
    !c.is_ascii_whitespace()
        && c != 0
        && !matches!(c, b'(' | b')' | b'<' | b'>' | b'[' | b']' | b'{' | b'}' | b'/' | b'%')
}

fn be(bytes: &[u8]) -> u32 {
    bytes.iter().take(4).fold(0u32, |acc, &b| (acc << 8) | b as u32)
}

/// UTF-16BE destination bytes to text; odd trailing bytes and bad surrogates are dropped.
fn utf16be(bytes: &[u8]) -> String {
    let units: Vec<u16> = bytes
        .chunks(2)
        .map(|c| match c {
            [a, b] => u16::from_be_bytes([*a, *b]),
            [a] => *a as u16,
            _ => 0,
        })
        .collect();
    String::from_utf16_lossy(&units)
}

/// `dst` incremented by `k` in its last two bytes (bfrange with a string destination).
fn bump(dst: &[u8], k: u32) -> Vec<u8> {
    let mut out = dst.to_vec();
    let n = out.len();
    if n >= 2 {
        let v = u16::from_be_bytes([out[n - 2], out[n - 1]]).wrapping_add(k as u16);
        out[n - 2..].copy_from_slice(&v.to_be_bytes());
    } else if n == 1 {
        out[0] = out[0].wrapping_add(k as u8);
    }
    out
}

impl CMap {
    pub(crate) fn parse(data: &[u8]) -> CMap {
        let toks = cmap_tokens(data);
        let mut m = CMap::default();
        let mut i = 0;
        let mut entries = 0usize;
        while let Some(t) = toks.get(i) {
            i += 1;
            let Tok::Kw(k) = t else { continue };
            match k.as_slice() {
                b"begincodespacerange" => {
                    while let (Some(Tok::Hex(lo)), Some(Tok::Hex(hi))) = (toks.get(i), toks.get(i + 1)) {
                        if !lo.is_empty() && lo.len() == hi.len() && lo.len() <= 4 {
                            m.codespaces.push(Codespace { len: lo.len(), lo: lo.clone(), hi: hi.clone() });
                        }
                        i += 2;
                    }
                }
                b"beginbfchar" => {
                    while let (Some(Tok::Hex(src)), Some(dst)) = (toks.get(i), toks.get(i + 1)) {
                        let text = match dst {
                            Tok::Hex(d) => utf16be(d),
                            Tok::Name(n) => glyph_to_unicode(n).unwrap_or_default(),
                            _ => break,
                        };
                        if entries < MAX_CMAP_ENTRIES {
                            m.uni.insert(be(src), text);
                            entries += 1;
                        }
                        i += 2;
                    }
                }
                b"beginbfrange" => {
                    while let (Some(Tok::Hex(lo)), Some(Tok::Hex(hi))) = (toks.get(i), toks.get(i + 1)) {
                        let (lo, hi) = (be(lo), be(hi));
                        i += 2;
                        match toks.get(i) {
                            Some(Tok::Hex(dst)) => {
                                i += 1;
                                if hi >= lo {
                                    for k in 0..=(hi - lo).min(65535) {
                                        if entries >= MAX_CMAP_ENTRIES {
                                            break;
                                        }
                                        m.uni.insert(lo + k, utf16be(&bump(dst, k)));
                                        entries += 1;
                                    }
                                }
                            }
                            Some(Tok::Open) => {
                                i += 1;
                                let mut k = 0u32;
                                while let Some(Tok::Hex(d)) = toks.get(i) {
                                    if entries < MAX_CMAP_ENTRIES && lo + k <= hi {
                                        m.uni.insert(lo + k, utf16be(d));
                                        entries += 1;
                                    }
                                    k += 1;
                                    i += 1;
                                }
                                if toks.get(i) == Some(&Tok::Close) {
                                    i += 1;
                                }
                            }
                            _ => break,
                        }
                    }
                }
                b"begincidrange" => {
                    while let (Some(Tok::Hex(lo)), Some(Tok::Hex(hi)), Some(Tok::Int(c))) =
                        (toks.get(i), toks.get(i + 1), toks.get(i + 2))
                    {
                        if m.cid_ranges.len() < MAX_CMAP_ENTRIES {
                            m.cid_ranges.push((be(lo), be(hi), (*c).max(0) as u32));
                        }
                        i += 3;
                    }
                }
                b"begincidchar" => {
                    while let (Some(Tok::Hex(src)), Some(Tok::Int(c))) = (toks.get(i), toks.get(i + 1)) {
                        if m.cid.len() < MAX_CMAP_ENTRIES {
                            m.cid.insert(be(src), (*c).max(0) as u32);
                        }
                        i += 2;
                    }
                }
                _ => {}
            }
        }
        m
    }

    /// Length of the code starting at `bytes[0]` per the codespace ranges.
    fn code_len(&self, bytes: &[u8]) -> Option<usize> {
        for cs in &self.codespaces {
            let Some(code) = bytes.get(..cs.len) else {
                continue;
            };
            let inside = code.iter().zip(cs.lo.iter().zip(&cs.hi)).all(|(b, (lo, hi))| lo <= b && b <= hi);
            if inside {
                return Some(cs.len);
            }
        }
        None
    }

    fn to_cid(&self, code: u32) -> Option<u32> {
        if let Some(c) = self.cid.get(&code) {
            return Some(*c);
        }
        self.cid_ranges.iter().find(|(lo, hi, _)| *lo <= code && code <= *hi).map(|(lo, _, c)| c + (code - lo))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum FontKind {
    Simple,
    Type3,
    Composite,
}

/// How a composite font's encoding CMap turns codes into CIDs.
#[derive(Debug, Clone)]
enum CidEncoding {
    Identity,
    /// A predefined `Uni…-UCS2`/`UTF16` CMap: codes are UTF-16 units.
    Ucs2,
    Embedded(Box<CMap>),
    /// A predefined CMap we do not ship: two-byte codes, no Unicode.
    Unknown,
}

/// A compiled font. Immutable once built.
#[derive(Debug, Clone)]
pub(crate) struct Font {
    pub(crate) kind: FontKind,
    pub(crate) vertical: bool,
    pub(crate) name: String,
    to_unicode: Option<CMap>,
    simple_map: Option<Box<[Option<String>; 256]>>,
    cid_enc: CidEncoding,
    first_char: u32,
    widths: Vec<f64>,
    cid_widths: HashMap<u32, f64>,
    default_width: f64,
    /// Glyph space → text space scale for widths (0.001 except Type3).
    pub(crate) width_scale: f64,
    /// Type3 vertical scale relative to a 1000-unit em, for the effective size.
    pub(crate) size_scale: f64,
    /// Standard metrics for a base-14 font without /Widths.
    metrics: Option<&'static [u16; 95]>,
}

/// One decoded code of a shown string.
#[derive(Debug, Clone)]
pub(crate) struct Code {
    pub(crate) text: String,
    /// Advance in text space units per unit font size.
    pub(crate) width: f64,
    /// Single-byte code 32: word spacing (Tw) applies.
    pub(crate) is_space_byte: bool,
    pub(crate) unmapped: bool,
}

fn base_table(name: &[u8]) -> Option<&'static [u16; 256]> {
    Some(match name {
        b"WinAnsiEncoding" => &tables::WIN_ANSI,
        b"MacRomanEncoding" => &tables::MAC_ROMAN,
        b"MacExpertEncoding" => &tables::MAC_EXPERT,
        b"StandardEncoding" => &tables::STANDARD,
        b"PDFDocEncoding" => &tables::PDF_DOC,
        _ => return None,
    })
}

fn table_text(t: &[u16; 256], code: usize) -> Option<String> {
    let u = *t.get(code)?;
    if u == 0 {
        return None;
    }
    char::from_u32(u as u32).map(String::from)
}

/// Widths of the standard Courier family are fixed; other base-14 fonts get an average.
fn base14_width(base: &str) -> f64 {
    if base.contains("Courier") {
        600.0
    } else {
        500.0
    }
}

impl Font {
    pub(crate) fn load(doc: &Document, dict: &Dictionary, budget: &Budget) -> Font {
        let subtype = get(doc, dict, b"Subtype").and_then(|o| o.as_name().ok()).unwrap_or(b"Type1");
        let base = get(doc, dict, b"BaseFont")
            .and_then(|o| o.as_name().ok())
            .map(|n| String::from_utf8_lossy(n).into_owned())
            .unwrap_or_default();
        // `/ToUnicode /Identity-H` (a name, not a stream) means the codes are UCS-2.
        let identity_tu =
            get(doc, dict, b"ToUnicode").and_then(|o| o.as_name().ok()).is_some_and(|n| n.starts_with(b"Identity"));
        let to_unicode = get(doc, dict, b"ToUnicode")
            .and_then(|o| o.as_stream().ok())
            .and_then(|s| decode_stream(doc, s, budget).ok().flatten())
            .map(|d| CMap::parse(&d))
            .filter(|c| !c.uni.is_empty());
        let kind = match subtype {
            b"Type0" => FontKind::Composite,
            b"Type3" => FontKind::Type3,
            _ => FontKind::Simple,
        };
        let mut font = Font {
            kind,
            vertical: false,
            name: base.clone(),
            to_unicode,
            simple_map: None,
            cid_enc: CidEncoding::Identity,
            first_char: 0,
            widths: Vec::new(),
            cid_widths: HashMap::new(),
            default_width: 1000.0,
            width_scale: 0.001,
            size_scale: 1.0,
            metrics: None,
        };
        match kind {
            FontKind::Composite => font.load_composite(doc, dict, budget),
            _ => font.load_simple(doc, dict, &base, budget),
        }
        if identity_tu && font.to_unicode.is_none() && kind == FontKind::Composite {
            font.cid_enc = CidEncoding::Ucs2;
        }
        font
    }

    fn load_simple(&mut self, doc: &Document, dict: &Dictionary, base: &str, budget: &Budget) {
        if self.kind == FontKind::Type3 {
            if let Some(Object::Array(m)) = get(doc, dict, b"FontMatrix") {
                let m: Vec<f64> = m.iter().filter_map(|o| num(deref(doc, o))).collect();
                if let (Some(a), Some(d)) = (m.first(), m.get(3)) {
                    self.width_scale = *a;
                    self.size_scale = (d.abs() * 1000.0).clamp(1e-3, 1e3);
                }
            }
        }
        self.first_char = get(doc, dict, b"FirstChar").and_then(num).unwrap_or(0.0).clamp(0.0, 255.0) as u32;
        if let Some(Object::Array(w)) = get(doc, dict, b"Widths") {
            self.widths = w.iter().take(256).map(|o| num(deref(doc, o)).unwrap_or(0.0)).collect();
        }
        let desc = get(doc, dict, b"FontDescriptor").and_then(|o| o.as_dict().ok());
        let missing = desc.and_then(|d| get(doc, d, b"MissingWidth")).and_then(num).filter(|w| *w > 0.0);
        if self.widths.is_empty() && self.kind == FontKind::Simple && !base.contains("Courier") {
            self.metrics = Some(if base.contains("Times") || base.contains("Roman") {
                &tables::TIMES_ASCII
            } else {
                &tables::HELVETICA_ASCII
            });
        }
        self.default_width = missing.unwrap_or(if self.widths.is_empty() {
            base14_width(base)
        } else {
            // Mean of the declared widths: a better guess for unlisted codes than zero.
            let nz: Vec<f64> = self.widths.iter().copied().filter(|w| *w > 0.0).collect();
            if nz.is_empty() {
                500.0
            } else {
                nz.iter().sum::<f64>() / nz.len() as f64
            }
        });
        let flags = desc.and_then(|d| get(doc, d, b"Flags")).and_then(|o| o.as_i64().ok()).unwrap_or(0);
        let symbolic_name = base.contains("Symbol");
        let dingbats = base.contains("Dingbats");
        let enc = get(doc, dict, b"Encoding");
        let mut base_t: Option<&'static [u16; 256]> = None;
        let mut diffs: Vec<(usize, Vec<u8>)> = Vec::new();
        match enc {
            Some(Object::Name(n)) => base_t = base_table(n),
            Some(Object::Dictionary(d)) => {
                base_t = get(doc, d, b"BaseEncoding").and_then(|o| o.as_name().ok()).and_then(base_table);
                if let Some(Object::Array(a)) = get(doc, d, b"Differences") {
                    let mut code = 0usize;
                    for o in a {
                        match deref(doc, o) {
                            Object::Integer(i) => code = (*i).clamp(0, 255) as usize,
                            Object::Name(n) => {
                                if code < 256 {
                                    diffs.push((code, n.clone()));
                                }
                                code += 1;
                            }
                            _ => {}
                        }
                    }
                }
            }
            _ => {}
        }
        let symbolic_flag = flags & 4 != 0;
        let fallback: Option<&'static [u16; 256]> = if symbolic_name {
            Some(&tables::SYMBOL)
        } else if dingbats {
            None
        } else if base_t.is_none() && symbolic_flag && self.kind == FontKind::Simple {
            // Symbolic fonts use their built-in encoding; for the common subset fonts that is
            // Standard-like, so it is still the best guess (and flagged as unmapped below
            // when the ToUnicode map misses).
            Some(&tables::STANDARD)
        } else if subtype_is_truetype(doc, dict) {
            Some(&tables::WIN_ANSI)
        } else {
            Some(&tables::STANDARD)
        };
        // An embedded Type1 program's own encoding is the base when the dictionary names none
        // (TeX math fonts rely on it).
        let builtin = if base_t.is_none() && self.kind == FontKind::Simple {
            desc.map(|d| embedded_builtin_encoding(doc, d, budget)).unwrap_or_default()
        } else {
            Vec::new()
        };
        let table = base_t.or(fallback);
        let mut map: Box<[Option<String>; 256]> = Box::new(std::array::from_fn(|_| None));
        if let Some(t) = table {
            for (c, slot) in map.iter_mut().enumerate() {
                *slot = table_text(t, c);
            }
        }
        for (c, name) in builtin {
            if let Some(slot) = map.get_mut(c) {
                *slot = glyph_to_unicode(&name);
            }
        }
        for (c, name) in diffs {
            if let Some(slot) = map.get_mut(c) {
                *slot = glyph_to_unicode(&name);
            }
        }
        if dingbats {
            for (c, slot) in map.iter_mut().enumerate() {
                if slot.is_none() && (0x21..0x7f).contains(&c) {
                    *slot = char::from_u32(0x2700 + c as u32).map(String::from);
                }
            }
        }
        self.simple_map = Some(map);
    }

    fn load_composite(&mut self, doc: &Document, dict: &Dictionary, budget: &Budget) {
        match get(doc, dict, b"Encoding") {
            Some(Object::Name(n)) => {
                self.vertical = n.ends_with(b"-V");
                self.cid_enc = if n.starts_with(b"Identity") {
                    CidEncoding::Identity
                } else if n.windows(4).any(|w| w == b"UCS2") || n.windows(5).any(|w| w == b"UTF16") {
                    CidEncoding::Ucs2
                } else {
                    CidEncoding::Unknown
                };
            }
            Some(Object::Stream(s)) => {
                if let Some(d) = decode_stream(doc, s, budget).ok().flatten() {
                    let cm = CMap::parse(&d);
                    self.vertical = get(doc, &s.dict, b"WMode").and_then(|o| o.as_i64().ok()).is_some_and(|w| w == 1);
                    self.cid_enc = CidEncoding::Embedded(Box::new(cm));
                }
            }
            _ => {}
        }
        let desc = get(doc, dict, b"DescendantFonts")
            .and_then(|o| o.as_array().ok())
            .and_then(|a| a.first())
            .map(|o| deref(doc, o))
            .and_then(|o| o.as_dict().ok());
        let Some(desc) = desc else { return };
        self.default_width = get(doc, desc, b"DW").and_then(num).unwrap_or(1000.0);
        if let Some(Object::Array(w)) = get(doc, desc, b"W") {
            let items: Vec<&Object> = w.iter().map(|o| deref(doc, o)).collect();
            let mut i = 0;
            while let Some(first) = items.get(i).and_then(|o| num(o)) {
                let first = first.max(0.0) as u32;
                match items.get(i + 1) {
                    Some(Object::Array(ws)) => {
                        for (k, wo) in ws.iter().enumerate() {
                            if self.cid_widths.len() >= MAX_CMAP_ENTRIES {
                                break;
                            }
                            if let Some(wv) = num(deref(doc, wo)) {
                                self.cid_widths.insert(first + k as u32, wv);
                            }
                        }
                        i += 2;
                    }
                    Some(o) => {
                        let last = num(o).unwrap_or(0.0).max(0.0) as u32;
                        let wv = items.get(i + 2).and_then(|o| num(o)).unwrap_or(0.0);
                        let mut c = first;
                        while c <= last && self.cid_widths.len() < MAX_CMAP_ENTRIES {
                            self.cid_widths.insert(c, wv);
                            c += 1;
                        }
                        i += 3;
                    }
                    None => break,
                }
            }
        }
    }

    /// Whether this font can map codes to Unicode at all.
    pub(crate) fn has_unicode(&self) -> bool {
        self.to_unicode.is_some()
            || match self.kind {
                FontKind::Composite => matches!(self.cid_enc, CidEncoding::Ucs2),
                _ => true,
            }
    }

    /// Splits `bytes` into codes and decodes each.
    pub(crate) fn decode(&self, bytes: &[u8]) -> Vec<Code> {
        let mut out = Vec::new();
        let mut i = 0;
        while i < bytes.len() {
            let rest = bytes.get(i..).unwrap_or(&[]);
            let len = match self.kind {
                FontKind::Composite => match &self.cid_enc {
                    CidEncoding::Embedded(cm) => cm.code_len(rest).unwrap_or(2),
                    _ => 2,
                },
                _ => 1,
            };
            let len = len.min(rest.len()).max(1);
            let code_bytes = rest.get(..len).unwrap_or(&[]);
            let code = be(code_bytes);
            i += len;
            out.push(self.decode_code(code, len));
        }
        out
    }

    fn decode_code(&self, code: u32, len: usize) -> Code {
        let mut unmapped = false;
        let mut text = self.to_unicode.as_ref().and_then(|m| m.uni.get(&code).cloned());
        let cid = match (&self.kind, &self.cid_enc) {
            (FontKind::Composite, CidEncoding::Embedded(cm)) => cm.to_cid(code).unwrap_or(code),
            _ => code,
        };
        if text.is_none() {
            text = match self.kind {
                FontKind::Composite => match self.cid_enc {
                    CidEncoding::Ucs2 => char::from_u32(code).map(String::from),
                    _ => None,
                },
                _ => self.simple_map.as_ref().and_then(|m| m.get(code as usize).cloned().flatten()),
            };
        }
        let text = match text {
            Some(t) => t,
            None => {
                unmapped = true;
                // Best guess: the code itself when it is printable ASCII/Latin-1.
                match char::from_u32(code) {
                    Some(c) if len == 1 && (c.is_ascii_graphic() || c == ' ') => c.to_string(),
                    _ => String::new(),
                }
            }
        };
        let w = match self.kind {
            FontKind::Composite => self.cid_widths.get(&cid).copied().unwrap_or(self.default_width),
            _ => code
                .checked_sub(self.first_char)
                .and_then(|k| self.widths.get(k as usize).copied())
                .filter(|w| *w > 0.0 || self.kind == FontKind::Type3)
                .or_else(|| {
                    let m = self.metrics?;
                    let c = text.chars().next()? as usize;
                    m.get(c.checked_sub(0x20)?).map(|w| *w as f64)
                })
                .unwrap_or(self.default_width),
        };
        Code { text, width: w * self.width_scale, is_space_byte: len == 1 && code == 32, unmapped }
    }
}

/// The built-in encoding of the font program embedded in descriptor `desc`: a Type1 program's
/// `/Encoding` array or a CFF (`Type1C`) program's encoding. TrueType programs have none.
fn embedded_builtin_encoding(doc: &Document, desc: &Dictionary, budget: &Budget) -> Vec<(usize, Vec<u8>)> {
    let program = |key: &[u8]| {
        get(doc, desc, key)
            .and_then(|o| o.as_stream().ok())
            .and_then(|s| Some((s, decode_stream(doc, s, budget).ok().flatten()?)))
    };
    if let Some((_, data)) = program(b"FontFile") {
        return type1_builtin_encoding(&data);
    }
    match program(b"FontFile3") {
        Some((s, data))
            if get(doc, &s.dict, b"Subtype").and_then(|o| o.as_name().ok()).is_some_and(|n| n == b"Type1C") =>
        {
            cff::builtin_encoding(&data)
        }
        _ => Vec::new(),
    }
}

/// `dup CODE /name put` entries of a Type1 font program's cleartext part.
fn type1_builtin_encoding(data: &[u8]) -> Vec<(usize, Vec<u8>)> {
    let clear = match memchr::memmem::find(data, b"eexec") {
        Some(p) => data.get(..p).unwrap_or(&[]),
        None => data.get(..data.len().min(64 * 1024)).unwrap_or(&[]),
    };
    let mut out = Vec::new();
    let words: Vec<&[u8]> = clear.split(|c| c.is_ascii_whitespace()).filter(|w| !w.is_empty()).collect();
    for w in words.windows(4) {
        if let [b"dup", code, name, b"put"] = w {
            let code = std::str::from_utf8(code).ok().and_then(|c| c.parse::<usize>().ok());
            if let (Some(code), Some(name)) = (code, name.strip_prefix(b"/")) {
                if code < 256 {
                    out.push((code, name.to_vec()));
                }
            }
        }
    }
    out
}

fn subtype_is_truetype(doc: &Document, dict: &Dictionary) -> bool {
    get(doc, dict, b"Subtype").and_then(|o| o.as_name().ok()).is_some_and(|n| n == b"TrueType")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn glyph_names() {
        assert_eq!(glyph_to_unicode(b"A").as_deref(), Some("A"));
        assert_eq!(glyph_to_unicode(b"eacute").as_deref(), Some("é"));
        assert_eq!(glyph_to_unicode(b"uni0041").as_deref(), Some("A"));
        assert_eq!(glyph_to_unicode(b"uni00410042").as_deref(), Some("AB"));
        assert_eq!(glyph_to_unicode(b"u1F600").as_deref(), Some("😀"));
        assert_eq!(glyph_to_unicode(b"f_i").as_deref(), Some("fi"));
        assert_eq!(glyph_to_unicode(b"a.sc").as_deref(), Some("a"));
        assert_eq!(glyph_to_unicode(b"g123"), None);
    }

    #[test]
    fn cmap_bfchar_bfrange_and_codespace() {
        let src = b"1 begincodespacerange <00> <7F> <8000> <FFFF> endcodespacerange\n\
            2 beginbfchar <01> <0048> <8001> <D83DDE00> endbfchar\n\
            2 beginbfrange <10> <12> <0061> <20> <21> [<0058> <00590059>] endbfrange";
        let m = CMap::parse(src);
        assert_eq!(m.uni.get(&1).map(String::as_str), Some("H"));
        assert_eq!(m.uni.get(&0x8001).map(String::as_str), Some("😀"));
        assert_eq!(m.uni.get(&0x12).map(String::as_str), Some("c"));
        assert_eq!(m.uni.get(&0x21).map(String::as_str), Some("YY"));
        assert_eq!(m.code_len(&[0x05, 0x80]), Some(1));
        assert_eq!(m.code_len(&[0x80, 0x01]), Some(2));
    }

    #[test]
    fn simple_font_with_differences() {
        let mut doc = Document::new();
        let mut enc = Dictionary::new();
        enc.set("BaseEncoding", Object::Name(b"WinAnsiEncoding".to_vec()));
        enc.set("Differences", Object::Array(vec![Object::Integer(65), Object::Name(b"eacute".to_vec())]));
        let enc_id = doc.add_object(Object::Dictionary(enc));
        let mut f = Dictionary::new();
        f.set("Subtype", Object::Name(b"Type1".to_vec()));
        f.set("Encoding", Object::Reference(enc_id));
        f.set("FirstChar", 65);
        f.set("Widths", Object::Array(vec![Object::Integer(700)]));
        let limits = crate::limits::Limits::default();
        let font = Font::load(&doc, &f, &Budget::new(&limits));
        let codes = font.decode(b"AB\x93");
        let text: String = codes.iter().map(|c| c.text.as_str()).collect();
        assert_eq!(text, "éB\u{201c}");
        assert!((codes[0].width - 0.7).abs() < 1e-9);
        assert!(!codes.iter().any(|c| c.unmapped));
    }

    #[test]
    fn identity_font_without_tounicode_is_unmapped() {
        let doc = Document::new();
        let mut f = Dictionary::new();
        f.set("Subtype", Object::Name(b"Type0".to_vec()));
        f.set("Encoding", Object::Name(b"Identity-H".to_vec()));
        let limits = crate::limits::Limits::default();
        let font = Font::load(&doc, &f, &Budget::new(&limits));
        assert!(!font.has_unicode());
        let codes = font.decode(&[0, 5, 0, 6]);
        assert_eq!(codes.len(), 2);
        assert!(codes.iter().all(|c| c.unmapped));
    }
}
