//! One pass over a long text that finds where the raw rules no keyword can place may match.
//!
//! Most raw rules run only near their keyword hits. Some cannot: card numbers, national ids and
//! other bare numbers have no keyword at all, and MAC or IPv6 addresses only `:`, `-` or `.`,
//! which occur on nearly every line of code and logs. Each of those ran its own regex over the
//! whole of a long text, ~1.6 ms per MiB apiece for some thirty rules, most of which match
//! nowhere. Here one lazy DFA holds all of their patterns and is searched with overlapping
//! semantics (`MatchKind::All`): one pass reports every offset at which a match of each pattern
//! ends. A match ending at `e` starts at or after `e - max_len`, so each rule's own regex then
//! runs only from there, and the result is exactly that of the whole-text search (see
//! [`Spans::Windows`]).

use super::{ascii, floor_char, REGEX_SIZE_LIMIT};
use regex_automata::hybrid::dfa::{Cache, OverlappingState, DFA};
use regex_automata::nfa::thompson;
use regex_automata::util::pool::Pool;
use regex_automata::util::syntax;
use regex_automata::Input;
use std::sync::OnceLock;

/// Lazy DFA cache: the thirty-odd patterns need a few hundred states on ordinary text.
const CACHE_BYTES: usize = 4 << 20;

type CachePool = Pool<Cache, Box<dyn Fn() -> Cache + Send + Sync + std::panic::RefUnwindSafe + std::panic::UnwindSafe>>;

/// A DFA and its caches. The caches persist across texts, as the meta regexes' do: building
/// states is most of the cost of a first search (40 ms on a MiB of base64 lines with a fresh
/// cache, 3 ms with a warm one), and bounded by the cache size per thread.
struct Compiled {
    dfa: DFA,
    caches: CachePool,
}

impl std::fmt::Debug for Compiled {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Compiled").field("patterns", &self.dfa.pattern_len()).finish_non_exhaustive()
    }
}

/// Where one located rule can match in a text.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Spans {
    /// Merged, ordered ranges such that every match of the rule over the whole text starts in
    /// one of them; empty when the rule matches nowhere. At the start of each range no match
    /// of the whole-text search is in progress (a match crossing it would have put its own start
    /// in the range), so searching the ranges in order, with look-around over the whole text,
    /// finds the matches the whole-text search finds.
    Windows(Vec<(usize, usize)>),
    /// The rule matches, but its matches are unbounded in length or their windows would cover
    /// much of the text: search all of it.
    Whole,
}

impl Spans {
    /// The rule matches nowhere.
    pub(super) fn is_empty(&self) -> bool {
        matches!(self, Spans::Windows(w) if w.is_empty())
    }
}

/// The compiled form of the located rules' patterns (built on first use, per haystack kind).
#[derive(Debug)]
pub(super) struct Locator {
    /// Rule index per DFA pattern.
    rules: Vec<usize>,
    /// Longest match in bytes per DFA pattern; `None`: unbounded.
    max_len: Vec<Option<usize>>,
    patterns: Vec<String>,
    unicode: OnceLock<Option<Compiled>>,
    ascii: OnceLock<Option<Compiled>>,
}

impl Locator {
    /// `rules`: (rule index, pattern, longest match). The patterns must not use Unicode word
    /// boundaries, which would stop the DFA at the first non-ASCII byte.
    pub(super) fn new(rules: Vec<(usize, String, Option<usize>)>) -> Self {
        let mut l = Locator {
            rules: Vec::new(),
            max_len: Vec::new(),
            patterns: Vec::new(),
            unicode: OnceLock::new(),
            ascii: OnceLock::new(),
        };
        for (r, p, m) in rules {
            l.rules.push(r);
            l.patterns.push(p);
            l.max_len.push(m);
        }
        l
    }

    /// Rule indices, in the order of [`Locator::locate`]'s result.
    pub(super) fn rules(&self) -> &[usize] {
        &self.rules
    }

    fn dfa_for(&self, ascii: bool) -> Option<&Compiled> {
        if self.patterns.is_empty() {
            return None;
        }
        let cell = if ascii { &self.ascii } else { &self.unicode };
        cell.get_or_init(|| {
            let pats: Vec<String> = if ascii {
                self.patterns.iter().map(|p| ascii::twin(p).map_or_else(|| p.clone(), |t| t.pattern)).collect()
            } else {
                self.patterns.clone()
            };
            let dfa = build(&pats).map_err(|e| tracing::error!("locator DFA does not build: {e}")).ok()?;
            let d = dfa.clone();
            let caches: CachePool = Pool::new(Box::new(move || d.create_cache()));
            Some(Compiled { dfa, caches })
        })
        .as_ref()
    }

