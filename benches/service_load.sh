#!/usr/bin/env bash
# Bounded load test of `ragsan serve` over loopback, from a second process.
#
# Starts the server on 127.0.0.1 (a free port), sends POST /v1/check for a fixed duration (wrk)
# or a fixed request count (Python fallback), prints requests/s and p50/p95 latency, and stops
# the server with SIGTERM. Traffic goes to 127.0.0.1 only.
#
# Environment:
#   RAGSAN_BIN    server binary (default target/release/ragsan; build it with
#                 `cargo build --release` first)
#   DURATION      wrk duration in seconds (default 10)
#   REQUESTS      request count for the Python client (default 2000)
#   CONNECTIONS   concurrent connections (default 4)
#   CONCURRENCY   --max-concurrency for the server (default: the server's own default, cores)
#   FILE          document to post (default: a generated ~4 KiB text with one e-mail address,
#                 so every request goes through detection and redaction)
#   CLIENT        wrk | python (default: wrk when installed)
set -euo pipefail

cd "$(dirname "$0")/.."
BIN=${RAGSAN_BIN:-target/release/ragsan}
DURATION=${DURATION:-10}
REQUESTS=${REQUESTS:-2000}
CONNECTIONS=${CONNECTIONS:-4}
if [[ -z "${CLIENT:-}" ]]; then
    if command -v wrk >/dev/null 2>&1; then CLIENT=wrk; else CLIENT=python; fi
fi
if [[ ! -x "$BIN" ]]; then
    echo "service_load: $BIN not found; run 'cargo build --release' or set RAGSAN_BIN" >&2
    exit 2
fi
# Hard caps so a typo cannot turn this into an unbounded run.
((DURATION >= 1 && DURATION <= 120)) || { echo "DURATION must be 1..120" >&2; exit 2; }
((REQUESTS >= 1 && REQUESTS <= 100000)) || { echo "REQUESTS must be 1..100000" >&2; exit 2; }
((CONNECTIONS >= 1 && CONNECTIONS <= 64)) || { echo "CONNECTIONS must be 1..64" >&2; exit 2; }

WORK=$(mktemp -d)
SERVER_PID=""
cleanup() {
    if [[ -n "$SERVER_PID" ]] && kill -0 "$SERVER_PID" 2>/dev/null; then
        kill -TERM "$SERVER_PID" 2>/dev/null || true
        wait "$SERVER_PID" 2>/dev/null || true
    fi
    rm -rf "$WORK"
}
trap cleanup EXIT

if [[ -n "${FILE:-}" ]]; then
    DOC=$FILE
    NAME=$(basename "$FILE")
else
    DOC=$WORK/doc.txt
    NAME=doc.txt
    {
        for i in $(seq 1 40); do
            echo "Paragraph $i of the quarterly planning notes: the team reviewed the roadmap, budget and hiring plan."
        done
        echo "Questions go to planning.desk@mailbox-example.org before Friday."
    } >"$DOC"
fi

ARGS=(serve --listen 127.0.0.1:0)
[[ -n "${CONCURRENCY:-}" ]] && ARGS+=(--max-concurrency "$CONCURRENCY")
# Access logging off during the run: measure the service, not the terminal.
RAGSAN_LOG=warn RAGSAN_HMAC_KEY=00112233445566778899aabbccddeeff \
    "$BIN" "${ARGS[@]}" 2>"$WORK/server.log" &
SERVER_PID=$!
ADDR=""
for _ in $(seq 1 100); do
    ADDR=$(sed -n 's/^ragsan: listening on //p' "$WORK/server.log" | head -1)
    [[ -n "$ADDR" ]] && break
    kill -0 "$SERVER_PID" 2>/dev/null || { cat "$WORK/server.log" >&2; exit 2; }
    sleep 0.1
done
[[ -n "$ADDR" ]] || { echo "server did not start" >&2; cat "$WORK/server.log" >&2; exit 2; }
case "$ADDR" in http://127.0.0.1:*) ;; *) echo "unexpected address $ADDR" >&2; exit 2 ;; esac
URL="$ADDR/v1/check?filename=$NAME"

