//! The content-stream interpreter: graphics and text state, glyph placement and visibility.
//!
//! We interpret page content ourselves (not lopdf's `extract_text`) because hiding text is a
//! matter of graphics state: render mode, fill colour against what was painted underneath,
//! effective size after every matrix, clipping, optional content, and shapes or images painted
//! later over the text. Each shown code becomes a [`Glyph`] with its device-space position and a
//! [`Visibility`]; later fills and images can still change a glyph's visibility (Covered, or the
//! OCR exception for invisible text over a scanned image) until the page ends.
//!
//! Guarantees: the lexer is iterative with a depth cap, Form XObjects recurse through an explicit
//! depth cap with a stack of object ids (a cycle is drawn once), operators per page are counted
//! against `max_operators_per_page`, and the deadline is checked every few thousand operators.

use super::filters::decode_stream;
use super::fonts::{num, Font};
use crate::error::{ExtractError, Limit};
use crate::limits::Budget;
use crate::model::{Hidden, Visibility};
use lopdf::{Dictionary, Document, Object, ObjectId};
use std::collections::{HashMap, HashSet};
use std::rc::Rc;

/// Deepest Form XObject nesting drawn.
const MAX_FORM_DEPTH: usize = 12;
/// Deepest array/dict nesting inside a content stream operand.
const MAX_OPERAND_DEPTH: usize = 32;
/// Most operands kept for one operator; more are junk.
const MAX_OPERANDS: usize = 4096;
/// Deepest q/Q nesting tracked.
const MAX_GSTATE_DEPTH: usize = 256;
/// Below this effective size (points) text is unreadable.
const TINY_FONT_PT: f64 = 1.0;
/// Most glyphs kept for one page (each is ~150 bytes); past it the page is a limit error.
const MAX_GLYPHS_PER_PAGE: usize = 400_000;
/// Paints (fills, images) searched for the background under a glyph, most recent first.
const RECENT_PAINTS: usize = 2_000;
/// Luminance distance under which text and background are indistinguishable.
const LOW_CONTRAST: f64 = 0.12;

pub(crate) type Matrix = [f64; 6];
const IDENTITY: Matrix = [1.0, 0.0, 0.0, 1.0, 0.0, 0.0];

pub(crate) fn mul(m: &Matrix, n: &Matrix) -> Matrix {
    [
        m[0] * n[0] + m[1] * n[2],
        m[0] * n[1] + m[1] * n[3],
        m[2] * n[0] + m[3] * n[2],
        m[2] * n[1] + m[3] * n[3],
        m[4] * n[0] + m[5] * n[2] + n[4],
        m[4] * n[1] + m[5] * n[3] + n[5],
    ]
}

fn apply(m: &Matrix, x: f64, y: f64) -> (f64, f64) {
    (m[0] * x + m[2] * y + m[4], m[1] * x + m[3] * y + m[5])
}

/// An axis-aligned rectangle in device (default user) space.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Rect {
    pub(crate) x0: f64,
    pub(crate) y0: f64,
    pub(crate) x1: f64,
    pub(crate) y1: f64,
}

impl Rect {
    pub(crate) fn new(x0: f64, y0: f64, x1: f64, y1: f64) -> Rect {
        Rect { x0: x0.min(x1), y0: y0.min(y1), x1: x0.max(x1), y1: y0.max(y1) }
    }
    fn empty() -> Rect {
        Rect { x0: f64::INFINITY, y0: f64::INFINITY, x1: f64::NEG_INFINITY, y1: f64::NEG_INFINITY }
    }
    fn is_empty(&self) -> bool {
        !(self.x0 <= self.x1 && self.y0 <= self.y1)
    }
    fn add(&mut self, x: f64, y: f64) {
        if x.is_finite() && y.is_finite() {
            self.x0 = self.x0.min(x);
            self.y0 = self.y0.min(y);
            self.x1 = self.x1.max(x);
            self.y1 = self.y1.max(y);
        }
    }
    fn intersect(&self, o: &Rect) -> Rect {
        Rect { x0: self.x0.max(o.x0), y0: self.y0.max(o.y0), x1: self.x1.min(o.x1), y1: self.y1.min(o.y1) }
    }
    pub(crate) fn contains_point(&self, x: f64, y: f64, tol: f64) -> bool {
        x >= self.x0 - tol && x <= self.x1 + tol && y >= self.y0 - tol && y <= self.y1 + tol
    }
    fn contains_rect(&self, o: &Rect, tol: f64) -> bool {
        o.x0 >= self.x0 - tol && o.x1 <= self.x1 + tol && o.y0 >= self.y0 - tol && o.y1 <= self.y1 + tol
    }
    fn transformed(&self, m: &Matrix) -> Rect {
        let mut r = Rect::empty();
        for (x, y) in [(self.x0, self.y0), (self.x1, self.y0), (self.x0, self.y1), (self.x1, self.y1)] {
            let (a, b) = apply(m, x, y);
            r.add(a, b);
        }
        r
    }
}

/// One shown code, positioned in device space.
#[derive(Debug, Clone)]
pub(crate) struct Glyph {
    pub(crate) text: String,
    pub(crate) x: f64,
    pub(crate) y: f64,
    /// Unit vector of the text direction.
    pub(crate) ux: f64,
    pub(crate) uy: f64,
    /// Advance length in device space.
    pub(crate) adv: f64,
    /// Effective font size in device space.
    pub(crate) size: f64,
    pub(crate) bbox: Rect,
    pub(crate) vis: Visibility,
    pub(crate) unmapped: bool,
    /// Hidden only by render mode 3/7: an OCR layer if an image lies under it.
    ocr_candidate: bool,
}

/// Content-stream operand.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Operand {
    Num(f64),
    Name(Vec<u8>),
    Str(Vec<u8>),
    Arr(Vec<Operand>),
    Dict(Vec<(Vec<u8>, Operand)>),
    Other,
}

impl Operand {
    fn num(&self) -> Option<f64> {
        match self {
            Operand::Num(n) if n.is_finite() => Some(*n),
            _ => None,
        }
    }
    fn dict_get(&self, key: &[u8]) -> Option<&Operand> {
        match self {
            Operand::Dict(d) => d.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }
}

/// Iterative lexer over a content stream, yielding (operator, operands).
pub(crate) struct Lexer<'a> {
    data: &'a [u8],
    pos: usize,
}

