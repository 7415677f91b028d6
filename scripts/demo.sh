#!/usr/bin/env bash
# The demo: Sextant on its embedded store (SQLite in a temporary --data-dir), two loopback
# upstreams registered as service `echo` through the REST API (with the `sextant` CLI),
# and a real Envoy 1.40 bootstrapped by `sextant bootstrap` that takes every listener,
# route, cluster and endpoint from Sextant over ADS, and beside it sextant-proxy, the
# project's own data plane, configured the same way. Then: curl through both, a 90/10
# canary split, a header rule, and a rollback. Runs until Ctrl-C (DEMO_ONESHOT=1: exit).
set -euo pipefail
cd "$(dirname "$0")/.."
BIN="$(swift build --show-bin-path)"
WORK="$(mktemp -d)"
PIDS=()
cleanup() { for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$WORK"; }
trap cleanup EXIT INT TERM
export SEXTANT_API=http://127.0.0.1:18001
say() { printf '\n\033[1m$ %s\033[0m\n' "$*"; "$@"; }

for v in v1 v2; do
  mkdir -p "$WORK/$v" && echo "hello from echo $v" > "$WORK/$v/index.html"
done
python3 -m http.server 18080 --bind 127.0.0.1 --directory "$WORK/v1" >"$WORK/v1.log" 2>&1 & PIDS+=($!)
python3 -m http.server 18081 --bind 127.0.0.1 --directory "$WORK/v2" >"$WORK/v2.log" 2>&1 & PIDS+=($!)

"$BIN/sextant" serve --data-dir "$WORK/data" --xds-address 127.0.0.1:18000 --api-address 127.0.0.1:18001 2>"$WORK/sextant.log" & PIDS+=($!)
for _ in $(seq 1 100); do curl -sf http://127.0.0.1:18001/readyz >/dev/null 2>&1 && break; sleep 0.1; done

"$BIN/sextant" bootstrap --node-id demo-envoy --service demo --xds-address 127.0.0.1:18000 \
  --admin-port 9901 --outbound-port 15001 >"$WORK/envoy.yaml"
.venv/bin/envoy -c "$WORK/envoy.yaml" --base-id 7 --log-level warn >"$WORK/envoy.log" 2>&1 & PIDS+=($!)
"$BIN/sextant-proxy" --node-id demo-sextant-proxy --service demo --xds-address 127.0.0.1:18000 \
  --admin-address 127.0.0.1:19100 --outbound-port 15002 --inbound-port 15007 >"$WORK/sextant-proxy.log" 2>&1 & PIDS+=($!)
echo "demo: sextant xDS 127.0.0.1:18000, REST 127.0.0.1:18001"
echo "demo: envoy admin 127.0.0.1:9901, outbound 127.0.0.1:15001; sextant-proxy admin 127.0.0.1:19100, outbound 127.0.0.1:15002"

say curl -s -X PUT "$SEXTANT_API/v1/services/echo" -H 'Content-Type: application/json' -d '{"protocol": "http", "port": 8080}'
say "$BIN/sextant" instance put echo v1-a --address 127.0.0.1 --port 18080 --label version=v1
for _ in $(seq 1 100); do curl -sf -H 'Host: echo' http://127.0.0.1:15001/ >/dev/null 2>&1 && break; sleep 0.1; done
say curl -si -H 'Host: echo' http://127.0.0.1:15001/
if ! curl -sf -H 'Host: echo' http://127.0.0.1:15001/ >/dev/null; then
  echo "demo: Envoy did not route to echo; logs follow" >&2
  tail -n 30 "$WORK/sextant.log" "$WORK/envoy.log" >&2
  exit 1
fi
for _ in $(seq 1 100); do curl -sf -H 'Host: echo' http://127.0.0.1:15002/ >/dev/null 2>&1 && break; sleep 0.1; done
say curl -si -H 'Host: echo' http://127.0.0.1:15002/
if ! curl -sf -H 'Host: echo' http://127.0.0.1:15002/ >/dev/null; then
  echo "demo: sextant-proxy did not route to echo; logs follow" >&2
  tail -n 30 "$WORK/sextant.log" "$WORK/sextant-proxy.log" >&2
  exit 1
fi
BEFORE_CANARY="$(curl -s "$SEXTANT_API/v1/snapshots" | python3 -c 'import json,sys; print(json.load(sys.stdin)["current"])')"

say "$BIN/sextant" instance put echo v2-a --address 127.0.0.1 --port 18081 --label version=v2
say "$BIN/sextant" service put echo --file Snapshots/services/echo-canary.json
sleep 0.5
echo; echo "demo: 200 requests through Envoy with the 90/10 split:"
for _ in $(seq 1 200); do curl -s -H 'Host: echo' http://127.0.0.1:15001/; done | sort | uniq -c
echo "demo: the same 200 through sextant-proxy:"
for _ in $(seq 1 200); do curl -s -H 'Host: echo' http://127.0.0.1:15002/; done | sort | uniq -c
echo "demo: with x-canary: true, only v2:"
for _ in $(seq 1 20); do curl -s -H 'Host: echo' -H 'x-canary: true' http://127.0.0.1:15001/; done | sort | uniq -c

say "$BIN/sextant" snapshot list
say "$BIN/sextant" snapshot diff "$BEFORE_CANARY" current
say "$BIN/sextant" snapshot rollback "$BEFORE_CANARY"
sleep 0.5
echo "demo: after the rollback, 20 requests:"
for _ in $(seq 1 20); do curl -s -H 'Host: echo' http://127.0.0.1:15001/; done | sort | uniq -c
say "$BIN/sextant" proxies

# The canary again, this time as a progressive rollout (docs/rollouts.md): the rollback
# left publishing in manual mode, so the change waits until the rollout moves proxies.
say "$BIN/sextant" service put echo --file Snapshots/services/echo-canary.json
say "$BIN/sextant" rollout start --steps 50,100 --step-seconds 2
sleep 1
for _ in $(seq 1 20); do curl -s -o /dev/null -H 'Host: echo' http://127.0.0.1:15001/; curl -s -o /dev/null -H 'Host: echo' http://127.0.0.1:15002/; done
say "$BIN/sextant" rollout status
for _ in $(seq 1 40); do
  state="$("$BIN/sextant" rollout status --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["state"])')"
  [ "$state" = running ] || break
  sleep 0.25
done
say "$BIN/sextant" rollout status
say sh -c "curl -s $SEXTANT_API/v1/services/echo/load"
echo "demo: the dashboard is at $SEXTANT_API/ui"
say sh -c "curl -s http://127.0.0.1:19100/stats | grep -E '^cluster\.echo|^control_plane\.(cds|lds)'"

[ "${DEMO_ONESHOT:-0}" = 1 ] && exit 0
echo; echo "demo: try the sextant CLI (SEXTANT_API=$SEXTANT_API); Ctrl-C stops everything"
tail -f "$WORK/sextant.log"
