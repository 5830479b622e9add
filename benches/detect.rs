//! Detector throughput (MB/s) on prose and on a mixed secret-bearing corpus, and compile time.

mod common;
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use ragsan::Detectors;

fn bench(c: &mut Criterion) {
    let det = Detectors::embedded().expect("rules");
    let mut g = c.benchmark_group("detect");
    for (name, text) in [("prose_1MiB", common::prose(1 << 20, 1)), ("mixed_1MiB", common::mixed(1 << 20, 2))] {
        g.throughput(Throughput::Bytes(text.len() as u64));
        g.bench_with_input(BenchmarkId::new("scan", name), &text, |b, t| b.iter(|| det.scan(t)));
    }
    // One retrieval chunk (~512 tokens ≈ 2,500 bytes of prose): per-chunk latency.
    let chunk = common::prose(2_500, 3);
    g.throughput(Throughput::Bytes(chunk.len() as u64));
    g.bench_with_input(BenchmarkId::new("scan", "chunk_512_tokens"), &chunk, |b, t| b.iter(|| det.scan(t)));
    g.finish();
    c.bench_function("compile_embedded_rules", |b| b.iter(|| Detectors::embedded().expect("rules")));
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(20);
    targets = bench
}
criterion_main!(benches);