fn hexval(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

impl<'a> Lexer<'a> {
    pub(crate) fn new(data: &'a [u8]) -> Self {
        Lexer { data, pos: 0 }
    }

    fn peek(&self) -> Option<u8> {
        self.data.get(self.pos).copied()
    }

    fn literal(&mut self) -> Vec<u8> {
        let mut out = Vec::new();
        let mut depth = 0usize;
        while let Some(c) = self.peek() {
            self.pos += 1;
            match c {
                b'\\' => {
                    let Some(n) = self.peek() else { break };
                    self.pos += 1;
                    match n {
                        b'n' => out.push(b'\n'),
                        b'r' => out.push(b'\r'),
                        b't' => out.push(b'\t'),
                        b'b' => out.push(8),
                        b'f' => out.push(12),
                        b'\r' => {
                            if self.peek() == Some(b'\n') {
                                self.pos += 1;
                            }
                        }
                        b'\n' => {}
                        b'0'..=b'7' => {
                            let mut v = (n - b'0') as u32;
                            for _ in 0..2 {
                                match self.peek() {
                                    Some(d @ b'0'..=b'7') => {
                                        v = v * 8 + (d - b'0') as u32;
                                        self.pos += 1;
                                    }
                                    _ => break,
                                }
                            }
                            out.push((v & 0xff) as u8);
                        }
                        other => out.push(other),
                    }
                }
                b'(' => {
                    depth += 1;
                    out.push(c);
                }
                b')' => {
                    if depth == 0 {
                        break;
                    }
                    depth -= 1;
                    out.push(c);
                }
                _ => out.push(c),
            }
        }
        out
    }

    fn hex(&mut self) -> Vec<u8> {
        let mut out = Vec::new();
        let mut hi: Option<u8> = None;
        while let Some(c) = self.peek() {
            self.pos += 1;
            if c == b'>' {
                break;
            }
            if let Some(v) = hexval(c) {
                match hi.take() {
                    Some(h) => out.push(h << 4 | v),
                    None => hi = Some(v),
                }
            }
        }
        if let Some(h) = hi {
            out.push(h << 4);
        }
        out
    }

    fn word(&mut self) -> &'a [u8] {
        let start = self.pos;
        while self.peek().is_some_and(super::fonts::is_regular) {
            self.pos += 1;
        }
        self.data.get(start..self.pos).unwrap_or(&[])
    }

    /// Skips inline image data after `ID` up to the `EI` that ends it.
    fn skip_inline_image(&mut self) {
        self.pos += 1;
        while self.pos < self.data.len() {
            let w = self.data.get(self.pos..self.pos + 3);
            if let Some(&[a, b'E', b'I']) =
                w.map(|s| <[u8; 3]>::try_from(s).unwrap_or([0; 3])).as_ref().map(|a| a.as_slice())
            {
                let after = self.data.get(self.pos + 3).copied();
                if a.is_ascii_whitespace() && after.is_none_or(|c| c.is_ascii_whitespace()) {
                    self.pos += 3;
                    return;
                }
            }
            self.pos += 1;
        }
    }

    /// Next operator with its operands; `None` at end of data.
    pub(crate) fn next_op(&mut self) -> Option<(Vec<u8>, Vec<Operand>)> {
        let mut operands: Vec<Operand> = Vec::new();
        // Open containers: (is_dict, items).
        let mut stack: Vec<(bool, Vec<Operand>)> = Vec::new();
        let mut overflow = 0usize;
        loop {
            let c = self.peek()?;
            let item: Operand = match c {
                b'%' => {
                    while self.peek().is_some_and(|c| c != b'\n' && c != b'\r') {
                        self.pos += 1;
                    }
                    continue;
                }
                c if c.is_ascii_whitespace() || c == 0 => {
                    self.pos += 1;
                    continue;
                }
                b'(' => {
                    self.pos += 1;
                    Operand::Str(self.literal())
                }
                b'<' if self.data.get(self.pos + 1) == Some(&b'<') => {
                    self.pos += 2;
                    if stack.len() >= MAX_OPERAND_DEPTH {
                        overflow += 1;
                    } else {
                        stack.push((true, Vec::new()));
                    }
                    continue;
                }
                b'<' => {
                    self.pos += 1;
                    Operand::Str(self.hex())
                }
                b'[' => {
                    self.pos += 1;
                    if stack.len() >= MAX_OPERAND_DEPTH {
                        overflow += 1;
                    } else {
                        stack.push((false, Vec::new()));
                    }
                    continue;
                }
                b']' | b'>' => {
                    self.pos += if c == b'>' && self.data.get(self.pos + 1) == Some(&b'>') { 2 } else { 1 };
                    if overflow > 0 {
                        overflow -= 1;
                        continue;
                    }
                    match stack.pop() {
                        Some((true, items)) => {
                            let mut d = Vec::new();
                            let mut it = items.into_iter();
                            while let (Some(k), Some(v)) = (it.next(), it.next()) {
                                if let Operand::Name(k) = k {
                                    d.push((k, v));
                                }
                            }
                            Operand::Dict(d)
                        }
                        Some((false, items)) => Operand::Arr(items),
                        None => continue,
                    }
                }
                b'/' => {
                    self.pos += 1;
                    let w = self.word();
                    Operand::Name(decode_name(w))
                }
                b')' | b'{' | b'}' => {
                    self.pos += 1;
                    continue;
                }
                _ => {
                    let w = self.word();
                    if w.is_empty() {
                        self.pos += 1;
                        continue;
                    }
                    let first = w.first().copied().unwrap_or(0);
                    if first.is_ascii_digit() || first == b'-' || first == b'+' || first == b'.' {
                        let s = std::str::from_utf8(w).unwrap_or("0");
                        Operand::Num(parse_num(s))
                    } else if w == b"true" || w == b"false" || w == b"null" || !stack.is_empty() {
                        Operand::Other
                    } else {
                        if w == b"ID" {
                            self.skip_inline_image();
                        }
                        return Some((w.to_vec(), operands));
                    }
                }
            };
            if overflow > 0 {
                continue;
            }
            match stack.last_mut() {
                Some((_, items)) => {
                    if items.len() < MAX_OPERANDS {
                        items.push(item);
                    }
                }
                None => {
                    if operands.len() < MAX_OPERANDS {
                        operands.push(item);
                    }
                }
            }
        }
    }
}

fn parse_num(s: &str) -> f64 {
    if let Ok(v) = s.parse::<f64>() {
        return v;
    }
    // Writers emit things like `--5` or `1.2.3`; keep the leading valid part.
    let t: String = s.trim_start_matches(['+', '-']).chars().take_while(|c| c.is_ascii_digit() || *c == '.').collect();
    let neg = s.starts_with('-');
    let mut parts = t.splitn(3, '.');
    let a = parts.next().unwrap_or("");
    let b = parts.next().unwrap_or("");
    let v: f64 = format!("{}.{}", if a.is_empty() { "0" } else { a }, b).trim_end_matches('.').parse().unwrap_or(0.0);
    if neg {
        -v
    } else {
        v
    }
}

fn decode_name(w: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(w.len());
    let mut i = 0;
    while let Some(&c) = w.get(i) {
        if c == b'#' {
            if let (Some(h), Some(l)) = (w.get(i + 1).copied().and_then(hexval), w.get(i + 2).copied().and_then(hexval))
            {
                out.push(h << 4 | l);
                i += 3;
                continue;
            }
        }
        out.push(c);
        i += 1;
    }
    out
}

