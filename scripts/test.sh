#!/usr/bin/env bash
# Sets everything up and runs every test: domain and API tests on SQLite and on
# PostgreSQL (a fresh database per run), then the browser tests against the release
# build in Debian's Chromium.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
if [ ! -x /usr/bin/chromium ]; then
  step "installing Debian's Chromium"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium
fi

PGHOST="${PGHOST:-127.0.0.1}"
db="resayil_test_$(date +%s)_$$"
step "creating PostgreSQL database $db"
psql -h "$PGHOST" -U postgres -qc "CREATE DATABASE $db"
work="$(mktemp -d)"
cleanup() {
  psql -h "$PGHOST" -U postgres -qc "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
export TEST_DATABASE_URL="postgres://postgres@$PGHOST:5432/$db"
export TEST_REDIS_URL="${TEST_REDIS_URL:-redis://127.0.0.1:6379}"

# The official OpenAI Python SDK, for the API tests that drive the portal with it;
# jsonschema checks real answers against /openapi.json; schemathesis fuzzes the API from
# that spec (scripts/api-fuzz.sh).
venv="${RESAYIL_VENV:-$HOME/.cache/resayil-venv}"
if ! "$venv/bin/python" -c "import openai, jsonschema, schemathesis" 2>/dev/null; then
  step "creating the Python virtualenv with the openai SDK, jsonschema and schemathesis"
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q --disable-pip-version-check openai jsonschema==4.26.0 schemathesis==4.32.5
fi
export RESAYIL_SDK_PYTHON="$venv/bin/python"

if ! command -v fail2ban-client >/dev/null; then # the ban test runs Debian's fail2ban
  as_root apt-get update -qq && as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends fail2ban
fi

step "formatting and lints (cargo fmt --check, clippy -D warnings)"
cargo fmt --all --check
cargo clippy --workspace --exclude frontend --all-targets -- -D warnings

step "unit, domain and API tests (SQLite and PostgreSQL)"
cargo test --workspace --exclude frontend

step "browser tests against the release build"
# The portal sends its WhatsApp messages to the fake WhatsApp, where the browser tests read
# the one-time codes (end2end/tests/recovery.spec.ts).
cargo build -q -p fake-whatsapp
wa_port="${E2E_FAKE_WHATSAPP_PORT:-8097}"
"${CARGO_TARGET_DIR:-target}/debug/fake-whatsapp" --port "$wa_port" >"$work/fake-whatsapp.log" 2>&1 &
wa_pid=$!
trap 'kill $wa_pid 2>/dev/null || true; cleanup' EXIT
# The playground's browser test streams answers from the workspace's fake Ollama.
cargo build --release -q -p fake-ollama
"$CARGO_TARGET_DIR/release/fake-ollama" --port 11498 --token-delay-ms 15 &
fake_ollama=$!
trap 'kill $wa_pid $fake_ollama 2>/dev/null || true; cleanup' EXIT
# The browsers pay on the local test gateway and register many accounts from 127.0.0.1.
WHATSAPP_PROVIDER=http \
WHATSAPP_HTTP_URL="http://127.0.0.1:$wa_port/send" \
WHATSAPP_HTTP_TOKEN=fake-http-token \
E2E_FAKE_WHATSAPP="http://127.0.0.1:$wa_port" \
DATABASE_URL="sqlite://$work/e2e.db?mode=rwc" \
PAYMENTS_TEST_MODE=true \
REGISTRATIONS_PER_IP_PER_HOUR=1000 \
REGISTRATIONS_PER_PHONE_PREFIX_PER_HOUR=1000 \
CHECKOUTS_PER_ACCOUNT_PER_HOUR=1000 \
OLLAMA_URL=http://127.0.0.1:11498 \
  cargo leptos end-to-end --release --split
step "all tests passed"
