//! DOCX (WordprocessingML) extraction with a record of what a reader would not see.
//!
//! The package is opened with [`zipsafe`] (hostile-archive checks, capped inflation) and every
//! XML part is read with [`xmlsafe`] (no DTDs, depth cap). Parts are found through
//! `[Content_Types].xml` and the relationship parts, never by hard-coded names, and elements are
//! matched on namespace + local name so transitional and Strict OOXML read the same.
//!
//! Body text: paragraphs, tables, text boxes, field results, insertions, footnotes, endnotes and
//! altChunk content (HTML chunks through [`crate::extract::html`], so their CSS hiding counts).
//! Headers and footers, text boxes inside them included, are page furniture
//! ([`crate::model::Span::furniture`]): a reader sees them, so they are scanned and a finding in
//! them is a visible one (never the hidden-channel escalation), but they repeat on every page and
//! would be noise in a knowledge base, so they are left out of the body text that `extract`
//! prints and that is chunked and indexed. Text boxes in the body are ordinary body content.
//! Hidden spans: vanished runs, low-contrast and
//! tiny runs (resolved through docDefaults, the paragraph style chain, the character style chain
//! and direct formatting), tracked deletions, field instructions, comments, alt text, document
//! properties, custom XML, `mc:Fallback` duplicates and embedded documents. Macros and external
//! relationships become signals; extraction still succeeds and policy decides.

use crate::detect::normalize::is_invisible;
use crate::error::ExtractError;
use crate::extract::xmlsafe::{decode_part, Elem, Ev, Ns, SafeReader};
use crate::extract::zipsafe::Archive;
use crate::limits::Budget;
use crate::model::{Extracted, Hidden, Origin, SignalKind, Visibility};
use std::collections::{HashMap, HashSet};

const FORMAT: &str = "docx";
/// Longest style `basedOn` chain followed; real documents use a handful of levels.
const MAX_STYLE_CHAIN: usize = 32;
/// Below this WCAG contrast ratio text is considered unreadable against its background.
const MIN_CONTRAST: f64 = 1.25;
/// `w:sz` is in half-points; text under 2 pt is unreadable.
const MIN_HALF_POINTS: u32 = 4;
/// Text squeezed below this horizontal scale (`w:w`, percent) is unreadable.
const MIN_SCALE_PERCENT: u32 = 10;
/// Shading fills remembered per table style or table.
const MAX_TABLE_FILLS: usize = 64;
/// Field instructions longer than this are not inspected further (they are still extracted).
const MAX_FIELD_INSTR: usize = 4096;

pub fn extract(bytes: &[u8], budget: &Budget) -> Result<Extracted, ExtractError> {
    let zip = Archive::parse(bytes, budget)?;
    Package::open(zip, budget)?.extract()
}

// ---------------------------------------------------------------------------------------------
// Package structure: content types and relationships.

#[derive(Debug, Default)]
struct ContentTypes {
    defaults: HashMap<String, String>,
    overrides: HashMap<String, String>,
}

impl ContentTypes {
    fn parse(bytes: &[u8], budget: &Budget) -> Result<Self, ExtractError> {
        let mut ct = ContentTypes::default();
        let d = decode_part(bytes);
        let mut r = SafeReader::new(&d, budget);
        loop {
            match r.next_event()? {
                Ev::Eof => break,
                Ev::Start(e) if e.local == "Default" => {
                    if let (Some(x), Some(t)) = (e.attr("Extension"), e.attr("ContentType")) {
                        ct.defaults.insert(x.to_ascii_lowercase(), t.to_string());
                    }
                }
                Ev::Start(e) if e.local == "Override" => {
                    if let (Some(p), Some(t)) = (e.attr("PartName"), e.attr("ContentType")) {
                        ct.overrides.insert(p.trim_start_matches('/').to_lowercase(), t.to_string());
                    }
                }
                _ => {}
            }
        }
        Ok(ct)
    }

    fn of(&self, part: &str) -> Option<&str> {
        let key = part.trim_start_matches('/').to_lowercase();
        if let Some(t) = self.overrides.get(&key) {
            return Some(t);
        }
        let ext = key.rsplit_once('.').map(|(_, e)| e)?;
        self.defaults.get(ext).map(String::as_str)
    }
}

#[derive(Debug, Clone)]
struct Rel {
    id: String,
    /// Last path segment of the relationship type URI (`header`, `officeDocument`, …).
    kind: String,
    /// Resolved part name for internal targets; the raw target for external ones.
    target: String,
    external: bool,
}

/// `word/document.xml` → `word/_rels/document.xml.rels`; `` (package) → `_rels/.rels`.
fn rels_name(part: &str) -> String {
    match part.rsplit_once('/') {
        Some((dir, file)) => format!("{dir}/_rels/{file}.rels"),
        None => format!("_rels/{part}.rels"),
    }
}

/// Resolves a relationship target against the source part's folder, refusing to climb above
/// the package root.
fn resolve_target(source: &str, target: &str) -> Option<String> {
    let target = target.split('#').next().unwrap_or("");
    let mut segs: Vec<&str> = Vec::new();
    if !target.starts_with('/') {
        if let Some((dir, _)) = source.rsplit_once('/') {
            segs.extend(dir.split('/').filter(|s| !s.is_empty()));
        }
    }
    for s in target.split('/') {
        match s {
            "" | "." => {}
            ".." => {
                segs.pop()?;
            }
            s => segs.push(s),
        }
    }
    if segs.is_empty() {
        None
    } else {
        Some(segs.join("/"))
    }
}

fn parse_rels(bytes: &[u8], source: &str, budget: &Budget) -> Result<Vec<Rel>, ExtractError> {
    let d = decode_part(bytes);
    let mut r = SafeReader::new(&d, budget);
    let mut rels = Vec::new();
    loop {
        match r.next_event()? {
            Ev::Eof => break,
            Ev::Start(e) if e.local == "Relationship" => {
                let (Some(id), Some(ty), Some(target)) = (e.attr("Id"), e.attr("Type"), e.attr("Target")) else {
                    continue;
                };
                let external = e.attr("TargetMode").is_some_and(|m| m.eq_ignore_ascii_case("External"));
                let target = if external {
                    target.to_string()
                } else {
                    match resolve_target(source, target) {
                        Some(t) => t,
                        None => continue,
                    }
                };
                rels.push(Rel {
                    id: id.to_string(),
                    kind: ty.rsplit('/').next().unwrap_or(ty).to_string(),
                    target,
                    external,
                });
            }
            _ => {}
        }
    }
    Ok(rels)
}

// ---------------------------------------------------------------------------------------------
// Run properties and styles.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Color {
    Auto,
    Rgb(u8, u8, u8),
}

fn parse_hex_color(v: &str) -> Option<Color> {
    if v.eq_ignore_ascii_case("auto") {
        return Some(Color::Auto);
    }
    if v.len() != 6 || !v.is_ascii() {
        return None;
    }
    let p = |i: usize| u8::from_str_radix(v.get(i..i + 2)?, 16).ok();
    Some(Color::Rgb(p(0)?, p(2)?, p(4)?))
}

/// `w:highlight` uses named colours.
fn highlight_color(v: &str) -> Option<Color> {
    let rgb = match v {
        "black" => (0, 0, 0),
        "blue" => (0, 0, 255),
        "cyan" => (0, 255, 255),
        "green" => (0, 255, 0),
        "magenta" => (255, 0, 255),
        "red" => (255, 0, 0),
        "yellow" => (255, 255, 0),
        "white" => (255, 255, 255),
        "darkBlue" => (0, 0, 139),
        "darkCyan" => (0, 139, 139),
        "darkGreen" => (0, 100, 0),
        "darkMagenta" => (139, 0, 139),
        "darkRed" => (139, 0, 0),
        "darkYellow" => (128, 128, 0),
        "darkGray" => (169, 169, 169),
        "lightGray" => (211, 211, 211),
        _ => return None,
    };
    Some(Color::Rgb(rgb.0, rgb.1, rgb.2))
}

fn luminance(c: (u8, u8, u8)) -> f64 {
    let ch = |v: u8| {
        let s = f64::from(v) / 255.0;
        if s <= 0.03928 {
            s / 12.92
        } else {
            ((s + 0.055) / 1.055).powf(2.4)
        }
    };
    0.2126 * ch(c.0) + 0.7152 * ch(c.1) + 0.0722 * ch(c.2)
}

fn contrast(a: (u8, u8, u8), b: (u8, u8, u8)) -> f64 {
    let (la, lb) = (luminance(a), luminance(b));
    let (hi, lo) = if la > lb { (la, lb) } else { (lb, la) };
    (hi + 0.05) / (lo + 0.05)
}

/// The run properties that decide visibility; `None` = not set at this level.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
struct RunProps {
    vanish: Option<bool>,
    color: Option<Color>,
    half_points: Option<u32>,
    shading: Option<Color>,
    highlight: Option<Color>,
    /// Horizontal text scale, percent (`w:w`).
    scale: Option<u32>,
}

impl RunProps {
    fn overlay(self, o: RunProps) -> RunProps {
        RunProps {
            vanish: o.vanish.or(self.vanish),
            color: o.color.or(self.color),
            half_points: o.half_points.or(self.half_points),
            shading: o.shading.or(self.shading),
            highlight: o.highlight.or(self.highlight),
            scale: o.scale.or(self.scale),
        }
    }
}

fn toggle(e: &Elem) -> bool {
    !matches!(e.attr_ns(Ns::W, "val").or_else(|| e.attr("val")), Some("0" | "false" | "off"))
}

fn w_val(e: &Elem) -> Option<&str> {
    e.attr_ns(Ns::W, "val").or_else(|| e.attr("val"))
}

/// The colour a `w:shd` paints: a solid pattern paints its pattern colour (`w:color`) over
/// the fill; other patterns are approximated by the fill.
fn shading_fill(e: &Elem) -> Option<Color> {
    let get = |k: &str| e.attr_ns(Ns::W, k).or_else(|| e.attr(k));
    let solid = get("val") == Some("solid");
    let pick = if solid { get("color") } else { get("fill") };
    match parse_hex_color(pick?)? {
        // A solid pattern in the automatic colour is black.
        Color::Auto if solid => Some(Color::Rgb(0, 0, 0)),
        Color::Auto => None,
        c => Some(c),
    }
}