/// Colour reduced to what visibility needs: luminance, or unknown (patterns, unusual spaces).
fn luminance(comps: &[f64], space: &ColorSpace) -> Option<f64> {
    let c = |i: usize| comps.get(i).copied().unwrap_or(0.0).clamp(0.0, 1.0);
    match space {
        ColorSpace::Gray => Some(c(0)),
        ColorSpace::Rgb => Some(0.2126 * c(0) + 0.7152 * c(1) + 0.0722 * c(2)),
        ColorSpace::Cmyk => {
            let k = c(3);
            let r = (1.0 - c(0)) * (1.0 - k);
            let g = (1.0 - c(1)) * (1.0 - k);
            let b = (1.0 - c(2)) * (1.0 - k);
            Some(0.2126 * r + 0.7152 * g + 0.0722 * b)
        }
        // A separation tint of 0 paints nothing visible; 1 the full colorant (assume dark).
        ColorSpace::Separation => Some(1.0 - c(0)),
        // The component is a palette index; out-of-range indices are clamped, as viewers do.
        ColorSpace::Indexed(palette) => {
            let i = comps.first().copied().unwrap_or(0.0);
            let i = if i.is_finite() { i.round().clamp(0.0, (palette.len().max(1) - 1) as f64) as usize } else { 0 };
            palette.get(i).copied().flatten()
        }
        ColorSpace::Unknown => None,
    }
}

#[derive(Debug, Clone, PartialEq)]
enum ColorSpace {
    Gray,
    Rgb,
    Cmyk,
    Separation,
    /// The luminance of each palette entry (`None` where the base space is unknown), so a
    /// white-on-white index is caught like a white DeviceRGB fill.
    Indexed(Rc<[Option<f64>]>),
    Unknown,
}

#[derive(Debug, Clone)]
struct GState {
    ctm: Matrix,
    clip: Rect,
    fill_space: ColorSpace,
    stroke_space: ColorSpace,
    fill_lum: Option<f64>,
    stroke_lum: Option<f64>,
    fill_alpha: f64,
    stroke_alpha: f64,
    font: Option<Rc<Font>>,
    font_size: f64,
    tc: f64,
    tw: f64,
    th: f64,
    tl: f64,
    ts: f64,
    tr: i64,
    /// Set inside Form XObjects that are off via their own /OC.
    oc_hidden: bool,
    /// Reasons inherited from the context (a hidden annotation's appearance).
    extra: Visibility,
}

/// Marked-content frame: optional-content state and /ActualText replacement.
#[derive(Debug, Clone)]
struct Mc {
    hidden: bool,
    actual: Option<String>,
    actual_done: bool,
}

/// Everything the interpreter accumulates for one page.
pub(crate) struct Page<'a> {
    doc: &'a Document,
    budget: &'a Budget<'a>,
    ocg_off: &'a HashSet<ObjectId>,
    page_box: Rect,
    pub(crate) glyphs: Vec<Glyph>,
    images: Vec<Rect>,
    /// Opaque fills so far, for the background under later text: (area, luminance).
    fills: Vec<(Rect, Option<f64>)>,
    ops: u64,
    forms: Vec<ObjectId>,
    fonts: HashMap<Vec<u8>, Rc<Font>>,
    /// Named colour spaces resolved so far, by resource dictionary address and name: a palette
    /// is decoded once per page, not at every `cs`.
    color_spaces: HashMap<(usize, Vec<u8>), ColorSpace>,
    pub(crate) unmapped_fonts: Vec<String>,
    /// Form XObjects referenced each other in a cycle or past the depth cap (drawn once).
    pub(crate) recursive_forms: bool,
    font_cache: &'a mut HashMap<ObjectId, Rc<Font>>,
    /// Drawing an annotation appearance rather than page content.
    in_appearance: bool,
}

fn deref<'a>(doc: &'a Document, obj: &'a Object) -> &'a Object {
    match obj {
        Object::Reference(id) => doc.get_object(*id).unwrap_or(&Object::Null),
        o => o,
    }
}

fn dict_get<'a>(doc: &'a Document, d: &'a Dictionary, key: &[u8]) -> Option<&'a Object> {
    d.get(key).ok().map(|o| deref(doc, o))
}

/// Decodes a PDF text string (UTF-16BE with BOM, UTF-8 with BOM, else PDFDocEncoding).
pub(crate) fn text_string(bytes: &[u8]) -> String {
    if let Some(rest) = bytes.strip_prefix(&[0xFE, 0xFF]) {
        let units: Vec<u16> = rest
            .chunks(2)
            .map(|c| match c {
                [a, b] => u16::from_be_bytes([*a, *b]),
                _ => 0xFFFD,
            })
            .collect();
        return String::from_utf16_lossy(&units);
    }
    if let Some(rest) = bytes.strip_prefix(&[0xEF, 0xBB, 0xBF]) {
        return String::from_utf8_lossy(rest).into_owned();
    }
    bytes
        .iter()
        .filter_map(|&b| {
            let u = super::tables::PDF_DOC.get(b as usize).copied().unwrap_or(0);
            if u == 0 {
                if b.is_ascii_whitespace() {
                    Some(b as char)
                } else {
                    None
                }
            } else {
                char::from_u32(u as u32)
            }
        })
        .collect()
}

impl<'a> Page<'a> {
    pub(crate) fn new(
        doc: &'a Document,
        budget: &'a Budget<'a>,
        ocg_off: &'a HashSet<ObjectId>,
        page_box: Rect,
        font_cache: &'a mut HashMap<ObjectId, Rc<Font>>,
    ) -> Self {
        Page {
            doc,
            budget,
            ocg_off,
            page_box,
            glyphs: Vec::new(),
            images: Vec::new(),
            fills: Vec::new(),
            ops: 0,
            forms: Vec::new(),
            fonts: HashMap::new(),
            color_spaces: HashMap::new(),
            unmapped_fonts: Vec::new(),
            recursive_forms: false,
            font_cache,
            in_appearance: false,
        }
    }

    /// Whether an optional-content dictionary (OCG or OCMD) is off by default.
    pub(crate) fn oc_off(&self, obj: &Object) -> bool {
        oc_is_off(self.doc, self.ocg_off, obj)
    }

    /// Runs a page's content with its resources.
    pub(crate) fn run(&mut self, content: &[u8], resources: Option<&'a Dictionary>) -> Result<(), ExtractError> {
        let gs = GState {
            ctm: IDENTITY,
            clip: self.page_box,
            fill_space: ColorSpace::Gray,
            stroke_space: ColorSpace::Gray,
            fill_lum: Some(0.0),
            stroke_lum: Some(0.0),
            fill_alpha: 1.0,
            stroke_alpha: 1.0,
            font: None,
            font_size: 0.0,
            tc: 0.0,
            tw: 0.0,
            th: 1.0,
            tl: 0.0,
            ts: 0.0,
            tr: 0,
            oc_hidden: false,
            extra: Visibility::VISIBLE,
        };
        self.run_stream(content, resources, gs)
    }

