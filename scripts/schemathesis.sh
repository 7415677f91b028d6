#!/usr/bin/env bash
# Property-based check of the REST API against its own OpenAPI document (GET /openapi.json),
# with Schemathesis: every operation is called with generated valid and invalid inputs, and
# each answer must be a declared status, with the declared content type, headers and body
# schema, and never a 5xx. Seeded and bounded, so two runs send the same requests and the
# whole run stays well under two minutes.
#
#   scripts/schemathesis.sh                     # against .build/debug/sextant
#   SEXTANT=/path/to/sextant scripts/schemathesis.sh
#   SEED=7 MAX_EXAMPLES=100 scripts/schemathesis.sh
#   scripts/schemathesis.sh --include-path-regex '^/v1/snapshots'   # extra arguments go to `schemathesis run`
#   SPEC=openapi.json scripts/schemathesis.sh   # check the server against this document instead of its own
#
# Exits non-zero when Schemathesis reports a failure, when the server does not become
# ready or does not stop on SIGTERM, or when the server logged anything at error level
# (a clean stop logs nothing above info).
set -euo pipefail
cd "$(dirname "$0")/.."

SEXTANT=${SEXTANT:-.build/debug/sextant}
# sextant-proxy beside sextant, when built: connected proxies fill GET /v1/proxies.
PROXY=${SEXTANT_PROXY:-$(dirname "$SEXTANT")/sextant-proxy}
SPEC=${SPEC:-}
SEED=${SEED:-20261130}
MAX_EXAMPLES=${MAX_EXAMPLES:-25}
SCHEMATHESIS_VERSION=4.32.5
VENV=.venv-schemathesis

[ -x "$SEXTANT" ] || { echo "schemathesis: no sextant binary at $SEXTANT (swift build first, or set SEXTANT)" >&2; exit 2; }

