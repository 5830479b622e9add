#!/usr/bin/env python3
"""Split the secret false positives on a labeled set into what they are.

`eval_detect.py --kind secret` counts every benign row with a secret finding as a false positive.
Some sets merge other scanners' test cases, where a row is "benign" only for the plugin under test
(detect-secrets' GitLab test lists a GitHub token as a negative; the same text is labeled secret
by its GitHub test). This script runs `ragsan detect` over the benign rows once and reports:
  - rows whose exact text is labeled secret elsewhere in the same set (contradictory labels);
  - rows noted hard_negative (git SHAs, UUIDs, digests...: must be 0);
  - the rest, printed by kind and source, with the false-positive rate without the contradictions.
Row texts (benign by label, but some look like real credentials) are printed only with --show N.
Usage:
  python3 scripts/secrets_fp_audit.py ../shared/corpus/secrets/dev.jsonl [--bin B] [--show N]
"""
import argparse, collections, json, subprocess, sys


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("data")
    ap.add_argument("--bin", default="target/release/ragsan")
    ap.add_argument("--show", type=int, default=0, help="print up to N of the other rows' texts")
    a = ap.parse_args()
    rows = [json.loads(l) for l in open(a.data) if l.strip()]
    secret_texts = {r["text"] for r in rows if r["label"] == "secret"}
    benign = [r for r in rows if r["label"] == "benign"]
    if not benign:
        sys.exit(f"{a.data}: no benign rows")
    inp = "".join(json.dumps({"id": str(i), "text": r["text"]}) + "\n" for i, r in enumerate(benign))
    p = subprocess.run([a.bin, "detect"], input=inp.encode(), capture_output=True)
    if p.returncode not in (0, 1):
        sys.exit(f"ragsan detect: exit {p.returncode}: {p.stderr.decode()[-300:]}")
    fps = []
    for line in p.stdout.decode().splitlines():
        v = json.loads(line)
        if any(f["kind"] == "secret" for f in v["findings"]):
            fps.append((benign[int(v["id"])], sorted({f["rule"] for f in v["findings"] if f["kind"] == "secret"})))
    contradictory = [x for x in fps if x[0]["text"] in secret_texts]
    hard = [x for x in fps if x[0].get("note") == "hard_negative"]
    rest = [x for x in fps if x[0]["text"] not in secret_texts]
    consistent = [r for r in benign if r["text"] not in secret_texts]
    n_hard = sum(r.get("note") == "hard_negative" for r in benign)
    print(f"benign rows {len(benign)}; with a secret finding {len(fps)} (FPR {len(fps) / len(benign):.3f})")
    print(f"  text labeled secret elsewhere in the set: {len(contradictory)}")
    print(f"  hard negatives: {len(hard)} of {n_hard}")
    print(f"  other: {len(rest)} of {len(consistent)} rows without a contradicting label "
          f"(FPR {len(rest) / max(1, len(consistent)):.3f})")
    by = collections.Counter((r.get("source_label"), r["source"].split()[0]) for r, _ in rest)
    for (label, src), n in by.most_common():
        print(f"    {n:>4}  {src}  ({label})")
    for i, (r, rules) in enumerate(rest):
        text = repr(r["text"][:100]) if i < a.show else ""
        print(f"    {r['kind']:<32} {','.join(rules):<40} {text}")


if __name__ == "__main__":
    main()