    /// Draws an annotation's normal appearance stream into its /Rect (ISO 32000-1 §12.5.5),
    /// with `extra` added to every glyph's visibility.
    pub(crate) fn run_appearance(
        &mut self,
        stream: &'a lopdf::Stream,
        rect: Rect,
        extra: Visibility,
    ) -> Result<(), ExtractError> {
        let doc = self.doc;
        let d = &stream.dict;
        let mut matrix = IDENTITY;
        if let Some(Object::Array(m)) = dict_get(doc, d, b"Matrix") {
            let v: Vec<f64> = m.iter().filter_map(|o| num(deref(doc, o))).collect();
            if let [a, b, c, dd, e, f] = v.as_slice() {
                matrix = [*a, *b, *c, *dd, *e, *f];
            }
        }
        let bbox = match dict_get(doc, d, b"BBox") {
            Some(Object::Array(bb)) => {
                let v: Vec<f64> = bb.iter().filter_map(|o| num(deref(doc, o))).collect();
                match v.as_slice() {
                    [x0, y0, x1, y1] => Rect::new(*x0, *y0, *x1, *y1),
                    _ => return Ok(()),
                }
            }
            _ => return Ok(()),
        };
        let tb = bbox.transformed(&matrix);
        let (bw, bh) = (tb.x1 - tb.x0, tb.y1 - tb.y0);
        if bw <= 1e-6 || bh <= 1e-6 {
            return Ok(());
        }
        let sx = (rect.x1 - rect.x0) / bw;
        let sy = (rect.y1 - rect.y0) / bh;
        let a = [sx, 0.0, 0.0, sy, rect.x0 - tb.x0 * sx, rect.y0 - tb.y0 * sy];
        let Some(data) = decode_stream(doc, stream, self.budget)? else {
            return Ok(());
        };
        let res = dict_get(doc, d, b"Resources").and_then(|o| o.as_dict().ok());
        let gs = GState {
            ctm: mul(&matrix, &a),
            clip: self.page_box,
            fill_space: ColorSpace::Gray,
            stroke_space: ColorSpace::Gray,
            fill_lum: Some(0.0),
            stroke_lum: Some(0.0),
            fill_alpha: 1.0,
            stroke_alpha: 1.0,
            font: None,
            font_size: 0.0,
            tc: 0.0,
            tw: 0.0,
            th: 1.0,
            tl: 0.0,
            ts: 0.0,
            tr: 0,
            oc_hidden: false,
            extra,
        };
        let mut gs = gs;
        gs.clip = gs.clip.intersect(&bbox.transformed(&gs.ctm));
        self.in_appearance = true;
        let r = self.run_stream(&data, res, gs);
        self.in_appearance = false;
        r
    }

    fn font(&mut self, resources: Option<&'a Dictionary>, name: &[u8]) -> Option<Rc<Font>> {
        let doc = self.doc;
        let fonts = resources.and_then(|r| dict_get(doc, r, b"Font"))?;
        let fonts = fonts.as_dict().ok()?;
        let raw = fonts.get(name).ok()?;
        let key = match raw {
            Object::Reference(id) => Some(*id),
            _ => None,
        };
        if let Some(id) = key {
            if let Some(f) = self.font_cache.get(&id) {
                return Some(Rc::clone(f));
            }
        } else if let Some(f) = self.fonts.get(name) {
            return Some(Rc::clone(f));
        }
        let dict = deref(doc, raw).as_dict().ok()?;
        let font = Rc::new(Font::load(doc, dict, self.budget));
        if !font.has_unicode() && !self.unmapped_fonts.contains(&font.name) {
            self.unmapped_fonts.push(font.name.clone());
        }
        match key {
            Some(id) => {
                self.font_cache.insert(id, Rc::clone(&font));
            }
            None => {
                self.fonts.insert(name.to_vec(), Rc::clone(&font));
            }
        }
        Some(font)
    }

    fn color_space(&mut self, resources: Option<&'a Dictionary>, name: &[u8]) -> ColorSpace {
        match name {
            b"DeviceGray" | b"G" | b"CalGray" => return ColorSpace::Gray,
            b"DeviceRGB" | b"RGB" | b"CalRGB" => return ColorSpace::Rgb,
            b"DeviceCMYK" | b"CMYK" => return ColorSpace::Cmyk,
            b"Pattern" => return ColorSpace::Unknown,
            _ => {}
        }
        let key = (resources.map_or(0, |r| r as *const Dictionary as usize), name.to_vec());
        if let Some(cs) = self.color_spaces.get(&key) {
            return cs.clone();
        }
        let doc = self.doc;
        let cs = resources
            .and_then(|r| dict_get(doc, r, b"ColorSpace"))
            .and_then(|o| o.as_dict().ok())
            .and_then(|d| dict_get(doc, d, name));
        let cs = resolve_cs(doc, cs, self.budget, 0);
        self.color_spaces.insert(key, cs.clone());
        cs
    }

    fn check_ops(&mut self) -> Result<(), ExtractError> {
        self.ops += 1;
        if self.ops > self.budget.limits.max_operators_per_page {
            return Err(ExtractError::limit(
                Limit::Operators,
                format!("more than {} operators on one page", self.budget.limits.max_operators_per_page),
            ));
        }
        if self.ops % 4096 == 0 {
            self.budget.check_time()?;
        }
        Ok(())
    }

