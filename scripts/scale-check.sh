#!/usr/bin/env bash
# The scale-out check (issue 16): Debian's nginx in front of two portal instances on one
# PostgreSQL and one Redis, with the fake Ollama and the fake WhatsApp sender.
#
#   scripts/scale-check.sh            # debug build (SCALE_PROFILE=release for a release one)
#
# 1. through nginx: /readyz answers, /metrics is not exposed;
# 2. rate limits exact across both instances (Basic: 10 a minute, 20 sent → 10 refused);
# 3. bounded load (scripts/scale_load.py: 8 threads × 40 requests over 12 accounts, at most
#    25 s), and `kill -9`
#    of instance A in the middle: B keeps serving, requests in flight on A fail cleanly
#    (no 5xx from B; what nginx says for the dead one is counted);
# 4. a small account is spent to its end: warning / exhausted notifications;
# 5. after the hold expiry (60 s, swept by B): every ledger sums to its balance, no
#    request is charged twice (one ledger row and one usage row per request id), no hold
#    of A is left, and the outbox delivered each message once (fake WhatsApp's count);
# 6. SIGTERM to B mid-stream: the stream ends with [DONE] and B exits 0.
# Not part of `make test` (it takes about three minutes, most of it the hold expiry).
# Everything listens on 127.0.0.1, ports SCALE_PORT (default 3170) to SCALE_PORT+4.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/resayil-target}"
PORT="${SCALE_PORT:-3170}"
PROFILE="${SCALE_PROFILE:-debug}"
PGHOST="${PGHOST:-127.0.0.1}"
REDIS_URL="${REDIS_URL:-redis://127.0.0.1:6379}"
step() { printf '\n== %s\n' "$*"; }
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
failures=0
check() { # check "what" condition-exit-code
  if [ "$2" = 0 ]; then echo "PASS  $1"; else echo "FAIL  $1"; failures=$((failures + 1)); fi
}

if ! command -v nginx >/dev/null && [ ! -x /usr/sbin/nginx ]; then
  step "installing Debian's nginx"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends nginx
fi
NGINX="$(command -v nginx || echo /usr/sbin/nginx)"

step "building resayil, fake-ollama, fake-whatsapp ($PROFILE)"
flag=""; [ "$PROFILE" = release ] && flag="--release"
cargo build $flag -p server --bin resayil -p fake-ollama --bin fake-ollama -p fake-whatsapp --bin fake-whatsapp
bin="$CARGO_TARGET_DIR/$PROFILE"

work="$(mktemp -d)"
db="resayil_scale_$(date +%s)_$$"
prefix="scale-$$-$RANDOM"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  kill "$(cat "$work/nginx.pid" 2>/dev/null)" 2>/dev/null || true
  sleep 1
  psql -h "$PGHOST" -U postgres -qc "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1 || true
  redis-cli -u "$REDIS_URL" --scan --pattern "$prefix:*" 2>/dev/null | xargs -r redis-cli -u "$REDIS_URL" del >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
psql -h "$PGHOST" -U postgres -qc "CREATE DATABASE $db"
export DATABASE_URL="postgres://postgres@$PGHOST:5432/$db"
sql() { psql "$DATABASE_URL" -Atc "$1"; }

export REDIS_URL REDIS_PREFIX="$prefix" TRUSTED_PROXIES=127.0.0.1
export OLLAMA_URL="http://127.0.0.1:$((PORT + 1))"
export WHATSAPP_PROVIDER=http WHATSAPP_HTTP_URL="http://127.0.0.1:$((PORT + 4))/send" WHATSAPP_HTTP_TOKEN=scale-token
export LEPTOS_OUTPUT_NAME=resayil LEPTOS_SITE_ROOT="$work/site" LEPTOS_SITE_PKG_DIR=pkg
export SHUTDOWN_DRAIN_SECS=20 RUST_LOG="${RUST_LOG:-warn}"
mkdir -p "$work/site"

"$bin/fake-ollama" --port $((PORT + 1)) --token-delay-ms 20 >"$work/ollama.log" 2>&1 & pids+=($!)
"$bin/fake-whatsapp" --port $((PORT + 4)) --http-token scale-token >"$work/whatsapp.log" 2>&1 & pids+=($!)
"$bin/resayil" migrate >/dev/null

step "accounts"
mk() { # mk email phone plan credits → key
  printf 'password123\n' | "$bin/resayil" user create --email "$1" --phone "$2" --plan "$3" --credits "$4" >/dev/null
  "$bin/resayil" key create --email "$1" --label scale
}
keys=()
# Enough accounts that the load stays below each one's 60 requests a minute.
for i in $(seq 10 21); do keys+=("$(mk "load$i@scale.test" "+965502000$i" enterprise 1000000)"); done
probe="$(mk probe@scale.test +96550100030 enterprise 1000)"
limited="$(mk limited@scale.test +96550100010 basic 1000)"
small="$(mk small@scale.test +96550100011 enterprise 40)"