/// Reads a `w:rPr` whose start tag was just returned. Returns the properties and `w:rStyle`.
fn read_rpr(r: &mut SafeReader) -> Result<(RunProps, Option<String>), ExtractError> {
    let mut p = RunProps::default();
    let mut style = None;
    let end = r.depth().saturating_sub(1);
    loop {
        match r.next_event()? {
            Ev::Eof => break,
            Ev::End { .. } if r.depth() == end => break,
            Ev::Start(e) if e.ns == Ns::W => {
                match e.local.as_str() {
                    "vanish" | "specVanish" | "webHidden" => {
                        let on = toggle(&e);
                        p.vanish = Some(p.vanish.unwrap_or(false) || on);
                    }
                    "color" => p.color = w_val(&e).and_then(parse_hex_color),
                    "sz" => p.half_points = w_val(&e).and_then(|v| v.trim().parse().ok()),
                    "shd" => p.shading = shading_fill(&e),
                    "highlight" => p.highlight = w_val(&e).and_then(highlight_color),
                    "w" => p.scale = w_val(&e).and_then(|v| v.trim().trim_end_matches('%').parse().ok()),
                    "rStyle" => style = w_val(&e).map(str::to_string),
                    _ => {}
                }
                // Property changes (w:rPrChange) describe the *old* formatting: skip them.
                r.skip_element()?;
            }
            Ev::Start(_) => r.skip_element()?,
            _ => {}
        }
    }
    Ok((p, style))
}

#[derive(Debug, Default)]
struct Style {
    based_on: Option<String>,
    rpr: RunProps,
}

#[derive(Debug, Default)]
struct Styles {
    defaults: RunProps,
    default_para: Option<String>,
    map: HashMap<String, Style>,
    /// Every shading fill a table style can paint (whole table, bands, header rows…).
    /// Conditional formatting is not resolved per cell, so light text inside such a table is
    /// only called unreadable when it is unreadable on all of them.
    table_fills: HashMap<String, Vec<Color>>,
}

impl Styles {
    fn parse(bytes: &[u8], budget: &Budget) -> Result<Self, ExtractError> {
        let mut s = Styles::default();
        let d = decode_part(bytes);
        let mut r = SafeReader::new(&d, budget);
        // (id, style, is default paragraph style) of the style being read.
        let mut cur: Option<(String, Style)> = None;
        let mut in_defaults = false;
        let mut table: Option<String> = None;
        loop {
            match r.next_event()? {
                Ev::Eof => break,
                Ev::Start(e) if e.ns == Ns::W => match e.local.as_str() {
                    "docDefaults" => in_defaults = true,
                    // Hundreds of defaults for styles the document does not define: no text,
                    // no visibility.
                    "latentStyles" => r.skip_element()?,
                    "style" => {
                        let id = e.attr_ns(Ns::W, "styleId").unwrap_or("").to_string();
                        let para = e.attr_ns(Ns::W, "type") == Some("paragraph");
                        if para && e.attr_ns(Ns::W, "default").is_some_and(|v| v == "1" || v == "true") {
                            s.default_para = Some(id.clone());
                        }
                        if e.attr_ns(Ns::W, "type") == Some("table") {
                            table = Some(id.clone());
                        }
                        cur = Some((id, Style::default()));
                    }
                    "shd" => {
                        if let (Some(t), Some(c)) = (table.as_ref(), shading_fill(&e)) {
                            let v = s.table_fills.entry(t.clone()).or_default();
                            if v.len() < MAX_TABLE_FILLS {
                                v.push(c);
                            }
                        }
                    }
                    "basedOn" => {
                        if let Some((_, st)) = cur.as_mut() {
                            st.based_on = w_val(&e).map(str::to_string);
                        }
                    }
                    "rPr" => {
                        let (p, _) = read_rpr(&mut r)?;
                        if let (Some(t), Some(c)) = (table.as_ref(), p.shading.or(p.highlight)) {
                            let v = s.table_fills.entry(t.clone()).or_default();
                            if v.len() < MAX_TABLE_FILLS {
                                v.push(c);
                            }
                        }
                        if let Some((_, st)) = cur.as_mut() {
                            st.rpr = p;
                        } else if in_defaults {
                            s.defaults = p;
                        }
                    }
                    _ => {}
                },
                Ev::End { ns: Ns::W, local } => match local.as_str() {
                    "docDefaults" => in_defaults = false,
                    "style" => {
                        table = None;
                        if let Some((id, st)) = cur.take() {
                            s.map.entry(id).or_insert(st);
                        }
                    }
                    _ => {}
                },
                _ => {}
            }
        }
        Ok(s)
    }

    /// Properties of a style with its `basedOn` chain applied (cycle- and depth-safe).
    fn chain(&self, id: Option<&str>) -> RunProps {
        let mut layers = Vec::new();
        let mut seen = HashSet::new();
        let mut cur = id;
        while let Some(i) = cur {
            if layers.len() >= MAX_STYLE_CHAIN || !seen.insert(i) {
                break;
            }
            let Some(st) = self.map.get(i) else { break };
            layers.push(st.rpr);
            cur = st.based_on.as_deref();
        }
        layers.into_iter().rev().fold(RunProps::default(), RunProps::overlay)
    }
}

// ---------------------------------------------------------------------------------------------
// List numbering: readers see "1.", "a)", "ii." before list paragraphs.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum NumFmt {
    Decimal,
    LowerLetter,
    UpperLetter,
    LowerRoman,
    UpperRoman,
    /// Bullets and formats with no useful text.
    None,
}

#[derive(Debug, Clone)]
struct Level {
    start: u32,
    fmt: NumFmt,
    text: String,
}

#[derive(Debug, Default)]
struct Numbering {
    /// abstractNumId → levels (index = ilvl).
    abstract_levels: HashMap<String, Vec<Option<Level>>>,
    /// numId → abstractNumId.
    nums: HashMap<String, String>,
    /// Running counters per abstract list.
    counters: HashMap<String, [u32; 9]>,
}

fn roman(mut n: u32) -> String {
    const T: [(u32, &str); 13] = [
        (1000, "m"),
        (900, "cm"),
        (500, "d"),
        (400, "cd"),
        (100, "c"),
        (90, "xc"),
        (50, "l"),
        (40, "xl"),
        (10, "x"),
        (9, "ix"),
        (5, "v"),
        (4, "iv"),
        (1, "i"),
    ];
    let mut s = String::new();
    if n > 3999 {
        return n.to_string();
    }
    for (v, r) in T {
        while n >= v {
            s.push_str(r);
            n -= v;
        }
    }
    s
}

fn letters(n: u32) -> String {
    if n == 0 {
        return String::new();
    }
    // Word repeats the letter: a..z, aa..zz, aaa…
    let c = char::from(b'a' + ((n - 1) % 26) as u8);
    let times = ((n - 1) / 26 + 1).min(8) as usize;
    std::iter::repeat_n(c, times).collect()
}

fn format_num(n: u32, fmt: NumFmt) -> String {
    match fmt {
        NumFmt::Decimal => n.to_string(),
        NumFmt::LowerLetter => letters(n),
        NumFmt::UpperLetter => letters(n).to_uppercase(),
        NumFmt::LowerRoman => roman(n),
        NumFmt::UpperRoman => roman(n).to_uppercase(),
        NumFmt::None => String::new(),
    }
}

impl Numbering {
    fn parse(bytes: &[u8], budget: &Budget) -> Result<Self, ExtractError> {
        let mut nb = Numbering::default();
        let d = decode_part(bytes);
        let mut r = SafeReader::new(&d, budget);
        let mut abs: Option<String> = None;
        let mut lvl: Option<(usize, Level)> = None;
        let mut num: Option<String> = None;
        loop {
            match r.next_event()? {
                Ev::Eof => break,
                Ev::Start(e) if e.ns == Ns::W => match e.local.as_str() {
                    "abstractNum" => abs = e.attr_ns(Ns::W, "abstractNumId").map(str::to_string),
                    "lvl" if abs.is_some() => {
                        let i = e.attr_ns(Ns::W, "ilvl").and_then(|v| v.parse::<usize>().ok()).filter(|i| *i < 9);
                        lvl = i.map(|i| (i, Level { start: 1, fmt: NumFmt::Decimal, text: String::new() }));
                    }
                    "start" => {
                        if let Some((_, l)) = lvl.as_mut() {
                            l.start = w_val(&e).and_then(|v| v.parse().ok()).unwrap_or(1);
                        }
                    }
                    "numFmt" => {
                        if let Some((_, l)) = lvl.as_mut() {
                            l.fmt = match w_val(&e) {
                                Some("decimal" | "decimalZero") => NumFmt::Decimal,
                                Some("lowerLetter") => NumFmt::LowerLetter,
                                Some("upperLetter") => NumFmt::UpperLetter,
                                Some("lowerRoman") => NumFmt::LowerRoman,
                                Some("upperRoman") => NumFmt::UpperRoman,
                                _ => NumFmt::None,
                            };
                        }
                    }
                    "lvlText" => {
                        if let Some((_, l)) = lvl.as_mut() {
                            l.text = w_val(&e).unwrap_or("").chars().take(32).collect();
                        }
                    }
                    "num" => num = e.attr_ns(Ns::W, "numId").map(str::to_string),
                    "abstractNumId" => {
                        if let (Some(n), Some(a)) = (num.as_ref(), w_val(&e)) {
                            nb.nums.insert(n.clone(), a.to_string());
                        }
                    }
                    _ => {}
                },
                Ev::End { ns: Ns::W, local } => match local.as_str() {
                    "lvl" => {
                        if let (Some(a), Some((i, l))) = (abs.as_ref(), lvl.take()) {
                            let v = nb.abstract_levels.entry(a.clone()).or_default();
                            if v.len() <= i {
                                v.resize(i + 1, None);
                            }
                            if let Some(slot) = v.get_mut(i) {
                                *slot = Some(l);
                            }
                        }
                    }
                    "abstractNum" => abs = None,
                    "num" => num = None,
                    _ => {}
                },
                _ => {}
            }
        }
        Ok(nb)
    }

    /// Advances the list counter and returns the label for a paragraph at (numId, ilvl).
    fn label(&mut self, num_id: &str, ilvl: usize) -> Option<String> {
        let abs = self.nums.get(num_id)?.clone();
        let levels = self.abstract_levels.get(&abs)?;
        let ilvl = ilvl.min(8);
        let starts: Vec<u32> = (0..9).map(|i| levels.get(i).and_then(|l| l.as_ref()).map_or(1, |l| l.start)).collect();
        let lvl = levels.get(ilvl)?.as_ref()?.clone();
        let c = self.counters.entry(abs).or_insert([0; 9]);
        let start = starts.get(ilvl).copied().unwrap_or(1);
        if let Some(cur) = c.get_mut(ilvl) {
            *cur = if *cur == 0 { start } else { cur.saturating_add(1) };
        }
        for deeper in c.iter_mut().skip(ilvl + 1) {
            *deeper = 0;
        }
        if lvl.fmt == NumFmt::None {
            return None;
        }
        let mut out = String::new();
        let mut chars = lvl.text.chars().peekable();
        while let Some(ch) = chars.next() {
            if ch == '%' {
                if let Some(d) = chars.peek().and_then(|d| d.to_digit(10)) {
                    chars.next();
                    let i = (d as usize).saturating_sub(1).min(8);
                    let fmt = levels.get(i).and_then(|l| l.as_ref()).map_or(NumFmt::Decimal, |l| l.fmt);
                    let n = c.get(i).copied().unwrap_or(0);
                    let n = if n == 0 { starts.get(i).copied().unwrap_or(1) } else { n };
                    out.push_str(&format_num(n, fmt));
                    continue;
                }
            }
            out.push(ch);
        }
        Some(out)
    }
}

