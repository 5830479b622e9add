//! A small CSS reader for visibility: just enough of the cascade to tell whether text is shown.
//!
//! Hidden-text attacks on HTML almost always go through a handful of properties (`display`,
//! `visibility`, `opacity`, `font-size`, `color`, positioning, clipping). This module parses
//! embedded `<style>` sheets and `style` attributes once into typed declarations of exactly
//! those properties; everything else is dropped. Rules are bucketed by the key of their
//! rightmost compound selector (id, class, tag, universal), as browsers do, so matching costs a
//! few hash lookups per element; full matching is delegated to `scraper`'s HTML-standard
//! selector engine. Selectors it cannot parse (`::before`, unknown pseudo-classes) drop their
//! rule, so an unsupported rule can never hide text by mistake.
//!
//! Guarantees: linear in the input (explicit block stack, nesting capped at [`MAX_BLOCK_DEPTH`]),
//! at most [`MAX_RULES`] rules kept, no panics on any input.

use scraper::{ElementRef, Selector};
use std::collections::HashMap;

/// Most style rules kept from one document; the rest are ignored (and reported by the caller).
pub const MAX_RULES: usize = 20_000;
/// Deepest `@media`/`@supports` block nesting followed; deeper blocks are skipped.
pub const MAX_BLOCK_DEPTH: usize = 16;
/// Viewport width media queries are evaluated against (Chromium/playwright default).
const VIEWPORT_W: f32 = 1280.0;
const VIEWPORT_H: f32 = 720.0;

/// An RGBA colour, channels in 0..=255, alpha in 0..=1.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rgba {
    pub r: f32,
    pub g: f32,
    pub b: f32,
    pub a: f32,
}

impl Rgba {
    pub const WHITE: Rgba = Rgba::rgb(255.0, 255.0, 255.0);
    pub const BLACK: Rgba = Rgba::rgb(0.0, 0.0, 0.0);
    pub const LINK: Rgba = Rgba::rgb(0.0, 0.0, 238.0);

    pub const fn rgb(r: f32, g: f32, b: f32) -> Rgba {
        Rgba { r, g, b, a: 1.0 }
    }

    /// `self` painted over the opaque colour `under`.
    pub fn over(self, under: Rgba) -> Rgba {
        let a = self.a.clamp(0.0, 1.0);
        Rgba {
            r: self.r * a + under.r * (1.0 - a),
            g: self.g * a + under.g * (1.0 - a),
            b: self.b * a + under.b * (1.0 - a),
            a: 1.0,
        }
    }

    fn luminance(self) -> f32 {
        fn ch(c: f32) -> f32 {
            let c = (c / 255.0).clamp(0.0, 1.0);
            if c <= 0.039_28 {
                c / 12.92
            } else {
                ((c + 0.055) / 1.055).powf(2.4)
            }
        }
        0.2126 * ch(self.r) + 0.7152 * ch(self.g) + 0.0722 * ch(self.b)
    }

    /// WCAG contrast ratio between two opaque colours (1.0 = identical, 21 = black on white).
    pub fn contrast(self, other: Rgba) -> f32 {
        let (a, b) = (self.luminance(), other.luminance());
        let (hi, lo) = if a > b { (a, b) } else { (b, a) };
        (hi + 0.05) / (lo + 0.05)
    }
}

/// A length before it is resolved against the font size.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Length {
    Px(f32),
    Em(f32),
    Percent(f32),
}

impl Length {
    /// Resolves to px; percentages resolve against `pct_base`.
    pub fn px(self, font_px: f32, pct_base: f32) -> f32 {
        match self {
            Length::Px(v) => v,
            Length::Em(v) => v * font_px,
            Length::Percent(v) => v / 100.0 * pct_base,
        }
    }
}

/// The `display` values that matter for visibility and for line breaking.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Display {
    None,
    Inline,
    InlineBlock,
    Block,
    ListItem,
    Table,
    TableRow,
    TableCell,
    TableCaption,
    /// Table-internal groups (`table-row-group`, columns): no breaks of their own.
    TableGroup,
    Contents,
}

impl Display {
    /// Block-level boxes get a line break before and after in `innerText`.
    pub fn is_block_level(self) -> bool {
        matches!(self, Display::Block | Display::ListItem | Display::Table | Display::TableCaption)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Position {
    Static,
    Relative,
    Absolute,
    Fixed,
    Sticky,
}

/// Font size as declared, before inheritance.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum FontSize {
    Len(Length),
    /// `smaller`/`larger`: a factor on the parent size.
    Factor(f32),
}

/// One typed declaration of a property that matters here.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Decl {
    Display(Display),
    /// `visibility`: true for `hidden`/`collapse`.
    VisibilityHidden(bool),
    Opacity(f32),
    FontSize(FontSize),
    Color(Rgba),
    /// `background-color` or the colour of a `background` shorthand.
    Background(Rgba),
    /// A background image or gradient: the colour behind the text is unknown.
    BackgroundImage(bool),
    Position(Position),
    Left(Length),
    Top(Length),
    Right(Length),
    Bottom(Length),
    MarginLeft(Length),
    MarginTop(Length),
    TextIndent(Length),
    /// `clip`/`clip-path` that leaves no visible area (true) or a harmless one (false).
    ClipZero(bool),
    Width(Length),
    Height(Length),
    MaxWidth(Length),
    MaxHeight(Length),
    OverflowHidden(bool),
    /// `transform`: scaled to (near) zero.
    ScaleZero(bool),
    /// `transform: translate…` by a large negative offset, px.
    Translate(Length),
    /// `white-space` preserves spaces and newlines.
    PreserveSpace(bool),
    /// `content-visibility: hidden`.
    ContentHidden(bool),
    /// `text-transform` (inherited; `innerText` applies it).
    TextTransform(TextTransform),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TextTransform {
    None,
    Uppercase,
    Lowercase,
    Capitalize,
}

/// Property slots, one per [`Decl`] variant, so a cascade is a fixed array.
pub const SLOTS: usize = 26;

impl Decl {
    pub fn slot(&self) -> usize {
        match self {
            Decl::Display(_) => 0,
            Decl::VisibilityHidden(_) => 1,
            Decl::Opacity(_) => 2,
            Decl::FontSize(_) => 3,
            Decl::Color(_) => 4,
            Decl::Background(_) => 5,
            Decl::BackgroundImage(_) => 6,
            Decl::Position(_) => 7,
            Decl::Left(_) => 8,
            Decl::Top(_) => 9,
            Decl::Right(_) => 10,
            Decl::MarginLeft(_) => 11,
            Decl::MarginTop(_) => 12,
            Decl::TextIndent(_) => 13,
            Decl::ClipZero(_) => 14,
            Decl::Width(_) => 15,
            Decl::Height(_) => 16,
            Decl::MaxWidth(_) => 17,
            Decl::MaxHeight(_) => 18,
            Decl::OverflowHidden(_) => 19,
            Decl::ScaleZero(_) => 20,
            Decl::Translate(_) => 21,
            Decl::PreserveSpace(_) => 22,
            Decl::ContentHidden(_) => 23,
            Decl::TextTransform(_) => 24,
            Decl::Bottom(_) => 25,
        }
    }
}

/// A declaration with its `!important` flag.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Declared {
    pub decl: Decl,
    pub important: bool,
}