LEPTOS_SITE_ADDR="127.0.0.1:$((PORT + 2))" "$bin/resayil" serve >"$work/a.log" 2>&1 &
A_PID=$!; pids+=("$A_PID")
LEPTOS_SITE_ADDR="127.0.0.1:$((PORT + 3))" "$bin/resayil" serve >"$work/b.log" 2>&1 &
B_PID=$!; pids+=("$B_PID")
for p in $((PORT + 2)) $((PORT + 3)); do
  for _ in $(seq 100); do curl -fsS "http://127.0.0.1:$p/readyz" >/dev/null 2>&1 && break; sleep 0.2; done
done

cat >"$work/nginx.conf" <<EOF
daemon off;
worker_processes 1;
pid $work/nginx.pid;
error_log $work/nginx-error.log warn;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path $work/nginx-body;
  proxy_temp_path $work/nginx-proxy;
  fastcgi_temp_path $work/nginx-fastcgi;
  uwsgi_temp_path $work/nginx-uwsgi;
  scgi_temp_path $work/nginx-scgi;
  upstream resayil {
    server 127.0.0.1:$((PORT + 2)) max_fails=3 fail_timeout=5s;
    server 127.0.0.1:$((PORT + 3)) max_fails=3 fail_timeout=5s;
    keepalive 64;
  }
  server {
    listen 127.0.0.1:$PORT;
    client_max_body_size 5m;
    proxy_http_version 1.1;
    proxy_set_header Connection "";
    proxy_set_header Host \$host;
    proxy_set_header X-Forwarded-For \$proxy_add_x_forwarded_for;
    proxy_next_upstream error timeout;
    proxy_next_upstream_tries 2;
    proxy_connect_timeout 2s;
    location = /metrics { return 404; }
    location /v1/ {
      proxy_pass http://resayil;
      proxy_buffering off;
      proxy_request_buffering off;
      proxy_read_timeout 600s;
    }
    location / { proxy_pass http://resayil; }
  }
}
EOF
"$NGINX" -p "$work" -c "$work/nginx.conf" & pids+=($!)
for _ in $(seq 50); do curl -fsS "http://127.0.0.1:$PORT/readyz" >/dev/null 2>&1 && break; sleep 0.2; done
base="http://127.0.0.1:$PORT"

step "1. through nginx"
code="$(curl -s -o /dev/null -w '%{http_code}' "$base/readyz")"; check "/readyz through nginx: $code" "$([ "$code" = 200 ]; echo $?)"
code="$(curl -s -o /dev/null -w '%{http_code}' "$base/metrics")"; check "/metrics not exposed through nginx: $code" "$([ "$code" = 404 ]; echo $?)"
code="$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$((PORT + 2))/metrics")"; check "/metrics on the instance, loopback: $code" "$([ "$code" = 200 ]; echo $?)"

step "2. rate limit exact across both instances"
while [ "$(date +%S | sed 's/^0//')" -gt 40 ]; do sleep 1; done
ok=0; limited429=0
for _ in $(seq 20); do
  c="$(curl -s -o /dev/null -w '%{http_code}' "$base/v1/chat/completions" -H "Authorization: Bearer $limited" \
       -H 'Content-Type: application/json' -d '{"model":"llama3.2:3b","max_tokens":2,"messages":[{"role":"user","content":"hi"}]}')"
  case "$c" in 200) ok=$((ok + 1)) ;; 429) limited429=$((limited429 + 1)) ;; esac
done
check "Basic (10/min) through two instances: $ok answered, $limited429 refused with 429" "$([ "$ok" = 10 ] && [ "$limited429" = 10 ]; echo $?)"

step "3. load, then kill -9 of instance A"
python3 scripts/scale_load.py "$PORT" "$(IFS=,; echo "${keys[*]}")" 8 40 25 >"$work/load.json" &
load_pid=$!
sleep 6
kill -9 "$A_PID"; echo "killed A (pid $A_PID) at $(date +%T)"
wait "$load_pid"
python3 - "$work/load.json" <<'EOF'
import json, sys
s = json.load(open(sys.argv[1]))
print("sent", s["sent"], "statuses", s["status"], "complete", len(s["complete"]),
      "streams done", s["streams_done"], "broken", s["streams_broken"], "transport errors", s["transport_errors"])