// ---------------------------------------------------------------------------------------------
// The walker over one story part (body, header, footnotes, comments…).

#[derive(Debug, Clone)]
enum Frame {
    Para {
        style: Option<String>,
        shading: Option<Color>,
    },
    Run {
        rpr: RunProps,
        style: Option<String>,
    },
    Cell {
        shading: Option<Color>,
    },
    /// A table and the fills its style and properties may paint behind cell text.
    Table {
        fills: Vec<Color>,
    },
    /// A drawing shape or floating anchor; `filled` once a fill is declared for it, after which
    /// the colour behind its text is not known and light text is not called unreadable. `vis`
    /// becomes `OffPage` when it is positioned far outside the page.
    Shape {
        filled: bool,
        vis: Visibility,
    },
    /// A text-bearing element; text events inside it are output with this visibility.
    Text {
        vis: Visibility,
        element: &'static str,
    },
    /// Any other element, possibly hiding everything inside it.
    Other {
        vis: Visibility,
    },
}

struct Package<'a, 'b> {
    zip: Archive<'a>,
    budget: &'b Budget<'b>,
    ct: ContentTypes,
    pkg_rels: Vec<Rel>,
    main: String,
    styles: Styles,
    numbering: Numbering,
    /// Note references seen in stories and note marks seen in note parts (for "[n]" labels).
    note_refs: u32,
    note_marks: u32,
    out: Extracted,
}

/// Appends a nested extraction, prefixing origins and adding `extra` to every span.
fn append_nested(out: &mut Extracted, child: Extracted, part: &str, extra: Visibility) {
    let mut pos = 0;
    out.newline();
    let prefix = |o: &Origin| -> Origin {
        let mut o = o.clone();
        o.part = Some(match &o.part {
            Some(p) => format!("{part}:{p}"),
            None => part.to_string(),
        });
        o
    };
    for sp in &child.spans {
        if let Some(gap) = child.text.get(pos..sp.start) {
            out.push_separator(gap);
        }
        if let Some(t) = child.text.get(sp.start..sp.end) {
            out.push_span(t, sp.visibility.union(extra), &prefix(&sp.origin), sp.unmapped_font, sp.furniture);
        }
        pos = sp.end;
    }
    if extra.is_hidden() {
        // Text outside spans counts as visible; inside an attachment it must not.
        if let Some(rest) = child.text.get(pos..) {
            if !rest.trim().is_empty() {
                out.push(rest, extra, &Origin::part(part));
            } else {
                out.push_separator(rest);
            }
        }
    } else if let Some(rest) = child.text.get(pos..) {
        out.push_separator(rest);
    }
    for s in child.signals {
        out.signal(s.kind, s.detail, prefix(&s.origin));
    }
    out.paragraph_break();
}

fn is_nested_error_fatal(e: &ExtractError) -> bool {
    !matches!(e, ExtractError::Malformed { .. } | ExtractError::Unsupported(_))
}

impl<'a, 'b> Package<'a, 'b> {
    fn open(zip: Archive<'a>, budget: &'b Budget<'b>) -> Result<Self, ExtractError> {
        let ct = match zip.read_part("[Content_Types].xml", budget)? {
            Some(b) => ContentTypes::parse(&b, budget)?,
            None => return Err(ExtractError::malformed(FORMAT, "no [Content_Types].xml: not an OPC package")),
        };
        let pkg_rels = match zip.read_part("_rels/.rels", budget)? {
            Some(b) => parse_rels(&b, "", budget)?,
            None => Vec::new(),
        };
        let main = pkg_rels
            .iter()
            .find(|r| r.kind == "officeDocument" && !r.external)
            .map(|r| r.target.clone())
            .filter(|t| zip.find(t).is_some())
            .or_else(|| {
                ct.overrides
                    .iter()
                    .find(|(_, t)| t.contains("wordprocessingml") && t.ends_with(".main+xml"))
                    .map(|(p, _)| p.clone())
                    .filter(|t| zip.find(t).is_some())
            })
            .or_else(|| zip.find("word/document.xml").map(|e| e.name.clone()))
            .ok_or_else(|| ExtractError::malformed(FORMAT, "no main document part"))?;
        Ok(Package {
            zip,
            budget,
            ct,
            pkg_rels,
            main,
            styles: Styles::default(),
            numbering: Numbering::default(),
            note_refs: 0,
            note_marks: 0,
            out: Extracted::new(),
        })
    }

    fn read(&self, part: &str) -> Result<Option<Vec<u8>>, ExtractError> {
        self.zip.read_part(part, self.budget)
    }

    fn rels_of(&self, part: &str) -> Result<Vec<Rel>, ExtractError> {
        match self.read(&rels_name(part))? {
            Some(b) => parse_rels(&b, part, self.budget),
            None => Ok(Vec::new()),
        }
    }

    fn extract(mut self) -> Result<Extracted, ExtractError> {
        let main = self.main.clone();
        let main_origin = Origin::part(main.clone());
        let main_ct = self.ct.of(&main).unwrap_or("").to_string();
        let vba = self.zip.entries().iter().any(|e| {
            e.name.to_ascii_lowercase().ends_with("vbaproject.bin")
                || self.ct.of(&e.name).is_some_and(|t| t.contains("vbaProject"))
        });
        if main_ct.contains("macroEnabled") || vba {
            self.out.signal(SignalKind::Macros, "macro-enabled document (VBA project)", main_origin.clone());
        }
        let rels = self.rels_of(&main)?;
        self.external_relationships()?;
        if let Some(st) = rels.iter().find(|r| r.kind == "styles" && !r.external) {
            if let Some(b) = self.read(&st.target)? {
                self.styles = Styles::parse(&b, self.budget)?;
            }
        }
        if let Some(nr) = rels.iter().find(|r| r.kind == "numbering" && !r.external) {
            if let Some(b) = self.read(&nr.target)? {
                self.numbering = Numbering::parse(&b, self.budget)?;
            }
        }

        self.walk(&main, &rels, Visibility::VISIBLE)?;

        let mut done: HashSet<String> = HashSet::new();
        for kind in ["footnotes", "endnotes", "header", "footer", "comments", "glossaryDocument"] {
            for r in rels.iter().filter(|r| r.kind == kind && !r.external) {
                if !done.insert(r.target.to_lowercase()) {
                    continue;
                }
                let vis = match kind {
                    "comments" => Visibility::hidden(Hidden::Comment),
                    // Building blocks are stored in the file but not rendered in the document.
                    "glossaryDocument" => Visibility::hidden(Hidden::NonRendered),
                    _ => Visibility::VISIBLE,
                };
                let prels = self.rels_of(&r.target)?;
                let from = self.out.text.len();
                self.walk(&r.target, &prels, vis)?;
                if matches!(kind, "header" | "footer") {
                    self.out.mark_furniture_from(from);
                }
            }
        }

        self.metadata()?;
        self.custom_xml()?;
        self.embeddings()?;
        self.budget.check_text(self.out.text.len())?;
        Ok(self.out)
    }

    /// External targets in any relationship part: remote templates (settings.xml.rels), linked
    /// OLE objects, frames, images. Plain hyperlinks are ordinary and not reported.
    fn external_relationships(&mut self) -> Result<(), ExtractError> {
        let rel_parts: Vec<String> = self
            .zip
            .entries()
            .iter()
            .filter(|e| e.name.to_ascii_lowercase().ends_with(".rels"))
            .map(|e| e.name.clone())
            .collect();
        for rp in rel_parts {
            // The source part of `dir/_rels/name.rels` is `dir/name`.
            let source = rp
                .rsplit_once("_rels/")
                .map(|(dir, f)| format!("{dir}{}", f.trim_end_matches(".rels")))
                .unwrap_or_default();
            let Some(bytes) = self.read(&rp)? else {
                continue;
            };
            let rels = match parse_rels(&bytes, &source, self.budget) {
                Ok(r) => r,
                Err(e) if is_nested_error_fatal(&e) => return Err(e),
                Err(_) => continue,
            };
            // One signal per relationship type and part: a part listing thousands of external
            // targets must not turn into thousands of signals.
            let mut seen: HashSet<&str> = HashSet::new();
            for r in rels.iter().filter(|r| r.external && r.kind != "hyperlink") {
                if !seen.insert(r.kind.as_str()) {
                    continue;
                }
                self.out.signal(
                    SignalKind::ExternalReference,
                    format!("external relationship: {}", r.kind),
                    Origin::part(source.clone()),
                );
            }
        }
        Ok(())
    }

    /// docProps core/app/custom: every leaf text, hidden as metadata.
    fn metadata(&mut self) -> Result<(), ExtractError> {
        let mut parts: Vec<String> = self
            .pkg_rels
            .iter()
            .filter(|r| {
                !r.external
                    && matches!(r.kind.as_str(), "core-properties" | "extended-properties" | "custom-properties")
            })
            .map(|r| r.target.clone())
            .collect();
        for p in ["docProps/core.xml", "docProps/app.xml", "docProps/custom.xml"] {
            if !parts.iter().any(|x| x.eq_ignore_ascii_case(p)) && self.zip.find(p).is_some() {
                parts.push(p.to_string());
            }
        }
        for p in parts {
            self.all_text(&p, Visibility::hidden(Hidden::Metadata))?;
        }
        Ok(())
    }

    /// customXml data parts are never rendered.
    fn custom_xml(&mut self) -> Result<(), ExtractError> {
        let names: Vec<String> = self
            .zip
            .entries()
            .iter()
            .filter(|e| {
                let n = e.name.to_ascii_lowercase();
                n.starts_with("customxml/")
                    && n.ends_with(".xml")
                    && !n.contains("/_rels/")
                    && !n.rsplit('/').next().unwrap_or("").starts_with("itemprops")
            })
            .map(|e| e.name.clone())
            .collect();
        for n in names {
            self.all_text(&n, Visibility::hidden(Hidden::NonRendered))?;
        }
        Ok(())
    }