    fn run_stream(
        &mut self,
        content: &[u8],
        resources: Option<&'a Dictionary>,
        base: GState,
    ) -> Result<(), ExtractError> {
        let doc = self.doc;
        let mut lx = Lexer::new(content);
        let mut gs = base;
        let mut stack: Vec<GState> = Vec::new();
        let mut mc: Vec<Mc> = Vec::new();
        let mut tm = IDENTITY;
        let mut tlm = IDENTITY;
        let mut path = Rect::empty();
        let mut path_is_rect = true;
        let mut path_parts = 0usize;
        let mut pending_clip = false;
        let mut cur = (0.0f64, 0.0f64);
        while let Some((op, args)) = lx.next_op() {
            self.check_ops()?;
            let n = |i: usize| -> f64 {
                args.len().checked_sub(1 + i).and_then(|k| args.get(k)).and_then(Operand::num).unwrap_or(0.0)
            };
            // `n(0)` is the last operand, `n(1)` the one before, and so on.
            match op.as_slice() {
                b"q" if stack.len() < MAX_GSTATE_DEPTH => stack.push(gs.clone()),
                b"Q" => {
                    if let Some(g) = stack.pop() {
                        gs = g;
                    }
                }
                b"cm" => {
                    let m = [n(5), n(4), n(3), n(2), n(1), n(0)];
                    gs.ctm = mul(&m, &gs.ctm);
                }
                b"gs" => {
                    if let Some(Operand::Name(name)) = args.last() {
                        let egs = resources
                            .and_then(|r| dict_get(doc, r, b"ExtGState"))
                            .and_then(|o| o.as_dict().ok())
                            .and_then(|d| dict_get(doc, d, name))
                            .and_then(|o| o.as_dict().ok());
                        if let Some(e) = egs {
                            if let Some(a) = dict_get(doc, e, b"ca").and_then(num) {
                                gs.fill_alpha = a;
                            }
                            if let Some(a) = dict_get(doc, e, b"CA").and_then(num) {
                                gs.stroke_alpha = a;
                            }
                            if let Some(Object::Array(f)) = dict_get(doc, e, b"Font") {
                                if let (Some(fref), Some(size)) = (f.first(), f.get(1)) {
                                    if let Ok(fd) = deref(doc, fref).as_dict() {
                                        gs.font = Some(Rc::new(Font::load(doc, fd, self.budget)));
                                        gs.font_size = num(deref(doc, size)).unwrap_or(0.0);
                                    }
                                }
                            }
                        }
                    }
                }
                // Path construction: only the device-space bounding box matters to us.
                b"m" | b"l" => {
                    let p = apply(&gs.ctm, n(1), n(0));
                    path.add(p.0, p.1);
                    cur = (n(1), n(0));
                    path_parts += 1;
                    path_is_rect = false;
                }
                b"c" => {
                    for (x, y) in [(n(5), n(4)), (n(3), n(2)), (n(1), n(0))] {
                        let p = apply(&gs.ctm, x, y);
                        path.add(p.0, p.1);
                    }
                    cur = (n(1), n(0));
                    path_is_rect = false;
                }
                b"v" | b"y" => {
                    for (x, y) in [(n(3), n(2)), (n(1), n(0))] {
                        let p = apply(&gs.ctm, x, y);
                        path.add(p.0, p.1);
                    }
                    cur = (n(1), n(0));
                    path_is_rect = false;
                }
                b"h" => {
                    let _ = cur;
                }
                b"re" => {
                    let (x, y, w, h) = (n(3), n(2), n(1), n(0));
                    let r = Rect::new(x, y, x + w, y + h).transformed(&gs.ctm);
                    if !r.is_empty() {
                        path.add(r.x0, r.y0);
                        path.add(r.x1, r.y1);
                    }
                    path_parts += 1;
                    // A rotated rectangle is not its bounding box.
                    if gs.ctm[1].abs() > 1e-6 || gs.ctm[2].abs() > 1e-6 {
                        path_is_rect = false;
                    }
                }
                b"W" | b"W*" => pending_clip = true,
                b"n" | b"S" | b"s" | b"f" | b"F" | b"f*" | b"B" | b"B*" | b"b" | b"b*" => {
                    let fills = !matches!(op.as_slice(), b"n" | b"S" | b"s");
                    if fills && path_is_rect && path_parts == 1 && !path.is_empty() {
                        let area = path.intersect(&gs.clip);
                        if gs.fill_alpha >= 0.99 && !gs.oc_hidden && !mc.iter().any(|m| m.hidden) {
                            self.paint_opaque(&area, gs.fill_lum)?;
                        }
                    }
                    if pending_clip {
                        if path.is_empty() {
                            gs.clip = Rect::new(0.0, 0.0, 0.0, 0.0);
                        } else {
                            gs.clip = gs.clip.intersect(&path);
                        }
                    }
                    pending_clip = false;
                    path = Rect::empty();
                    path_is_rect = true;
                    path_parts = 0;
                }
                // Colour.
                b"g" => {
                    gs.fill_space = ColorSpace::Gray;
                    gs.fill_lum = luminance(&[n(0)], &ColorSpace::Gray);
                }
                b"G" => {
                    gs.stroke_space = ColorSpace::Gray;
                    gs.stroke_lum = luminance(&[n(0)], &ColorSpace::Gray);
                }
                b"rg" => {
                    gs.fill_space = ColorSpace::Rgb;
                    gs.fill_lum = luminance(&[n(2), n(1), n(0)], &ColorSpace::Rgb);
                }
                b"RG" => {
                    gs.stroke_space = ColorSpace::Rgb;
                    gs.stroke_lum = luminance(&[n(2), n(1), n(0)], &ColorSpace::Rgb);
                }
                b"k" => {
                    gs.fill_space = ColorSpace::Cmyk;
                    gs.fill_lum = luminance(&[n(3), n(2), n(1), n(0)], &ColorSpace::Cmyk);
                }
                b"K" => {
                    gs.stroke_space = ColorSpace::Cmyk;
                    gs.stroke_lum = luminance(&[n(3), n(2), n(1), n(0)], &ColorSpace::Cmyk);
                }
                b"cs" | b"CS" => {
                    let space = match args.last() {
                        Some(Operand::Name(nm)) => self.color_space(resources, nm),
                        _ => ColorSpace::Unknown,
                    };
                    let initial = match space {
                        ColorSpace::Cmyk => luminance(&[0.0, 0.0, 0.0, 1.0], &space),
                        ColorSpace::Separation => luminance(&[1.0], &space),
                        ColorSpace::Indexed(_) => luminance(&[0.0], &space),
                        ColorSpace::Unknown => None,
                        _ => Some(0.0),
                    };
                    if op == b"cs" {
                        gs.fill_space = space;
                        gs.fill_lum = initial;
                    } else {
                        gs.stroke_space = space;
                        gs.stroke_lum = initial;
                    }
                }
                b"sc" | b"scn" | b"SC" | b"SCN" => {
                    let comps: Vec<f64> = args.iter().filter_map(Operand::num).collect();
                    let has_pattern = args.iter().any(|a| matches!(a, Operand::Name(_)));
                    let fill = op.first() == Some(&b's');
                    let space = if fill { &gs.fill_space } else { &gs.stroke_space };
                    let lum = if has_pattern { None } else { luminance(&comps, space) };
                    if fill {
                        gs.fill_lum = lum;
                    } else {
                        gs.stroke_lum = lum;
                    }
                }
                // Text state.
                b"BT" => {
                    tm = IDENTITY;
                    tlm = IDENTITY;
                }
                b"ET" => {}
                b"Tc" => gs.tc = n(0),
                b"Tw" => gs.tw = n(0),
                b"Tz" => gs.th = n(0) / 100.0,
                b"TL" => gs.tl = n(0),
                b"Ts" => gs.ts = n(0),
                b"Tr" => gs.tr = n(0) as i64,
                b"Tf" => {
                    gs.font_size = n(0);
                    if let Some(Operand::Name(name)) = args.len().checked_sub(2).and_then(|i| args.get(i)) {
                        gs.font = self.font(resources, name);
                    }
                }
                b"Td" => {
                    tlm = mul(&[1.0, 0.0, 0.0, 1.0, n(1), n(0)], &tlm);
                    tm = tlm;
                }
                b"TD" => {
                    gs.tl = -n(0);
                    tlm = mul(&[1.0, 0.0, 0.0, 1.0, n(1), n(0)], &tlm);
                    tm = tlm;
                }
                b"Tm" => {
                    tlm = [n(5), n(4), n(3), n(2), n(1), n(0)];
                    tm = tlm;
                }
                b"T*" => {
                    tlm = mul(&[1.0, 0.0, 0.0, 1.0, 0.0, -gs.tl], &tlm);
                    tm = tlm;
                }
                b"Tj" | b"'" | b"\"" | b"TJ" => {
                    if op == b"'" || op == b"\"" {
                        if op == b"\"" {
                            gs.tw = n(2);
                            gs.tc = n(1);
                        }
                        tlm = mul(&[1.0, 0.0, 0.0, 1.0, 0.0, -gs.tl], &tlm);
                        tm = tlm;
                    }
                    match args.last() {
                        Some(Operand::Str(s)) => self.show(s, &gs, &mut tm, &mut mc)?,
                        Some(Operand::Arr(items)) => {
                            for it in items {
                                match it {
                                    Operand::Str(s) => self.show(s, &gs, &mut tm, &mut mc)?,
                                    Operand::Num(adj) if adj.is_finite() => {
                                        let tx = -adj / 1000.0 * gs.font_size * gs.th;
                                        let vertical = gs.font.as_ref().is_some_and(|f| f.vertical);
                                        let t = if vertical {
                                            [1.0, 0.0, 0.0, 1.0, 0.0, -adj / 1000.0 * gs.font_size]
                                        } else {
                                            [1.0, 0.0, 0.0, 1.0, tx, 0.0]
                                        };
                                        tm = mul(&t, &tm);
                                    }
                                    _ => {}
                                }
                            }
                        }
                        _ => {}
                    }
                }
                // Marked content.
                b"BMC" => mc.push(Mc { hidden: false, actual: None, actual_done: false }),
                b"BDC" => {
                    let tag = args.first();
                    let props = args.get(1);
                    // Keep the reference: default OCG state is keyed by object id.
                    let raw: Option<&Object> = match props {
                        Some(Operand::Name(nm)) => resources
                            .and_then(|r| dict_get(doc, r, b"Properties"))
                            .and_then(|o| o.as_dict().ok())
                            .and_then(|d| d.get(nm).ok()),
                        _ => None,
                    };
                    let resolved = raw.map(|o| deref(doc, o));
                    let mut hidden = false;
                    if tag == Some(&Operand::Name(b"OC".to_vec())) {
                        if let Some(o) = raw {
                            hidden = self.oc_off(o);
                        }
                    }
                    let actual = match props.and_then(|p| p.dict_get(b"ActualText")) {
                        Some(Operand::Str(s)) => Some(text_string(s)),
                        _ => resolved
                            .and_then(|o| o.as_dict().ok())
                            .and_then(|d| dict_get(doc, d, b"ActualText"))
                            .and_then(|o| o.as_str().ok())
                            .map(text_string),
                    };
                    mc.push(Mc { hidden, actual, actual_done: false });
                }
                b"EMC" => {
                    mc.pop();
                }
                // XObjects and images.
                b"Do" => {
                    if let Some(Operand::Name(name)) = args.last() {
                        self.do_xobject(name, resources, &gs, &mc)?;
                    }
                }
                b"ID" => {
                    let unit = Rect::new(0.0, 0.0, 1.0, 1.0).transformed(&gs.ctm);
                    self.paint_image(&unit.intersect(&gs.clip), true)?;
                }
                _ => {}
            }
        }
        Ok(())
    }

