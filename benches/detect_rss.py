#!/usr/bin/env python3
"""Peak RSS and wall time of `ragsan detect` over a big generated mixed input (issue 6: ≤ 256 MB).

Generates N MiB of NDJSON lines (prose, code, JSON, logs, lockfile hashes, long base64, planted
keys and e-mails, each line ≤ 64 KiB of text), runs the release binary under `/usr/bin/time -v`
(Debian package `time`) and prints peak RSS, wall time and MiB/s (both cores, process start
included). Usage: python3 benches/detect_rss.py [--bin target/release/ragsan] [--mib 64]
"""
import argparse, json, os, random, re, string, subprocess, sys, tempfile

B62 = string.ascii_letters + string.digits
WORDS = ("the board approved a new budget for library renovation and staff moved books to temporary shelves "
         "in the east wing while contractors replaced windows during summer months").split()


def tok(rng, n):
    return "".join(rng.choice(B62) for _ in range(n))


def block(rng):
    k = rng.randrange(7)
    if k == 0:
        return " ".join(rng.choice(WORDS) for _ in range(90)) + ".\n"
    if k == 1:
        return f'fn handler(req: Request) -> Response {{\n    let id = req.param("id");\n}}\n// config {tok(rng, 12)}\n'
    if k == 2:
        return f'{{"id": "{tok(rng, 24)}", "name": "widget", "price": {rng.randrange(1000)}}}\n'
    if k == 3:
        return f"2026-11-22T04:00:{rng.randrange(60):02}Z INFO request id={tok(rng, 16)} status=200\n"
    if k == 4:
        return f'  integrity sha512-{tok(rng, 86)}==\n  resolved "https://registry.example/pkg-1.2.tgz"\n'
    if k == 5:
        return tok(rng, 76) + "\n"
    key = re.sub("[0189]", "Q", tok(rng, 16).upper())
    return f"export AWS_ACCESS_KEY_ID=AKIA{key}\ncontact: {tok(rng, 8).lower()}@mailbox-example.org\n"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default="target/release/ragsan")
    ap.add_argument("--mib", type=int, default=64)
    a = ap.parse_args()
    rng = random.Random(5)
    path = os.path.join(tempfile.mkdtemp(prefix="ragsan-rss-"), "input.ndjson")
    total = 0
    with open(path, "w") as f:
        i = 0
        while total < a.mib << 20:
            text = "".join(block(rng) for _ in range(rng.randrange(20, 120)))
            total += len(text)
            f.write(json.dumps({"id": i, "text": text}) + "\n")
            i += 1
    with open(path, "rb") as inp:
        p = subprocess.run(["/usr/bin/time", "-v", a.bin, "detect"], stdin=inp, stdout=subprocess.DEVNULL,
                           stderr=subprocess.PIPE, text=True)
    if p.returncode not in (0, 1):
        sys.exit(f"ragsan detect exited {p.returncode}: {p.stderr[-400:]}")
    rss = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", p.stderr).group(1))
    wall = re.search(r"Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): ([\d:.]+)", p.stderr).group(1)
    secs = sum(float(x) * 60 ** i for i, x in enumerate(reversed(wall.split(":"))))
    print(f"{total / (1 << 20):.1f} MiB text in {i} lines: peak RSS {rss / 1024:.1f} MiB, wall {secs:.2f} s, "
          f"{total / (1 << 20) / secs:.1f} MiB/s (all cores, process start included)")


if __name__ == "__main__":
    main()
