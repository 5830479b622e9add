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

/// Gap, in ems of the larger font, that separates words.
const WORD_GAP_EM: f64 = 0.18;
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

/// Appends the glyphs of one page to `out`.
pub(crate) fn emit(glyphs: &[Glyph], out: &mut Extracted, origin: &Origin) {
    let mut prev: Option<&Glyph> = None;
    let mut prev_vis = Visibility::VISIBLE;
    let mut prev_unmapped = false;
    for g in glyphs {
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
            if !s.is_empty() {
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
        let text = if g.text.chars().any(|c| c == '\0' || (c.is_control() && c != '\n' && c != '\t')) {
            g.text
                .chars()
                .filter(|c| !c.is_control() || *c == '\n' || *c == '\t')
                .collect::<String>()
        } else {
            g.text.clone()
        };
        out.push_flagged(&text, g.vis, origin, g.unmapped);
        prev = Some(g);
        prev_vis = g.vis;
        prev_unmapped = g.unmapped;
    }
}