# One warm-up request that must succeed.
VERDICT=$(python3 - "$URL" "$DOC" <<'EOF'
import sys, urllib.request
req = urllib.request.Request(sys.argv[1], data=open(sys.argv[2], "rb").read(), method="POST")
with urllib.request.urlopen(req, timeout=30) as r:
    print(r.status, r.headers.get("X-Ragsan-Verdict"))
EOF
)
echo "server: $ADDR  binary: $BIN  document: $NAME ($(wc -c <"$DOC") bytes) -> $VERDICT"

if [[ "$CLIENT" == wrk ]]; then
    cat >"$WORK/post.lua" <<EOF
local f = assert(io.open("$DOC", "rb"))
wrk.method = "POST"
wrk.body = f:read("*a")
f:close()
wrk.headers["Content-Type"] = "application/octet-stream"
function done(summary, latency, requests)
  local secs = summary.duration / 1e6
  local bad = summary.errors.status + summary.errors.connect + summary.errors.read
            + summary.errors.write + summary.errors.timeout
  io.write(string.format("client: wrk, %d connections, %.1f s\n", $CONNECTIONS, secs))
  io.write(string.format("requests: %d  errors/non-2xx: %d\n", summary.requests, bad))
  io.write(string.format("requests/s: %.1f\n", summary.requests / secs))
  io.write(string.format("latency p50: %.2f ms  p95: %.2f ms  p99: %.2f ms  max: %.2f ms\n",
    latency:percentile(50) / 1000, latency:percentile(95) / 1000,
    latency:percentile(99) / 1000, latency.max / 1000))
end
EOF
    THREADS=$((CONNECTIONS < 2 ? CONNECTIONS : 2))
    wrk -t "$THREADS" -c "$CONNECTIONS" -d "${DURATION}s" --timeout 30s -s "$WORK/post.lua" "$URL" \
        | sed -n '/^client:/,$p'
else
    python3 - "$URL" "$DOC" "$REQUESTS" "$CONNECTIONS" <<'EOF'
import http.client, sys, threading, time, urllib.parse
url, doc, total, conns = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
u = urllib.parse.urlsplit(url)
body = open(doc, "rb").read()
path = u.path + "?" + u.query
lat, errors, lock = [], [0], threading.Lock()
counter = iter(range(total))
def worker():
    c = http.client.HTTPConnection(u.hostname, u.port, timeout=30)
    while True:
        with lock:
            if next(counter, None) is None:
                break
        t = time.perf_counter()
        try:
            c.request("POST", path, body, {"Content-Type": "application/octet-stream"})
            r = c.getresponse()
            r.read()
            ok = r.status == 200
        except OSError:
            ok = False
            c.close()
            c = http.client.HTTPConnection(u.hostname, u.port, timeout=30)
        dt = time.perf_counter() - t
        with lock:
            lat.append(dt)
            errors[0] += 0 if ok else 1
    c.close()
t0 = time.perf_counter()
ts = [threading.Thread(target=worker) for _ in range(conns)]
for t in ts: t.start()
for t in ts: t.join()
secs = time.perf_counter() - t0
lat.sort()
pct = lambda p: lat[min(len(lat) - 1, int(p / 100 * len(lat)))] * 1000
print(f"client: python threads, {conns} connections, {secs:.1f} s")
print(f"requests: {len(lat)}  errors/non-2xx: {errors[0]}")
print(f"requests/s: {len(lat) / secs:.1f}")
print(f"latency p50: {pct(50):.2f} ms  p95: {pct(95):.2f} ms  p99: {pct(99):.2f} ms  max: {lat[-1]*1000:.2f} ms")
EOF
fi

kill -TERM "$SERVER_PID"
if wait "$SERVER_PID"; then
    echo "server: stopped cleanly (exit 0)"
else
    echo "server: exit $?" >&2
    exit 1
fi
SERVER_PID=""