# Its own venv: Schemathesis's dependencies (hypothesis, requests, jsonschema…) stay out of
# .venv (envoy, grpcio) and .venv-protos (pinned protobuf for the generator).
if ! "$VENV/bin/schemathesis" --version 2>/dev/null | grep -qF "$SCHEMATHESIS_VERSION"; then
  [ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
  echo "schemathesis: installing schemathesis==$SCHEMATHESIS_VERSION into $VENV"
  "$VENV/bin/pip" install -q --disable-pip-version-check "schemathesis==$SCHEMATHESIS_VERSION"
fi

work=$(mktemp -d)
server_pid=""
proxy_pids=()
cleanup() {
  # Only what this script started, by pid.
  for pid in "${proxy_pids[@]}" $server_pid; do kill -KILL "$pid" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

# Free loopback ports: REST, xDS, and per proxy admin, outbound and inbound. serve refuses
# port 0, so the kernel picks them here; all are held until every one is chosen, and the
# window between closing them and their new owner binding is tiny on loopback.
read -r api_port xds_port p1_admin p1_out p1_in p2_admin p2_out p2_in < <("$VENV/bin/python" - <<'EOF'
import socket
sockets = [socket.socket() for _ in range(8)]
for s in sockets:
    s.bind(("127.0.0.1", 0))
print(*(s.getsockname()[1] for s in sockets))
EOF
)
api="http://127.0.0.1:$api_port"

# A token makes every mutation need `Authorization: Bearer`; Schemathesis sends it on
# every request, so PUT/POST/DELETE are exercised past the 401 guard. JSON logs so the
# level of each line can be checked exactly.
token="schemathesis-$RANDOM$RANDOM"
auth=(-H "Authorization: Bearer $token")
"$SEXTANT" serve --data-dir "$work/data" --api-address "127.0.0.1:$api_port" --xds-address "127.0.0.1:$xds_port" \
  --api-token "$token" --log-format json >"$work/server.log" 2>&1 &
server_pid=$!

for _ in $(seq 100); do
  curl -sf -o /dev/null "$api/readyz" && break
  kill -0 "$server_pid" 2>/dev/null || { echo "schemathesis: sextant exited before it was ready" >&2; cat "$work/server.log" >&2; exit 1; }
  sleep 0.1
done
curl -sf -o /dev/null "$api/readyz" || { echo "schemathesis: sextant not ready after 10 s" >&2; cat "$work/server.log" >&2; exit 1; }

# Seed the registry so that the answers Schemathesis checks against their schemas carry
# every optional field (a policy with each section, instances with zone, TTL, labels and
# sidecar port, a draining one, a node token) rather than empty lists. Generated names
# almost never hit these, so the generated DELETEs leave them in place.
put() {  # put PATH JSON: a seeding write that must succeed
  curl -sf -o /dev/null "${auth[@]}" -X "${3:-PUT}" -H 'Content-Type: application/json' "$api$1" -d "$2" \
    || { echo "schemathesis: seeding $1 failed" >&2; exit 1; }
}
put /v1/services/web '{"protocol": "http", "port": 8081}'
put /v1/services/echo '{
  "protocol": "http", "port": 8080, "lb_policy": "least_request", "mtls": "permissive",
  "connect_timeout_ms": 500, "timeout_ms": 5000,
  "retries": {"attempts": 2, "per_try_timeout_ms": 1000, "on": ["5xx", "reset"]},
  "circuit_breaker": {"max_connections": 100, "max_pending_requests": 10, "max_requests": 100, "max_retries": 3},
  "outlier_detection": {"consecutive_5xx": 5, "interval_ms": 1000, "base_ejection_ms": 30000, "max_ejection_percent": 50},
  "rate_limit": {"requests_per_second": 100, "burst": 20},
  "subsets": {"v1": {"version": "v1"}, "v2": {"version": "v2"}},
  "routes": [
    {"match": {"prefix": "/", "headers": {"x-canary": "true"}}, "split": {"v2": 100}},
    {"match": {"path": "/slow"}, "fault": {"delay_ms": 10, "delay_percent": 1, "abort_status": 503, "abort_percent": 1}},
    {"match": {"prefix": "/"}, "split": {"v1": 90, "v2": 10}}
  ],
  "upstreams": ["web"],
  "authorization": {"default": "deny", "rules": [{"action": "allow", "from": ["web"], "methods": ["GET"], "paths": ["/api/*"]}]}
}'
put /v1/services/echo/instances/v1-a '{"address": "127.0.0.1", "port": 18080, "weight": 2, "zone": "z1", "labels": {"version": "v1"}, "ttl_seconds": 3600, "sidecar_port": 15006}'
put /v1/services/echo/instances/v2-a '{"address": "::1", "port": 18081, "labels": {"version": "v2"}}'
put /v1/services/web/instances/w-1 '{"address": "localhost", "port": 18082}'
put /v1/services/echo/instances/v2-a/health '{"status": "draining"}'
put /v1/tokens '{"service": "echo"}' POST

# Two proxies on xDS, one per protocol (Delta lists resources per type), so that
# /v1/proxies is not an empty list.
if [ -x "$PROXY" ]; then
  "$PROXY" --node-id st-delta --service web --xds-address "127.0.0.1:$xds_port" --xds-protocol delta \
    --admin-address "127.0.0.1:$p1_admin" --outbound-port "$p1_out" --inbound-port "$p1_in" >"$work/proxy1.log" 2>&1 &
  proxy_pids+=($!)
  "$PROXY" --node-id st-sotw --service echo --xds-address "127.0.0.1:$xds_port" --xds-protocol sotw \
    --admin-address "127.0.0.1:$p2_admin" --outbound-port "$p2_out" --inbound-port "$p2_in" >"$work/proxy2.log" 2>&1 &
  proxy_pids+=($!)
  connected=0
  for _ in $(seq 100); do
    connected=$(curl -sf "$api/v1/proxies" | grep -c '"node_id"' || true)
    [ "$connected" -ge 2 ] && break
    sleep 0.1
  done
  [ "$connected" -ge 2 ] || echo "schemathesis: only $connected of 2 proxies connected; going on"
else
  echo "schemathesis: no sextant-proxy at $PROXY; /v1/proxies is checked empty"
fi

# A seeded run must depend on its seed alone: Schemathesis would keep a run's failures in
# .schemathesis/ and replay them first in the next one (no cache), and Hypothesis keeps
# examples and other state in .hypothesis/ (kept in the temporary directory instead).
printf '[cache]\nenabled = false\n' >"$work/schemathesis.toml"
export HYPOTHESIS_STORAGE_DIRECTORY="$work/hypothesis"

# The checks that hold for this API: no 5xx, only declared statuses, content types and
# headers, and bodies matching their schemas. --seed and a fixed --max-examples make the
# run repeatable; --generation-database none keeps examples found by an earlier run from
# changing what this one sends. One worker: operations share the
# registry, and the order of requests must not depend on scheduling. --continue-on-failure
# reports every failing case of an operation, not only its first.
status=0
"$VENV/bin/schemathesis" --config-file "$work/schemathesis.toml" run "${SPEC:-$api/openapi.json}" \
  --url "$api" \
  --seed "$SEED" \
  --max-examples "$MAX_EXAMPLES" \
  --workers 1 \
  --generation-database none \
  --checks not_a_server_error,status_code_conformance,content_type_conformance,response_headers_conformance,response_schema_conformance \
  --header "Authorization: Bearer $token" \
  --request-timeout 10 \
  --continue-on-failure \
  --no-color \
  "$@" || status=$?

# The proxies first (their streams end when the server stops anyway), then a graceful
# stop of the server: SIGTERM, and wait for it (at most 15 s).
for pid in "${proxy_pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; done
proxy_pids=()
kill -TERM "$server_pid"
for _ in $(seq 150); do kill -0 "$server_pid" 2>/dev/null || break; sleep 0.1; done
if kill -0 "$server_pid" 2>/dev/null; then
  echo "schemathesis: sextant did not stop within 15 s of SIGTERM" >&2
  status=1
else
  server_status=0
  wait "$server_pid" || server_status=$?
  [ "$server_status" -eq 0 ] || { echo "schemathesis: sextant exited with status $server_status after SIGTERM" >&2; status=1; }
fi
server_pid=""

# An error-level line means something went wrong even if every answer was right: a
# handler's failure, or a REST server stopped by cancellation rather than gracefully
# (HummingbirdCore's "Server shutdown error: Already closed", see RESTServer.shutdown).
if grep -E '"level":"(error|critical)"' "$work/server.log" >&2; then
  echo "schemathesis: the server logged the error-level lines above" >&2
  status=1
fi

if [ "$status" -eq 0 ]; then
  echo "schemathesis: ok"
else
  echo "schemathesis: FAILED (seed $SEED, $MAX_EXAMPLES examples per operation)" >&2
fi
exit "$status"
