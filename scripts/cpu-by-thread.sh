#!/usr/bin/env bash
# CPU per non-stream request of the real server and of the bare proxy (the floor), split by
# thread and into user space and kernel, with system calls and context switches per
# request: where the server's CPU goes beyond a pass-through's (BENCHMARKS.md, session 18).
# Each runs alone behind the benchmark client at concurrency 16 (shared cores, as the
# benchmark's default); a window of WINDOW seconds in the middle of its load is sampled
# from the threads' user and system ticks (/proc/<pid>/task/*/stat, 10 ms each) and, when
# `perf` is installed and allowed, `perf stat` (task-clock, context switches, system calls).
#
#   scripts/cpu-by-thread.sh [RESAYIL_BIN] [WINDOW]
#
# Needs the release builds of the benchmark (BENCHMARKS.md: gateway-bench, fake-ollama,
# resayil) in $BENCH_TARGET_DIR/release (default ~/.cache/resayil-target-bench).
set -euo pipefail
release="${BENCH_TARGET_DIR:-$HOME/.cache/resayil-target-bench}/release"
server="${1:-$release/resayil}"
window="${2:-5}"
bench="$release/gateway-bench"
work="$(mktemp -d /tmp/cpu-by-thread.XXXXXX)"
seconds=$((window + 6))

ticks() { # pid → total user+system ticks of the process
  awk '{print $14 + $15}' "/proc/$1/stat" 2>/dev/null || echo 0
}
threads() { # pid → "tid name user system" per thread
  for t in /proc/"$1"/task/*; do
    printf '%s %s %s\n' "${t##*/}" "$(tr ' ' '_' <"$t/comm")" "$(awk '{print $14, $15}' "$t/stat")"
  done 2>/dev/null | sort
}

for name in floor server; do
  "$bench" --targets "$name" --server-bin "$server" --kinds non-stream --concurrency 16 \
    --rounds 1 --seconds "$seconds" >"$work/$name.bench" 2>&1 &
  runner=$!
  pid=""
  for _ in $(seq 1 100); do
    if [ "$name" = floor ]; then pid=$(pgrep -f "gateway-bench floor" | head -1 || true)
    else pid=$(pgrep -f "$server serve" | head -1 || true); fi
    [ -n "$pid" ] && break
    sleep 0.2
  done
  [ -n "$pid" ] || { echo "$name did not start"; cat "$work/$name.bench"; exit 1; }
  # Its load starts after the benchmark's direct round: wait until it is busy.
  for _ in $(seq 1 200); do
    a=$(ticks "$pid"); sleep 0.5; b=$(ticks "$pid")
    [ $((b - a)) -ge 20 ] && break
  done
  sleep 1
  threads "$pid" >"$work/$name.t1"
  if command -v perf >/dev/null &&
    perf stat -e task-clock,context-switches,raw_syscalls:sys_enter -p "$pid" \
      -o "$work/$name.perf" -- sleep "$window" 2>/dev/null; then :
  else
    rm -f "$work/$name.perf"; sleep "$window"
  fi
  threads "$pid" >"$work/$name.t2"
  wait "$runner"
  rps=$(awk -F'|' -v n="$name" '$2 ~ /^ 1 $/ && $5 ~ " "n" " {gsub(/ /,"",$6); print $6}' "$work/$name.bench")
  [ -n "$rps" ] || { echo "no rate for $name"; cat "$work/$name.bench"; exit 1; }
  requests=$(echo "$rps * $window" | bc -l)
  echo "$name: $rps requests/s; per request, by thread (µs, from ${window} s of ticks):"
  join "$work/$name.t1" "$work/$name.t2" |
    awk -v n="$requests" '{u[$2] += $6 - $3; s[$2] += $7 - $4}
      END {for (k in u) if (u[k] + s[k] > 0) {
        printf "  %-18s user %6.1f   kernel %6.1f\n", k, u[k] * 1e4 / n, s[k] * 1e4 / n
        tu += u[k]; ts += s[k] }
        printf "  %-18s user %6.1f   kernel %6.1f   total %6.1f\n", "all", tu * 1e4 / n, ts * 1e4 / n, (tu + ts) * 1e4 / n}'
  if [ -f "$work/$name.perf" ]; then
    awk -v n="$requests" '/task-clock/ {gsub(/,/,"",$1); printf "  perf: CPU %.1f µs", $1 * 1000 / n}
      /context-switches/ {gsub(/,/,"",$1); printf ", context switches %.2f", $1 / n}
      /raw_syscalls:sys_enter/ {gsub(/,/,"",$1); printf ", system calls %.2f a request\n", $1 / n}' "$work/$name.perf"
  fi
done
echo "work files: $work"
