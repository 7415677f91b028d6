#!/usr/bin/env bash
# The demo: Sextant serves Snapshots/demo.yaml over ADS, a real Envoy 1.40 bootstrapped
# by `sextant bootstrap` takes its listeners, routes, clusters and endpoints from it, and a
# loopback upstream answers through Envoy. Runs until Ctrl-C (DEMO_ONESHOT=1: check and exit).
set -euo pipefail
cd "$(dirname "$0")/.."
BIN="$(swift build --show-bin-path)"
WORK="$(mktemp -d)"
PIDS=()
cleanup() { for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$WORK"; }
trap cleanup EXIT INT TERM

echo "hello from the echo upstream (127.0.0.1:18080)" > "$WORK/index.html"
python3 -m http.server 18080 --bind 127.0.0.1 --directory "$WORK" >"$WORK/upstream.log" 2>&1 &
PIDS+=($!)

"$BIN/sextant" serve --snapshot Snapshots/demo.yaml --xds-address 127.0.0.1:18000 2>"$WORK/sextant.log" &
PIDS+=($!)

"$BIN/sextant" bootstrap --node-id demo-envoy --service demo --xds-address 127.0.0.1:18000 \
  --admin-port 9901 --outbound-port 15001 >"$WORK/envoy.yaml"
.venv/bin/envoy -c "$WORK/envoy.yaml" --base-id 7 --log-level warn >"$WORK/envoy.log" 2>&1 &
PIDS+=($!)

echo "demo: sextant on 127.0.0.1:18000 (xDS), envoy admin on 127.0.0.1:9901, listener on 127.0.0.1:15001"
for _ in $(seq 1 100); do
  if curl -sf http://127.0.0.1:15001/ >/dev/null 2>&1; then break; fi
  sleep 0.2
done
echo '$ curl -i http://127.0.0.1:15001/'
if ! curl -si http://127.0.0.1:15001/; then
  echo "demo: Envoy did not answer; logs follow" >&2
  tail -n 30 "$WORK/sextant.log" "$WORK/envoy.log" >&2
  exit 1
fi
echo
echo "demo: what Envoy ACKed (dynamic resources, from its /config_dump):"
curl -s "http://127.0.0.1:9901/config_dump?include_eds" | python3 -c '
import json, sys
for c in json.load(sys.stdin)["configs"]:
    t = c["@type"].rsplit(".", 1)[-1]
    for key in ("dynamic_listeners", "dynamic_active_clusters", "dynamic_route_configs", "dynamic_endpoint_configs"):
        for r in c.get(key, []):
            v = r.get("version_info") or r.get("active_state", {}).get("version_info")
            name = r.get("name") or r.get("route_config", {}).get("name") or r.get("endpoint_config", {}).get("cluster_name") or r.get("cluster", {}).get("name")
            print(f"  {t:24} {name:20} version {v}")
'
[ "${DEMO_ONESHOT:-0}" = 1 ] && exit 0
echo "demo: edit Snapshots/demo.yaml to publish a new version; Ctrl-C stops everything"
tail -f "$WORK/sextant.log"