    fn do_xobject(
        &mut self,
        name: &[u8],
        resources: Option<&'a Dictionary>,
        gs: &GState,
        mc: &[Mc],
    ) -> Result<(), ExtractError> {
        let doc = self.doc;
        let Some(xobjs) = resources.and_then(|r| dict_get(doc, r, b"XObject")).and_then(|o| o.as_dict().ok()) else {
            return Ok(());
        };
        let Ok(raw) = xobjs.get(name) else {
            return Ok(());
        };
        let id = match raw {
            Object::Reference(id) => Some(*id),
            _ => None,
        };
        let Ok(stream) = deref(doc, raw).as_stream() else {
            return Ok(());
        };
        let sub = dict_get(doc, &stream.dict, b"Subtype").and_then(|o| o.as_name().ok());
        match sub {
            Some(b"Image") => {
                let d = &stream.dict;
                let opaque = !d.has(b"SMask")
                    && !d.has(b"Mask")
                    && !dict_get(doc, d, b"ImageMask").is_some_and(|o| matches!(o, Object::Boolean(true)));
                let unit = Rect::new(0.0, 0.0, 1.0, 1.0).transformed(&gs.ctm);
                if !gs.oc_hidden && !mc.iter().any(|m| m.hidden) {
                    self.paint_image(&unit.intersect(&gs.clip), opaque)?;
                }
            }
            Some(b"Form") => {
                if self.forms.len() >= MAX_FORM_DEPTH {
                    self.recursive_forms = true;
                    return Ok(());
                }
                if let Some(id) = id {
                    if self.forms.contains(&id) {
                        // A cycle: the form is already being drawn; draw it once and report it.
                        self.recursive_forms = true;
                        return Ok(());
                    }
                }
                let Some(data) = decode_stream(doc, stream, self.budget)? else {
                    return Ok(());
                };
                let d = &stream.dict;
                let mut inner = gs.clone();
                if let Some(Object::Array(m)) = dict_get(doc, d, b"Matrix") {
                    let v: Vec<f64> = m.iter().filter_map(|o| num(deref(doc, o))).collect();
                    if let [a, b, c, dd, e, f] = v.as_slice() {
                        inner.ctm = mul(&[*a, *b, *c, *dd, *e, *f], &inner.ctm);
                    }
                }
                if let Some(Object::Array(bb)) = dict_get(doc, d, b"BBox") {
                    let v: Vec<f64> = bb.iter().filter_map(|o| num(deref(doc, o))).collect();
                    if let [x0, y0, x1, y1] = v.as_slice() {
                        let r = Rect::new(*x0, *y0, *x1, *y1).transformed(&inner.ctm);
                        inner.clip = inner.clip.intersect(&r);
                    }
                }
                if let Ok(oc) = d.get(b"OC") {
                    if self.oc_off(oc) {
                        inner.oc_hidden = true;
                    }
                }
                if mc.iter().any(|m| m.hidden) {
                    inner.oc_hidden = true;
                }
                let res = dict_get(doc, d, b"Resources").and_then(|o| o.as_dict().ok()).or(resources);
                self.forms.push(id.unwrap_or((0, 0)));
                let r = self.run_stream(&data, res, inner);
                self.forms.pop();
                r?;
            }
            _ => {}
        }
        Ok(())
    }

