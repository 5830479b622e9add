#!/usr/bin/env python3
"""DOCX and HTML extraction MB/s: ragsan (in process) next to Kreuzberg (in process), same run.

Runs the `docx_html_throughput` bench binary (built by `cargo bench --no-run`) for ragsan, then
Kreuzberg's `extract_bytes_sync` in this one Python process over the same files (every file of
corpus/docs/{docx,html} except *.ref.txt), with the same warm-up pass and the same number of
repetitions, and prints medians and the ragsan/Kreuzberg ratio. Kreuzberg's result cache is
turned off so every repetition really extracts. Files Kreuzberg rejects still count their
bytes, as they do for ragsan.

Usage (from the project root):
    python3 benches/docx_html_throughput.py [--reps 5] [--corpus ../shared/corpus/docs] [--json OUT]
Needs `pip install kreuzberg`; without it only the ragsan figures are printed.
"""
import argparse, glob, json, os, statistics, subprocess, sys, time

MIME = {
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "docm": "application/vnd.ms-word.document.macroEnabled.12",
    "html": "text/html",
    "htm": "text/html",
}


def corpus_files(root, fmt):
    d = os.path.join(root, fmt)
    if not os.path.isdir(d):
        return []
    return sorted(
        os.path.join(d, n) for n in os.listdir(d) if not n.endswith(".ref.txt") and os.path.isfile(os.path.join(d, n))
    )


def bench_binary(root_dir):
    """Builds the bench (release profile) and returns the path of its executable."""
    p = subprocess.run(
        ["cargo", "bench", "--bench", "docx_html_throughput", "--no-run", "--message-format=json"],
        cwd=root_dir, capture_output=True, text=True,
    )
    if p.returncode != 0:
        sys.exit(f"cargo bench --no-run failed:\n{p.stderr[-2000:]}")
    exe = None
    for line in p.stdout.splitlines():
        try:
            m = json.loads(line)
        except ValueError:
            continue
        if m.get("reason") == "compiler-artifact" and m.get("target", {}).get("name") == "docx_html_throughput":
            exe = m.get("executable") or exe
    if not exe:
        sys.exit("could not find the docx_html_throughput bench executable")
    return exe


def ragsan(exe, corpus, reps):
    env = dict(os.environ, RAGSAN_CORPUS=corpus)
    p = subprocess.run([exe, "--reps", str(reps), "--json"], capture_output=True, text=True, env=env)
    if p.returncode != 0:
        sys.exit(f"bench failed: {p.stderr[-2000:]}")
    out = {}
    for line in p.stdout.splitlines():
        if line.startswith("{"):
            r = json.loads(line)
            out[r["format"]] = r
        else:
            print(line)
    return out


def kreuzberg_run(files, reps):
    import kreuzberg

    cfg = kreuzberg.ExtractionConfig()
    try:
        cfg.use_cache = False
    except Exception:
        pass
    docs = []
    for f in files:
        ext = f.rsplit(".", 1)[-1].lower()
        docs.append((open(f, "rb").read(), MIME.get(ext, "application/octet-stream")))

    def one_pass():
        failed = 0
        t = time.perf_counter()
        for data, mime in docs:
            try:
                kreuzberg.extract_bytes_sync(data, mime, cfg)
            except Exception:
                failed += 1
        return time.perf_counter() - t, failed

    _, failed = one_pass()  # warm-up, as on the ragsan side
    secs = [one_pass()[0] for _ in range(reps)]
    nbytes = sum(len(d) for d, _ in docs)
    med = statistics.median(secs)
    return {"files": len(docs), "bytes": nbytes, "failed": failed, "secs": secs, "median_secs": med,
            "mb_per_s": nbytes / 1e6 / med}


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    root_dir = os.path.dirname(here)
    ap = argparse.ArgumentParser()
    ap.add_argument("--corpus", default=os.path.join(root_dir, "..", "shared", "corpus", "docs"))
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--json")
    a = ap.parse_args()
    corpus = os.path.abspath(a.corpus)
    if not os.path.isdir(corpus):
        print(f"skipped: no corpus at {corpus}")
        return
    exe = bench_binary(root_dir)
    rs = ragsan(exe, corpus, a.reps)
    try:
        import kreuzberg  # noqa: F401
        have_k = True
    except ImportError:
        have_k = False
        print("kreuzberg not installed (pip install kreuzberg): ragsan figures only")
    result = {}
    print(f"{'format':6} {'files':>5} {'MB':>6} | {'ragsan MB/s':>11} {'fail':>4} | {'Kreuzberg MB/s':>14} {'fail':>4} | ratio")
    for fmt in ["docx", "html"]:
        r = rs.get(fmt)
        if not r:
            continue
        k = kreuzberg_run(corpus_files(corpus, fmt), a.reps) if have_k else None
        ratio = r["mb_per_s"] / k["mb_per_s"] if k else None
        result[fmt] = {"ragsan": r, "kreuzberg": k, "ratio": ratio}
        ks = f"{k['mb_per_s']:14.1f} {k['failed']:4d}" if k else f"{'-':>14} {'-':>4}"
        rt = f"{ratio:.1f}x" if ratio else "-"
        print(f"{fmt:6} {r['files']:5d} {r['bytes'] / 1e6:6.2f} | {r['mb_per_s']:11.1f} {r['failed']:4d} | {ks} | {rt}")
    print(f"medians over {a.reps} reps after one warm-up pass, single thread, one process per tool")
    if a.json:
        with open(a.json, "w") as f:
            json.dump(result, f, indent=1)


if __name__ == "__main__":
    main()
