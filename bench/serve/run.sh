#!/usr/bin/env bash
# bench/serve/run.sh - load test of `dunlin serve` POST /v1/decide with wrk
# on loopback. Use a Release build:
#   cmake -S . -B build-rel -DCMAKE_BUILD_TYPE=Release && cmake --build build-rel --target dunlin
#   DUNLIN=build-rel/dunlin bench/serve/run.sh [THREADS] [CONNECTIONS] [SECONDS]
# THREADS is the server's --threads (default 2); wrk uses 2 threads (1 for one
# connection) and
# CONNECTIONS connections (default 16) for SECONDS (default 15). The
# server's log (one line per request) goes to a temporary file, as it
# would in production to a log collector.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
DUNLIN=${DUNLIN:-$ROOT/build-rel/dunlin}
THREADS=${1:-2}
CONNS=${2:-16}
SECS=${3:-15}
WT=$(( CONNS < 2 ? 1 : 2 ))
POLICY=${POLICY:-$ROOT/policies/b2b_net30.dun}
command -v wrk >/dev/null || { echo "wrk is needed (apt-get install wrk)"; exit 1; }
[ -x "$DUNLIN" ] || { echo "no dunlin binary at $DUNLIN (set DUNLIN)"; exit 1; }

WORK=$(mktemp -d)
SP=""
cleanup() { [ -n "$SP" ] && kill "$SP" 2>/dev/null && wait "$SP" 2>/dev/null; rm -rf "$WORK"; }
trap cleanup EXIT
trap 'exit 1' INT TERM

"$DUNLIN" ledger init "$WORK/ledger.db" >/dev/null
"$DUNLIN" serve "$POLICY" --ledger "$WORK/ledger.db" --listen 127.0.0.1:0 --threads "$THREADS" \
  2>"$WORK/serve.log" &
SP=$!
PORT=""
for _ in $(seq 1 100); do
  PORT=$(sed -n 's/.*listening on port \([0-9]*\).*/\1/p' "$WORK/serve.log")
  [ -n "$PORT" ] && break
  sleep 0.1
done
[ -n "$PORT" ] || { cat "$WORK/serve.log"; exit 1; }
URL="http://127.0.0.1:$PORT"

# the request must succeed before it is timed
body=$(sed -n '/^wrk.body = \[\[/,/^\]\]/p' "$ROOT/bench/serve/decide.lua" | sed '1d;$d')
code=$(curl -s -o "$WORK/one.json" -w '%{http_code}' -X POST --data-binary "$body" "$URL/v1/decide")
[ "$code" = 200 ] || { echo "decide answered $code:"; cat "$WORK/one.json"; exit 1; }
echo "one decision: $(jq -c '[.actions[] | [.kind,.tone,.status]]' "$WORK/one.json" 2>/dev/null || cat "$WORK/one.json")"

echo "server: --threads $THREADS; wrk: $WT threads, $CONNS connections, ${SECS}s; $(nproc) CPUs"
wrk -t"$WT" -c"$CONNS" -d"${SECS}s" --latency -s "$ROOT/bench/serve/decide.lua" "$URL/v1/decide"
# the same server answering GET /healthz: the cost of HTTP, routing and
# logging alone, to set against the decisions
echo "baseline, GET /healthz:"
wrk -t"$WT" -c"$CONNS" -d"$(( SECS / 3 + 1 ))s" --latency "$URL/healthz" | grep -E 'Requests/sec|50%|99%'
echo "status codes in the server log:"
awk '$1 == "POST" || $1 == "GET" {print $1, $2, $3}' "$WORK/serve.log" | sort | uniq -c
curl -s "$URL/metrics" | grep -E '^dunlin_decision_duration_seconds_(count|sum)'
