//! In-process DOCX and HTML extraction throughput (MB/s) over the shared corpus, single thread.
//!
//! Process start-up dominates `eval_extract.py`'s MB/s figure, so this measures what the
//! extractor itself costs: every DOCX and HTML file of `../shared/corpus/docs/{docx,html}` is
//! read into memory once, then sniffed and extracted `REPS` times in one process; each rep times
//! one pass over all files of a format. Failing files (damaged, encrypted) stay in the set and
//! count their bytes: rejecting them is part of the work. `benches/docx_html_throughput.py`
//! runs this next to Kreuzberg over the same files.
//!
//! `cargo bench --bench docx_html_throughput [-- --reps N --json]`; `RAGSAN_CORPUS` overrides
//! the corpus folder. Without the corpus it prints a message and exits 0.

use ragsan::limits::{Budget, Limits};
use ragsan::sniff::{sniff, Sniffed};
use std::path::{Path, PathBuf};
use std::time::Instant;

fn corpus() -> PathBuf {
    std::env::var_os("RAGSAN_CORPUS")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus/docs"))
}

/// Documents of one format folder, sorted by name; reference texts are skipped.
fn files(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let Ok(rd) = std::fs::read_dir(dir) else { return Vec::new() };
    let mut out: Vec<(String, Vec<u8>)> = rd
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.is_file() && !p.to_string_lossy().ends_with(".ref.txt"))
        .filter_map(|p| Some((p.file_name()?.to_string_lossy().into_owned(), std::fs::read(&p).ok()?)))
        .collect();
    out.sort();
    out
}

/// One pass: sniff + extract every file. Returns (seconds, files that failed).
fn pass(docs: &[(String, Vec<u8>)], limits: &Limits) -> (f64, usize) {
    let t = Instant::now();
    let mut failed = 0;
    for (name, bytes) in docs {
        let ext = Path::new(name).extension().and_then(|e| e.to_str());
        let ok = match sniff(bytes, ext) {
            Sniffed::Accept(kind) => {
                let budget = Budget::new(limits);
                match ragsan::extract::extract(kind, bytes, &budget) {
                    Ok(x) => {
                        std::hint::black_box(x.visible_text());
                        true
                    }
                    Err(_) => false,
                }
            }
            Sniffed::Reject { .. } => false,
        };
        failed += usize::from(!ok);
    }
    (t.elapsed().as_secs_f64(), failed)
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    match v.len() {
        0 => 0.0,
        n if n % 2 == 1 => v[n / 2],
        n => (v[n / 2 - 1] + v[n / 2]) / 2.0,
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    // `cargo bench` passes `--bench`; only our own flags are read.
    let reps = args
        .iter()
        .position(|a| a == "--reps")
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse::<usize>().ok())
        .unwrap_or(5)
        .max(1);
    let json = args.iter().any(|a| a == "--json");
    let root = corpus();
    if !root.is_dir() {
        println!("docx_html_throughput: skipped, no corpus at {} (set RAGSAN_CORPUS)", root.display());
        return;
    }
    let limits = Limits::default();
    for fmt in ["docx", "html"] {
        let docs = files(&root.join(fmt));
        if docs.is_empty() {
            println!("docx_html_throughput: skipped {fmt}, no files in {}", root.join(fmt).display());
            continue;
        }
        let bytes: usize = docs.iter().map(|d| d.1.len()).sum();
        // Warm-up pass: page cache, allocator, lazily built tables.
        let (_, failed) = pass(&docs, &limits);
        let mut secs: Vec<f64> = (0..reps).map(|_| pass(&docs, &limits).0).collect();
        let raw = secs.clone();
        let med = median(&mut secs);
        let mbps = bytes as f64 / 1e6 / med;
        if json {
            println!(
                "{{\"format\":\"{fmt}\",\"files\":{},\"bytes\":{bytes},\"failed\":{failed},\"reps\":{reps},\"secs\":{:?},\"median_secs\":{med},\"mb_per_s\":{mbps}}}",
                docs.len(),
                raw
            );
        } else {
            println!(
                "{fmt:>4}: {} files, {:.2} MB, {failed} rejected/unextractable, median {:.1} ms over {reps} reps = {mbps:.1} MB/s",
                docs.len(),
                bytes as f64 / 1e6,
                med * 1e3
            );
        }
    }
}
