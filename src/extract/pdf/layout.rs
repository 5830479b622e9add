//! Words and lines from positioned glyphs.
//!
//! PDF content has no spaces or line breaks of its own: a word gap is a move of the text
//! position, a line break is a baseline change. Glyphs are kept in content-stream order (what
//! pdftotext's default mode produces for ordinary single- and multi-column documents written
//! top to bottom) and separated by comparing each glyph's origin with where the previous glyph
//! ended, in the previous glyph's own direction so rotated text lays out too.
//!
//! Separators between two glyphs with the same hidden visibility are pushed inside that hidden
//! span, so a hidden sentence stays one span that detectors can attribute.

use super::content::Glyph;
use crate::model::{Extracted, Origin, Visibility};
use std::collections::HashSet;

/// Gap, in ems of the larger font, that separates words. Below TeX's thin space (1/6 em),
/// which pdftotext reads as a word break (`d(P, Q)`), and above ordinary kerning (under 0.1 em).
const WORD_GAP_EM: f64 = 0.15;
/// Perpendicular offset, in ems, that starts a new line.
const LINE_SHIFT_EM: f64 = 0.5;
/// Vertical gap, in ems, that starts a new paragraph.
const PARA_GAP_EM: f64 = 2.2;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Sep {
    None,
    Space,
    Line,
    Para,
}

fn separation(prev: &Glyph, g: &Glyph) -> Sep {
    let em = prev.size.max(g.size).max(0.01);
    let ex = prev.x + prev.ux * prev.adv;
    let ey = prev.y + prev.uy * prev.adv;
    let (dx, dy) = (g.x - ex, g.y - ey);
    let along = dx * prev.ux + dy * prev.uy;
    let perp = prev.ux * dy - prev.uy * dx;
    let turned = (prev.ux * g.ux + prev.uy * g.uy) < 0.9;
    if turned || perp.abs() > LINE_SHIFT_EM * em {
        // Superscripts and subscripts shift less than a line and keep going forward.
        if !turned && perp.abs() < 0.9 * em && along > -0.5 * em && along < 2.0 * em {
            return if along > WORD_GAP_EM * em { Sep::Space } else { Sep::None };
        }
        if -perp > PARA_GAP_EM * em || perp > 4.0 * em {
            return Sep::Para;
        }
        return Sep::Line;
    }
    if along > WORD_GAP_EM * em {
        // Very wide gaps on one baseline are table columns; a space keeps words apart.
        return Sep::Space;
    }
    if along < -2.0 * em {
        // Jumped back on the same baseline: overprinted or out-of-order text.
        return Sep::Space;
    }
    Sep::None
}

/// Glyph order for reading: content order, except that runs of consecutive lines drawn
/// bottom-up in one column (some generators write a page upwards) are read top-down.
fn reading_order(glyphs: &[Glyph]) -> Vec<usize> {
    // Lines as index ranges of content order.
    let mut lines: Vec<(usize, usize)> = Vec::new();
    let mut start = 0;
    for i in 1..glyphs.len() {
        if let (Some(p), Some(g)) = (glyphs.get(i - 1), glyphs.get(i)) {
            if matches!(separation(p, g), Sep::Line | Sep::Para) {
                lines.push((start, i));
                start = i;
            }
        }
    }
    if !glyphs.is_empty() {
        lines.push((start, glyphs.len()));
    }
    let upright = |g: &Glyph| g.ux > 0.99 && g.uy.abs() < 0.01;
    // Steps up by about one line within the same column.
    let step_up = |a: &(usize, usize), b: &(usize, usize)| -> bool {
        let (Some(ga), Some(gb)) = (glyphs.get(a.0), glyphs.get(b.0)) else {
            return false;
        };
        let em = ga.size.max(gb.size).max(0.01);
        upright(ga) && upright(gb) && gb.y > ga.y + 0.5 * em && gb.y - ga.y < 3.0 * em && (gb.x - ga.x).abs() < 6.0 * em
    };
    let mut ordered: Vec<(usize, usize)> = Vec::with_capacity(lines.len());
    let mut i = 0;
    while i < lines.len() {
        let mut j = i;
        while j + 1 < lines.len() && lines.get(j).zip(lines.get(j + 1)).is_some_and(|(a, b)| step_up(a, b)) {
            j += 1;
        }
        if j > i {
            ordered.extend(lines.get(i..=j).unwrap_or(&[]).iter().rev().copied());
        } else if let Some(l) = lines.get(i) {
            ordered.push(*l);
        }
        i = j + 1;
    }
    let ordered = order_blocks(glyphs, &ordered).unwrap_or(ordered);
    ordered.into_iter().flat_map(|(a, b)| a..b).collect()
}

