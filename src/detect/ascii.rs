//! ASCII twins of rule regexes, used when the text searched is pure ASCII.
//!
//! Most text is ASCII, yet Unicode-aware patterns (`\d`, `\s`, `[^A-Za-z0-9]`, `(?i)`, `\b`,
//! `[^\x{202C}\n]{0,400}`) compile to large UTF-8 automata: building them was most of a hook
//! call's start-up, and their size slows every capture search. On an ASCII haystack a pattern
//! matches exactly where its ASCII restriction matches — every class intersected with ASCII,
//! literals with non-ASCII bytes impossible, Unicode word boundaries replaced by ASCII ones
//! (the Unicode word characters within ASCII are exactly `[0-9A-Za-z_]`) — so callers search
//! an ASCII haystack with the twin and anything else with the pattern as written. Capture
//! groups keep their indices and names; a twin whose groups differ is never used.

use regex_syntax::hir::{
    Capture, Class, ClassBytes, ClassBytesRange, ClassUnicode, ClassUnicodeRange, Hir, HirKind, Literal, Look,
    Repetition,
};

/// The ASCII restriction of a pattern, with the capture groups it must keep.
#[derive(Debug, Clone, PartialEq)]
pub struct Twin {
    pub pattern: String,
    /// `(index, name)` of every explicit capture group of the original, in index order.
    pub captures: Vec<(u32, Option<String>)>,
}

/// The ASCII twin of `pattern`, or `None` when the pattern already is its own twin (nothing
/// non-ASCII in it) or does not parse.
pub fn twin(pattern: &str) -> Option<Twin> {
    let hir = regex_syntax::Parser::new().parse(pattern).ok()?;
    let mut st = State { changed: false, captures: Vec::new() };
    let restricted = restrict(hir, &mut st);
    st.changed.then(|| Twin { pattern: restricted.to_string(), captures: st.captures })
}

/// Whether a compiled twin has exactly the capture groups of its original.
pub fn same_groups(re: &regex::Regex, twin: &Twin) -> bool {
    let names: Vec<Option<&str>> = re.capture_names().collect();
    names.len() == twin.captures.len() + 1
        && twin.captures.iter().all(|(i, n)| names.get(*i as usize).copied() == Some(n.as_deref()))
}

struct State {
    changed: bool,
    captures: Vec<(u32, Option<String>)>,
}

/// Upper bound of ASCII.
const ASCII_MAX: u8 = 0x7F;

fn restrict(h: Hir, st: &mut State) -> Hir {
    match h.into_kind() {
        HirKind::Empty => Hir::empty(),
        HirKind::Literal(Literal(bytes)) => {
            if bytes.is_ascii() {
                Hir::literal(bytes)
            } else {
                st.changed = true;
                Hir::fail()
            }
        }
        HirKind::Class(Class::Unicode(c)) => {
            let mut a = c.clone();
            a.intersect(&ClassUnicode::new([ClassUnicodeRange::new('\0', char::from(ASCII_MAX))]));
            st.changed |= a != c;
            Hir::class(Class::Unicode(a))
        }
        HirKind::Class(Class::Bytes(c)) => {
            let mut a = c.clone();
            a.intersect(&ClassBytes::new([ClassBytesRange::new(0, ASCII_MAX)]));
            st.changed |= a != c;
            Hir::class(Class::Bytes(a))
        }
        HirKind::Look(l) => {
            let a = ascii_look(l);
            st.changed |= a != l;
            Hir::look(a)
        }
        HirKind::Repetition(r) => {
            let sub = Box::new(restrict(*r.sub, st));
            Hir::repetition(Repetition { min: r.min, max: r.max, greedy: r.greedy, sub })
        }
        HirKind::Capture(c) => {
            st.captures.push((c.index, c.name.as_deref().map(str::to_string)));
            let sub = Box::new(restrict(*c.sub, st));
            Hir::capture(Capture { index: c.index, name: c.name, sub })
        }
        HirKind::Concat(subs) => Hir::concat(subs.into_iter().map(|s| restrict(s, st)).collect()),
        HirKind::Alternation(subs) => Hir::alternation(subs.into_iter().map(|s| restrict(s, st)).collect()),
    }
}

