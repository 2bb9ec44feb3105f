#!/usr/bin/env bash
# Sets everything up and runs the portal on http://127.0.0.1:3000 (embedded SQLite in
# ./data/resayil.db, created and migrated on first start).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh
exec cargo leptos serve --release
