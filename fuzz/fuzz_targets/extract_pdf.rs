//! Any bytes given to the pdf extractor end in text or a typed error: no panic, no hang, and the
//! result keeps the span invariants.
#![no_main]
use libfuzzer_sys::fuzz_target;
use ragsan::{extract::extract, Budget, DocKind, Limits};

fuzz_target!(|data: &[u8]| {
    let limits = Limits { timeout_ms: 2_000, ..Limits::default() };
    let budget = Budget::new(&limits);
    if let Ok(x) = extract(DocKind::Pdf, data, &budget) {
        x.check_invariants().expect("span invariants");
    }
});