    /// Embedded packages: nested Word documents are extracted (depth-capped) as attachments,
    /// everything else is reported.
    fn embeddings(&mut self) -> Result<(), ExtractError> {
        let names: Vec<String> = self
            .zip
            .entries()
            .iter()
            .filter(|e| !e.is_dir() && e.name.to_ascii_lowercase().contains("/embeddings/"))
            .map(|e| e.name.clone())
            .collect();
        for n in names {
            let origin = Origin::part(n.clone());
            let Some(entry) = self.zip.find(&n) else {
                continue;
            };
            // Sniff before inflating: large embedded media must not eat the document's budget.
            let head = self.zip.read_prefix(entry, self.budget, 4)?;
            if head.starts_with(b"PK\x03\x04") {
                let Some(bytes) = self.read(&n)? else {
                    continue;
                };
                let nested = self.budget.nested()?;
                match extract_nested_docx(&bytes, &nested) {
                    Ok(child) => {
                        self.out.signal(SignalKind::EmbeddedFile, "embedded Word document", origin);
                        append_nested(
                            &mut self.out,
                            child,
                            &format!("attachment:{n}"),
                            Visibility::hidden(Hidden::Attachment),
                        );
                        continue;
                    }
                    Err(e) if is_nested_error_fatal(&e) => return Err(e),
                    Err(_) => {}
                }
            }
            self.out.signal(SignalKind::EmbeddedFile, "embedded object", origin);
        }
        Ok(())
    }

    /// Every non-blank text node of a part, one per line, with `vis`.
    fn all_text(&mut self, part: &str, vis: Visibility) -> Result<(), ExtractError> {
        let Some(bytes) = self.read(part)? else {
            return Ok(());
        };
        let d = decode_part(&bytes);
        let mut r = SafeReader::new(&d, self.budget);
        let mut element = String::new();
        loop {
            match r.next_event()? {
                Ev::Eof => break,
                Ev::Start(e) => element = e.local,
                Ev::Text(t) => {
                    if !t.trim().is_empty() && !is_bookkeeping_value(t.trim()) {
                        self.out.newline();
                        self.out.push(t.trim(), vis, &Origin::part(part).with_element(element.clone()));
                    }
                }
                Ev::End { .. } => {}
            }
            self.budget.check_text(self.out.text.len())?;
        }
        self.out.paragraph_break();
        Ok(())
    }

    /// An altChunk: HTML, nested DOCX or text imported into the body at this point.
    fn alt_chunk(&mut self, target: &str) -> Result<(), ExtractError> {
        let Some(bytes) = self.read(target)? else {
            return Ok(());
        };
        let ct = self.ct.of(target).unwrap_or("").to_ascii_lowercase();
        let nested = self.budget.nested()?;
        let child = if bytes.starts_with(b"PK\x03\x04") {
            extract_nested_docx(&bytes, &nested)
        } else if ct.contains("html") || target.to_ascii_lowercase().contains(".htm") {
            // The real HTML extractor, never a simpler stripper: Word renders the chunk as a
            // browser would, and a second, cruder parser would be a smuggling channel.
            crate::extract::html::extract(&bytes, &nested)
        } else {
            let s = crate::extract::text::decode_lossy(&bytes, None);
            let mut x = Extracted::new();
            x.push(&s, Visibility::VISIBLE, &Origin::default());
            Ok(x)
        };
        match child {
            Ok(c) => append_nested(&mut self.out, c, target, Visibility::VISIBLE),
            Err(e) if is_nested_error_fatal(&e) => return Err(e),
            // Word may still render what we cannot read: report it rather than drop it silently.
            Err(e) => self.out.signal(
                SignalKind::EmbeddedFile,
                format!("unreadable altChunk part ({})", e.reason().as_str()),
                Origin::part(target),
            ),
        }
        Ok(())
    }

    /// Walks one story part, pushing its text with `base` added to every span.
    fn walk(&mut self, part: &str, rels: &[Rel], base: Visibility) -> Result<(), ExtractError> {
        let Some(bytes) = self.read(part)? else {
            return Ok(());
        };
        let d = decode_part(&bytes);
        let mut r = SafeReader::new(&d, self.budget);
        let mut frames: Vec<Frame> = Vec::new();
        let mut page_bg: Option<Color> = None;
        let origin_p = Origin::part(part).with_element("w:p");
        // Instruction text of the complex field being read (between fldChar begin and separate).
        let mut field: Option<String> = None;
        // Text-box nesting, so text-box text is attributed to `w:txbxContent`.
        let mut txbx: u32 = 0;
        let origin_txbx = Origin::part(part).with_element("w:txbxContent");
        loop {
            let ev = r.next_event()?;
            match ev {
                Ev::Eof => break,
                Ev::Text(t) => {
                    if let Some(Frame::Text { vis, element }) = frames.last() {
                        let vis = base.union(*vis);
                        let origin = if *element == "w:p" && txbx > 0 {
                            origin_txbx.clone()
                        } else if *element == "w:p" {
                            origin_p.clone()
                        } else {
                            Origin::part(part).with_element(*element)
                        };
                        if *element == "w:instrText" {
                            if let Some(f) = field.as_mut() {
                                if f.len() < MAX_FIELD_INSTR {
                                    f.push_str(&t);
                                }
                            }
                        }
                        push_marking_invisible(&mut self.out, &t, vis, &origin);
                        self.budget.check_text(self.out.text.len())?;
                    }
                }
                Ev::End { ns, local } => {
                    frames.pop();
                    if ns == Ns::W {
                        match local.as_str() {
                            "p" => {
                                self.out.paragraph_break();
                                self.budget.check_text(self.out.text.len())?;
                            }
                            "tc" | "tr" => self.out.newline(),
                            "txbxContent" => txbx = txbx.saturating_sub(1),
                            _ => {}
                        }
                    }
                }
                Ev::Start(e) => {
                    let frame = match (e.ns, e.local.as_str()) {
                        (Ns::W, "p") => Frame::Para { style: None, shading: None },
                        (Ns::W, "pPr") => {
                            let pp = read_ppr(&mut r)?;
                            if let Some(Frame::Para { style, shading }) = frames.last_mut() {
                                *style = pp.style;
                                *shading = pp.shading;
                                if let Some((id, lvl)) = pp.num {
                                    if let Some(label) = self.numbering.label(&id, lvl) {
                                        let vis = base.union(self.inline_vis(&frames, page_bg));
                                        self.out.push(&label, vis, &origin_p);
                                        self.out.push_separator(" ");
                                    }
                                }
                            }
                            continue;
                        }
                        (Ns::W, "r") => Frame::Run { rpr: RunProps::default(), style: None },
                        (Ns::W, "rPr") => {
                            let (p, st) = read_rpr(&mut r)?;
                            if let Some(Frame::Run { rpr, style }) = frames.last_mut() {
                                *rpr = p;
                                *style = st;
                            }
                            continue;
                        }
                        (Ns::W, "tc") => Frame::Cell { shading: None },
                        (Ns::W, "tbl") => Frame::Table { fills: Vec::new() },
                        (Ns::W, "tblPr") => {
                            let (style, shd) = read_tblpr(&mut r)?;
                            if let Some(Frame::Table { fills }) = frames.last_mut() {
                                if let Some(f) = style.and_then(|s| self.styles.table_fills.get(&s)) {
                                    fills.extend(f.iter().copied());
                                }
                                fills.extend(shd);
                            }
                            continue;
                        }
                        (Ns::W, "txbxContent") => {
                            txbx += 1;
                            Frame::Other { vis: Visibility::VISIBLE }
                        }
                        (Ns::W, "tcPr") => {
                            let sh = read_tcpr(&mut r)?;
                            if let Some(Frame::Cell { shading }) = frames.last_mut() {
                                *shading = sh;
                            }
                            continue;
                        }
                        (Ns::W, "background") => {
                            page_bg = e.attr_ns(Ns::W, "color").and_then(parse_hex_color).filter(|c| *c != Color::Auto);
                            Frame::Other { vis: Visibility::VISIBLE }
                        }
                        (Ns::W, "t") => Frame::Text { vis: self.inline_vis(&frames, page_bg), element: "w:p" },
                        (Ns::M, "t") => Frame::Text { vis: self.inline_vis(&frames, page_bg), element: "w:p" },
                        (Ns::W, "delText") => Frame::Text {
                            vis: self.inline_vis(&frames, page_bg).with(Hidden::TrackedDeletion),
                            element: "w:del",
                        },
                        (Ns::W, "instrText" | "delInstrText") => Frame::Text {
                            vis: self.inline_vis(&frames, page_bg).with(Hidden::NonRendered),
                            element: "w:instrText",
                        },
                        (Ns::W, "del" | "moveFrom") => {
                            Frame::Other { vis: Visibility::hidden(Hidden::TrackedDeletion) }
                        }
                        (Ns::W, "tab" | "ptab") if in_run(&frames) => {
                            self.emit(&frames, page_bg, base, "\t", &origin_p);
                            Frame::Other { vis: Visibility::VISIBLE }
                        }
                        (Ns::W, "br" | "cr") => {
                            self.emit(&frames, page_bg, base, "\n", &origin_p);
                            Frame::Other { vis: Visibility::VISIBLE }
                        }
                        (Ns::W, "noBreakHyphen") => {
                            self.emit(&frames, page_bg, base, "-", &origin_p);
                            Frame::Other { vis: Visibility::VISIBLE }
                        }
                        (Ns::W, "sym") => {
                            if let Some(c) = e
                                .attr_ns(Ns::W, "char")
                                .and_then(|h| u32::from_str_radix(h, 16).ok())
                                .and_then(char::from_u32)
                            {
                                let mut b = [0u8; 4];
                                self.emit(&frames, page_bg, base, c.encode_utf8(&mut b), &origin_p);
                            }
                            Frame::Other { vis: Visibility::VISIBLE }
                        }
                        (Ns::W, "footnoteReference" | "endnoteReference") => {
                            self.note_refs += 1;
                            let label = format!("[{}]", self.note_refs);
                            self.emit(&frames, page_bg, base, &label, &origin_p);
                            Frame::Other { vis: Visibility::VISIBLE }
                        }
                        (Ns::W, "footnoteRef" | "endnoteRef") => {
                            self.note_marks += 1;
                            let label = format!("[{}]", self.note_marks);
                            self.emit(&frames, page_bg, base, &label, &origin_p);
                            Frame::Other { vis: Visibility::VISIBLE }
                        }
                        (Ns::W, "fldChar") => {
                            match e.attr_ns(Ns::W, "fldCharType") {
                                Some("begin") => field = Some(String::new()),
                                Some("separate" | "end") => {
                                    if let Some(f) = field.take() {
                                        self.check_field(&f, part);
                                    }
                                }
                                _ => {}
                            }
                            Frame::Other { vis: Visibility::VISIBLE }
                        }
                        (Ns::W, "fldSimple") => {
                            if let Some(instr) = e.attr_ns(Ns::W, "instr") {
                                self.check_field(instr, part);
                                let o = Origin::part(part).with_element("w:fldSimple@w:instr");
                                self.out.push(instr.trim(), base.with(Hidden::NonRendered), &o);
                                self.out.push_separator(" ");
                            }
                            Frame::Other { vis: Visibility::VISIBLE }
                        }
                        (Ns::W, "altChunk") => {
                            if let Some(t) = e
                                .attr_ns(Ns::R, "id")
                                .and_then(|id| rels.iter().find(|x| x.id == id))
                                .filter(|x| !x.external)
                            {
                                let target = t.target.clone();
                                self.alt_chunk(&target)?;
                            }
                            Frame::Other { vis: Visibility::VISIBLE }
                        }
                        (Ns::W, "footnote" | "endnote")
                            if matches!(
                                e.attr_ns(Ns::W, "type"),
                                Some("separator" | "continuationSeparator" | "continuationNotice")
                            ) =>
                        {
                            r.skip_element()?;
                            continue;
                        }
                        (Ns::W, "sdtPr" | "sectPr" | "tblGrid" | "trPr" | "pPrChange" | "rPrChange" | "tblPrEx") => {
                            r.skip_element()?;
                            continue;
                        }
                        (Ns::W, "hyperlink") => {
                            if let Some(tip) = e.attr_ns(Ns::W, "tooltip") {
                                let o = Origin::part(part).with_element("w:hyperlink@w:tooltip");
                                self.out.push_separator(" ");
                                self.out.push(tip.trim(), base.with(Hidden::AltText), &o);
                                self.out.push_separator(" ");
                            }
                            Frame::Other { vis: Visibility::VISIBLE }
                        }
                        (Ns::W, "helpText" | "statusText") => {
                            if let Some(v) = w_val(&e).map(str::trim).filter(|v| !v.is_empty()) {
                                let o = Origin::part(part).with_element("w:ffData");
                                self.out.push_separator(" ");
                                self.out.push(v, base.with(Hidden::NonRendered), &o);
                                self.out.push_separator(" ");
                            }
                            Frame::Other { vis: Visibility::VISIBLE }
                        }
                        (Ns::Mc, "Fallback") => Frame::Other { vis: Visibility::hidden(Hidden::NonRendered) },
                        (Ns::Wp, "docPr") => {
                            self.alt_text(&e, &frames, base, part);
                            Frame::Other { vis: Visibility::VISIBLE }
                        }
                        (Ns::V, "shape" | "rect" | "roundrect" | "oval") => {
                            self.alt_text(&e, &frames, base, part);
                            let filled =
                                e.attr("fillcolor").is_some() && !matches!(e.attr("filled"), Some("f" | "false"));
                            let vis = if e.attr("style").is_some_and(vml_style_off_page) {
                                Visibility::hidden(Hidden::OffPage)
                            } else {
                                Visibility::VISIBLE
                            };
                            Frame::Shape { filled, vis }
                        }
                        (Ns::V, "imagedata") => {
                            self.alt_text(&e, &frames, base, part);
                            Frame::Other { vis: Visibility::VISIBLE }
                        }
                        (Ns::V, "fill") => {
                            mark_shape_filled(&mut frames);
                            Frame::Other { vis: Visibility::VISIBLE }
                        }
                        (Ns::Other, "wsp") => Frame::Shape { filled: false, vis: Visibility::VISIBLE },
                        (Ns::Wp, "anchor") => Frame::Shape { filled: false, vis: Visibility::VISIBLE },
                        (Ns::Wp, "posOffset") => {
                            let t = read_text_content(&mut r)?;
                            if t.trim().parse::<i64>().is_ok_and(emu_off_page) {
                                if let Some(Frame::Shape { vis, .. }) =
                                    frames.iter_mut().rev().find(|f| matches!(f, Frame::Shape { .. }))
                                {
                                    *vis = vis.with(Hidden::OffPage);
                                }
                            }
                            continue;
                        }
                        (Ns::Other, "solidFill" | "gradFill" | "blipFill" | "pattFill") => {
                            mark_shape_filled(&mut frames);
                            Frame::Other { vis: Visibility::VISIBLE }
                        }
                        (Ns::Other, "fillRef") if e.attr("idx").is_some_and(|i| i != "0") => {
                            mark_shape_filled(&mut frames);
                            Frame::Other { vis: Visibility::VISIBLE }
                        }
                        _ => Frame::Other { vis: Visibility::VISIBLE },
                    };
                    frames.push(frame);
                }
            }
        }
        self.out.paragraph_break();
        Ok(())
    }

