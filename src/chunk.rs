//! Splits sanitized text into retrieval chunks on natural boundaries.
//!
//! Chunks aim at `target` characters, break at the strongest boundary available (paragraph,
//! line, sentence, word, then any character), and overlap their predecessor by about `overlap`
//! characters starting on a word boundary. Every byte of the text is in at least one chunk, each
//! chunk is exactly `text[start..end]`, and redaction tokens are never split (they contain no
//! whitespace and chunks only break inside a word when a word is longer than a chunk).

use crate::model::Chunk;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ChunkConfig {
    /// Preferred maximum chunk length in bytes.
    pub target: usize,
    /// Bytes of trailing context repeated at the start of the next chunk.
    pub overlap: usize,
}

impl Default for ChunkConfig {
    fn default() -> Self {
        ChunkConfig { target: 1000, overlap: 100 }
    }
}

/// Ranges of the chunks of `text`.
pub fn chunk_ranges(text: &str, cfg: ChunkConfig) -> Vec<(usize, usize)> {
    let target = cfg.target.max(16);
    let overlap = cfg.overlap.min(target / 2);
    let mut out = Vec::new();
    let len = text.len();
    let mut start = skip_ws(text, 0);
    while start < len {
        if len - start <= target {
            out.push((start, trim_end(text, start, len)));
            break;
        }
        let limit = floor_char(text, start + target);
        let min = start + target / 2;
        let end = best_break(text, min, limit).unwrap_or_else(|| {
            // A single "word" longer than the chunk: cut at a character boundary, but never
            // inside a redaction token.
            let mut cut = limit;
            if let Some(open) = text[start..limit].rfind("[REDACTED:") {
                let open = start + open;
                if !text[open..limit].contains(']') && open > start {
                    cut = open;
                }
            }
            if cut <= start {
                limit.max(next_char(text, start))
            } else {
                cut
            }
        });
        let end_trim = trim_end(text, start, end);
        if end_trim > start {
            out.push((start, end_trim));
        }
        // Next chunk starts `overlap` bytes back, on a word boundary, and always moves forward.
        let mut next = end;
        if overlap > 0 {
            let back = floor_char(text, end.saturating_sub(overlap).max(start + 1));
            if let Some(ws) = text[back..end].find(char::is_whitespace) {
                let cand = skip_ws(text, back + ws);
                if cand > start && cand < end {
                    next = cand;
                }
            }
        }
        start = skip_ws(text, next);
    }
    out
}

/// Chunks of `text` with hashes; `pages` maps offsets to page numbers.
pub fn chunk(text: &str, cfg: ChunkConfig, pages: &[(usize, u32)], token_ranges: &[(usize, usize)]) -> Vec<Chunk> {
    chunk_ranges(text, cfg)
        .into_iter()
        .enumerate()
        .map(|(i, (s, e))| {
            let t = &text[s..e];
            let page = pages.iter().rev().find(|(off, _)| *off <= s).map(|(_, p)| *p);
            let redactions = token_ranges.iter().filter(|(a, b)| *a >= s && *b <= e).count() as u32;
            Chunk {
                ordinal: i as u32,
                start: s,
                end: e,
                text: t.to_string(),
                sha256: sha256_hex(t.as_bytes()),
                page,
                section: None,
                redactions,
            }
        })
        .collect()
}

pub fn sha256_hex(b: &[u8]) -> String {
    hex::encode(Sha256::digest(b))
}

fn best_break(text: &str, min: usize, limit: usize) -> Option<usize> {
    let min = ceil_char(text, min);
    if min >= limit {
        return None;
    }
    let window = &text[min..limit];
    if let Some(p) = window.rfind("\n\n") {
        return Some(min + p + 2);
    }
    if let Some(p) = window.rfind('\n') {
        return Some(min + p + 1);
    }
    let sentence = window.char_indices().rfind(|&(i, c)| {
        matches!(c, '.' | '!' | '?' | '。' | '！' | '？' | '؟' | '।')
            && window[i + c.len_utf8()..].chars().next().is_none_or(char::is_whitespace)
    });
    if let Some((p, c)) = sentence {
        return Some(min + p + c.len_utf8());
    }
    window.char_indices().rfind(|(_, c)| c.is_whitespace()).map(|(p, c)| min + p + c.len_utf8())
}

fn skip_ws(text: &str, mut i: usize) -> usize {
    while let Some(c) = text.get(i..).and_then(|s| s.chars().next()) {
        if !c.is_whitespace() {
            break;
        }
        i += c.len_utf8();
    }
    i
}

fn trim_end(text: &str, start: usize, end: usize) -> usize {
    start + text[start..end].trim_end().len()
}

fn next_char(text: &str, i: usize) -> usize {
    i + text[i..].chars().next().map_or(1, char::len_utf8)
}

fn floor_char(s: &str, mut i: usize) -> usize {
    i = i.min(s.len());
    while i > 0 && !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

fn ceil_char(s: &str, mut i: usize) -> usize {
    while i < s.len() && !s.is_char_boundary(i) {
        i += 1;
    }
    i
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn breaks_on_paragraphs_with_overlap() {
        let para = "This is a sentence about onboarding. ".repeat(15);
        let text = format!("{para}\n\n{para}\n\n{para}");
        let ch = chunk(&text, ChunkConfig::default(), &[], &[]);
        assert!(ch.len() >= 2);
        for c in &ch {
            assert!(c.text.len() <= 1000);
            assert_eq!(c.text, &text[c.start..c.end]);
            assert_eq!(c.sha256, sha256_hex(c.text.as_bytes()));
        }
    }

    #[test]
    fn never_splits_tokens() {
        let tok = "[REDACTED:email:0123456789abcdef]";
        let text = format!("{}{}", "x".repeat(990), tok);
        for (s, e) in chunk_ranges(&text, ChunkConfig::default()) {
            let t = &text[s..e];
            let opens = t.matches("[REDACTED:").count();
            let closes = t.matches(']').count();
            assert_eq!(opens, closes, "split token in {t:?}");
        }
    }

    proptest! {
        /// Every non-whitespace byte is covered; chunks are in order, within bounds and on
        /// char boundaries.
        #[test]
        fn covers_text(text in "(\\PC{0,30}[ \n.]{0,3}){0,120}", target in 16usize..300, overlap in 0usize..60) {
            let cfg = ChunkConfig { target, overlap };
            let ranges = chunk_ranges(&text, cfg);
            let mut covered = vec![false; text.len()];
            let mut prev_start = 0;
            for &(s, e) in &ranges {
                prop_assert!(s < e && e <= text.len());
                prop_assert!(text.is_char_boundary(s) && text.is_char_boundary(e));
                prop_assert!(s >= prev_start);
                prev_start = s;
                for c in covered.iter_mut().take(e).skip(s) { *c = true; }
            }
            for (i, c) in text.char_indices() {
                if !c.is_whitespace() {
                    prop_assert!(covered[i], "byte {} ({:?}) not covered", i, c);
                }
            }
        }
    }
}