    /// An opaque rectangle painted now: glyphs fully under it are covered; remembered as the
    /// background for text drawn later.
    fn paint_opaque(&mut self, area: &Rect, lum: Option<f64>) -> Result<(), ExtractError> {
        if area.is_empty() {
            return Ok(());
        }
        // Each paint scans the page's glyphs: keep the deadline in sight on dense pages.
        if self.glyphs.len() > 10_000 {
            self.budget.check_time()?;
        }
        // Annotation appearances (form-field backgrounds) routinely overlap labels that viewers
        // still show, so only page content counts as covering.
        if !self.in_appearance {
            for g in self.glyphs.iter_mut() {
                if area.contains_rect(&g.bbox, 0.5) {
                    g.vis = g.vis.with(Hidden::Covered);
                }
            }
        }
        if self.fills.len() < 100_000 {
            self.fills.push((*area, lum));
        }
        Ok(())
    }

    fn paint_image(&mut self, area: &Rect, opaque: bool) -> Result<(), ExtractError> {
        if area.is_empty() {
            return Ok(());
        }
        if self.glyphs.len() > 10_000 {
            self.budget.check_time()?;
        }
        for g in self.glyphs.iter_mut() {
            if !area.contains_rect(&g.bbox, 0.5) {
                continue;
            }
            if g.ocr_candidate {
                // Invisible text under a scanned image is the OCR layer of that scan.
                g.vis = Visibility::VISIBLE;
                g.ocr_candidate = false;
            } else if opaque && !self.in_appearance {
                g.vis = g.vis.with(Hidden::Covered);
            }
        }
        if self.images.len() < 100_000 {
            self.images.push(*area);
        }
        if self.fills.len() < 100_000 {
            // Background under later text is unknown over an image.
            self.fills.push((*area, None));
        }
        Ok(())
    }

    fn show(&mut self, s: &[u8], gs: &GState, tm: &mut Matrix, mc: &mut [Mc]) -> Result<(), ExtractError> {
        let Some(font) = gs.font.clone() else {
            return Ok(());
        };
        let fs = gs.font_size;
        let hidden_mc = gs.oc_hidden || mc.iter().any(|m| m.hidden);
        let actual_idx = mc.iter().rposition(|m| m.actual.is_some());
        for code in font.decode(s) {
            if self.glyphs.len() >= MAX_GLYPHS_PER_PAGE {
                return Err(ExtractError::limit(
                    Limit::TextBytes,
                    format!("more than {MAX_GLYPHS_PER_PAGE} glyphs on one pdf page"),
                ));
            }
            let m = mul(tm, &gs.ctm);
            let (w0, w1) = (code.width * fs, 0.0);
            let _ = w1;
            let spacing = gs.tc + if code.is_space_byte { gs.tw } else { 0.0 };
            let (tx, ty) = if font.vertical { (0.0, -(fs + spacing)) } else { ((w0 + spacing) * gs.th, 0.0) };
            let trm_rise = gs.ts;
            let (ox, oy) = apply(&m, 0.0, trm_rise);
            let size_vec = (m[2] * fs, m[3] * fs);
            let size = (size_vec.0.hypot(size_vec.1) * font.size_scale).abs();
            let dir_len = m[0].hypot(m[1]);
            let (ux, uy) = if dir_len > 1e-9 { (m[0] / dir_len, m[1] / dir_len) } else { (1.0, 0.0) };
            // Layout measures the glyph's own width: Tc/Tw spacing shows up as a gap, which is
            // how letter-spaced and word-spaced text separates words.
            let (gx, gy) = if font.vertical { (0.0, -fs) } else { (w0 * gs.th, 0.0) };
            let adv_vec = (gx * m[0] + gy * m[2], gx * m[1] + gy * m[3]);
            let adv = adv_vec.0.hypot(adv_vec.1);
            let gw = if font.vertical { fs } else { w0 * gs.th };
            let h = fs * font.size_scale.min(1.0);
            let bbox = Rect::new(0.0, trm_rise - 0.2 * h, gw.max(0.0), trm_rise + 0.7 * h).transformed(&m);
            // Visibility.
            let mut vis = Visibility::VISIBLE;
            let mut ocr_candidate = false;
            let (cx, cy) = ((bbox.x0 + bbox.x1) / 2.0, (bbox.y0 + bbox.y1) / 2.0);
            let over_image = self.images.iter().rev().take(RECENT_PAINTS).any(|r| r.contains_point(cx, cy, 0.5));
            if gs.tr == 3 || gs.tr == 7 {
                if over_image {
                    // OCR text layer over a scanned page: the image shows what it says.
                } else {
                    vis = vis.with(Hidden::InvisibleRenderMode);
                    ocr_candidate = true;
                }
            } else {
                let stroke_only = gs.tr == 1 || gs.tr == 5;
                let (lum, alpha) =
                    if stroke_only { (gs.stroke_lum, gs.stroke_alpha) } else { (gs.fill_lum, gs.fill_alpha) };
                if alpha <= 0.01 {
                    vis = vis.with(Hidden::Transparent);
                }
                let bg = self
                    .fills
                    .iter()
                    .rev()
                    .take(RECENT_PAINTS)
                    .find(|(r, _)| r.contains_point(cx, cy, 0.0))
                    .map(|(_, l)| *l)
                    .unwrap_or(Some(1.0));
                if let (Some(t), Some(b)) = (lum, bg) {
                    if (t - b).abs() < LOW_CONTRAST {
                        vis = vis.with(Hidden::LowContrast);
                    }
                }
            }
            if size < TINY_FONT_PT {
                vis = vis.with(Hidden::TinyFont);
            }
            if !font.vertical && gs.th.abs() < 0.1 {
                vis = vis.with(Hidden::Squeezed);
            }
            if !self.page_box.contains_point(cx, cy, 1.0) {
                vis = vis.with(Hidden::OffPage);
            } else if !gs.clip.contains_point(cx, cy, 1.0) {
                vis = vis.with(Hidden::Clipped);
            }
            if hidden_mc {
                vis = vis.with(Hidden::OptionalContentOff);
            }
            vis = vis.union(gs.extra);
            if vis != Visibility::hidden(Hidden::InvisibleRenderMode) {
                ocr_candidate = false;
            }
            let text = match actual_idx.and_then(|i| mc.get_mut(i)) {
                Some(frame) => {
                    if frame.actual_done {
                        String::new()
                    } else {
                        frame.actual_done = true;
                        frame.actual.clone().unwrap_or_default()
                    }
                }
                None => code.text,
            };
            let unmapped = code.unmapped && actual_idx.is_none();
            self.glyphs.push(Glyph {
                text,
                x: ox,
                y: oy,
                ux,
                uy,
                adv,
                size: size.max(0.01),
                bbox,
                vis,
                unmapped,
                ocr_candidate,
            });
            *tm = mul(&[1.0, 0.0, 0.0, 1.0, tx, ty], tm);
        }
        Ok(())
    }
}