    /// Fields that pull content from elsewhere or run commands when the document updates.
    fn check_field(&mut self, instr: &str, part: &str) {
        let word = instr.split_whitespace().next().unwrap_or("").to_ascii_uppercase();
        let detail = match word.as_str() {
            "INCLUDEPICTURE" | "INCLUDETEXT" | "IMPORT" | "LINK" | "INCLUDE" => "field that loads external content",
            "DDE" | "DDEAUTO" => "DDE field (can launch programs)",
            _ => return,
        };
        let dup = self.out.signals.iter().any(|s| {
            s.kind == SignalKind::ExternalReference
                && s.origin.part.as_deref() == Some(part)
                && s.detail.ends_with(&word)
        });
        if dup {
            return;
        }
        self.out.signal(
            SignalKind::ExternalReference,
            format!("{detail}: {word}"),
            Origin::part(part).with_element("w:instrText"),
        );
    }

    fn alt_text(&mut self, e: &Elem, frames: &[Frame], base: Visibility, part: &str) {
        let ctx = frames.iter().fold(base, |v, f| match f {
            Frame::Other { vis } | Frame::Text { vis, .. } | Frame::Shape { vis, .. } => v.union(*vis),
            _ => v,
        });
        let vis = ctx.with(Hidden::AltText);
        let element = if e.ns == Ns::Wp { "wp:docPr" } else { "v:shape" };
        for key in ["descr", "title", "alt"] {
            if let Some(v) = e.attr(key).map(str::trim).filter(|v| !v.is_empty()) {
                self.out.push_separator(" ");
                self.out.push(v, vis, &Origin::part(part).with_element(element));
                self.out.push_separator(" ");
            }
        }
    }

    /// Pushes a character produced by an element (tab, break, symbol) with the run's visibility.
    fn emit(&mut self, frames: &[Frame], page_bg: Option<Color>, base: Visibility, s: &str, origin: &Origin) {
        let vis = base.union(self.inline_vis(frames, page_bg));
        self.out.push(s, vis, origin);
    }

    /// Visibility of text at this point: enclosing hiding elements plus the effective run
    /// properties against the effective background.
    fn inline_vis(&self, frames: &[Frame], page_bg: Option<Color>) -> Visibility {
        let mut vis = Visibility::VISIBLE;
        let mut para_style: Option<&str> = None;
        let mut para_shd = None;
        let mut cell_shd = None;
        let mut run: Option<(&RunProps, Option<&str>)> = None;
        for f in frames {
            match f {
                Frame::Other { vis: v } | Frame::Text { vis: v, .. } => vis = vis.union(*v),
                Frame::Para { style, shading } => {
                    para_style = style.as_deref();
                    para_shd = *shading;
                }
                Frame::Cell { shading } => cell_shd = *shading,
                Frame::Shape { vis: v, .. } => vis = vis.union(*v),
                Frame::Table { .. } => {}
                Frame::Run { rpr, style } => run = Some((rpr, style.as_deref())),
            }
        }
        let para_style = para_style.or(self.styles.default_para.as_deref());
        let mut eff = self.styles.defaults.overlay(self.styles.chain(para_style));
        if let Some((rpr, style)) = run {
            eff = eff.overlay(self.styles.chain(style)).overlay(*rpr);
        }
        if eff.vanish == Some(true) {
            vis = vis.with(Hidden::VanishedRun);
        }
        if eff.half_points.is_some_and(|hp| hp < MIN_HALF_POINTS) {
            vis = vis.with(Hidden::TinyFont);
        }
        if eff.scale.is_some_and(|w| w < MIN_SCALE_PERCENT) {
            vis = vis.with(Hidden::Squeezed);
        }
        let rgb = |c: Option<Color>| match c {
            Some(Color::Rgb(r, g, b)) => (r, g, b),
            _ => (255, 255, 255),
        };
        let explicit = eff.highlight.or(eff.shading).or(para_shd).or(cell_shd);
        if let Some(Color::Rgb(r, g, b)) = eff.color {
            let fg = (r, g, b);
            let unreadable = |bg: (u8, u8, u8)| contrast(fg, bg) < MIN_CONTRAST;
            let unknown_bg = frames.iter().any(|f| matches!(f, Frame::Shape { filled: true, .. }));
            let hidden = if explicit.is_some() {
                unreadable(rgb(explicit))
            } else if unknown_bg {
                false
            } else {
                unreadable(rgb(page_bg))
                    && frames.iter().all(|f| match f {
                        Frame::Table { fills } => fills.iter().all(|c| unreadable(rgb(Some(*c)))),
                        _ => true,
                    })
            };
            if hidden {
                vis = vis.with(Hidden::LowContrast);
            }
        }
        vis
    }
}

/// Pushes `s`, giving runs of characters that render as nothing (zero-width, bidi controls,
/// Unicode tags) their own `InvisibleChars` span: they are how instructions hide in plain sight.
fn push_marking_invisible(out: &mut Extracted, s: &str, vis: Visibility, origin: &Origin) {
    let mut start = 0;
    let mut cur_inv = false;
    for (i, c) in s.char_indices() {
        let inv = is_invisible(c);
        if inv != cur_inv {
            if let Some(seg) = s.get(start..i) {
                let v = if cur_inv { vis.with(Hidden::InvisibleChars) } else { vis };
                out.push(seg, v, origin);
            }
            start = i;
            cur_inv = inv;
        }
    }
    if let Some(seg) = s.get(start..) {
        let v = if cur_inv { vis.with(Hidden::InvisibleChars) } else { vis };
        out.push(seg, v, origin);
    }
}

/// Counts, flags and timestamps in property parts carry no prose; leaving them out keeps
/// hidden-text scanning focused.
fn is_bookkeeping_value(v: &str) -> bool {
    v.parse::<f64>().is_ok()
        || v.eq_ignore_ascii_case("true")
        || v.eq_ignore_ascii_case("false")
        || (v.len() >= 10
            && v.as_bytes().get(4) == Some(&b'-')
            && v.bytes().take(4).all(|b| b.is_ascii_digit())
            && v.bytes().all(|b| b.is_ascii_digit() || b"-:TZ.+".contains(&b)))
}

/// Floating drawings further than this from the page origin (EMU; 914400 per inch) are off
/// the page: a page is at most a few tens of inches across.
const OFF_PAGE_EMU: i64 = 40 * 914_400;
/// The same bound for VML positions, in points.
const OFF_PAGE_PT: f64 = 40.0 * 72.0;

fn emu_off_page(v: i64) -> bool {
    v <= -OFF_PAGE_EMU / 4 || v >= OFF_PAGE_EMU
}

