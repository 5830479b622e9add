//! Detection on arbitrary UTF-8: finding offsets always lie on char boundaries inside the text.
#![no_main]
use libfuzzer_sys::fuzz_target;
use ragsan::Detectors;
use std::sync::OnceLock;

static DET: OnceLock<Detectors> = OnceLock::new();

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let det = DET.get_or_init(|| Detectors::embedded().expect("rules"));
    for m in det.scan(text) {
        assert!(m.start <= m.end && m.end <= text.len());
        assert!(text.is_char_boundary(m.start) && text.is_char_boundary(m.end));
    }
});