fn resolve_cs(doc: &Document, cs: Option<&Object>, budget: &Budget, depth: u8) -> ColorSpace {
    if depth > 4 {
        return ColorSpace::Unknown;
    }
    match cs {
        Some(Object::Name(n)) => match n.as_slice() {
            b"DeviceGray" | b"CalGray" => ColorSpace::Gray,
            b"DeviceRGB" | b"CalRGB" => ColorSpace::Rgb,
            b"DeviceCMYK" => ColorSpace::Cmyk,
            _ => ColorSpace::Unknown,
        },
        Some(Object::Array(a)) => {
            let kind = a.first().map(|o| deref(doc, o)).and_then(|o| o.as_name().ok());
            match kind {
                Some(b"ICCBased") => {
                    let n = a
                        .get(1)
                        .map(|o| deref(doc, o))
                        .and_then(|o| o.as_stream().ok())
                        .and_then(|s| dict_get(doc, &s.dict, b"N"))
                        .and_then(|o| o.as_i64().ok());
                    match n {
                        Some(1) => ColorSpace::Gray,
                        Some(3) => ColorSpace::Rgb,
                        Some(4) => ColorSpace::Cmyk,
                        _ => ColorSpace::Unknown,
                    }
                }
                Some(b"CalGray") => ColorSpace::Gray,
                Some(b"CalRGB") | Some(b"Lab") => ColorSpace::Rgb,
                Some(b"Separation") | Some(b"DeviceN") => ColorSpace::Separation,
                Some(b"Indexed") | Some(b"I") => indexed_palette(doc, a, budget, depth),
                _ => ColorSpace::Unknown,
            }
        }
        _ => ColorSpace::Unknown,
    }
}

/// Components per colour of a palette's base space (Lab approximated like RGB, DeviceN by its
/// colorant count).
fn base_components(doc: &Document, base: Option<&Object>, space: &ColorSpace) -> Option<usize> {
    match space {
        ColorSpace::Gray => Some(1),
        ColorSpace::Rgb => Some(3),
        ColorSpace::Cmyk => Some(4),
        ColorSpace::Separation => match base {
            Some(Object::Array(a))
                if a.first().map(|o| deref(doc, o)).and_then(|o| o.as_name().ok()) == Some(b"DeviceN") =>
            {
                a.get(1).map(|o| deref(doc, o)).and_then(|o| o.as_array().ok()).map(|n| n.len().max(1))
            }
            _ => Some(1),
        },
        ColorSpace::Indexed(_) | ColorSpace::Unknown => None,
    }
}

/// `[/Indexed base hival lookup]`: the luminance of each of the `hival + 1` entries, read from
/// the lookup string or stream (one byte per component, 0–255). A short table leaves the
/// missing entries unknown rather than guessed.
fn indexed_palette(doc: &Document, a: &[Object], budget: &Budget, depth: u8) -> ColorSpace {
    let base_obj = a.get(1).map(|o| deref(doc, o));
    let base = resolve_cs(doc, base_obj, budget, depth + 1);
    let Some(n) = base_components(doc, base_obj, &base) else {
        return ColorSpace::Unknown;
    };
    let hival = a.get(2).map(|o| deref(doc, o)).and_then(|o| o.as_i64().ok()).unwrap_or(-1);
    if !(0..=255).contains(&hival) {
        return ColorSpace::Unknown;
    }
    let lookup: Option<Vec<u8>> = match a.get(3).map(|o| deref(doc, o)) {
        Some(Object::String(b, _)) => Some(b.clone()),
        Some(Object::Stream(st)) => decode_stream(doc, st, budget).ok().flatten(),
        _ => None,
    };
    let Some(lookup) = lookup else {
        return ColorSpace::Unknown;
    };
    let entries = hival as usize + 1;
    let palette: Vec<Option<f64>> = (0..entries)
        .map(|i| {
            let comps: Vec<f64> = lookup.get(i * n..(i + 1) * n)?.iter().map(|b| *b as f64 / 255.0).collect();
            luminance(&comps, &base)
        })
        .collect();
    ColorSpace::Indexed(palette.into())
}

/// Whether an OCG / OCMD (or a reference to one) is off in the default configuration.
pub(crate) fn oc_is_off(doc: &Document, off: &HashSet<ObjectId>, obj: &Object) -> bool {
    if let Object::Reference(id) = obj {
        if off.contains(id) {
            return true;
        }
    }
    let Ok(d) = deref(doc, obj).as_dict() else {
        return false;
    };
    if d.has_type(b"OCMD") {
        let ids: Vec<ObjectId> = match d.get(b"OCGs") {
            Ok(Object::Reference(id)) => vec![*id],
            Ok(Object::Array(a)) => a.iter().filter_map(|o| o.as_reference().ok()).collect(),
            _ => return false,
        };
        if ids.is_empty() {
            return false;
        }
        let policy = dict_get(doc, d, b"P").and_then(|o| o.as_name().ok()).unwrap_or(b"AnyOn");
        let is_off = |id: &ObjectId| off.contains(id);
        return match policy {
            b"AllOn" => ids.iter().any(is_off),
            b"AnyOff" => !ids.iter().any(is_off),
            b"AllOff" => !ids.iter().all(is_off),
            _ => ids.iter().all(is_off),
        };
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lexer_reads_operands_and_skips_inline_images() {
        let src = b"BT /F1 12 Tf [(Hel) -250 <6C6F>] TJ ET BI /W 1 /H 1 ID \x00\xff EI Q /P <</MCID 3>> BDC";
        let mut lx = Lexer::new(src);
        let mut ops = Vec::new();
        while let Some((op, args)) = lx.next_op() {
            ops.push((String::from_utf8_lossy(&op).into_owned(), args));
        }
        let names: Vec<&str> = ops.iter().map(|(o, _)| o.as_str()).collect();
        assert_eq!(names, ["BT", "Tf", "TJ", "ET", "BI", "ID", "Q", "BDC"]);
        assert_eq!(
            ops[2].1,
            vec![Operand::Arr(vec![Operand::Str(b"Hel".to_vec()), Operand::Num(-250.0), Operand::Str(b"lo".to_vec())])]
        );
        assert_eq!(ops[7].1[1].dict_get(b"MCID"), Some(&Operand::Num(3.0)));
    }

    #[test]
    fn lexer_survives_deep_nesting() {
        let mut src = vec![b'['; 100_000];
        src.extend_from_slice(b" Tj");
        let mut lx = Lexer::new(&src);
        let mut n = 0;
        while lx.next_op().is_some() {
            n += 1;
        }
        assert!(n <= 1);
    }

    #[test]
    fn literal_escapes() {
        let mut lx = Lexer::new(b"(a\\(b\\)\\101\\\nc(d)) Tj");
        let (_, args) = lx.next_op().unwrap();
        assert_eq!(args, vec![Operand::Str(b"a(b)Ac(d)".to_vec())]);
    }

    #[test]
    fn matrices_compose() {
        let m = mul(&[2.0, 0.0, 0.0, 2.0, 0.0, 0.0], &[1.0, 0.0, 0.0, 1.0, 10.0, 20.0]);
        assert_eq!(apply(&m, 1.0, 1.0), (12.0, 22.0));
    }

    #[test]
    fn text_strings() {
        assert_eq!(text_string(b"\xfe\xff\x00H\x00i"), "Hi");
        assert_eq!(text_string(b"plain"), "plain");
    }
}