    /// Per located rule (in [`Locator::rules`] order), where it can match in `hay` (`ascii`:
    /// `hay` is pure ASCII). `None` when the DFA cannot search this text (it does not build, or
    /// gave up because its cache thrashes): the caller then searches as if there were no
    /// locator.
    pub(super) fn locate(&self, hay: &str, ascii: bool) -> Option<Vec<Spans>> {
        let Compiled { dfa, caches } = self.dfa_for(ascii)?;
        let mut cache = caches.get();
        let mut state = OverlappingState::start();
        let input = Input::new(hay);
        let limit = hay.len() / 4;
        let mut out: Vec<Spans> = vec![Spans::Windows(Vec::new()); self.rules.len()];
        let mut covered = vec![0usize; self.rules.len()];
        loop {
            if let Err(e) = dfa.try_search_overlapping_fwd(&mut cache, &input, &mut state) {
                tracing::debug!("locator gave up on a text of {} bytes: {e}", hay.len());
                return None;
            }
            let Some(m) = state.get_match() else { break };
            let p = m.pattern().as_usize();
            let (Some(spans), Some(&max)) = (out.get_mut(p), self.max_len.get(p)) else { continue };
            let Spans::Windows(w) = spans else { continue };
            let Some(max) = max else {
                *spans = Spans::Whole;
                continue;
            };
            let e = m.offset();
            let s = floor_char(hay, e.saturating_sub(max));
            // Ends arrive in order, so a new window overlaps only the last one.
            match w.last_mut() {
                Some(last) if s <= last.1 => {
                    covered[p] += e.saturating_sub(last.1);
                    last.1 = last.1.max(e);
                }
                _ => {
                    covered[p] += e - s;
                    w.push((s, e));
                }
            }
            if covered[p] > limit {
                *spans = Spans::Whole;
            }
        }
        Some(out)
    }
}

fn build(patterns: &[String]) -> Result<DFA, Box<regex_automata::hybrid::BuildError>> {
    DFA::builder()
        .configure(
            DFA::config()
                .match_kind(regex_automata::MatchKind::All)
                .cache_capacity(CACHE_BYTES)
                .unicode_word_boundary(true)
                // Give up (and let each rule search on its own) rather than rebuild states for
                // every few bytes of an adversarial text.
                .minimum_cache_clear_count(Some(3))
                .minimum_bytes_per_state(Some(10)),
        )
        .syntax(syntax::Config::new().utf8(true))
        .thompson(thompson::Config::new().nfa_size_limit(Some(REGEX_SIZE_LIMIT * 4)))
        .build_many(patterns)
        .map_err(Box::new)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn locator(pats: &[&str]) -> Locator {
        Locator::new(
            pats.iter()
                .enumerate()
                .map(|(i, p)| {
                    let m = regex_syntax::Parser::new().parse(p).ok().and_then(|h| h.properties().maximum_len());
                    (i, p.to_string(), m)
                })
                .collect(),
        )
    }

    #[test]
    fn windows_hold_every_match_start_and_merge() {
        let l = locator(&[r"(?:^|\D)\d{4}(?:\D|$)", r"[a-f]{2}:[a-f]{2}", r"zz+", r"never"]);
        // Padded so that the windows cover well under a quarter of the text.
        let hay = &format!("x 1234 y 5678 ab:cd 12345 zzzz é 9999{}", " qq".repeat(100));
        let out = l.locate(hay, false).expect("searches");
        let Spans::Windows(w) = &out[0] else { panic!("windows expected: {out:?}") };
        let re = regex::Regex::new(r"(?:^|\D)\d{4}(?:\D|$)").unwrap();
        assert_eq!(re.find_iter(hay).count(), 3);
        for m in re.find_iter(hay) {
            assert!(w.iter().any(|&(s, e)| s <= m.start() && m.start() < e), "{m:?} not in {w:?}");
        }
        assert!(w.windows(2).all(|p| p[0].1 < p[1].0), "merged and ordered: {w:?}");
        assert!(matches!(&out[1], Spans::Windows(w) if w.len() == 1));
        assert_eq!(out[2], Spans::Whole, "unbounded pattern");
        assert_eq!(out[3], Spans::Windows(Vec::new()));
        // The ASCII build answers alike on ASCII text.
        let a = &hay.replace('é', "e");
        assert_eq!(l.locate(a, true), l.locate(a, false));
    }

    #[test]
    fn dense_matches_become_whole() {
        let l = locator(&[r"\d{3}"]);
        let hay = "123 456 789 ".repeat(100);
        assert_eq!(l.locate(&hay, true).expect("searches"), vec![Spans::Whole]);
    }

    #[test]
    fn no_patterns_locate_nothing() {
        assert!(Locator::new(Vec::new()).locate("abc", true).is_none());
    }
}
