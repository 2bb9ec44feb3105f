#!/usr/bin/env python3
"""Reads the files `gateway-bench --latencies DIR` writes and says how each run's latency is
spread and where in time its slowest 1% fall.

    scripts/latency-tail.py DIR/*.csv

Per file: requests, p50 / p90 / p99 / p99.9 / max (microseconds), the tail's shape
(p99 ÷ p50: the same for two runs whose latencies differ only by a factor, higher for a run
with stalls of its own), and the slowest 1% grouped into bursts (sent within 2 ms of each
other). A burst as large as the run's connections is every connection held up at once — a
pause of the whole machine or of the process — and shows in the direct runs too when it is
the machine's.
"""
import sys

GAP_US = 2000


def percentile(sorted_values, p):
    i = min(len(sorted_values), max(1, int(-(-len(sorted_values) * p // 1)))) - 1
    return sorted_values[i]


def read(path):
    with open(path) as f:
        next(f)
        return [tuple(map(int, line.split(","))) for line in f if line.strip()]


def bursts(sent_times):
    groups, current = [], []
    for t in sorted(sent_times):
        if current and t - current[-1] > GAP_US:
            groups.append(current)
            current = []
        current.append(t)
    if current:
        groups.append(current)
    return groups


def main(paths):
    if not paths:
        sys.exit(__doc__)
    print("| run | requests | p50 | p90 | p99 | p99.9 | max | p99 ÷ p50 | slowest 1% in bursts: largest, count ≥ 8 |")
    print("|---|---|---|---|---|---|---|---|---|")
    for path in paths:
        rows = read(path)
        if not rows:
            print(f"| {path} | 0 | | | | | | | |")
            continue
        lat = sorted(r[1] for r in rows)
        p50, p99 = percentile(lat, 0.5), percentile(lat, 0.99)
        slow = [r[0] for r in rows if r[1] >= p99]
        sizes = sorted((len(b) for b in bursts(slow)), reverse=True)
        name = path.rsplit("/", 1)[-1].removesuffix(".csv")
        print(
            f"| {name} | {len(lat)} | {p50} | {percentile(lat, 0.9)} | {p99} | "
            f"{percentile(lat, 0.999)} | {lat[-1]} | {p99 / max(p50, 1):.2f} | "
            f"{sizes[0]}, {sum(1 for s in sizes if s >= 8)} |"
        )


if __name__ == "__main__":
    main(sys.argv[1:])