/// Cascade priority: importance, then inline-ness, then specificity, then source order.
pub type Priority = (bool, bool, u32, u32);

/// The winning declaration per property for one element.
#[derive(Debug, Clone, Default)]
pub struct Cascade {
    slots: [Option<(Priority, Decl)>; SLOTS],
}

impl Cascade {
    pub fn apply(&mut self, d: &Declared, inline: bool, specificity: u32, order: u32) {
        let prio = (d.important, inline, specificity, order);
        let slot = d.decl.slot();
        if let Some(cell) = self.slots.get_mut(slot) {
            match cell {
                Some((p, _)) if *p > prio => {}
                _ => *cell = Some((prio, d.decl)),
            }
        }
    }

    /// A presentational hint (`bgcolor`, `<font color>`): below every author rule.
    pub fn hint(&mut self, decl: Decl) {
        self.apply(&Declared { decl, important: false }, false, 0, 0);
    }

    pub fn iter(&self) -> impl Iterator<Item = Decl> + '_ {
        self.slots.iter().filter_map(|s| s.map(|(_, d)| d))
    }

    pub fn get(&self, slot: usize) -> Option<Decl> {
        self.slots.get(slot).copied().flatten().map(|(_, d)| d)
    }
}

/// Where a rule can first be found: the key of its rightmost compound selector.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Key {
    Id(String),
    Class(String),
    Tag(String),
    Any,
}

#[derive(Debug)]
struct Rule {
    selector: Selector,
    specificity: u32,
    order: u32,
    decls: Vec<Declared>,
}

/// The compiled author style sheet of one document.
#[derive(Debug, Default)]
pub struct Stylesheet {
    rules: Vec<Rule>,
    by_id: HashMap<String, Vec<u32>>,
    by_class: HashMap<String, Vec<u32>>,
    by_tag: HashMap<String, Vec<u32>>,
    universal: Vec<u32>,
    /// Rules dropped because the sheet was over [`MAX_RULES`].
    pub dropped: usize,
    /// Custom properties (`--x: v`) from any rule, for `var()`; scoping is ignored (nearly all
    /// are declared on `:root`).
    vars: HashMap<String, String>,
}

/// Most custom properties kept, and the longest value; `var()` expansion is bounded too.
const MAX_VARS: usize = 10_000;
const MAX_VAR_VALUE: usize = 1024;
const MAX_VAR_EXPANSIONS: usize = 16;

impl Stylesheet {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn len(&self) -> usize {
        self.rules.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    /// Adds the rules of one `<style>` sheet.
    pub fn add_sheet(&mut self, css: &str) {
        let css = strip_comments(css);
        collect_vars(&css, &mut self.vars);
        let b = css.as_bytes();
        let mut pos = 0;
        // Explicit stack of open conditional blocks: true when their rules apply.
        let mut blocks: Vec<bool> = Vec::new();
        while pos < b.len() {
            pos = skip_ws(b, pos);
            let Some(&c) = b.get(pos) else { break };
            if c == b'}' {
                blocks.pop();
                pos += 1;
                continue;
            }
            let applies = blocks.iter().all(|&x| x);
            if c == b'@' {
                let (prelude, end, term) = read_until(b, pos, b"{;");
                pos = end + 1;
                if term != Some(b'{') {
                    continue;
                }
                let pre = css.get(prelude).unwrap_or("").to_ascii_lowercase();
                let name = pre
                    .trim_start_matches('@')
                    .split(|ch: char| ch.is_whitespace() || ch == '(')
                    .next()
                    .unwrap_or("")
                    .to_string();
                let cond = pre.trim_start_matches('@').get(name.len()..).unwrap_or("").trim().to_string();
                let nested = match name.as_str() {
                    "media" => Some(media_matches(&cond)),
                    "supports" | "layer" | "container" | "scope" | "document" => Some(true),
                    _ => None,
                };
                match nested {
                    Some(ok) if blocks.len() < MAX_BLOCK_DEPTH => blocks.push(ok),
                    _ => pos = skip_block(b, pos),
                }
                continue;
            }
            let (sel, end, term) = read_until(b, pos, b"{}");
            if term != Some(b'{') {
                // A stray `}` or the end: resynchronise on it.
                pos = end;
                continue;
            }
            let body_start = end + 1;
            let body_end = block_end(b, body_start);
            pos = body_end + 1;
            if !applies {
                continue;
            }
            let (Some(sel_text), Some(body)) = (css.get(sel), css.get(body_start..body_end)) else {
                continue;
            };
            let decls = parse_declarations_with(body, &self.vars);
            if decls.is_empty() {
                continue;
            }
            for one in split_top_level(sel_text, b',') {
                self.add_rule(one.trim(), &decls);
            }
        }
    }

    fn add_rule(&mut self, sel: &str, decls: &[Declared]) {
        if sel.is_empty() {
            return;
        }
        if self.rules.len() >= MAX_RULES {
            self.dropped += 1;
            return;
        }
        let Ok(selector) = Selector::parse(sel) else {
            return;
        };
        let idx = self.rules.len() as u32;
        self.rules.push(Rule { selector, specificity: specificity(sel), order: idx + 1, decls: decls.to_vec() });
        match rightmost_key(sel) {
            Key::Id(k) => self.by_id.entry(k).or_default().push(idx),
            Key::Class(k) => self.by_class.entry(k).or_default().push(idx),
            Key::Tag(k) => self.by_tag.entry(k).or_default().push(idx),
            Key::Any => self.universal.push(idx),
        }
    }