/// Most blocks on a page that are reordered geometrically; past it content order stands.
const MAX_BLOCKS: usize = 1500;

/// Groups lines into blocks (paragraph-like runs in one column) and orders blocks as a reader
/// would: a block above another it overlaps horizontally comes first, and a block wholly left of
/// another it overlaps vertically comes first (columns). Ties and cycles keep content order.
/// Returns `None` (keep content order) for pages with rotated text or too many blocks.
fn order_blocks(glyphs: &[Glyph], lines: &[(usize, usize)]) -> Option<Vec<(usize, usize)>> {
    if glyphs.iter().any(|g| !(g.ux > 0.99 && g.uy.abs() < 0.01)) {
        return None;
    }
    struct Block {
        lines: Vec<(usize, usize)>,
        x0: f64,
        x1: f64,
        y0: f64,
        y1: f64,
        em: f64,
    }
    let bbox = |l: &(usize, usize)| -> Option<(f64, f64, f64, f64, f64)> {
        let gs = glyphs.get(l.0..l.1)?;
        let mut r = (f64::INFINITY, f64::INFINITY, f64::NEG_INFINITY, f64::NEG_INFINITY, 0.0f64);
        for g in gs {
            r.0 = r.0.min(g.bbox.x0);
            r.1 = r.1.min(g.bbox.y0);
            r.2 = r.2.max(g.bbox.x1);
            r.3 = r.3.max(g.bbox.y1);
            r.4 = r.4.max(g.size);
        }
        r.0.is_finite().then_some(r)
    };
    let mut blocks: Vec<Block> = Vec::new();
    for l in lines {
        let Some((x0, y0, x1, y1, em)) = bbox(l) else {
            continue;
        };
        if let Some(b) = blocks.last_mut() {
            let below = y1 <= b.y0 + 0.5 * em && b.y0 - y1 < 1.2 * em.max(b.em);
            let overlap = x0 < b.x1 && x1 > b.x0;
            if below && overlap {
                b.lines.push(*l);
                b.x0 = b.x0.min(x0);
                b.x1 = b.x1.max(x1);
                b.y0 = b.y0.min(y0);
                b.y1 = b.y1.max(y1);
                b.em = b.em.max(em);
                continue;
            }
        }
        blocks.push(Block { lines: vec![*l], x0, x1, y0, y1, em });
    }
    let n = blocks.len();
    if !(2..=MAX_BLOCKS).contains(&n) {
        return None;
    }
    let before = |a: &Block, b: &Block| -> bool {
        let tol = 0.2 * a.em.min(b.em);
        let x_overlap = a.x0 < b.x1 - tol && a.x1 > b.x0 + tol;
        let y_overlap = a.y0 < b.y1 - tol && a.y1 > b.y0 + tol;
        (x_overlap && a.y0 >= b.y1 - tol) || (!x_overlap && y_overlap && a.x1 <= b.x0 + tol)
    };
    let mut indeg = vec![0usize; n];
    let mut succ: Vec<Vec<usize>> = vec![Vec::new(); n];
    for (i, a) in blocks.iter().enumerate() {
        for (j, b) in blocks.iter().enumerate() {
            if i != j && before(a, b) && !before(b, a) {
                if let (Some(s), Some(d)) = (succ.get_mut(i), indeg.get_mut(j)) {
                    s.push(j);
                    *d += 1;
                }
            }
        }
    }
    let mut done = vec![false; n];
    let mut out = Vec::with_capacity(lines.len());
    for _ in 0..n {
        // The earliest block in content order with nothing left before it; on a cycle, the
        // earliest remaining block.
        let pick = (0..n)
            .find(|&i| !done.get(i).copied().unwrap_or(true) && indeg.get(i) == Some(&0))
            .or_else(|| (0..n).find(|&i| !done.get(i).copied().unwrap_or(true)))?;
        if let Some(d) = done.get_mut(pick) {
            *d = true;
        }
        for &j in succ.get(pick).map(Vec::as_slice).unwrap_or(&[]) {
            if let Some(d) = indeg.get_mut(j) {
                *d = d.saturating_sub(1);
            }
        }
        if let Some(b) = blocks.get(pick) {
            out.extend(b.lines.iter().copied());
        }
    }
    Some(out)
}

