//! Detector throughput per input class and rule kind, linearity, per-chunk latency, compile time.
//!
//! Criterion runs one thread and the rayon pool has one worker, so every MiB/s figure here is
//! per core. Groups:
//! - `secrets_pii/<class>`: secret and PII rules only (issue 6 goal: ≥ 50 MiB/s on the mixed
//!   corpus, no class below 20 MiB/s);
//! - `injection/<class>`: injection rules plus the scorer (issue 5 goal: ≥ 20 MB/s on ordinary
//!   English prose, the `prose` class);
//! - `all/<class>`: every rule, as `ragsan` runs them;
//! - `linearity/<kinds>/{mixed_1MiB,mixed_4MiB}`: time must grow linearly (compare ns/byte);
//! - `chunk/all/512_tokens`: one retrieval chunk of trigger-dense prose (goal < 1 ms);
//! - `compile/*`: loading the embedded rules (lazy regexes), and compiling every regex eagerly.
//!
//! Peak RSS is measured through the CLI by `benches/detect_rss.sh`.

mod common;
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use ragsan::{Detectors, FindingKind};
use std::collections::HashSet;
use std::time::Duration;

const MIB: usize = 1 << 20;

fn only(det: &Detectors, kinds: &[FindingKind]) -> Detectors {
    let ids: HashSet<String> =
        det.rules().iter().filter(|r| kinds.contains(&r.kind)).map(|r| r.id().to_string()).collect();
    det.subset(&ids).expect("subset")
}

fn bench(c: &mut Criterion) {
    // One worker: the scan of a large text runs its two targets with `rayon::join`, which must
    // not borrow a second core here.
    rayon::ThreadPoolBuilder::new().num_threads(1).build_global().expect("rayon pool");
    let all = Detectors::embedded().expect("rules");
    let secrets_pii = only(&all, &[FindingKind::Secret, FindingKind::Pii]);
    let injection = only(&all, &[FindingKind::Injection]);
    let sets = [("secrets_pii", &secrets_pii), ("injection", &injection), ("all", &all)];

    let mut inputs: Vec<(&str, String)> = common::CLASSES.iter().map(|(name, make)| (*name, make(MIB, 11))).collect();
    inputs.push(("mixed", common::mixed(MIB, 2)));
    for (set_name, det) in sets {
        let mut g = c.benchmark_group(set_name);
        for (name, text) in &inputs {
            g.throughput(Throughput::Bytes(text.len() as u64));
            g.bench_with_input(BenchmarkId::from_parameter(name), text, |b, t| b.iter(|| det.scan(t)));
        }
        g.finish();
    }

    // Linearity: the same generator at 1 and 4 MiB; equal throughput means linear time.
    let mut g = c.benchmark_group("linearity");
    for size in [1usize, 4] {
        let text = common::mixed(size * MIB, 2);
        g.throughput(Throughput::Bytes(text.len() as u64));
        for (set_name, det) in [("secrets_pii", &secrets_pii), ("injection", &injection)] {
            g.bench_with_input(BenchmarkId::new(set_name, format!("mixed_{size}MiB")), &text, |b, t| {
                b.iter(|| det.scan(t))
            });
        }
    }
    g.finish();

    // One retrieval chunk (~512 tokens ≈ 2,500 bytes of trigger-dense prose): per-chunk latency.
    let mut g = c.benchmark_group("chunk");
    let chunk = common::prose(2_500, 3);
    g.throughput(Throughput::Bytes(chunk.len() as u64));
    g.bench_with_input(BenchmarkId::new("all", "512_tokens"), &chunk, |b, t| b.iter(|| all.scan(t)));
    g.finish();

    let mut g = c.benchmark_group("compile");
    g.bench_function("embedded_rules", |b| b.iter(|| Detectors::embedded().expect("rules")));
    // What `rules check` does: every regex compiled now instead of on first use.
    g.bench_function("embedded_rules_every_regex", |b| {
        b.iter(|| {
            let d = Detectors::embedded().expect("rules");
            assert!(d.rules().iter().all(|r| r.compiles()));
            d
        })
    });
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .sample_size(10)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2));
    targets = bench
}
criterion_main!(benches);
