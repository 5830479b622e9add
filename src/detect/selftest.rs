//! Runs every rule's examples and negative examples through the whole detect path.
//!
//! Shared by `cargo test` and `ragsan rules check`, so a team adding a rule gets the same verdict
//! from both. Example texts are the rule author's own fake values; failures name the rule and the
//! example index, not the text, so secret-shaped examples are never echoed.

use super::Detectors;

/// One line per failure; empty when every rule behaves as its examples say.
pub fn self_test(d: &Detectors) -> Vec<String> {
    let mut failures = d.frame_failures();
    for (idx, r) in d.rules().iter().enumerate() {
        if !r.compiles() {
            failures.push(format!("{} ({}): pattern does not compile within the size limit", r.spec.id, r.file));
        }
        for (i, ex) in r.spec.examples.iter().enumerate() {
            if !d.scan(ex).iter().any(|m| m.rule == idx) {
                failures.push(format!("{} ({}): example #{} does not fire", r.spec.id, r.file, i + 1));
            }
        }
        for (i, ex) in r.spec.negative_examples.iter().enumerate() {
            if d.scan(ex).iter().any(|m| m.rule == idx) {
                failures.push(format!("{} ({}): negative example #{} fires", r.spec.id, r.file, i + 1));
            }
        }
    }
    failures
}