fn ascii_look(l: Look) -> Look {
    match l {
        Look::WordUnicode => Look::WordAscii,
        Look::WordUnicodeNegate => Look::WordAsciiNegate,
        Look::WordStartUnicode => Look::WordStartAscii,
        Look::WordEndUnicode => Look::WordEndAscii,
        Look::WordStartHalfUnicode => Look::WordStartHalfAscii,
        Look::WordEndHalfUnicode => Look::WordEndHalfAscii,
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use regex::Regex;

    /// Every match and capture of the twin equals the original's on ASCII haystacks.
    fn agree(pattern: &str, hays: &[&str]) {
        let orig = Regex::new(pattern).unwrap();
        let t = twin(pattern).expect("pattern has non-ASCII parts");
        let tw = Regex::new(&t.pattern).unwrap();
        assert!(same_groups(&tw, &t), "{pattern} -> {}", t.pattern);
        for h in hays {
            assert!(h.is_ascii());
            let a: Vec<Vec<Option<(usize, usize)>>> =
                orig.captures_iter(h).map(|c| c.iter().map(|m| m.map(|m| (m.start(), m.end()))).collect()).collect();
            let b: Vec<Vec<Option<(usize, usize)>>> =
                tw.captures_iter(h).map(|c| c.iter().map(|m| m.map(|m| (m.start(), m.end()))).collect()).collect();
            assert_eq!(a, b, "{pattern} on {h:?}");
        }
    }

    #[test]
    fn twins_match_like_the_original_on_ascii() {
        let hays = [
            "id 123-45-6789, card 4111 1111 1111 1111 and KEY=abc_DEF-123",
            "Kelvin k K s S ? x\u{7f}y \t\r\n end_word word_end _x9",
            "",
            "aaa bbb 1.2.3.4 10.0.0.256",
        ];
        agree(r"(?:^|[^0-9A-Za-z\-.])(?P<value>\d{3}-\d{2}-\d{4})(?:[^0-9A-Za-z\-]|$)", &hays);
        agree(r"(?i)\bkey\s*=\s*(\w+)", &hays);
        agree(r"(?i)(s)(?:\W+)(k)", &hays);
        agree(r"(?m)^\S+\s(\d{1,3}(?:\.\d{1,3}){3})$", &hays);
        agree(r"\b[^\x{202C}\n]{0,40}?[a-zA-Z]{3,}\b|é+", &hays);
        agree(r"(?:\pL\x{200B}+){4,}\pL|(?<w>\w+)", &hays);
    }

    #[test]
    fn non_ascii_only_patterns_never_match_ascii() {
        let t = twin(r"[\x{E0020}-\x{E007E}]{8,}").unwrap();
        let re = Regex::new(&t.pattern).unwrap();
        assert!(!re.is_match("plain ascii text with nothing hidden"));
    }

    #[test]
    fn ascii_patterns_are_their_own_twin() {
        assert_eq!(twin(r"ghp_[A-Za-z0-9]{36}"), None);
        assert_eq!(twin(r"(?-u:\b)AKIA[0-9A-Z]{16}"), None);
    }

    /// The embedded packs: every twin compiles with the original's groups, and on every ASCII
    /// example and negative example the twin and the original find the same captures.
    #[test]
    fn every_embedded_pattern_twin_agrees_on_its_examples() {
        let d = crate::Detectors::embedded().unwrap();
        let mut bad = Vec::new();
        for r in d.rules() {
            let mut pats = vec![r.spec.pattern.as_str()];
            pats.extend(r.spec.allow.iter().map(String::as_str));
            pats.extend(r.spec.context.as_deref());
            pats.extend(r.spec.suppress_before.as_deref());
            for p in pats.into_iter().filter(|p| !p.is_empty()) {
                let Some(t) = twin(p) else { continue };
                let build = |p: &str| regex::RegexBuilder::new(p).size_limit(crate::detect::REGEX_SIZE_LIMIT).build();
                let (Ok(orig), Ok(tw)) = (build(p), build(&t.pattern)) else {
                    bad.push(format!("{}: twin does not compile", r.id()));
                    continue;
                };
                if !same_groups(&tw, &t) {
                    bad.push(format!("{}: twin groups differ", r.id()));
                }
                for ex in r.spec.examples.iter().chain(&r.spec.negative_examples).filter(|e| e.is_ascii()) {
                    let caps = |re: &Regex| -> Vec<Vec<Option<(usize, usize)>>> {
                        re.captures_iter(ex)
                            .map(|c| c.iter().map(|m| m.map(|m| (m.start(), m.end()))).collect())
                            .collect()
                    };
                    if caps(&orig) != caps(&tw) {
                        bad.push(format!("{}: twin disagrees on an example", r.id()));
                    }
                }
            }
        }
        assert!(bad.is_empty(), "{}", bad.join("\n"));
    }
}
