#!/usr/bin/env bash
# Fuzz the node's HTTP API against its own OpenAPI document: start a throwaway devnet from the
# debug binary, run a bounded schemathesis session (no server error, responses match their
# schema, schema-invalid requests refused, schema-valid ones accepted), stop the devnet.
# Exits non-zero on any failure. Settings per operation live in scripts/api-fuzz.toml.
set -euo pipefail
cd "$(dirname "$0")/.."

SCHEMATHESIS_VERSION=4.32.5
VENV=.venv-api
MAX_EXAMPLES="${API_FUZZ_MAX_EXAMPLES:-30}"
SEED="${API_FUZZ_SEED:-20261202}"
# The whole schemathesis run; the outer timeout adds a margin for start-up and shrinking.
MAX_TIME_S="${API_FUZZ_MAX_TIME_S:-150}"
BIN="${CARGO_TARGET_DIR:-target}/debug/counterweight"

if [[ ! -x "$BIN" ]]; then
    cargo build -p counterweight
fi
if ! "$VENV/bin/schemathesis" --version 2>/dev/null | grep -qF "$SCHEMATHESIS_VERSION"; then
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install --quiet "schemathesis==$SCHEMATHESIS_VERSION"
fi

home="$(mktemp -d)"
devnet_pid=""
cleanup() {
    if [[ -n "$devnet_pid" ]]; then
        kill "$devnet_pid" 2>/dev/null || true
        wait "$devnet_pid" 2>/dev/null || true
    fi
    rm -rf "$home"
}
trap cleanup EXIT

# Port 0: the node binds a free loopback port and prints `rpc: <url>` once it listens.
COUNTERWEIGHT_LOG=warn "$BIN" devnet --accounts 2 --home "$home/node" \
    --rpc-listen 127.0.0.1:0 --p2p-listen 127.0.0.1:0 \
    >"$home/stdout" 2>"$home/devnet.log" &
devnet_pid=$!

url=""
for _ in $(seq 1 600); do
    url="$(sed -n 's/^rpc: //p' "$home/stdout" | head -n 1 | tr -d '[:space:]')"
    if [[ -n "$url" ]] && "$VENV/bin/python" - "$url" <<'PY' 2>/dev/null; then
import sys, urllib.request
with urllib.request.urlopen(sys.argv[1] + "/v1/status", timeout=2) as reply:
    sys.exit(0 if reply.status == 200 else 1)
PY
        break
    fi
    if ! kill -0 "$devnet_pid" 2>/dev/null; then
        echo "api-fuzz: the devnet exited; its log:" >&2
        cat "$home/devnet.log" >&2
        exit 1
    fi
    url=""
    sleep 0.1
done
if [[ -z "$url" ]]; then
    echo "api-fuzz: the devnet did not answer /v1/status within 60 s; its log:" >&2
    cat "$home/devnet.log" >&2
    exit 1
fi
echo "api-fuzz: devnet at $url"

status=0
timeout --kill-after=10 "$((MAX_TIME_S + 30))" \
    "$VENV/bin/schemathesis" --no-color --config-file scripts/api-fuzz.toml run "$url/openapi.json" \
    --checks not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance,negative_data_rejection,positive_data_acceptance \
    --max-examples "$MAX_EXAMPLES" --seed "$SEED" --max-time "$MAX_TIME_S" \
    --workers 2 --request-timeout 10 --generation-database none \
    || status=$?
if [[ "$status" -ne 0 ]]; then
    echo "api-fuzz: schemathesis failed (exit $status); the devnet's log:" >&2
    tail -n 50 "$home/devnet.log" >&2
fi
exit "$status"
