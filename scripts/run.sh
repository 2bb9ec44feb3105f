#!/usr/bin/env bash
# Sets everything up and runs the portal on http://127.0.0.1:3000 (embedded SQLite in
# ./data/resayil.db, created and migrated on first start).
#
# Demo payments: without MYFATOORAH_API_TOKEN the local test gateway is opened
# (PAYMENTS_TEST_MODE=true, logged as a warning at start); customers mark their own orders
# paid there, so never use this script in production.
#
# Demo mode: when OLLAMA_URL is not set and no Ollama answers on 127.0.0.1:11434, the
# workspace's fake Ollama is started there, so the API answers (with deterministic text).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh

if [ -z "${OLLAMA_URL:-}" ] && ! curl -fsS -m 2 http://127.0.0.1:11434/ >/dev/null 2>&1; then
  step "no Ollama on 127.0.0.1:11434: starting the fake Ollama (demo mode)"
  cargo build --release -q -p fake-ollama
  "$CARGO_TARGET_DIR/release/fake-ollama" --port 11434 --token-delay-ms 30 &
  fake_pid=$!
  trap 'kill $fake_pid 2>/dev/null || true' EXIT
fi
export PAYMENTS_TEST_MODE="${PAYMENTS_TEST_MODE:-true}"
# --split: the charts' code (charming) is a lazily loaded wasm chunk of its own (README,
# "Islands instead of hydrating every page").
cargo leptos serve --release --split