/// A VML `style` whose left/top (or margins) place the shape far outside the page.
fn vml_style_off_page(style: &str) -> bool {
    style.split(';').any(|decl| {
        let Some((k, v)) = decl.split_once(':') else {
            return false;
        };
        let k = k.trim().to_ascii_lowercase();
        if !matches!(k.as_str(), "left" | "top" | "margin-left" | "margin-top") {
            return false;
        }
        let v = v.trim().to_ascii_lowercase();
        let (num, unit) = v
            .find(|c: char| c.is_ascii_alphabetic())
            .map_or((v.as_str(), ""), |i| (v.get(..i).unwrap_or(""), v.get(i..).unwrap_or("")));
        let Ok(n) = num.trim().parse::<f64>() else {
            return false;
        };
        let pt = match unit {
            "pt" | "" => n,
            "px" => n * 0.75,
            "in" => n * 72.0,
            "cm" => n * 72.0 / 2.54,
            "mm" => n * 72.0 / 25.4,
            "emu" => n / 12_700.0,
            _ => return false,
        };
        pt <= -OFF_PAGE_PT / 4.0 || pt >= OFF_PAGE_PT
    })
}

/// Text content of the element just started, consumed to its end (capped: positions only).
fn read_text_content(r: &mut SafeReader) -> Result<String, ExtractError> {
    let mut out = String::new();
    let end = r.depth().saturating_sub(1);
    loop {
        match r.next_event()? {
            Ev::Eof => break,
            Ev::End { .. } if r.depth() == end => break,
            Ev::Text(t) if out.len() < 64 => out.push_str(&t),
            _ => {}
        }
    }
    Ok(out)
}

/// Records that the innermost enclosing shape paints a fill behind its text.
fn mark_shape_filled(frames: &mut [Frame]) {
    if let Some(Frame::Shape { filled, .. }) = frames.iter_mut().rev().find(|f| matches!(f, Frame::Shape { .. })) {
        *filled = true;
    }
}

fn in_run(frames: &[Frame]) -> bool {
    frames.iter().any(|f| matches!(f, Frame::Run { .. }))
}

/// Reads a `w:pPr`: paragraph style and shading (the paragraph mark's `w:rPr` is skipped).
fn read_ppr(r: &mut SafeReader) -> Result<ParaProps, ExtractError> {
    let mut style = None;
    let mut shd = None;
    let mut num_id = None;
    let mut ilvl = 0usize;
    let end = r.depth().saturating_sub(1);
    loop {
        match r.next_event()? {
            Ev::Eof => break,
            Ev::End { .. } if r.depth() == end => break,
            Ev::Start(e) => {
                if e.ns == Ns::W {
                    match e.local.as_str() {
                        "pStyle" => style = w_val(&e).map(str::to_string),
                        "shd" => shd = shading_fill(&e),
                        "numPr" => continue,
                        "numId" => num_id = w_val(&e).map(str::to_string),
                        "ilvl" => ilvl = w_val(&e).and_then(|v| v.parse().ok()).unwrap_or(0),
                        _ => {}
                    }
                }
                r.skip_element()?;
            }
            _ => {}
        }
    }
    Ok(ParaProps { style, shading: shd, num: num_id.filter(|n| n != "0").map(|n| (n, ilvl)) })
}

struct ParaProps {
    style: Option<String>,
    shading: Option<Color>,
    num: Option<(String, usize)>,
}

/// Reads a `w:tblPr`: table style and table-wide shading.
fn read_tblpr(r: &mut SafeReader) -> Result<(Option<String>, Option<Color>), ExtractError> {
    let mut style = None;
    let mut shd = None;
    let end = r.depth().saturating_sub(1);
    loop {
        match r.next_event()? {
            Ev::Eof => break,
            Ev::End { .. } if r.depth() == end => break,
            Ev::Start(e) => {
                if e.is(Ns::W, "tblStyle") {
                    style = w_val(&e).map(str::to_string);
                } else if e.is(Ns::W, "shd") {
                    shd = shading_fill(&e);
                }
                r.skip_element()?;
            }
            _ => {}
        }
    }
    Ok((style, shd))
}

fn read_tcpr(r: &mut SafeReader) -> Result<Option<Color>, ExtractError> {
    let mut shd = None;
    let end = r.depth().saturating_sub(1);
    loop {
        match r.next_event()? {
            Ev::Eof => break,
            Ev::End { .. } if r.depth() == end => break,
            Ev::Start(e) => {
                if e.is(Ns::W, "shd") {
                    shd = shading_fill(&e);
                }
                r.skip_element()?;
            }
            _ => {}
        }
    }
    Ok(shd)
}

