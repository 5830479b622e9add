#!/usr/bin/env python3
"""PDF text extraction throughput: ragsan vs pypdfium2 vs pdftotext, in the same run.

Issue 3's goal is ragsan >= 1.15x pypdfium2's pages/s (one core) at pdftotext-like fidelity.
The three tools are run interleaved, one pass each per repetition, over the same files, so
machine noise hits them alike; medians of the repetitions and the median of the per-repetition
ratios are printed.

- ragsan: `cargo bench --bench pdf_throughput` (files preloaded in memory, one thread, one
  warm-up pass then one timed pass per repetition).
- pypdfium2: one Python process, files preloaded, every page's text via
  `get_textpage().get_text_range()`, one warm-up pass.
- pdftotext: one process per file (`pdftotext -q -enc UTF-8 FILE -`), so its figure INCLUDES
  process start-up; the start-up cost alone (`pdftotext -v` per file) is measured and shown so
  it can be subtracted.

Pages are counted by pdfium for every tool. Files pdfium cannot open (password-protected) are
left out of all three. Run from the repository root: `python3 benches/pdf_throughput.py`.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time


def pdfium_pass(pdfium, blobs):
    t = time.perf_counter()
    for data in blobs:
        doc = pdfium.PdfDocument(data)
        for i in range(len(doc)):
            page = doc[i]
            tp = page.get_textpage()
            tp.get_text_range()
            tp.close()
            page.close()
        doc.close()
    return time.perf_counter() - t


def pdftotext_pass(paths):
    t = time.perf_counter()
    for p in paths:
        subprocess.run(["pdftotext", "-q", "-enc", "UTF-8", p, "-"], stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL, check=False)
    return time.perf_counter() - t


def spawn_pass(n):
    t = time.perf_counter()
    for _ in range(n):
        subprocess.run(["pdftotext", "-v"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                       check=False)
    return time.perf_counter() - t


def ragsan_pass(listfile):
    out = subprocess.run(
        ["cargo", "bench", "-q", "--bench", "pdf_throughput", "--", "--reps", "1", "--files", listfile, "--json"],
        capture_output=True, text=True, check=True,
    ).stdout
    line = [l for l in out.splitlines() if l.startswith("{")][-1]
    return json.loads(line)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--corpus", default="../shared/corpus/docs/pdf")
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--json", help="write the figures here")
    a = ap.parse_args()
    if not os.path.isdir(a.corpus):
        print(f"pdf_throughput: skipped, no corpus at {a.corpus}")
        return 0
    import pypdfium2 as pdfium

    paths, blobs, pages, skipped = [], [], 0, []
    for name in sorted(os.listdir(a.corpus)):
        if not name.lower().endswith(".pdf"):
            continue
        p = os.path.abspath(os.path.join(a.corpus, name))
        data = open(p, "rb").read()
        try:
            doc = pdfium.PdfDocument(data)
            n = len(doc)
            doc.close()
        except Exception as e:  # password-protected or unreadable for pdfium
            skipped.append(f"{name} ({type(e).__name__})")
            continue
        paths.append(p)
        blobs.append(data)
        pages += n
    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as f:
        f.write("\n".join(paths) + "\n")
        listfile = f.name
    print(f"{len(paths)} files, {pages} pages (pdfium count); left out: {', '.join(skipped) or 'none'}")
    print("building the bench...", flush=True)
    subprocess.run(["cargo", "bench", "-q", "--no-run", "--bench", "pdf_throughput"], check=True)

    pdfium_pass(pdfium, blobs)  # warm-up
    rows = []
    for r in range(a.reps):
        rs = ragsan_pass(listfile)
        pf = pdfium_pass(pdfium, blobs)
        pt = pdftotext_pass(paths)
        sp = spawn_pass(len(paths))
        row = {"ragsan_s": rs["median_s"], "ragsan_ok": rs["ok"], "lopdf_pages": rs["pages"],
               "pypdfium2_s": pf, "pdftotext_s": pt, "pdftotext_spawn_s": sp}
        rows.append(row)
        print(f"rep {r + 1}: ragsan {rs['median_s']:.3f} s, pypdfium2 {pf:.3f} s, pdftotext {pt:.3f} s "
              f"(of which process start {sp:.3f} s)", flush=True)
    os.unlink(listfile)

    def med(key):
        return statistics.median(r[key] for r in rows)

    pps = {k: pages / med(k + "_s") for k in ("ragsan", "pypdfium2", "pdftotext")}
    pps["pdftotext_minus_start"] = pages / max(med("pdftotext_s") - med("pdftotext_spawn_s"), 1e-9)
    ratio_pf = statistics.median(r["pypdfium2_s"] / r["ragsan_s"] for r in rows)
    ratio_pt = statistics.median(r["pdftotext_s"] / r["ragsan_s"] for r in rows)
    print(f"\npages/s on one core, median of {a.reps} interleaved repetitions ({pages} pages):")
    print(f"  ragsan                 {pps['ragsan']:8.1f}")
    print(f"  pypdfium2              {pps['pypdfium2']:8.1f}")
    print(f"  pdftotext (per file)   {pps['pdftotext']:8.1f}   (process start included)")
    print(f"  pdftotext minus start  {pps['pdftotext_minus_start']:8.1f}   (estimate)")
    print(f"ratio ragsan / pypdfium2: {ratio_pf:.2f}x  (goal >= 1.15x)")
    print(f"ratio ragsan / pdftotext: {ratio_pt:.2f}x  (pdftotext with process start)")
    if a.json:
        with open(a.json, "w") as f:
            json.dump({"files": len(paths), "pages": pages, "skipped": skipped, "reps": rows,
                       "pages_per_s": pps, "ratio_vs_pypdfium2": ratio_pf, "ratio_vs_pdftotext": ratio_pt}, f,
                      indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
