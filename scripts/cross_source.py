#!/usr/bin/env python3
"""Cross-source evaluation of the whole injection detector (rules + scorer).

Why: in-distribution figures on the dev set reward learning its templates. The held-out set comes
from other sources, so this script estimates that figure: for each injection source group of the
dev set, the scorer is retrained without that group (scripts/train_scorer.py --exclude-source),
a copy of detectors/ gets the retrained scorer.bin and its calibrated threshold, and
`ragsan --detectors COPY detect` runs on the left-out injections and on the benign calibration
rows that no scorer was trained on. Reported per left-out group: recall at the shipped threshold,
and recall at 1% FPR (the scorer threshold is raised until at most 1% of those benign rows fire;
rule findings count at any threshold, so the FPR floor is the rules' own FPR).

Caveat: the rules were written while looking at all of the dev set, so the rule part of these
figures is optimistic; the scorer part is a true leave-one-source-out figure.

Usage: cross_source.py DEV.jsonl [--ragsan target/release/ragsan] [--detectors detectors]
                       [--gen DIR]  (also score the generated test split, see gen_inject_eval.py)
                       [--negatives ... --doc-refs GLOB]  (the shipped scorer's recipe, see
                       detectors/injection/scorer.toml)
"""
import argparse, json, os, re, shutil, subprocess, sys, tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import train_scorer as T  # noqa: E402  (same features, grouping and calibration split)


def run_detect(ragsan, det, texts):
    payload = "".join(json.dumps({"id": str(i), "text": t}) + "\n" for i, t in enumerate(texts))
    p = subprocess.run([ragsan, "--detectors", det, "detect"], input=payload.encode(), capture_output=True)
    if p.returncode not in (0, 1):
        sys.exit(f"ragsan detect failed ({p.returncode}): {p.stderr.decode(errors='replace')[:500]}")
    out = {}
    for line in p.stdout.decode().splitlines():
        if line.strip():
            o = json.loads(line)
            fs = [f for f in o.get("findings", []) if f.get("kind") == "injection"]
            rule_hit = any(f.get("rule") != "injection.model.scorer" for f in fs)
            sc = max((f.get("score", 0.0) for f in fs if f.get("rule") == "injection.model.scorer"), default=None)
            out[int(o["id"])] = (rule_hit, sc)
    return [out.get(i, (False, None)) for i in range(len(texts))]


def set_scorer(det_copy, w, b, th):
    import struct
    with open(os.path.join(det_copy, "injection", "scorer.bin"), "wb") as f:
        f.write(struct.pack("<4sII", b"RSC1", T.DIM, T.MAX_TOKENS))
        f.write(struct.pack("<f", b))
        f.write(w.astype("<f4").tobytes())
    p = os.path.join(det_copy, "injection", "scorer.toml")
    s = open(p, encoding="utf-8").read()
    s = re.sub(r"(?m)^threshold = .*$", f"threshold = {th:.4f}", s)
    open(p, "w", encoding="utf-8").write(s)


def logit(p):
    import math
    p = min(max(p, 1e-7), 1 - 1e-7)
    return math.log(p / (1 - p))


