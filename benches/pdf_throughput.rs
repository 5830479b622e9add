//! PDF extraction throughput in pages per second on one core, over the shared PDF corpus.
//!
//! Issue 3 sets a speed goal relative to pypdfium2 at pdftotext-like fidelity; this bench is the
//! Rust side of that comparison (`benches/pdf_throughput.py` runs it next to pypdfium2 and
//! pdftotext in the same run and prints the ratios). Every file is read into memory first, so
//! the figure is extraction alone (parse, interpret, lay out, visibility), single-threaded.
//!
//! Run: `cargo bench --bench pdf_throughput -- [--reps N] [--files LIST] [--json]`.
//! Files: every `*.pdf` under `../shared/corpus/docs/pdf` (or `RAGSAN_PDF_CORPUS`), or the paths
//! listed one per line in LIST. Without the corpus the bench prints a message and exits 0.

use ragsan::{Budget, Limits};
use std::path::{Path, PathBuf};
use std::time::Instant;

fn corpus_dir() -> PathBuf {
    std::env::var_os("RAGSAN_PDF_CORPUS")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus/docs/pdf"))
}

fn pdfs_in(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> =
        std::fs::read_dir(dir).map(|rd| rd.flatten().map(|e| e.path()).collect()).unwrap_or_default();
    v.retain(|p| p.extension().is_some_and(|e| e.eq_ignore_ascii_case("pdf")));
    v.sort();
    v
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n == 0 {
        0.0
    } else if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

/// One pass over every file; returns (seconds, files that extracted without error).
fn pass(files: &[(PathBuf, Vec<u8>)], limits: &Limits) -> (f64, usize) {
    let t = Instant::now();
    let mut ok = 0;
    for (_, data) in files {
        let budget = Budget::new(limits);
        if let Ok(x) = ragsan::extract::pdf::extract(data, &budget) {
            std::hint::black_box(&x);
            ok += 1;
        }
    }
    (t.elapsed().as_secs_f64(), ok)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let arg = |name: &str| args.iter().position(|a| a == name).and_then(|i| args.get(i + 1)).cloned();
    let reps: usize = arg("--reps").and_then(|v| v.parse().ok()).unwrap_or(5).max(1);
    let json = args.iter().any(|a| a == "--json");
    let paths = match arg("--files") {
        Some(list) => std::fs::read_to_string(&list)
            .expect("read --files list")
            .lines()
            .filter(|l| !l.trim().is_empty())
            .map(PathBuf::from)
            .collect(),
        None => {
            let dir = corpus_dir();
            if !dir.is_dir() {
                println!("pdf_throughput: skipped, no PDF corpus at {} (set RAGSAN_PDF_CORPUS)", dir.display());
                return;
            }
            pdfs_in(&dir)
        }
    };
    let files: Vec<(PathBuf, Vec<u8>)> =
        paths.into_iter().filter_map(|p| std::fs::read(&p).ok().map(|d| (p, d))).collect();
    if files.is_empty() {
        println!("pdf_throughput: skipped, no PDF files found");
        return;
    }
    // Pages as lopdf counts them (the Python side recounts with pdfium for the ratios).
    let pages: usize =
        files.iter().map(|(_, d)| lopdf::Document::load_mem(d).map(|doc| doc.get_pages().len()).unwrap_or(0)).sum();
    let bytes: usize = files.iter().map(|(_, d)| d.len()).sum();
    let limits = Limits::default();
    // Warm-up pass: page cache, allocator, lazily built tables.
    let (_, ok) = pass(&files, &limits);
    let mut secs: Vec<f64> = (0..reps).map(|_| pass(&files, &limits).0).collect();
    let runs = secs.clone();
    let med = median(&mut secs);
    let pps = pages as f64 / med.max(1e-9);
    if json {
        let runs: Vec<String> = runs.iter().map(|s| format!("{s:.6}")).collect();
        println!(
            "{{\"tool\":\"ragsan\",\"files\":{},\"ok\":{ok},\"pages\":{pages},\"bytes\":{bytes},\"runs_s\":[{}],\"median_s\":{med:.6},\"pages_per_s\":{pps:.2}}}",
            files.len(),
            runs.join(",")
        );
    } else {
        println!(
            "pdf_throughput: {} files ({ok} extracted), {pages} pages, {:.1} MB; median of {reps} passes {med:.3} s \
             = {pps:.1} pages/s on one core, {:.2} MB/s",
            files.len(),
            bytes as f64 / 1e6,
            bytes as f64 / 1e6 / med.max(1e-9)
        );
    }
}