for e in s["examples"][:5]: print("  e.g.", e)
EOF
r=0; python3 -c "import json,sys; s=json.load(open(sys.argv[1])); sys.exit(0 if len(s['complete']) > s['sent'] // 2 else 1)" "$work/load.json" || r=$?
check "B kept serving after the kill (most requests answered)" "$r"
code="$(curl -s -o /dev/null -w '%{http_code}' "$base/v1/models" -H "Authorization: Bearer $probe")"
check "after the kill, nginx + B answer: $code" "$([ "$code" = 200 ]; echo $?)"
b5xx="$(grep -c '"status":5' "$work/b.log" || true)"

step "4. a small account spent to its end (notifications)"
for _ in $(seq 30); do
  curl -s -o /dev/null "$base/v1/chat/completions" -H "Authorization: Bearer $small" -H 'Content-Type: application/json' \
    -d '{"model":"llama3.2:3b","max_tokens":8,"messages":[{"role":"user","content":"hi"}]}'
done

step "5. after the hold expiry: the books (waiting 80 s)"
sleep 80
bad="$(sql "SELECT count(*) FROM accounts a WHERE a.credits <> (SELECT COALESCE(SUM(delta),0) FROM ledger l WHERE l.account_id = a.id)")"
check "every ledger sums to its balance ($bad accounts differ)" "$([ "$bad" = 0 ]; echo $?)"
dup="$(sql "SELECT count(*) FROM (SELECT reference FROM ledger WHERE kind = 'usage' GROUP BY reference HAVING count(*) > 1) d")"
check "no request charged twice ($dup duplicate ledger references)" "$([ "$dup" = 0 ]; echo $?)"
dupu="$(sql "SELECT count(*) FROM (SELECT request_id FROM api_usage GROUP BY request_id HAVING count(*) > 1) d")"
check "one usage row per request ($dupu duplicates)" "$([ "$dupu" = 0 ]; echo $?)"
neg="$(sql "SELECT count(*) FROM accounts WHERE credits < 0 OR held < 0")"
check "no negative balance or hold ($neg)" "$([ "$neg" = 0 ]; echo $?)"
stale="$(sql "SELECT count(*) FROM credit_holds WHERE expires_at < extract(epoch from now())::bigint")"
check "A's holds expired and were swept ($stale left)" "$([ "$stale" = 0 ]; echo $?)"
heldx="$(sql "SELECT count(*) FROM accounts a WHERE a.held <> (SELECT COALESCE(SUM(amount),0) FROM credit_holds h WHERE h.account_id = a.id)")"
check "accounts.held = the holds that remain ($heldx differ)" "$([ "$heldx" = 0 ]; echo $?)"
python3 - "$work/load.json" "$DATABASE_URL" <<'EOF'
import json, subprocess, sys
s = json.load(open(sys.argv[1]))
ids = set(s["complete"])
rows = subprocess.run(["psql", sys.argv[2], "-Atc", "SELECT request_id FROM api_usage"], capture_output=True, text=True).stdout.split()
written = ids & set(rows)
print(f"answered completely: {len(ids)}; with a usage row: {len(written)}; "
      f"without (A's batch not yet written when killed, lost to us not to the customer): {len(ids - written)}")
EOF
out_rows="$(sql "SELECT count(*) FROM outbox")"
out_sent="$(sql "SELECT count(*) FROM outbox WHERE status = 'sent'")"
delivered="$(curl -s "http://127.0.0.1:$((PORT + 4))/messages" | python3 -c 'import json,sys; v=json.load(sys.stdin); print(len(v if isinstance(v, list) else v.get("messages", [])))')"
check "outbox delivered each message once ($out_rows rows, $out_sent sent, $delivered received)" "$([ "$out_sent" = "$out_rows" ] && [ "$delivered" = "$out_rows" ]; echo $?)"

step "6. SIGTERM to B mid-stream"
curl -sN "$base/v1/chat/completions" -H "Authorization: Bearer ${keys[1]}" -H 'Content-Type: application/json' \
  -d '{"model":"llama3.2:3b","max_tokens":150,"stream":true,"messages":[{"role":"user","content":"hi"}]}' >"$work/stream.txt" &
curl_pid=$!
sleep 1
kill -TERM "$B_PID"
wait "$curl_pid" || true
tail -c 200 "$work/stream.txt" | tail -2
check "the stream ended with [DONE]" "$(tail -c 20 "$work/stream.txt" | grep -q 'data: \[DONE\]'; echo $?)"
set +e; wait "$B_PID"; b_exit=$?; set -e
check "B exited with status $b_exit after draining" "$([ "$b_exit" = 0 ]; echo $?)"

step "result"
[ "$b5xx" = 0 ] || echo "note: B logged $b5xx lines with a 5xx status"
if [ "$failures" = 0 ]; then echo "scale check passed"; else echo "scale check: $failures check(s) failed"; tail -20 "$work/b.log"; exit 1; fi