/// Appends the glyphs of one page to `out`.
pub(crate) fn emit(glyphs: &[Glyph], out: &mut Extracted, origin: &Origin) {
    let order = reading_order(glyphs);
    let mut seq: Vec<&Glyph> = order.iter().filter_map(|&i| glyphs.get(i)).collect();
    logical_rtl(&mut seq);
    let glyphs = seq.into_iter();
    let mut prev: Option<&Glyph> = None;
    let mut prev_vis = Visibility::VISIBLE;
    let mut prev_unmapped = false;
    // Text drawn twice at the same place (fake bold, repeated watermarks) is read once.
    let mut seen: HashSet<(String, i64, i64, Visibility)> = HashSet::new();
    for g in glyphs {
        // Only visible, normally advancing glyphs are deduplicated: squeezed or hidden text
        // piles glyphs on one spot and must keep every letter.
        if g.vis.is_visible() && g.adv > 0.1 * g.size && !g.text.trim().is_empty() {
            // Same place means within a fifth of the glyph size.
            let q = (g.size * 0.2).max(1e-3);
            let key = (g.text.clone(), (g.x / q).round() as i64, (g.y / q).round() as i64, g.vis);
            if !seen.insert(key) {
                continue;
            }
        }
        if let Some(p) = prev {
            let sep = separation(p, g);
            let same_hidden = p.vis == g.vis && g.vis.is_hidden();
            let ends_space = out.text.ends_with([' ', '\n']);
            let starts_space = g.text.starts_with([' ', '\n']);
            let s = match sep {
                Sep::None => "",
                Sep::Space if ends_space || starts_space => "",
                Sep::Space => " ",
                Sep::Line => "\n",
                Sep::Para => "\n\n",
            };
            if (sep == Sep::Line || sep == Sep::Para) && dehyphenate(out, g) {
                // Joined a word broken across lines; no separator.
            } else if !s.is_empty() {
                if same_hidden {
                    let s = if out.text.ends_with(' ') && s != " " {
                        s
                    } else if out.text.ends_with('\n') {
                        ""
                    } else {
                        s
                    };
                    out.push_flagged(s, prev_vis, origin, prev_unmapped && g.unmapped);
                } else {
                    match sep {
                        Sep::Line => out.newline(),
                        Sep::Para => out.paragraph_break(),
                        _ => out.push_separator(s),
                    }
                }
            }
        }
        if g.text.is_empty() {
            prev = Some(g);
            continue;
        }
        let text = clean(&g.text);
        out.push_flagged(&text, g.vis, origin, g.unmapped);
        prev = Some(g);
        prev_vis = g.vis;
        prev_unmapped = g.unmapped;
    }
}

