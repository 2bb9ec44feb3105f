#!/usr/bin/env bash
# Lighthouse (npm lighthouse 12.2.3 from end2end/, Debian's Chromium, mobile preset) on the
# public pages of a running portal, in Arabic and English. Prints the four category scores
# per page and fails if any is below 95 (MIN). Reports (JSON) land in end2end/lighthouse/.
#
#   scripts/lighthouse.sh [BASE_URL]      # default http://127.0.0.1:3000
# Against a release build (what production serves): `make run`, then this script.
set -euo pipefail
cd "$(dirname "$0")/../end2end"
base="${1:-http://127.0.0.1:3000}"
min="${MIN:-95}"
[ -x node_modules/.bin/lighthouse ] || npm ci --no-audit --no-fund >/dev/null
export CHROME_PATH="${CHROME_PATH:-/usr/bin/chromium}"
mkdir -p lighthouse
fail=0
printf '%-16s %5s %5s %5s %5s\n' page perf a11y bp seo
for path in "/?lang=ar" "/?lang=en" "/docs?lang=ar" "/docs?lang=en"; do
  name="$(echo "$path" | tr -c 'a-z0-9\n' '_' | sed 's/^_*//')"
  out="lighthouse/${name:-root}.json"
  npx lighthouse "$base$path" --quiet --output=json --output-path="$out" \
    --only-categories=performance,accessibility,best-practices,seo \
    --chrome-flags="--headless=new --no-sandbox" >/dev/null 2>&1 || true
  scores="$(node -e '
    const r = require("./" + process.argv[1]);
    const c = r.categories;
    const s = ["performance", "accessibility", "best-practices", "seo"].map(k => Math.round((c[k]?.score ?? 0) * 100));
    console.log(s.join(" "));
  ' "$out")"
  read -r p a b s <<<"$scores"
  printf '%-16s %5s %5s %5s %5s\n' "$path" "$p" "$a" "$b" "$s"
  for v in $p $a $b $s; do [ "$v" -ge "$min" ] || fail=1; done
done
if [ "$fail" = 1 ]; then
  echo "a score is below $min: see end2end/lighthouse/*.json"
  exit 1
fi
