#!/usr/bin/env bash
# Instructions per non-stream request of the real server and of the bare proxy (the
# floor), counted by valgrind's callgrind: the same count for the same build and load
# whatever else the machine is doing, so a change of a few percent shows where the
# benchmark's CPU times (BENCHMARKS.md) vary by ±10%. Not a timing: under valgrind both
# run ~50× slower and single-threaded.
#
#   scripts/instructions-per-request.sh [RESAYIL_BIN] [SECONDS]
#
# At concurrency 16, or $CONCURRENCY (at 1 the count includes what each request's
# wake-ups cost in user space: the runtime parking and unparking its threads).
# Needs the release builds of the benchmark (BENCHMARKS.md: gateway-bench, fake-ollama,
# resayil) in $BENCH_TARGET_DIR/release (default ~/.cache/resayil-target-bench) and
# valgrind, sqlite3 and bc. Prints, for each: requests served and instructions per request
# of the whole process (start-up included, so run long enough: ≥ 20 s); for the server
# also of its request path alone (the connection tasks and the usage writer: no start-up,
# no timers). The floor's count is the benchmark's rate × time, the server's its usage
# rows. The profiles stay in the work directory for `callgrind_annotate --inclusive=yes`.
set -euo pipefail
release="${BENCH_TARGET_DIR:-$HOME/.cache/resayil-target-bench}/release"
server="${1:-$release/resayil}"
seconds="${2:-20}"
concurrency="${CONCURRENCY:-16}"
work="$(mktemp -d /tmp/instructions.XXXXXX)"
bench="$release/gateway-bench"
command -v valgrind >/dev/null || { echo "valgrind is needed (apt-get install valgrind)"; exit 1; }

# The benchmark starts its `server` target as `<bin> serve` with the database, upstream
# and address in the environment: these wrappers run the server, or the floor in its
# place, under callgrind.
cat >"$work/server" <<EOF
#!/usr/bin/env bash
exec valgrind --tool=callgrind --callgrind-out-file=$work/server.out "$server" "\$@" 2>$work/server.log
EOF
cat >"$work/floor" <<EOF
#!/usr/bin/env bash
up=\${OLLAMA_URL#http://}; up=\${up%/}
# The floor stops when its stdin closes: keep it open.
exec valgrind --tool=callgrind --callgrind-out-file=$work/floor.out "$bench" floor \\
  --upstream "\$up" --listen "\$LEPTOS_SITE_ADDR" 2>$work/floor.log < <(sleep 100000)
EOF
chmod +x "$work/server" "$work/floor"

run() { # name
  "$bench" --targets server --server-bin "$work/$1" --kinds non-stream --concurrency "$concurrency" \
    --seconds "$seconds" --database-url "sqlite://$work/$1.db?mode=rwc" >"$work/$1.bench" 2>&1
}
requests() { # name: requests answered (the usage rows of the server; the bench's count for the floor)
  if [ "$1" = server ]; then
    sqlite3 "$work/server.db" "select count(*) from api_usage"
  else
    # req/s × seconds + the half-second warm-up at the same rate.
    awk -F'|' '/\| server /{gsub(/ /,"",$6); printf "%d\n", $6 * ('"$seconds"' + 0.5)}' "$work/floor.bench"
  fi
}
total() { # profile → instructions
  grep -m1 '^summary:' "$1" | awk '{print $2}'
}
path() { # profile → instructions of the server's request path (inclusive)
  callgrind_annotate --inclusive=yes "$1" 2>/dev/null |
    grep -E 'server::serve::serve::\{\{closure\}\}::\{\{closure\}\} |writer::write_loop::\{\{closure\}\} ' |
    grep -v "'" | awk '{gsub(/,/,"",$1); s+=$1} END {print s+0}'
}

for name in floor server; do
  run "$name"
  n=$(requests "$name")
  t=$(total "$work/$name.out")
  printf '%-7s requests %7d   instructions per request: whole process %8.0f' \
    "$name" "$n" "$(echo "$t / $n" | bc -l)"
  if [ "$name" = server ]; then
    printf '   request path %8.0f' "$(echo "$(path "$work/$name.out") / $n" | bc -l)"
  fi
  echo
done
echo "profiles: $work/{floor,server}.out"