    /// Parses a `style` attribute against this sheet's custom properties.
    pub fn inline(&self, style: &str) -> Vec<Declared> {
        parse_declarations_with(style, &self.vars)
    }

    /// Applies every matching rule to `cascade`.
    pub fn cascade(&self, el: ElementRef<'_>, cascade: &mut Cascade) {
        if self.rules.is_empty() {
            return;
        }
        let v = el.value();
        let mut cands: Vec<u32> = Vec::new();
        if let Some(id) = v.id() {
            if let Some(r) = self.by_id.get(id) {
                cands.extend_from_slice(r);
            }
        }
        for c in v.classes() {
            if let Some(r) = self.by_class.get(c) {
                cands.extend_from_slice(r);
            }
        }
        if let Some(r) = self.by_tag.get(&v.name().to_ascii_lowercase()) {
            cands.extend_from_slice(r);
        }
        cands.extend_from_slice(&self.universal);
        cands.sort_unstable();
        cands.dedup();
        for i in cands {
            let Some(rule) = self.rules.get(i as usize) else {
                continue;
            };
            if rule.selector.matches(&el) {
                for d in &rule.decls {
                    cascade.apply(d, false, rule.specificity, rule.order);
                }
            }
        }
    }
}

/// Removes `/* … */` comments (an unterminated one runs to the end, as in CSS).
fn strip_comments(css: &str) -> String {
    let mut out = String::with_capacity(css.len());
    let mut rest = css;
    while let Some(i) = rest.find("/*") {
        out.push_str(rest.get(..i).unwrap_or(""));
        out.push(' ');
        match rest.get(i + 2..).and_then(|r| r.find("*/").map(|j| i + 2 + j + 2)) {
            Some(j) => rest = rest.get(j..).unwrap_or(""),
            None => return out,
        }
    }
    out.push_str(rest);
    out
}

fn skip_ws(b: &[u8], mut pos: usize) -> usize {
    while b.get(pos).is_some_and(|c| c.is_ascii_whitespace()) {
        pos += 1;
    }
    pos
}

/// Reads from `pos` to the first byte in `stops` outside strings and parentheses. Returns the
/// range read, the index of the stop (or the end) and the stop byte.
fn read_until(b: &[u8], pos: usize, stops: &[u8]) -> (std::ops::Range<usize>, usize, Option<u8>) {
    let mut i = pos;
    let mut paren = 0usize;
    let mut quote: Option<u8> = None;
    while let Some(&c) = b.get(i) {
        if let Some(q) = quote {
            if c == b'\\' {
                i += 1;
            } else if c == q {
                quote = None;
            }
        } else if c == b'"' || c == b'\'' {
            quote = Some(c);
        } else if c == b'(' || c == b'[' {
            paren += 1;
        } else if (c == b')' || c == b']') && paren > 0 {
            paren -= 1;
        } else if paren == 0 && stops.contains(&c) {
            return (pos..i, i, Some(c));
        }
        i += 1;
    }
    (pos..b.len(), b.len(), None)
}

/// Index of the `}` closing a block whose body starts at `pos` (or the end).
fn block_end(b: &[u8], pos: usize) -> usize {
    let mut depth = 0usize;
    let mut i = pos;
    let mut quote: Option<u8> = None;
    while let Some(&c) = b.get(i) {
        if let Some(q) = quote {
            if c == b'\\' {
                i += 1;
            } else if c == q {
                quote = None;
            }
        } else if c == b'"' || c == b'\'' {
            quote = Some(c);
        } else if c == b'{' {
            depth += 1;
        } else if c == b'}' {
            if depth == 0 {
                return i;
            }
            depth -= 1;
        }
        i += 1;
    }
    b.len()
}

/// Skips the block whose body starts at `pos`; returns the index after its `}`.
fn skip_block(b: &[u8], pos: usize) -> usize {
    block_end(b, pos).saturating_add(1)
}

/// Splits at `sep` outside parentheses, brackets and strings.
fn split_top_level(s: &str, sep: u8) -> Vec<&str> {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut start = 0;
    let mut paren = 0usize;
    let mut quote: Option<u8> = None;
    let mut i = 0;
    while let Some(&c) = b.get(i) {
        if let Some(q) = quote {
            if c == b'\\' {
                i += 1;
            } else if c == q {
                quote = None;
            }
        } else if c == b'"' || c == b'\'' {
            quote = Some(c);
        } else if c == b'(' || c == b'[' {
            paren += 1;
        } else if (c == b')' || c == b']') && paren > 0 {
            paren -= 1;
        } else if paren == 0 && c == sep {
            out.push(s.get(start..i).unwrap_or(""));
            start = i + 1;
        }
        i += 1;
    }
    out.push(s.get(start..).unwrap_or(""));
    out
}

/// Does a media query list apply to a screen of the reference viewport?
fn media_matches(q: &str) -> bool {
    if q.is_empty() {
        return true;
    }
    split_top_level(q, b',').iter().any(|one| {
        let one = one.trim();
        if one.starts_with("not ") {
            return false;
        }
        let one = one.trim_start_matches("only ").trim();
        // Media type: the part before the first condition.
        let (mtype, conds) = match one.find('(') {
            Some(i) => (one.get(..i).unwrap_or(""), one.get(i..).unwrap_or("")),
            None => (one, ""),
        };
        let mtype = mtype.trim().trim_end_matches("and").trim();
        if !matches!(mtype, "" | "all" | "screen") {
            return false;
        }
        conds
            .split('(')
            .filter_map(|c| c.split(')').next())
            .map(str::trim)
            .filter(|c| !c.is_empty() && *c != "and")
            .all(media_feature)
    })
}

fn media_feature(f: &str) -> bool {
    let (name, val) = match f.split_once(':') {
        Some((n, v)) => (n.trim(), v.trim()),
        None => (f.trim(), ""),
    };
    let px = || parse_length(val).map(|l| l.px(16.0, 0.0));
    match name {
        "min-width" => px().is_some_and(|v| VIEWPORT_W >= v),
        "max-width" => px().is_some_and(|v| VIEWPORT_W <= v),
        "min-height" => px().is_some_and(|v| VIEWPORT_H >= v),
        "max-height" => px().is_some_and(|v| VIEWPORT_H <= v),
        "orientation" => val == "landscape",
        "prefers-color-scheme" => val == "light",
        "prefers-reduced-motion" => val == "no-preference",
        "hover" | "any-hover" => val == "hover" || val.is_empty(),
        "pointer" | "any-pointer" => val == "fine" || val.is_empty(),
        "color" => true,
        _ => false,
    }
}

/// Rough specificity as `ids << 16 | classes << 8 | types`.
fn specificity(sel: &str) -> u32 {
    let (mut ids, mut classes, mut types) = (0u32, 0u32, 0u32);
    let b = sel.as_bytes();
    let mut i = 0;
    let mut prev_boundary = true;
    while let Some(&c) = b.get(i) {
        match c {
            b'#' => ids += 1,
            b'.' | b'[' => classes += 1,
            b':' => {
                if b.get(i + 1) == Some(&b':') {
                    types += 1;
                    i += 1;
                } else {
                    classes += 1;
                }
            }
            c if prev_boundary && (c.is_ascii_alphabetic() || c == b'_') => types += 1,
            _ => {}
        }
        prev_boundary = matches!(c, b' ' | b'>' | b'+' | b'~' | b'(' | b',');
        i += 1;
    }
    ids.min(255) << 16 | classes.min(255) << 8 | types.min(255)
}

/// The bucket key of the rightmost compound selector.
fn rightmost_key(sel: &str) -> Key {
    let last =
        sel.rsplit(|c: char| c.is_whitespace() || matches!(c, '>' | '+' | '~')).find(|s| !s.is_empty()).unwrap_or("");
    // Anything with functional pseudo-classes or attributes is matched from the universal bucket.
    if last.contains('(') || last.contains('[') || last.contains('\\') {
        return Key::Any;
    }
    let ident =
        |s: &str| -> String { s.chars().take_while(|c| c.is_alphanumeric() || *c == '-' || *c == '_').collect() };
    if let Some(i) = last.find('#') {
        let k = ident(last.get(i + 1..).unwrap_or(""));
        if !k.is_empty() {
            return Key::Id(k);
        }
    }
    if let Some(i) = last.find('.') {
        let k = ident(last.get(i + 1..).unwrap_or(""));
        if !k.is_empty() {
            return Key::Class(k);
        }
    }
    let k = ident(last);
    if !k.is_empty() && !last.starts_with(':') {
        return Key::Tag(k.to_ascii_lowercase());
    }
    Key::Any
}

/// Finds custom property declarations (`--name: value`) anywhere in a sheet or a `style`.
fn collect_vars(css: &str, vars: &mut HashMap<String, String>) {
    let b = css.as_bytes();
    let mut pos = 0;
    while let Some(i) = memchr::memmem::find(b.get(pos..).unwrap_or(&[]), b"--") {
        let start = pos + i;
        pos = start + 2;
        let boundary =
            start == 0 || b.get(start - 1).is_some_and(|c| matches!(c, b'{' | b';') || c.is_ascii_whitespace());
        if !boundary {
            continue;
        }
        let name_end = b
            .get(start..)
            .and_then(|r| r.iter().position(|c| !(c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_'))))
            .map(|n| start + n)
            .unwrap_or(b.len());
        let colon = skip_ws(b, name_end);
        if b.get(colon) != Some(&b':') {
            continue;
        }
        let (range, end, _) = read_until(b, colon + 1, b";}");
        pos = end;
        if vars.len() >= MAX_VARS {
            return;
        }
        if let (Some(name), Some(val)) = (css.get(start..name_end), css.get(range)) {
            let val = val.trim();
            if val.len() <= MAX_VAR_VALUE {
                vars.insert(name.to_ascii_lowercase(), val.to_ascii_lowercase());
            }
        }
    }
}

/// Expands `var(--x[, fallback])`; `None` when a variable is unknown without fallback (the
/// declaration is then invalid, as in CSS) or expansion runs away.
fn substitute_vars(v: &str, local: &HashMap<String, String>, vars: &HashMap<String, String>) -> Option<String> {
    let mut s = v.to_string();
    for _ in 0..MAX_VAR_EXPANSIONS {
        let Some(i) = s.find("var(") else {
            return Some(s);
        };
        let inner_start = i + 4;
        let b = s.as_bytes();
        let mut depth = 1usize;
        let mut j = inner_start;
        while let Some(&c) = b.get(j) {
            if c == b'(' {
                depth += 1;
            } else if c == b')' {
                depth -= 1;
                if depth == 0 {
                    break;
                }
            }
            j += 1;
        }
        let inner = s.get(inner_start..j)?;
        let (name, fallback) = match inner.split_once(',') {
            Some((n, f)) => (n.trim(), Some(f.trim())),
            None => (inner.trim(), None),
        };
        let val = local.get(name).or_else(|| vars.get(name)).map(String::as_str).or(fallback)?;
        let rebuilt = format!("{}{}{}", s.get(..i)?, val, s.get(j + 1..).unwrap_or(""));
        if rebuilt.len() > MAX_VAR_VALUE * 4 {
            return None;
        }
        s = rebuilt;
    }
    None
}

/// Parses a declaration block (a `style` attribute or a rule body) into the properties kept.
pub fn parse_declarations(body: &str) -> Vec<Declared> {
    parse_declarations_with(body, &HashMap::new())
}

/// Like [`parse_declarations`], resolving `var()` against `vars` and the block's own custom
/// properties (which take precedence).
pub fn parse_declarations_with(body: &str, vars: &HashMap<String, String>) -> Vec<Declared> {
    let mut local = HashMap::new();
    if body.contains("--") {
        collect_vars(body, &mut local);
    }
    let mut out = Vec::new();
    for d in split_top_level(body, b';') {
        let Some((name, value)) = d.split_once(':') else {
            continue;
        };
        let name = name.trim().to_ascii_lowercase();
        if name.starts_with("--") {
            continue;
        }
        let mut value = value.trim().to_ascii_lowercase();
        if value.contains("var(") {
            match substitute_vars(&value, &local, vars) {
                Some(v) => value = v,
                None => continue,
            }
        }
        let mut important = false;
        if let Some(i) = value.rfind('!') {
            if value.get(i + 1..).is_some_and(|r| r.trim() == "important") {
                important = true;
                value.truncate(i);
                let t = value.trim_end().len();
                value.truncate(t);
            }
        }
        parse_property(&name, &value, &mut |decl| out.push(Declared { decl, important }));
    }
    out
}

fn parse_property(name: &str, v: &str, push: &mut dyn FnMut(Decl)) {
    match name {
        "display" => {
            if let Some(d) = parse_display(v) {
                push(Decl::Display(d))
            }
        }
        "visibility" => match v {
            "hidden" | "collapse" => push(Decl::VisibilityHidden(true)),
            "visible" => push(Decl::VisibilityHidden(false)),
            _ => {}
        },
        "opacity" => {
            if let Some(o) = parse_number_or_percent(v) {
                push(Decl::Opacity(o))
            }
        }
        "filter" => {
            if let Some(inner) = v.strip_prefix("opacity(").and_then(|r| r.strip_suffix(')')) {
                if let Some(o) = parse_number_or_percent(inner.trim()) {
                    push(Decl::Opacity(o))
                }
            }
        }
        "font-size" => {
            if let Some(f) = parse_font_size(v) {
                push(Decl::FontSize(f))
            }
        }
        "font" => {
            // `font: [style] [weight] size[/line-height] family`: the first token that parses as
            // a size is the size (`font: 0/0 a` is a classic hiding trick).
            for tok in v.split_whitespace() {
                let size = tok.split('/').next().unwrap_or("");
                if let Some(f) = parse_font_size(size) {
                    push(Decl::FontSize(f));
                    break;
                }
            }
        }
        "color" => {
            if let Some(c) = parse_color(v) {
                push(Decl::Color(c))
            }
        }
        "background-color" => {
            if let Some(c) = parse_color(v) {
                push(Decl::Background(c))
            }
        }
        "background-image" => push(Decl::BackgroundImage(v != "none")),
        "background" => {
            let image = v.contains("url(") || v.contains("gradient(");
            push(Decl::BackgroundImage(image));
            let color = split_top_level(v, b' ').into_iter().find_map(|t| parse_color(t.trim().trim_end_matches(',')));
            // The shorthand resets the colour to transparent when none is given.
            push(Decl::Background(color.unwrap_or(Rgba { a: 0.0, ..Rgba::WHITE })));
        }
        "position" => {
            let p = match v {
                "static" => Position::Static,
                "relative" => Position::Relative,
                "absolute" => Position::Absolute,
                "fixed" => Position::Fixed,
                "sticky" => Position::Sticky,
                _ => return,
            };
            push(Decl::Position(p))
        }
        "left" | "inset-inline-start" => len(v, push, Decl::Left),
        "top" | "inset-block-start" => len(v, push, Decl::Top),
        "right" | "inset-inline-end" => len(v, push, Decl::Right),
        "bottom" | "inset-block-end" => len(v, push, Decl::Bottom),
        "margin-left" => len(v, push, Decl::MarginLeft),
        "margin-top" => len(v, push, Decl::MarginTop),
        "margin" => {
            let parts: Vec<&str> = v.split_whitespace().collect();
            let top = parts.first().copied();
            let left = match parts.len() {
                0 => None,
                1 => parts.first().copied(),
                2 | 3 => parts.get(1).copied(),
                _ => parts.get(3).copied(),
            };
            if let Some(l) = top.and_then(parse_length) {
                push(Decl::MarginTop(l))
            }
            if let Some(l) = left.and_then(parse_length) {
                push(Decl::MarginLeft(l))
            }
        }
        "text-indent" => len(v, push, Decl::TextIndent),
        "width" => len(v, push, Decl::Width),
        "height" => len(v, push, Decl::Height),
        "max-width" => len(v, push, Decl::MaxWidth),
        "max-height" => len(v, push, Decl::MaxHeight),
        "overflow" | "overflow-x" | "overflow-y" => {
            let hidden = v.split_whitespace().any(|t| matches!(t, "hidden" | "clip" | "scroll" | "auto"));
            push(Decl::OverflowHidden(hidden))
        }
        "clip" => push(Decl::ClipZero(clip_rect_zero(v))),
        "clip-path" => push(Decl::ClipZero(clip_path_zero(v))),
        "transform" => {
            push(Decl::ScaleZero(transform_scale_zero(v)));
            if let Some(t) = transform_translate(v) {
                push(Decl::Translate(t))
            }
        }
        "scale" => {
            let zero = v.split_whitespace().filter_map(parse_number_or_percent).any(|s| s.abs() < 0.05);
            push(Decl::ScaleZero(zero))
        }
        "white-space" | "white-space-collapse" => {
            push(Decl::PreserveSpace(matches!(v, "pre" | "pre-wrap" | "pre-line" | "break-spaces" | "preserve")))
        }
        "content-visibility" => push(Decl::ContentHidden(v == "hidden")),
        "text-transform" => {
            let t = match v.split_whitespace().next().unwrap_or("") {
                "none" => TextTransform::None,
                "uppercase" => TextTransform::Uppercase,
                "lowercase" => TextTransform::Lowercase,
                "capitalize" => TextTransform::Capitalize,
                _ => return,
            };
            push(Decl::TextTransform(t))
        }
        _ => {}
    }
}

fn len(v: &str, push: &mut dyn FnMut(Decl), f: fn(Length) -> Decl) {
    if let Some(l) = parse_length(v) {
        push(f(l))
    }
}

fn parse_display(v: &str) -> Option<Display> {
    // Two-value syntax (`block flow`, `inline flex`): the outer type decides.
    let mut it = v.split_whitespace();
    let first = it.next()?;
    Some(match first {
        "none" => Display::None,
        "inline" => match it.next() {
            Some("flex" | "grid" | "flow-root" | "table") => Display::InlineBlock,
            _ => Display::Inline,
        },
        "inline-block" | "inline-flex" | "inline-grid" | "inline-table" | "ruby" => Display::InlineBlock,
        "block" | "flex" | "grid" | "flow-root" | "flow" | "-webkit-box" | "-ms-flexbox" => Display::Block,
        "list-item" => Display::ListItem,
        "table" => Display::Table,
        "table-row" => Display::TableRow,
        "table-cell" => Display::TableCell,
        "table-caption" => Display::TableCaption,
        "table-row-group" | "table-header-group" | "table-footer-group" | "table-column" | "table-column-group" => {
            Display::TableGroup
        }
        "contents" => Display::Contents,
        _ => return None,
    })
}

/// Parses a CSS number with an optional `%` (as a fraction).
fn parse_number_or_percent(v: &str) -> Option<f32> {
    let v = v.trim();
    if let Some(p) = v.strip_suffix('%') {
        return p.trim().parse::<f32>().ok().map(|x| x / 100.0);
    }
    v.parse::<f32>().ok().filter(|x| x.is_finite())
}

/// Parses one length token. Unitless zero is a length; other unitless numbers are not.
pub fn parse_length(v: &str) -> Option<Length> {
    let v = v.trim();
    let split = v
        .char_indices()
        .find(|(_, c)| !(c.is_ascii_digit() || matches!(c, '.' | '-' | '+' | 'e')))
        .map(|(i, _)| i)
        .unwrap_or(v.len());
    // `e` may start a unit (`em`, `ex`): back off when what follows is not a number exponent.
    let (mut num, mut unit) = (v.get(..split)?, v.get(split..)?);
    if let Some(i) = num.find('e') {
        if !num.get(i + 1..).is_some_and(|r| r.starts_with(|c: char| c.is_ascii_digit() || c == '-')) {
            unit = v.get(i..)?;
            num = v.get(..i)?;
        }
    }
    let n: f32 = num.parse().ok().filter(|x: &f32| x.is_finite())?;
    Some(match unit {
        "" if n == 0.0 => Length::Px(0.0),
        "px" => Length::Px(n),
        "pt" => Length::Px(n * 4.0 / 3.0),
        "pc" => Length::Px(n * 16.0),
        "in" => Length::Px(n * 96.0),
        "cm" => Length::Px(n * 96.0 / 2.54),
        "mm" => Length::Px(n * 96.0 / 25.4),
        "q" => Length::Px(n * 96.0 / 101.6),
        "em" => Length::Em(n),
        "ex" | "ch" => Length::Em(n * 0.5),
        "rem" => Length::Px(n * 16.0),
        "%" => Length::Percent(n),
        "vw" => Length::Px(n * VIEWPORT_W / 100.0),
        "vh" => Length::Px(n * VIEWPORT_H / 100.0),
        "vmin" => Length::Px(n * VIEWPORT_H / 100.0),
        "vmax" => Length::Px(n * VIEWPORT_W / 100.0),
        _ => return None,
    })
}

fn parse_font_size(v: &str) -> Option<FontSize> {
    Some(match v {
        "xx-small" => FontSize::Len(Length::Px(9.0)),
        "x-small" => FontSize::Len(Length::Px(10.0)),
        "small" => FontSize::Len(Length::Px(13.0)),
        "medium" => FontSize::Len(Length::Px(16.0)),
        "large" => FontSize::Len(Length::Px(18.0)),
        "x-large" => FontSize::Len(Length::Px(24.0)),
        "xx-large" => FontSize::Len(Length::Px(32.0)),
        "xxx-large" => FontSize::Len(Length::Px(48.0)),
        "smaller" => FontSize::Factor(0.83),
        "larger" => FontSize::Factor(1.2),
        _ => {
            let l = parse_length(v)?;
            // Percent font sizes are relative to the parent font, like em.
            FontSize::Len(match l {
                Length::Percent(p) => Length::Em(p / 100.0),
                other => other,
            })
        }
    })
}

fn clip_rect_zero(v: &str) -> bool {
    let Some(inner) = v.strip_prefix("rect(").and_then(|r| r.trim_end().strip_suffix(')')) else {
        return false;
    };
    let n: Vec<f32> = inner
        .split(|c: char| c == ',' || c.is_whitespace())
        .filter(|s| !s.is_empty())
        .map(|s| if s == "auto" { Some(f32::NAN) } else { parse_length(s).map(|l| l.px(16.0, 0.0)) })
        .collect::<Option<Vec<f32>>>()
        .unwrap_or_default();
    // rect(top, right, bottom, left): empty when bottom <= top + 1 or right <= left + 1.
    match n.as_slice() {
        [t, r, b, l] => (!b.is_nan() && !t.is_nan() && b - t <= 1.0) || (!r.is_nan() && !l.is_nan() && r - l <= 1.0),
        _ => false,
    }
}

fn clip_path_zero(v: &str) -> bool {
    let v = v.trim();
    let args = |p: &str| v.strip_prefix(p).and_then(|r| r.strip_suffix(')')).map(str::to_string);
    if let Some(a) = args("inset(") {
        // inset(50%) or more from both sides leaves nothing.
        let first: Vec<&str> = a.split(" round").next().unwrap_or("").split_whitespace().collect();
        let pct: Vec<f32> =
            first.iter().filter_map(|t| t.strip_suffix('%').and_then(|p| p.parse::<f32>().ok())).collect();
        return !pct.is_empty() && pct.len() == first.len() && pct.iter().all(|p| *p >= 50.0);
    }
    if let Some(a) = args("circle(").or_else(|| args("ellipse(")) {
        let r = a.split(" at").next().unwrap_or("").trim();
        return r.split_whitespace().all(|t| parse_length(t).is_some_and(|l| l.px(16.0, 100.0).abs() < 0.5));
    }
    if let Some(a) = args("polygon(") {
        let nums: Vec<f32> = a
            .split(|c: char| c == ',' || c.is_whitespace())
            .filter(|s| !s.is_empty())
            .filter_map(|t| parse_length(t).map(|l| l.px(16.0, 100.0)))
            .collect();
        return !nums.is_empty() && nums.iter().all(|n| n.abs() < 0.5);
    }
    false
}

fn transform_scale_zero(v: &str) -> bool {
    for f in ["scale(", "scalex(", "scaley(", "scale3d("] {
        let mut rest = v;
        while let Some(i) = rest.find(f) {
            let args = rest.get(i + f.len()..).unwrap_or("");
            let inner = args.split(')').next().unwrap_or("");
            if inner
                .split(|c: char| c == ',' || c.is_whitespace())
                .filter(|s| !s.is_empty())
                .filter_map(parse_number_or_percent)
                .any(|s| s.abs() < 0.05)
            {
                return true;
            }
            rest = args;
        }
    }
    false
}

fn transform_translate(v: &str) -> Option<Length> {
    for f in ["translatex(", "translate(", "translate3d("] {
        if let Some(i) = v.find(f) {
            let inner = v.get(i + f.len()..)?.split(')').next()?;
            let first = inner.split(',').next()?.trim();
            return parse_length(first);
        }
    }
    if let Some(i) = v.find("translatey(") {
        let inner = v.get(i + 11..)?.split(')').next()?;
        return parse_length(inner.trim());
    }
    None
}

/// Parses a colour value; `None` for what is not understood (including `inherit`).
pub fn parse_color(v: &str) -> Option<Rgba> {
    let v = v.trim();
    if let Some(hex) = v.strip_prefix('#') {
        let d: Vec<f32> = hex.chars().map(|c| c.to_digit(16).map(|x| x as f32)).collect::<Option<Vec<_>>>()?;
        return match d.as_slice() {
            [r, g, b] => Some(Rgba::rgb(r * 17.0, g * 17.0, b * 17.0)),
            [r, g, b, a] => Some(Rgba { a: a * 17.0 / 255.0, ..Rgba::rgb(r * 17.0, g * 17.0, b * 17.0) }),
            [r1, r2, g1, g2, b1, b2] => Some(Rgba::rgb(r1 * 16.0 + r2, g1 * 16.0 + g2, b1 * 16.0 + b2)),
            [r1, r2, g1, g2, b1, b2, a1, a2] => {
                Some(Rgba { a: (a1 * 16.0 + a2) / 255.0, ..Rgba::rgb(r1 * 16.0 + r2, g1 * 16.0 + g2, b1 * 16.0 + b2) })
            }
            _ => None,
        };
    }
    if let Some(rest) = v.strip_prefix("rgba(").or_else(|| v.strip_prefix("rgb(")) {
        let inner = rest.strip_suffix(')')?;
        let parts: Vec<&str> =
            inner.split(|c: char| c == ',' || c == '/' || c.is_whitespace()).filter(|s| !s.is_empty()).collect();
        let ch = |s: &str| -> Option<f32> {
            match s.strip_suffix('%') {
                Some(p) => p.parse::<f32>().ok().map(|x| x * 2.55),
                None => s.parse::<f32>().ok(),
            }
        };
        let (r, g, b) = (ch(parts.first()?)?, ch(parts.get(1)?)?, ch(parts.get(2)?)?);
        let a = match parts.get(3) {
            Some(a) => parse_number_or_percent(a)?,
            None => 1.0,
        };
        return Some(Rgba { r, g, b, a });
    }
    if let Some(rest) = v.strip_prefix("hsla(").or_else(|| v.strip_prefix("hsl(")) {
        let inner = rest.strip_suffix(')')?;
        let parts: Vec<&str> =
            inner.split(|c: char| c == ',' || c == '/' || c.is_whitespace()).filter(|s| !s.is_empty()).collect();
        let h: f32 = parts.first()?.trim_end_matches("deg").parse().ok()?;
        let s = parse_number_or_percent(parts.get(1)?)?;
        let l = parse_number_or_percent(parts.get(2)?)?;
        let a = match parts.get(3) {
            Some(a) => parse_number_or_percent(a)?,
            None => 1.0,
        };
        let (r, g, b) = hsl_to_rgb(h, s, l);
        return Some(Rgba { r, g, b, a });
    }
    let named = match v {
        "transparent" => return Some(Rgba { a: 0.0, ..Rgba::BLACK }),
        "white" => (255, 255, 255),
        "black" => (0, 0, 0),
        "red" => (255, 0, 0),
        "green" => (0, 128, 0),
        "lime" => (0, 255, 0),
        "blue" => (0, 0, 255),
        "navy" => (0, 0, 128),
        "yellow" => (255, 255, 0),
        "gray" | "grey" => (128, 128, 128),
        "silver" => (192, 192, 192),
        "lightgray" | "lightgrey" => (211, 211, 211),
        "gainsboro" => (220, 220, 220),
        "whitesmoke" => (245, 245, 245),
        "snow" => (255, 250, 250),
        "ivory" => (255, 255, 240),
        "ghostwhite" => (248, 248, 255),
        "floralwhite" => (255, 250, 240),
        "mintcream" => (245, 255, 250),
        "azure" => (240, 255, 255),
        "aliceblue" => (240, 248, 255),
        "seashell" => (255, 245, 238),
        "linen" => (250, 240, 230),
        "beige" => (245, 245, 220),
        "honeydew" => (240, 255, 240),
        "lavenderblush" => (255, 240, 245),
        "oldlace" => (253, 245, 230),
        "cornsilk" => (255, 248, 220),
        "darkgray" | "darkgrey" => (169, 169, 169),
        "dimgray" | "dimgrey" => (105, 105, 105),
        "maroon" => (128, 0, 0),
        "purple" => (128, 0, 128),
        "fuchsia" | "magenta" => (255, 0, 255),
        "olive" => (128, 128, 0),
        "teal" => (0, 128, 128),
        "aqua" | "cyan" => (0, 255, 255),
        "orange" => (255, 165, 0),
        _ => return None,
    };
    Some(Rgba::rgb(named.0 as f32, named.1 as f32, named.2 as f32))
}

fn hsl_to_rgb(h: f32, s: f32, l: f32) -> (f32, f32, f32) {
    let h = ((h % 360.0) + 360.0) % 360.0 / 360.0;
    let q = if l < 0.5 { l * (1.0 + s) } else { l + s - l * s };
    let p = 2.0 * l - q;
    let f = |mut t: f32| {
        if t < 0.0 {
            t += 1.0
        }
        if t > 1.0 {
            t -= 1.0
        }
        if t < 1.0 / 6.0 {
            p + (q - p) * 6.0 * t
        } else if t < 0.5 {
            q
        } else if t < 2.0 / 3.0 {
            p + (q - p) * (2.0 / 3.0 - t) * 6.0
        } else {
            p
        }
    };
    (f(h + 1.0 / 3.0) * 255.0, f(h) * 255.0, f(h - 1.0 / 3.0) * 255.0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use scraper::Html;

    fn decls(s: &str) -> Vec<Decl> {
        parse_declarations(s).into_iter().map(|d| d.decl).collect()
    }

    #[test]
    fn parses_hiding_properties() {
        assert!(decls("display: none").contains(&Decl::Display(Display::None)));
        assert!(decls("visibility:hidden").contains(&Decl::VisibilityHidden(true)));
        assert!(decls("opacity:0").contains(&Decl::Opacity(0.0)));
        assert!(decls("font: 0/0 a").contains(&Decl::FontSize(FontSize::Len(Length::Px(0.0)))));
        assert!(decls("font-size:1pt")
            .iter()
            .any(|d| matches!(d, Decl::FontSize(FontSize::Len(Length::Px(p))) if *p < 2.0)));
        assert!(decls("clip: rect(0 0 0 0)").contains(&Decl::ClipZero(true)));
        assert!(decls("clip: rect(1px, 1px, 1px, 1px)").contains(&Decl::ClipZero(true)));
        assert!(decls("clip-path: inset(50%)").contains(&Decl::ClipZero(true)));
        assert!(decls("clip-path: circle(0)").contains(&Decl::ClipZero(true)));
        assert!(decls("clip-path: inset(10%)").contains(&Decl::ClipZero(false)));
        assert!(decls("transform: scale(0)").contains(&Decl::ScaleZero(true)));
        assert!(decls("left:-9999px").contains(&Decl::Left(Length::Px(-9999.0))));
        assert!(decls("text-indent:-100em").contains(&Decl::TextIndent(Length::Em(-100.0))));
        assert!(decls("color: #FFF !important").contains(&Decl::Color(Rgba::WHITE)));
        assert!(parse_declarations("color: red !important")[0].important);
        assert!(decls("background: url(x.png) #000").contains(&Decl::BackgroundImage(true)));
        assert!(decls("color: notacolor; width: calc(1px)").is_empty());
    }

    #[test]
    fn colors() {
        assert_eq!(parse_color("#ffffff"), Some(Rgba::WHITE));
        assert_eq!(parse_color("rgb(255, 255, 255)"), Some(Rgba::WHITE));
        assert_eq!(parse_color("rgb(255 255 255 / 0)").map(|c| c.a), Some(0.0));
        assert_eq!(parse_color("rgba(0,0,0,.5)").map(|c| c.a), Some(0.5));
        let w = parse_color("hsl(0, 0%, 100%)").unwrap();
        assert!(w.contrast(Rgba::WHITE) < 1.01);
        assert!(Rgba::BLACK.contrast(Rgba::WHITE) > 20.0);
        assert_eq!(parse_color("inherit"), None);
    }

    #[test]
    fn media_queries() {
        assert!(media_matches(""));
        assert!(media_matches("screen"));
        assert!(media_matches("all and (min-width: 768px)"));
        assert!(!media_matches("print"));
        assert!(!media_matches("(max-width: 600px)"));
        assert!(media_matches("print, screen"));
        assert!(!media_matches("not screen"));
    }

    #[test]
    fn cascade_by_specificity_order_and_importance() {
        let mut sheet = Stylesheet::new();
        sheet.add_sheet(
            "/* c */ .a { display: none } p.a { display: block } \
             @media print { .b { display:none } } @font-face { src: x } \
             .c { display:none !important } #d { display: block } \
             div .e { visibility: hidden } a:hover { display:none } p::before { display:none }",
        );
        let doc = Html::parse_document(
            r#"<p class="a" id=x>1</p><div class="a">2</div><p class=b>3</p><p class=c id=d>4</p><div><span class=e>5</span></div><span class=e>6</span><a href=#>7</a>"#,
        );
        let get = |sel: &str, slot: usize| {
            let s = Selector::parse(sel).unwrap();
            let el = doc.select(&s).next().unwrap();
            let mut c = Cascade::default();
            sheet.cascade(el, &mut c);
            c.get(slot)
        };
        assert_eq!(get("p.a", 0), Some(Decl::Display(Display::Block)));
        assert_eq!(get("div.a", 0), Some(Decl::Display(Display::None)));
        assert_eq!(get("p.b", 0), None);
        assert_eq!(get("p.c", 0), Some(Decl::Display(Display::None)));
        assert_eq!(get("div span.e", 1), Some(Decl::VisibilityHidden(true)));
        assert_eq!(get("body > span.e", 1), None);
        assert_eq!(get("a", 0), None);
    }

    #[test]
    fn custom_properties() {
        let mut sheet = Stylesheet::new();
        sheet.add_sheet(":root{--hide: none; --c:#fff} .x{display:var(--hide)} .y{color:var(--nope, var(--c))} .z{display:var(--unknown)}");
        let doc = Html::parse_document("<p class=x>a</p><p class=y>b</p><p class=z>c</p>");
        let get = |sel: &str, slot: usize| {
            let s = Selector::parse(sel).unwrap();
            let el = doc.select(&s).next().unwrap();
            let mut c = Cascade::default();
            sheet.cascade(el, &mut c);
            c.get(slot)
        };
        assert_eq!(get("p.x", 0), Some(Decl::Display(Display::None)));
        assert_eq!(get("p.y", 4), Some(Decl::Color(Rgba::WHITE)));
        assert_eq!(get("p.z", 0), None);
        let inline: Vec<Decl> = sheet.inline("--o:0; opacity: var(--o)").into_iter().map(|d| d.decl).collect();
        assert_eq!(inline, vec![Decl::Opacity(0.0)]);
        // Self-referential variables end.
        let mut loopy = Stylesheet::new();
        loopy.add_sheet(":root{--a: var(--a) var(--a)} .q{display:var(--a)}");
        assert!(loopy.is_empty());
    }

    #[test]
    fn hostile_css_is_bounded() {
        let mut sheet = Stylesheet::new();
        let deep = "@media screen {".repeat(10_000) + ".x{display:none}" + &"}".repeat(10_000);
        sheet.add_sheet(&deep);
        sheet.add_sheet("{{{{ ;;; } .y { color: ");
        sheet.add_sheet("\"unterminated { .z{display:none}");
        let many = ".r{display:none}".repeat(MAX_RULES + 10);
        sheet.add_sheet(&many);
        assert_eq!(sheet.len(), MAX_RULES);
        assert!(sheet.dropped >= 10);
    }
}
