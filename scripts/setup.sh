#!/usr/bin/env bash
# Installs the build tools the portal needs, once; later calls take a second.
# Sourced by scripts/run.sh and scripts/test.sh (it exports PATH and CARGO_TARGET_DIR).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

# One warm build cache outside the clone, so a new clone builds incrementally.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/resayil-target}"
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1

step() { printf '\n==> %s\n' "$*"; }

if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  step "adding the wasm32 target"
  rustup target add wasm32-unknown-unknown
fi
# make test checks formatting and lints.
for component in rustfmt clippy; do
  if ! rustup component list --installed | grep -q "^$component"; then
    step "adding the $component component"
    rustup component add "$component"
  fi
done
# cargo-leptos runs the wasm-bindgen CLI, which must match Cargo.lock's wasm-bindgen.
if [ "$(wasm-bindgen --version 2>/dev/null | cut -d' ' -f2)" != "0.2.130" ]; then
  step "installing wasm-bindgen-cli 0.2.130 (about 2 minutes)"
  cargo install wasm-bindgen-cli --version 0.2.130 --force
fi
# 0.3.11 needs a newer rustc than this machine's; 0.3.10 works.
if [ "$(cargo leptos --version 2>/dev/null | cut -d' ' -f2)" != "0.3.10" ]; then
  step "installing cargo-leptos 0.3.10 (about 15 minutes, once)"
  cargo install cargo-leptos --locked --version 0.3.10 --force
fi
# wasm-opt from npm's binaryen (Debian's wasm-opt 108 silently breaks hydration) and
# Playwright for the browser tests.
if [ ! -x end2end/node_modules/.bin/wasm-opt ] || [ end2end/package-lock.json -nt end2end/node_modules/.package-lock.json ]; then
  step "installing npm tools (binaryen, Playwright)"
  (cd end2end && npm ci --no-audit --no-fund)
fi
export PATH="$PWD/end2end/node_modules/.bin:$PATH"
