#!/usr/bin/env bash
# Schema-driven fuzzing of /v1 with schemathesis (from the virtualenv scripts/test.sh
# makes): starts a fake Ollama and the portal (debug build of $CARGO_TARGET_DIR) on a fresh
# SQLite file, creates an Enterprise account and key with the operator CLI, and runs
# schemathesis against the portal's own /openapi.json. Fails on any 5xx or any answer
# (status, content type, headers, body) that the spec does not describe.
#
#   scripts/api-fuzz.sh [PORT] [MAX_EXAMPLES]     # defaults 3150, 25
# Build first: cargo build -p server -p fake-ollama.
set -euo pipefail
cd "$(dirname "$0")/.."
port="${1:-3150}"
examples="${2:-25}"
target="${CARGO_TARGET_DIR:-$HOME/.cache/resayil-target}/debug"
venv="${RESAYIL_VENV:-$HOME/.cache/resayil-venv}"
work="$(mktemp -d)"
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT

db="sqlite://$work/fuzz.db?mode=rwc"
"$target/fake-ollama" --port $((port + 1)) >"$work/ollama.log" 2>&1 & pids+=($!)
LEPTOS_SITE_ADDR="127.0.0.1:$port" LEPTOS_OUTPUT_NAME=resayil DATABASE_URL="$db" \
  OLLAMA_URL="http://127.0.0.1:$((port + 1))" PUBLIC_BASE_URL="http://127.0.0.1:$port" RUST_LOG=warn \
  "$target/resayil" >"$work/portal.log" 2>&1 & pids+=($!)
for _ in $(seq 1 100); do
  curl -fs "http://127.0.0.1:$port/openapi.json" >/dev/null && break
  sleep 0.2
done
printf 'password123\n' | DATABASE_URL="$db" RUST_LOG=warn "$target/resayil" user create \
  --email fuzz@example.com --phone +96550012345 --plan enterprise --credits 100000000 >/dev/null
key="$(DATABASE_URL="$db" RUST_LOG=warn "$target/resayil" key create --email fuzz@example.com --label fuzz)"

# Positive and negative cases generated from the spec (schemathesis's "examples" and
# "fuzzing" phases; its "coverage" phase makes thousands of requests, too many under the
# rate limit). The Enterprise plan allows 60 requests a minute, so the run keeps under it
# (a 429 is documented, but teaches nothing). ~1 minute with the defaults.
status=0
"$venv/bin/schemathesis" run "http://127.0.0.1:$port/openapi.json" \
  --url "http://127.0.0.1:$port" \
  -H "Authorization: Bearer $key" \
  --checks not_a_server_error,status_code_conformance,content_type_conformance,response_headers_conformance,response_schema_conformance \
  --phases examples,fuzzing --max-examples "$examples" --rate-limit 55/m --seed 14 \
  --suppress-health-check all || status=$?
[ "$status" = 0 ] || tail -20 "$work/portal.log"
if grep -q "panicked" "$work/portal.log"; then
  echo "the portal panicked:"; grep -A5 panicked "$work/portal.log"; status=1
fi
exit $status