/// A nested Word document (embedding or altChunk) under a nested budget.
fn extract_nested_docx(bytes: &[u8], budget: &Budget) -> Result<Extracted, ExtractError> {
    let zip = Archive::parse(bytes, budget)?;
    if zip.find("[Content_Types].xml").is_none() {
        return Err(ExtractError::Unsupported("embedded archive is not OPC".into()));
    }
    let pkg = Package::open(zip, budget)?;
    let is_word = pkg
        .ct
        .of(&pkg.main)
        .map_or(pkg.main.starts_with("word/"), |t| t.contains("wordprocessingml") || t.contains("ms-word"));
    if !is_word {
        return Err(ExtractError::Unsupported("embedded package is not a Word document".into()));
    }
    pkg.extract()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::extract::zipsafe::testzip::{build, member};
    use crate::limits::Limits;

    const W: &str = "http://schemas.openxmlformats.org/wordprocessingml/2006/main";
    const STRICT_W: &str = "http://purl.oclc.org/ooxml/wordprocessingml/main";
    const REL_NS: &str = "http://schemas.openxmlformats.org/officeDocument/2006/relationships";
    const RT: &str = "http://schemas.openxmlformats.org/officeDocument/2006/relationships";

    fn doc_xml(body: &str) -> String {
        format!(
            r#"<?xml version="1.0" encoding="UTF-8"?><w:document xmlns:w="{W}" xmlns:r="{REL_NS}" xmlns:wp="http://schemas.openxmlformats.org/drawingml/2006/wordprocessingDrawing" xmlns:mc="http://schemas.openxmlformats.org/markup-compatibility/2006"><w:body>{body}</w:body></w:document>"#
        )
    }

    /// A package with `document` as the main part plus extra parts and document relationships.
    fn package(document: &str, parts: &[(&str, &str)], rels: &[(&str, &str, &str)]) -> Vec<u8> {
        package_with(
            document,
            parts,
            rels,
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml",
        )
    }

    fn package_with(document: &str, parts: &[(&str, &str)], rels: &[(&str, &str, &str)], main_ct: &str) -> Vec<u8> {
        let ct = format!(
            r#"<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Default Extension="htm" ContentType="text/html"/><Override PartName="/word/main.xml" ContentType="{main_ct}"/></Types>"#
        );
        let pkg_rels = format!(
            r#"<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="{RT}/officeDocument" Target="word/main.xml"/><Relationship Id="rId2" Type="http://schemas.openxmlformats.org/package/2006/relationships/metadata/core-properties" Target="docProps/core.xml"/></Relationships>"#
        );
        let mut doc_rels = String::from(
            r#"<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">"#,
        );
        for (id, kind, target) in rels {
            let mode = if target.starts_with("http") { r#" TargetMode="External""# } else { "" };
            doc_rels.push_str(&format!(r#"<Relationship Id="{id}" Type="{RT}/{kind}" Target="{target}"{mode}/>"#));
        }
        doc_rels.push_str("</Relationships>");
        let mut ms = vec![
            member("[Content_Types].xml", ct.as_bytes()),
            member("_rels/.rels", pkg_rels.as_bytes()),
            member("word/main.xml", document.as_bytes()),
            member("word/_rels/main.xml.rels", doc_rels.as_bytes()),
        ];
        for (n, c) in parts {
            ms.push(member(n, c.as_bytes()));
        }
        build(&ms)
    }

    fn run(bytes: &[u8]) -> Result<Extracted, ExtractError> {
        let l = Limits::default();
        let b = Budget::new(&l);
        let x = extract(bytes, &b)?;
        x.check_invariants().map_err(|e| ExtractError::malformed(FORMAT, e))?;
        Ok(x)
    }

    /// Visibility reasons of the span holding `needle`.
    fn vis_of(x: &Extracted, needle: &str) -> Visibility {
        let i = x.text.find(needle).unwrap_or_else(|| panic!("{needle:?} not in {:?}", x.text));
        x.visibility_of(i..i + needle.len())
    }

    #[test]
    fn body_tables_and_run_visibility() {
        let styles = format!(
            r#"<w:styles xmlns:w="{W}"><w:docDefaults><w:rPrDefault><w:rPr><w:sz w:val="22"/></w:rPr></w:rPrDefault></w:docDefaults><w:style w:type="character" w:styleId="Ghost"><w:rPr><w:vanish/></w:rPr></w:style><w:style w:type="character" w:styleId="GhostChild"><w:basedOn w:val="Ghost"/></w:style><w:style w:type="paragraph" w:styleId="Pale"><w:rPr><w:color w:val="FEFEFE"/></w:rPr></w:style></w:styles>"#
        );
        let body = r#"<w:p><w:r><w:t>Visible one</w:t><w:tab/><w:t>after tab</w:t><w:br/><w:t>next line</w:t></w:r></w:p>
<w:tbl><w:tr><w:tc><w:p><w:r><w:t>cellA</w:t></w:r></w:p></w:tc><w:tc><w:p><w:r><w:t>cellB</w:t></w:r></w:p></w:tc></w:tr></w:tbl>
<w:p><w:r><w:rPr><w:vanish/></w:rPr><w:t>vanished words</w:t></w:r><w:r><w:rPr><w:vanish w:val="0"/></w:rPr><w:t>unvanished words</w:t></w:r></w:p>
<w:p><w:r><w:rPr><w:rStyle w:val="GhostChild"/></w:rPr><w:t>styled ghost</w:t></w:r></w:p>
<w:p><w:pPr><w:pStyle w:val="Pale"/></w:pPr><w:r><w:t>pale paragraph</w:t></w:r><w:r><w:rPr><w:color w:val="000000"/></w:rPr><w:t>dark override</w:t></w:r></w:p>
<w:p><w:r><w:rPr><w:color w:val="FFFFFF"/></w:rPr><w:t>white text</w:t></w:r><w:r><w:rPr><w:color w:val="FFFFFF"/><w:highlight w:val="black"/></w:rPr><w:t>white on black</w:t></w:r><w:r><w:rPr><w:color w:val="336699"/><w:shd w:val="clear" w:fill="336699"/></w:rPr><w:t>blue on blue</w:t></w:r></w:p>
<w:p><w:hyperlink w:tooltip="tooltip words"><w:r><w:t>link words</w:t></w:r></w:hyperlink><w:r><w:rPr><w:w w:val="1"/></w:rPr><w:t>squeezed words</w:t></w:r></w:p>
<w:p><w:r><w:rPr><w:sz w:val="2"/></w:rPr><w:t>one point text</w:t></w:r><w:r><w:rPr><w:webHidden/></w:rPr><w:t>web hidden</w:t></w:r></w:p>"#;
        let d = package(&doc_xml(body), &[("word/styles.xml", &styles)], &[("rId1", "styles", "styles.xml")]);
        let x = run(&d).unwrap();
        let v = x.visible_text();
        for s in [
            "Visible one\tafter tab\nnext line",
            "cellA",
            "cellB",
            "unvanished words",
            "dark override",
            "white on black",
        ] {
            assert!(v.contains(s), "{s:?} missing from {v:?}");
        }
        assert!(!v.contains("cellAcellB"));
        assert!(vis_of(&x, "vanished words").contains(Hidden::VanishedRun));
        assert!(vis_of(&x, "styled ghost").contains(Hidden::VanishedRun));
        assert!(vis_of(&x, "pale paragraph").contains(Hidden::LowContrast));
        assert!(vis_of(&x, "white text").contains(Hidden::LowContrast));
        assert!(vis_of(&x, "blue on blue").contains(Hidden::LowContrast));
        assert!(vis_of(&x, "one point text").contains(Hidden::TinyFont));
        assert!(vis_of(&x, "web hidden").contains(Hidden::VanishedRun));
        assert!(vis_of(&x, "tooltip words").contains(Hidden::AltText));
        assert!(vis_of(&x, "link words").is_visible());
        assert!(vis_of(&x, "squeezed words").contains(Hidden::Squeezed));
        assert!(vis_of(&x, "white on black").is_visible());
        assert!(vis_of(&x, "cellA").is_visible());
        let sp = x.spans.iter().find(|s| s.visibility.is_visible()).unwrap();
        assert_eq!(sp.origin, Origin::part("word/main.xml").with_element("w:p"));
    }

    #[test]
    fn tracked_changes_fields_alt_text_and_alternate_content() {
        let body = r#"<w:p><w:ins><w:r><w:t>inserted text</w:t></w:r></w:ins><w:del><w:r><w:delText>deleted text</w:delText></w:r></w:del></w:p>
<w:p><w:r><w:fldChar w:fldCharType="begin"/></w:r><w:r><w:instrText> DDEAUTO c:\\x.exe </w:instrText></w:r><w:r><w:fldChar w:fldCharType="separate"/></w:r><w:r><w:t>field result</w:t></w:r><w:r><w:fldChar w:fldCharType="end"/></w:r></w:p>
<w:p><w:fldSimple w:instr=" AUTHOR secret-instr "><w:r><w:t>simple result</w:t></w:r></w:fldSimple></w:p>
<w:p><w:r><w:drawing><wp:inline><wp:docPr id="1" name="Pic" descr="picture description"/></wp:inline></w:drawing></w:r></w:p>
<w:p><w:r><mc:AlternateContent><mc:Choice Requires="wps"><w:txbxContent><w:p><w:r><w:t>boxed text</w:t></w:r></w:p></w:txbxContent></mc:Choice><mc:Fallback><w:txbxContent><w:p><w:r><w:t>boxed text</w:t></w:r></w:p></w:txbxContent></mc:Fallback></mc:AlternateContent></w:r></w:p>"#;
        let x = run(&package(&doc_xml(body), &[], &[])).unwrap();
        let v = x.visible_text();
        assert!(v.contains("inserted text") && v.contains("field result") && v.contains("simple result"));
        assert_eq!(v.matches("boxed text").count(), 1);
        assert!(vis_of(&x, "deleted text").contains(Hidden::TrackedDeletion));
        assert!(vis_of(&x, "DDEAUTO").contains(Hidden::NonRendered));
        assert!(vis_of(&x, "secret-instr").contains(Hidden::NonRendered));
        assert!(vis_of(&x, "picture description").contains(Hidden::AltText));
        assert!(x.signals.iter().any(|s| s.kind == SignalKind::ExternalReference && s.detail.contains("DDE")));
    }

    #[test]
    fn side_parts_comments_notes_headers_metadata() {
        let body = r#"<w:p><w:r><w:t>main body</w:t></w:r><w:r><w:footnoteReference w:id="2"/></w:r></w:p>"#;
        let notes = format!(
            r#"<w:footnotes xmlns:w="{W}"><w:footnote w:type="separator" w:id="0"><w:p><w:r><w:t>SEPARATOR</w:t></w:r></w:p></w:footnote><w:footnote w:id="2"><w:p><w:r><w:footnoteRef/><w:t>note text</w:t></w:r></w:p></w:footnote></w:footnotes>"#
        );
        let comments = format!(
            r#"<w:comments xmlns:w="{W}"><w:comment w:id="0"><w:p><w:r><w:t>comment text</w:t></w:r></w:p></w:comment></w:comments>"#
        );
        let header = format!(
            r#"<w:hdr xmlns:w="{W}"><w:p><w:r><w:t>header text</w:t></w:r><w:r><w:pict><w:txbxContent><w:p><w:r><w:t>header box</w:t></w:r></w:p></w:txbxContent></w:pict></w:r></w:p></w:hdr>"#
        );
        let footer = format!(
            r#"<w:ftr xmlns:w="{W}"><w:p><w:r><w:t>footer text</w:t></w:r><w:r><w:rPr><w:vanish/></w:rPr><w:t>vanished footer</w:t></w:r></w:p></w:ftr>"#
        );
        let core = r#"<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties" xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:description>property text</dc:description><cp:revision>3</cp:revision></cp:coreProperties>"#;
        let custom = r#"<root><field>custom xml text</field></root>"#;
        let d = package(
            &doc_xml(body),
            &[
                ("word/footnotes.xml", &notes),
                ("word/comments.xml", &comments),
                ("word/header1.xml", &header),
                ("word/footer1.xml", &footer),
                ("docProps/core.xml", core),
                ("customXml/item1.xml", custom),
            ],
            &[
                ("rId1", "footnotes", "footnotes.xml"),
                ("rId2", "comments", "comments.xml"),
                ("rId3", "header", "header1.xml"),
                ("rId6", "footer", "footer1.xml"),
                ("rId4", "attachedTemplate", "http://example.invalid/t.dotm"),
                ("rId5", "hyperlink", "http://example.invalid/"),
            ],
        );
        let x = run(&d).unwrap();
        let v = x.visible_text();
        assert!(v.contains("main body[1]"), "{v:?}");
        assert!(v.contains("[1]note text"), "{v:?}");
        // Headers and footers (and their text boxes) are page furniture: scanned as visible
        // text, never hidden, but not body text. A hidden run in a footer stays hidden.
        for furniture in ["header text", "header box", "footer text"] {
            assert!(!v.contains(furniture), "{furniture} in body text {v:?}");
            assert!(vis_of(&x, furniture).is_visible(), "{furniture} must not count as hidden");
            let i = x.text.find(furniture).unwrap();
            assert!(x.spans_overlapping(i..i + 1).all(|sp| sp.furniture));
        }
        assert!(vis_of(&x, "vanished footer").contains(Hidden::VanishedRun));
        assert!(!x.text.contains("SEPARATOR"));
        assert!(vis_of(&x, "comment text").contains(Hidden::Comment));
        assert!(vis_of(&x, "property text").contains(Hidden::Metadata));
        assert!(vis_of(&x, "custom xml text").contains(Hidden::NonRendered));
        assert!(!x.text.contains('3'), "numeric bookkeeping is skipped");
        let ext: Vec<_> = x.signals.iter().filter(|s| s.kind == SignalKind::ExternalReference).collect();
        assert_eq!(ext.len(), 1, "hyperlinks are not signalled: {ext:?}");

        // A remote template declared by the settings part's relationships (template injection).
        let settings_rels = format!(
            r#"<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="{RT}/attachedTemplate" Target="https://example.invalid/t.dotm" TargetMode="External"/></Relationships>"#
        );
        let d = package(&doc_xml("<w:p/>"), &[("word/_rels/settings.xml.rels", &settings_rels)], &[]);
        let x = run(&d).unwrap();
        assert!(x.signals.iter().any(|s| s.kind == SignalKind::ExternalReference
            && s.detail.contains("attachedTemplate")
            && s.origin.part.as_deref() == Some("word/settings.xml")));
    }

    #[test]
    fn strict_namespaces_and_numbering() {
        let doc = format!(
            r#"<w:document xmlns:w="{STRICT_W}"><w:body><w:p><w:pPr><w:numPr><w:ilvl w:val="0"/><w:numId w:val="1"/></w:numPr></w:pPr><w:r><w:t>first item</w:t></w:r></w:p><w:p><w:pPr><w:numPr><w:ilvl w:val="1"/><w:numId w:val="1"/></w:numPr></w:pPr><w:r><w:t>sub item</w:t></w:r></w:p><w:p><w:pPr><w:numPr><w:ilvl w:val="0"/><w:numId w:val="1"/></w:numPr></w:pPr><w:r><w:rPr><w:vanish/></w:rPr><w:t>second item</w:t></w:r></w:p></w:body></w:document>"#
        );
        let numbering = format!(
            r#"<w:numbering xmlns:w="{STRICT_W}"><w:abstractNum w:abstractNumId="7"><w:lvl w:ilvl="0"><w:start w:val="1"/><w:numFmt w:val="decimal"/><w:lvlText w:val="%1)"/></w:lvl><w:lvl w:ilvl="1"><w:start w:val="1"/><w:numFmt w:val="lowerRoman"/><w:lvlText w:val="%1.%2."/></w:lvl></w:abstractNum><w:num w:numId="1"><w:abstractNumId w:val="7"/></w:num></w:numbering>"#
        );
        let x = run(&package(&doc, &[("word/numbering.xml", &numbering)], &[("rId1", "numbering", "numbering.xml")]))
            .unwrap();
        let v = x.visible_text();
        assert!(v.contains("1) first item"), "{v:?}");
        assert!(v.contains("1.i. sub item"), "{v:?}");
        assert!(v.contains("2) "), "{v:?}");
        assert!(vis_of(&x, "second item").contains(Hidden::VanishedRun));
    }

    #[test]
    fn macros_and_invisible_characters() {
        let tags: String = "hi".chars().map(|c| char::from_u32(0xE0000 + c as u32).unwrap()).collect();
        let body = format!("<w:p><w:r><w:t>plain{tags}words</w:t></w:r></w:p>");
        let d = package_with(
            &doc_xml(&body),
            &[("word/vbaProject.bin", "binary")],
            &[],
            "application/vnd.ms-word.document.macroEnabled.main+xml",
        );
        let x = run(&d).unwrap();
        assert!(x.signals.iter().any(|s| s.kind == SignalKind::Macros));
        assert_eq!(x.visible_text().trim(), "plainwords");
        assert!(vis_of(&x, &tags).contains(Hidden::InvisibleChars));
    }

    #[test]
    fn nested_documents_and_alt_chunks() {
        let inner = package(&doc_xml("<w:p><w:r><w:t>inner words</w:t></w:r></w:p>"), &[], &[]);
        let body = r#"<w:p><w:r><w:t>outer words</w:t></w:r></w:p><w:altChunk r:id="rIdA"/>"#;
        let html = "<html><head><style>.x{display:none}</style></head><body><p>chunk words</p>\
            <div style=\"display:none\">tucked away</div><p class=x>aside words</p><script>nope()</script></body></html>";
        let mut ms = vec![];
        let outer = package(&doc_xml(body), &[("word/chunk.htm", html)], &[("rIdA", "aFChunk", "chunk.htm")]);
        // Re-pack with the binary nested package under word/embeddings.
        let a: Vec<u8> = {
            let l = Limits::default();
            let b = Budget::new(&l);
            let z = Archive::parse(&outer, &b).unwrap();
            for e in z.entries() {
                ms.push(member(&e.name, &z.read(e, &b).unwrap()));
            }
            ms.push(member("word/embeddings/inner.docx", &inner));
            build(&ms)
        };
        let x = run(&a).unwrap();
        let v = x.visible_text();
        assert!(v.contains("outer words") && v.contains("chunk words"), "{v:?}");
        // The chunk goes through the HTML extractor: its CSS hiding is seen, nothing is lost.
        assert!(vis_of(&x, "tucked away").contains(Hidden::CssHidden));
        assert!(vis_of(&x, "aside words").contains(Hidden::CssHidden));
        assert!(!v.contains("tucked away") && !v.contains("aside words"), "{v:?}");
        assert!(!v.contains("nope") && !v.contains("inner words"));
        assert!(vis_of(&x, "inner words").contains(Hidden::Attachment));

        // Depth cap: the nested document cannot be opened at depth 0 allowance.
        let l = Limits { max_nesting_depth: 0, ..Limits::default() };
        let b = Budget::new(&l);
        assert!(matches!(extract(&a, &b), Err(ExtractError::Limit { limit: crate::error::Limit::NestingDepth, .. })));
    }

    #[test]
    fn hostile_parts_are_typed_errors() {
        let dtd =
            r#"<?xml version="1.0"?><!DOCTYPE d [<!ENTITY a "aaaa">]><w:document xmlns:w="x"><w:body/></w:document>"#;
        assert!(matches!(run(&package(dtd, &[], &[])), Err(ExtractError::Hostile(_))));
        let deep = format!(
            "<w:document xmlns:w=\"{W}\"><w:body>{}{}</w:body></w:document>",
            "<w:sdt>".repeat(300),
            "</w:sdt>".repeat(300)
        );
        assert!(matches!(
            run(&package(&deep, &[], &[])),
            Err(ExtractError::Limit { limit: crate::error::Limit::XmlDepth, .. })
        ));
        let no_ct = build(&[member("word/document.xml", doc_xml("").as_bytes())]);
        assert!(matches!(run(&no_ct), Err(ExtractError::Malformed { .. })));
        // Garbage must never panic.
        let good = package(&doc_xml("<w:p><w:r><w:t>x</w:t></w:r></w:p>"), &[], &[]);
        for i in (0..good.len()).step_by(7) {
            let mut bad = good.clone();
            bad[i] ^= 0x5A;
            let _ = run(&bad);
            let _ = run(&good[..i]);
        }
    }

    #[test]
    fn table_style_backgrounds() {
        let styles = format!(
            r#"<w:styles xmlns:w="{W}"><w:style w:type="table" w:styleId="Dark"><w:tblStylePr w:type="firstRow"><w:tcPr><w:shd w:val="clear" w:fill="1F3864"/></w:tcPr></w:tblStylePr></w:style></w:styles>"#
        );
        let cell = |t: &str| {
            format!(r#"<w:tc><w:p><w:r><w:rPr><w:color w:val="FFFFFF"/></w:rPr><w:t>{t}</w:t></w:r></w:p></w:tc>"#)
        };
        let body = format!(
            r#"<w:tbl><w:tblPr><w:tblStyle w:val="Dark"/></w:tblPr><w:tr>{}</w:tr></w:tbl><w:tbl><w:tblPr/><w:tr>{}</w:tr></w:tbl>"#,
            cell("styled header"),
            cell("plain white")
        );
        let x = run(&package(&doc_xml(&body), &[("word/styles.xml", &styles)], &[("rId1", "styles", "styles.xml")]))
            .unwrap();
        assert!(vis_of(&x, "styled header").is_visible());
        assert!(vis_of(&x, "plain white").contains(Hidden::LowContrast));
    }

    #[test]
    fn text_boxes_with_fills() {
        let a = "http://schemas.openxmlformats.org/drawingml/2006/main";
        let wps = "http://schemas.microsoft.com/office/word/2010/wordprocessingShape";
        let tb = |fill: &str, t: &str| {
            format!(
                r#"<w:p><w:r><wps:wsp xmlns:wps="{wps}" xmlns:a="{a}"><wps:spPr>{fill}</wps:spPr><wps:txbx><w:txbxContent><w:p><w:r><w:rPr><w:color w:val="FFFFFF"/></w:rPr><w:t>{t}</w:t></w:r></w:p></w:txbxContent></wps:txbx></wps:wsp></w:r></w:p>"#
            )
        };
        let body = format!(
            "{}{}",
            tb(r#"<a:solidFill><a:srgbClr val="002060"/></a:solidFill>"#, "on dark box"),
            tb("", "on unfilled box")
        );
        let x = run(&package(&doc_xml(&body), &[], &[])).unwrap();
        assert!(vis_of(&x, "on dark box").is_visible());
        assert!(vis_of(&x, "on unfilled box").contains(Hidden::LowContrast));
        let sp = x.spans.iter().find(|s| s.visibility.is_visible()).unwrap();
        assert_eq!(sp.origin.element.as_deref(), Some("w:txbxContent"));
    }

    #[test]
    fn off_page_drawings() {
        let anchor = |off: i64, t: &str| {
            format!(
                r#"<w:p><w:r><w:drawing><wp:anchor><wp:positionH relativeFrom="page"><wp:posOffset>{off}</wp:posOffset></wp:positionH><w:txbxContent><w:p><w:r><w:t>{t}</w:t></w:r></w:p></w:txbxContent></wp:anchor></w:drawing></w:r></w:p>"#
            )
        };
        let vml = r#"<w:p><w:r><w:pict><v:shape xmlns:v="urn:schemas-microsoft-com:vml" style="position:absolute;margin-left:-9000pt;width:100pt"><v:textbox><w:txbxContent><w:p><w:r><w:t>vml far away</w:t></w:r></w:p></w:txbxContent></v:textbox></v:shape></w:pict></w:r></w:p>"#;
        let body =
            format!("{}{}{}", anchor(-100_000_000, "anchored far away"), anchor(-114_300, "anchored nearby"), vml);
        let x = run(&package(&doc_xml(&body), &[], &[])).unwrap();
        assert!(vis_of(&x, "anchored far away").contains(Hidden::OffPage));
        assert!(vis_of(&x, "vml far away").contains(Hidden::OffPage));
        assert!(vis_of(&x, "anchored nearby").is_visible());
        assert!(vml_style_off_page("left:-20in"));
        assert!(!vml_style_off_page("margin-left:-5.4pt;width:3in"));
    }

    #[test]
    fn solid_shading_uses_pattern_colour() {
        let body = r#"<w:p><w:r><w:rPr><w:color w:val="FFFFFF"/><w:shd w:val="solid" w:color="FFFFFF" w:fill="000000"/></w:rPr><w:t>white on solid white</w:t></w:r><w:r><w:rPr><w:color w:val="FFFFFF"/><w:shd w:val="solid" w:color="auto" w:fill="FFFFFF"/></w:rPr><w:t>white on solid auto</w:t></w:r></w:p>"#;
        let x = run(&package(&doc_xml(body), &[], &[])).unwrap();
        assert!(vis_of(&x, "white on solid white").contains(Hidden::LowContrast));
        assert!(vis_of(&x, "white on solid auto").is_visible());
    }

    #[test]
    fn contrast_and_targets() {
        assert!(contrast((255, 255, 255), (254, 254, 254)) < MIN_CONTRAST);
        assert!(contrast((0, 0, 0), (255, 255, 255)) > 20.0);
        assert_eq!(
            resolve_target("word/document.xml", "../customXml/item1.xml").as_deref(),
            Some("customXml/item1.xml")
        );
        assert_eq!(resolve_target("word/document.xml", "/word/x.xml").as_deref(), Some("word/x.xml"));
        assert_eq!(resolve_target("word/document.xml", "../../x"), None);
        assert_eq!(rels_name("word/document.xml"), "word/_rels/document.xml.rels");
        assert_eq!(roman(14), "xiv");
        assert_eq!(letters(28), "bb");
    }

    /// Second line of defence: with the ratio cap switched off, the shared bombs must still end
    /// in typed limits (bytes produced, XML depth). Skips when the corpus is absent.
    #[test]
    #[ignore]
    fn shared_bombs_without_ratio_cap() {
        let dir = std::path::Path::new("/work/shared/corpus/docs/bombs");
        let Ok(rd) = std::fs::read_dir(dir) else {
            eprintln!("shared corpus absent; skipping");
            return;
        };
        let l = Limits { max_compression_ratio: u64::MAX, ..Limits::default() };
        for p in rd.filter_map(|e| e.ok()).map(|e| e.path()) {
            let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("").to_string();
            if !name.ends_with(".docx") || name.starts_with("macro_") || name.starts_with("mismatch_") {
                continue;
            }
            let Ok(bytes) = std::fs::read(&p) else {
                continue;
            };
            let b = Budget::new(&l);
            let t = std::time::Instant::now();
            let r = extract(&bytes, &b);
            eprintln!("{name}: {:?} in {:?}", r.as_ref().err(), t.elapsed());
            assert!(r.is_err(), "{name} extracted");
            assert!(t.elapsed().as_secs() < 10);
        }
    }

    /// Throughput over the shared corpus, in one process. Skips when the corpus is absent.
    /// Run: `cargo test --lib extract::docx::tests::throughput -- --ignored --nocapture`.
    #[test]
    #[ignore]
    fn throughput() {
        let dir = std::path::Path::new("/work/shared/corpus/docs/docx");
        let Ok(rd) = std::fs::read_dir(dir) else {
            eprintln!("shared corpus absent; skipping");
            return;
        };
        let files: Vec<Vec<u8>> = rd
            .filter_map(|e| e.ok())
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "docx" || x == "docm"))
            .filter_map(|p| std::fs::read(p).ok())
            .collect();
        let total: usize = files.iter().map(Vec::len).sum();
        let l = Limits::default();
        let rounds = 5;
        let t = std::time::Instant::now();
        let mut ok = 0;
        for _ in 0..rounds {
            for f in &files {
                let b = Budget::new(&l);
                if extract(f, &b).is_ok() {
                    ok += 1;
                }
            }
        }
        let secs = t.elapsed().as_secs_f64();
        let mb = (total * rounds) as f64 / (1024.0 * 1024.0);
        eprintln!(
            "docx throughput: {} files x {rounds}, {ok} ok, {mb:.2} MiB in {secs:.2} s = {:.2} MiB/s",
            files.len(),
            mb / secs
        );
        assert!(ok > 0);
    }
}
