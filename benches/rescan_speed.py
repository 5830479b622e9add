#!/usr/bin/env python3
"""Re-scan after one changed rule vs a full re-scan of the same index.

Builds a corpus of N generated documents (text, a few hundred with a planted token), scans it,
adds one rule, then times (a) `ragsan rescan` and (b) `ragsan scan` of the whole corpus into the
same data dir, with the same rules. Both end with the same index content; prints medians and ratio.
Usage: python3 benches/rescan_speed.py [--bin target/release/ragsan] [--files 3000] [--reps 3]
"""
import argparse, os, random, shutil, statistics, subprocess, tempfile, time

RULE = '''
[[rule]]
id = "secret.bench.launch_code"
name = "Launch code"
label = "launch_code"
severity = "high"
action = "redact"
keywords = ["ZEBRA-"]
pattern = \'\'\'ZEBRA-\\d{4}\'\'\'
examples = ["code ZEBRA-1234"]
negative_examples = ["ZEBRA crossing"]
'''
WORDS = "plan budget hiring team region customer delivery report quarter growth shipping cost".split()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default="target/release/ragsan")
    ap.add_argument("--files", type=int, default=3000)
    ap.add_argument("--reps", type=int, default=3)
    a = ap.parse_args()
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    rng = random.Random(3)
    d = tempfile.mkdtemp(prefix="ragsan-rescan-")
    corpus, rules = os.path.join(d, "corpus"), os.path.join(d, "rules")
    os.makedirs(corpus)
    for i in range(a.files):
        text = "\n\n".join(" ".join(rng.choice(WORDS) for _ in range(80)).capitalize() + "." for _ in range(8))
        if i % 50 == 0:
            text += f"\n\nThe launch code is ZEBRA-{1000 + i % 9000}."
        open(os.path.join(corpus, f"doc{i:05}.txt"), "w").write(text)
    shutil.copytree(os.path.join(root, "detectors"), rules)
    open(os.path.join(rules, "secrets", "zz_bench.toml"), "w").write(RULE)
    env = dict(os.environ, RAGSAN_HMAC_KEY="00" * 32)

    def run(*args):
        t0 = time.perf_counter()
        p = subprocess.run([a.bin, *args], capture_output=True, env=env)
        if p.returncode not in (0, 1):
            raise SystemExit(p.stderr.decode()[-500:])
        return time.perf_counter() - t0

    inc, noop, full = [], [], []
    for _ in range(a.reps):
        data = os.path.join(d, "data")
        shutil.rmtree(data, ignore_errors=True)
        run("--data", data, "scan", "-q", corpus)                          # index with the old rules
        inc.append(run("--data", data, "--detectors", rules, "rescan", corpus))
        noop.append(run("--data", data, "--detectors", rules, "rescan", corpus))  # nothing changed
        data2 = os.path.join(d, "data2")
        shutil.rmtree(data2, ignore_errors=True)
        run("--data", data2, "scan", "-q", corpus)
        full.append(run("--data", data2, "--detectors", rules, "scan", "-q", corpus))
    mi, mn, mf = statistics.median(inc), statistics.median(noop), statistics.median(full)
    mb = sum(os.path.getsize(os.path.join(corpus, f)) for f in os.listdir(corpus)) / 1e6
    print(f"{a.files} documents, {mb:.1f} MB; one rule added; {a.reps} repetitions")
    print(f"rescan (only the new rule over stored chunks, 2% of documents re-judged): median {mi * 1e3:.0f} ms")
    print(f"rescan again, nothing changed:                                         median {mn * 1e3:.0f} ms")
    print(f"full re-scan of the same corpus with the same rules:                   median {mf * 1e3:.0f} ms")
    print(f"speed-up: {mf / mi:.1f}x (nothing changed: {mf / mn:.0f}x)")
    shutil.rmtree(d, ignore_errors=True)


if __name__ == "__main__":
    main()
