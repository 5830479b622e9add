//! Whole-document processing (sniff → extract → detect → policy → chunk → hash) over the bundled
//! samples, in files/s and MB/s, without the index (the sink is measured by `scan` runs).

mod common;
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use std::path::PathBuf;

fn samples() -> Vec<(String, Vec<u8>)> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("samples");
    let mut out = Vec::new();
    let mut stack = vec![root];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).expect("samples dir").flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push((p.display().to_string(), std::fs::read(&p).expect("read sample")));
            }
        }
    }
    out.sort();
    out
}

fn bench(c: &mut Criterion) {
    let engine = common::engine();
    let files = samples();
    let bytes: usize = files.iter().map(|f| f.1.len()).sum();
    let mut g = c.benchmark_group("pipeline");
    g.throughput(Throughput::Elements(files.len() as u64));
    g.bench_function("samples_files", |b| {
        b.iter(|| {
            for (p, data) in &files {
                let ext = std::path::Path::new(p).extension().and_then(|e| e.to_str());
                std::hint::black_box(engine.process_bytes(p, data, ext));
            }
        })
    });
    g.throughput(Throughput::Bytes(bytes as u64));
    g.bench_function("samples_bytes", |b| {
        b.iter(|| {
            for (p, data) in &files {
                let ext = std::path::Path::new(p).extension().and_then(|e| e.to_str());
                std::hint::black_box(engine.process_bytes(p, data, ext));
            }
        })
    });
    let big = common::prose(4 << 20, 9);
    g.throughput(Throughput::Bytes(big.len() as u64));
    g.bench_function("text_4MiB_document", |b| b.iter(|| engine.process_bytes("big.txt", big.as_bytes(), Some("txt"))));
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(10);
    targets = bench
}
criterion_main!(benches);
