#!/usr/bin/env bash
# Measures the wasm each page loads (gzip), as the browser fetches it: runs the
# Playwright test end2end/tests/wasm-size.spec.ts against a running portal
# (E2E_BASE_URL, default http://127.0.0.1:3000; start one with `make run` or
# `cargo leptos serve --release --split`). Prints the sizes and writes them to
# end2end/test-results/wasm-sizes.json; fails when a page is over its target
# (landing ≤ 50 KB, pages without charts ≤ 250 KB, chart pages: see the spec). Also lists
# the built bundle: the main wasm and the lazily loaded chunks (`--split`).
set -euo pipefail
cd "$(dirname "$0")/.."
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1
# cargo-leptos writes the site to the workspace's site-root (Cargo.toml: target/site).
site=target/site/pkg
for f in "$site"/*.wasm; do
  [ -e "$f" ] || continue
  printf '%s: %d bytes, %d gzip\n' "$(basename "$f")" "$(stat -c %s "$f")" "$(gzip -9c "$f" | wc -c)"
done
cd end2end
npx playwright test tests/wasm-size.spec.ts --reporter=list
cat test-results/wasm-sizes.json