/// Expands Latin ligatures (as pdftotext does) and drops control characters.
fn clean(t: &str) -> String {
    let mut out = String::with_capacity(t.len());
    for c in t.chars() {
        match c {
            '\u{FB00}' => out.push_str("ff"),
            '\u{FB01}' => out.push_str("fi"),
            '\u{FB02}' => out.push_str("fl"),
            '\u{FB03}' => out.push_str("ffi"),
            '\u{FB04}' => out.push_str("ffl"),
            '\u{FB05}' | '\u{FB06}' => out.push_str("st"),
            c if c.is_control() && c != '\n' && c != '\t' => {}
            c => out.push(c),
        }
    }
    out
}

/// A visible line ending in a hyphen glued to a word, followed by a line starting with a
/// letter or digit: the hyphen is a line-break artefact and is removed (pdftotext does the
/// same). Only touches the last span when it is visible, so hidden spans are never edited.
fn dehyphenate(out: &mut Extracted, next: &Glyph) -> bool {
    if !next.text.chars().next().is_some_and(char::is_alphanumeric) || next.vis.is_hidden() {
        return false;
    }
    // OCR layers often end a line with a space after the hyphen.
    let trimmed_len = out.text.trim_end_matches(' ').len();
    let Some(last) = out.spans.last() else {
        return false;
    };
    if last.end < trimmed_len || last.visibility.is_hidden() {
        return false;
    }
    let Some(head) = out.text.get(..trimmed_len) else {
        return false;
    };
    let mut tail = head.chars().rev();
    let hy = tail.next();
    let before = tail.next();
    let is_hyphen = matches!(hy, Some('-') | Some('\u{00AD}') | Some('\u{2010}'));
    if !is_hyphen || before.is_none_or(char::is_whitespace) {
        return false;
    }
    let hlen = hy.map_or(0, char::len_utf8);
    let new_len = trimmed_len - hlen;
    if new_len < last.start {
        return false;
    }
    out.text.truncate(new_len);
    if let Some(last) = out.spans.last_mut() {
        last.end = last.end.min(new_len);
        if last.end <= last.start {
            out.spans.pop();
        }
    }
    true
}

fn is_rtl(c: char) -> bool {
    matches!(c as u32, 0x0590..=0x08FF | 0xFB1D..=0xFDFF | 0xFE70..=0xFEFF)
}

fn is_mark(c: char) -> bool {
    matches!(c as u32, 0x0591..=0x05C7 | 0x0610..=0x061A | 0x064B..=0x065F | 0x0670 | 0x06D6..=0x06ED)
}

/// Right-to-left script drawn left to right (visual order) is put back in logical order, as
/// pdftotext does: each run of RTL glyphs (and the spaces inside it) drawn with increasing x is
/// reversed, keeping combining marks after their base letter.
fn logical_rtl(seq: &mut [&Glyph]) {
    let rtl = |g: &Glyph| g.text.chars().next().is_some_and(is_rtl);
    let mut i = 0;
    while i < seq.len() {
        if !seq.get(i).is_some_and(|g| rtl(g)) {
            i += 1;
            continue;
        }
        let mut j = i + 1;
        while j < seq.len() {
            let Some(g) = seq.get(j) else { break };
            let blank_inside = g.text.trim().is_empty() && seq.get(j + 1).is_some_and(|n| rtl(n));
            if !(rtl(g) || blank_inside) {
                break;
            }
            j += 1;
        }
        let run = seq.get_mut(i..j).unwrap_or(&mut []);
        let first_x = run.first().map_or(0.0, |g| g.x);
        let last_x = run.last().map_or(0.0, |g| g.x);
        if run.len() > 1 && last_x > first_x {
            run.reverse();
            let mut k = 0;
            while k + 1 < run.len() {
                let mark = run.get(k).and_then(|g| g.text.chars().next()).is_some_and(is_mark);
                if mark {
                    run.swap(k, k + 1);
                    k += 2;
                } else {
                    k += 1;
                }
            }
        }
        i = j.max(i + 1);
    }
}