def figures(pos_res, neg_res, fpr=0.01):
    """Recall at the shipped threshold, and at the threshold that keeps benign FPR <= fpr."""
    rec = sum(r or s is not None for r, s in pos_res) / max(1, len(pos_res))
    fp_now = sum(r or s is not None for r, s in neg_res) / max(1, len(neg_res))
    # Benign rows flagged by rules stay flagged; raise the scorer cut-off over the others.
    neg_sc = sorted((logit(s) for r, s in neg_res if not r and s is not None), reverse=True)
    budget = int(fpr * len(neg_res)) - sum(r for r, _ in neg_res)
    cut = float("inf") if budget < 0 else (neg_sc[budget] + 1e-6 if budget < len(neg_sc) else float("-inf"))
    rec1 = sum(r or (s is not None and logit(s) >= cut) for r, s in pos_res) / max(1, len(pos_res))
    return rec, fp_now, rec1


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("dev")
    ap.add_argument("--ragsan", default="target/release/ragsan")
    ap.add_argument("--detectors", default="detectors")
    ap.add_argument("--gen", help="directory with the generated test.jsonl to score as well")
    ap.add_argument("--json", help="write the figures here")
    ap.add_argument("--negatives", nargs="*", default=[], help="as train_scorer.py (the shipped recipe)")
    ap.add_argument("--doc-refs", default="", help="as train_scorer.py (the shipped recipe)")
    a = ap.parse_args()
    T.load_negatives(a.negatives)
    rows = [json.loads(l) for l in open(a.dev, encoding="utf-8") if l.strip()]
    rng = T.random.Random(T.SEED)
    rng.shuffle(rows)
    benign = [r for r in rows if r["label"] == "benign"]
    cal = benign[: len(benign) // 3]
    cal_ids = {id(r) for r in cal}
    train_rows = [r for r in rows if id(r) not in cal_ids]
    gen_rows = []
    if a.gen:
        gen_rows = [json.loads(l) for l in open(os.path.join(a.gen, "test.jsonl"), encoding="utf-8") if l.strip()]
    groups = sorted({T.source_group(r["source"]) for r in rows if r["label"] == "injection"})
    result = {}
    tmp = tempfile.mkdtemp(prefix="ragsan-xs-")
    try:
        det = os.path.join(tmp, "detectors")
        shutil.copytree(a.detectors, det)
        cal_texts = [r["text"] for r in cal]
        for g in groups + ["(none)"]:
            tr = [r for r in train_rows if r["label"] == "benign" or T.source_group(r["source"]) != g]
            te = [r["text"] for r in rows if r["label"] == "injection" and T.source_group(r["source"]) == g]
            pos, neg = T.build(tr, rng)
            w, b = T.train(pos, neg)
            th = T.calibrated_threshold(w, b, cal_texts, a.doc_refs)
            set_scorer(det, w, b, th)
            neg_res = run_detect(a.ragsan, det, cal_texts)
            if g == "(none)":
                # Scorer trained on every source: figures on the generated held-out split.
                if gen_rows:
                    res = run_detect(a.ragsan, det, [r["text"] for r in gen_rows])
                    by = {}
                    for r, (rh, sc) in zip(gen_rows, res):
                        fam = r["family"]
                        if fam.startswith(("non_english_", "invisible_")):
                            fam = fam.rsplit("_", 1)[0] if fam.startswith("non_english_") else "invisible"
                        k = r["label"] + ":" + fam
                        hit = rh or sc is not None
                        by.setdefault(k, [0, 0])
                        by[k][0] += hit
                        by[k][1] += 1
                    for k in sorted(by):
                        print(f"generated test split {k:32s} {by[k][0]:5d}/{by[k][1]:<5d} {by[k][0]/by[k][1]:.3f}")
                    result["generated"] = by
                continue
            pos_res = run_detect(a.ragsan, det, te)
            rec, fp_now, rec1 = figures(pos_res, neg_res)
            rules_only = sum(r for r, _ in pos_res) / max(1, len(pos_res))
            print(f"held out {g:14s} n={len(te):5d}  recall@shipped-threshold={rec:.3f} (benign FPR {fp_now:.3f})  "
                  f"recall@1%FPR={rec1:.3f}  rules alone={rules_only:.3f}", flush=True)
            result[g] = {"n": len(te), "recall_shipped": rec, "fpr_shipped": fp_now, "recall_at_1pct": rec1,
                         "rules_only": rules_only}
        n = sum(v["n"] for k, v in result.items() if k in groups)
        if n:
            macro = sum(result[g]["recall_at_1pct"] for g in groups) / len(groups)
            micro = sum(result[g]["recall_at_1pct"] * result[g]["n"] for g in groups) / n
            print(f"leave-one-source-out recall@1%FPR: macro {macro:.3f}, micro {micro:.3f} "
                  f"(calibration benign n={len(cal)}; rule part optimistic, see docstring)")
            result["macro_recall_at_1pct"], result["micro_recall_at_1pct"] = macro, micro
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    if a.json:
        json.dump(result, open(a.json, "w"), indent=1)


if __name__ == "__main__":
    main()
