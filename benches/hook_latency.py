#!/usr/bin/env python3
"""Pre-upload hook latency: `ragsan check FILE` wall time including process start.

Generates three inputs (a 10 KB text, a 1 MB DOCX with text and an image, a 5 MB PDF with text
pages and an image), runs the release binary N times on each, and prints p50/p95/max in ms.
Usage: python3 benches/hook_latency.py [--bin target/release/ragsan] [--runs 40]

The first row, `ragsan --version`, is the bare process start (loader, no rules), the floor under
every call. This machine's speed varies by up to 1.8x between sessions, so judge a change by
alternating two binaries in one session (--bin), not by absolute figures from different days.
"""
import argparse, io, os, random, statistics, subprocess, sys, tempfile, time, zipfile, zlib

WORDS = ("the quarterly report describes results of our team and customers were happy with delivery "
         "times in each region while costs rose slightly because shipping partners changed their rates").split()


def prose(rng, n_words):
    out, line = [], []
    for i in range(n_words):
        line.append(rng.choice(WORDS))
        if len(line) > 14:
            out.append(" ".join(line).capitalize() + ".")
            line = []
    return " ".join(out)


def make_text(path, rng):
    with open(path, "w") as f:
        while f.tell() < 10_000:
            f.write(prose(rng, 60) + "\n\n")


def make_docx(path, rng, size=1_000_000):
    paras = "".join(f"<w:p><w:r><w:t>{prose(rng, 40)}</w:t></w:r></w:p>" for _ in range(900))
    doc = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
           '<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>'
           f"{paras}</w:body></w:document>")
    ct = ('<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
          '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
          '<Default Extension="xml" ContentType="application/xml"/><Default Extension="png" ContentType="image/png"/>'
          '<Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>')
    rels = ('<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="word/document.xml"/></Relationships>')
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", ct)
        z.writestr("_rels/.rels", rels)
        z.writestr("word/document.xml", doc)
        used = buf.tell() + len(doc) // 4
        z.writestr("word/media/image1.png", rng.randbytes(max(0, size - used)), compress_type=zipfile.ZIP_STORED)
    open(path, "wb").write(buf.getvalue())


def make_pdf(path, rng, size=5_000_000, pages=40):
    objs = []
    def add(b):
        objs.append(b)
        return len(objs)
    font = add(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>")
    img_data = rng.randbytes(size - 250_000)
    img = add(b"<< /Type /XObject /Subtype /Image /Width 1000 /Height %d /ColorSpace /DeviceGray /BitsPerComponent 8 /Length %d >>\nstream\n"
              % (len(img_data) // 1000, len(img_data)) + img_data + b"\nendstream")
    page_ids = []
    pages_id = len(objs) + 2 * pages + 1
    for p in range(pages):
        lines = [prose(rng, 12) for _ in range(45)]
        ops = "BT /F1 10 Tf 50 780 Td 14 TL " + " ".join(f"({l}) '" for l in lines) + " ET"
        if p == 0:
            ops = "q 500 0 0 300 50 50 cm /Im1 Do Q " + ops
        data = zlib.compress(ops.encode())
        c = add(b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(data) + data + b"\nendstream")
        pid = add(b"<< /Type /Page /Parent %d 0 R /MediaBox [0 0 612 792] /Contents %d 0 R "
                  b"/Resources << /Font << /F1 %d 0 R >> /XObject << /Im1 %d 0 R >> >> >>" % (pages_id, c, font, img))
        page_ids.append(pid)
    assert add(b"<< /Type /Pages /Kids [" + b" ".join(b"%d 0 R" % i for i in page_ids) + b"] /Count %d >>" % pages) == pages_id
    cat = add(b"<< /Type /Catalog /Pages %d 0 R >>" % pages_id)
    out = bytearray(b"%PDF-1.7\n")
    offs = []
    for i, o in enumerate(objs, 1):
        offs.append(len(out))
        out += b"%d 0 obj\n" % i + o + b"\nendobj\n"
    x = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objs) + 1) + b"".join(b"%010d 00000 n \n" % o for o in offs)
    out += b"trailer\n<< /Size %d /Root %d 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objs) + 1, cat, x)
    open(path, "wb").write(out)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default="target/release/ragsan")
    ap.add_argument("--runs", type=int, default=40)
    a = ap.parse_args()
    rng = random.Random(7)
    d = tempfile.mkdtemp(prefix="ragsan-hook-")
    inputs = [("10 KB text", os.path.join(d, "note.txt"), make_text),
              ("1 MB DOCX", os.path.join(d, "report.docx"), make_docx),
              ("5 MB PDF", os.path.join(d, "manual.pdf"), make_pdf)]
    env = dict(os.environ, RAGSAN_HMAC_KEY="00" * 32)
    print(f"{'input':<12} {'bytes':>9} {'verdict':<12} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8}  ({a.runs} runs, process start included)")
    def run(name, argv, size, verdict_of):
        subprocess.run(argv, capture_output=True, env=env)  # warm the page cache
        times, verdict = [], "?"
        for _ in range(a.runs):
            t0 = time.perf_counter()
            p = subprocess.run(argv, capture_output=True, env=env)
            times.append((time.perf_counter() - t0) * 1000)
            if p.returncode not in (0, 1):
                sys.exit(f"{name}: exit {p.returncode}: {p.stderr.decode()[-300:]}")
            verdict = verdict_of(p.stdout.decode())
        times.sort()
        p95 = times[min(len(times) - 1, int(round(0.95 * (len(times) - 1))))]
        print(f"{name:<12} {size:>9} {verdict:<12} {statistics.median(times):>8.1f} {p95:>8.1f} {times[-1]:>8.1f}")

    run("--version", [a.bin, "--version"], 0, lambda out: "-")
    for name, path, make in inputs:
        make(path, rng)
        run(name, [a.bin, "check", path], os.path.getsize(path),
            lambda out: out.split('"verdict": "')[1].split('"')[0])


if __name__ == "__main__":
    main()
