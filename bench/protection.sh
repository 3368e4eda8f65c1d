#!/usr/bin/env bash
# Measures what cross_origin_protection costs caddy-cors: builds the test
# binary once and runs BenchmarkCORS's caddy-cors benchmarks ROUNDS times
# (default 6) with the protection off and on, interleaved, so that the
# machine's drift hits both alike; with a git revision as its argument, a
# third binary built from that revision (the code before the option)
# joins the rounds. Prints the median ns/op and cpu-ns/op of each way per
# scenario, and keeps the raw output in bench/protection-results.txt.
#
# On a shared machine, run it as root under nice -n -10 (see BENCHMARKS.md).
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${ROUNDS:-6}
base=${1:-}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

go test -c -o "$tmp/cors.test" .
if [ -n "$base" ]; then
	git archive "$base" | tar -x -C "$tmp" --one-top-level=base
	(cd "$tmp/base" && go test -c -o "$tmp/base.test" .)
fi

bench=(-test.run '^$' -test.bench '^BenchmarkCORS$/.*/lib=caddy-cors$' -test.benchmem)
out=bench/protection-results.txt
echo "# start $(date -u +%FT%TZ), load average $(cut -d' ' -f1-3 /proc/loadavg), base ${base:-none}" >"$out"
for round in $(seq "$rounds"); do
	if [ -n "$base" ]; then
		(cd "$tmp/base" && "$tmp/base.test" "${bench[@]}") | sed -n 's/^Benchmark/before Benchmark/p' >>"$out"
	fi
	"$tmp/cors.test" "${bench[@]}" | sed -n 's/^Benchmark/off Benchmark/p' >>"$out"
	"$tmp/cors.test" "${bench[@]}" -protection | sed -n 's/^Benchmark/on Benchmark/p' >>"$out"
	echo "round $round done, load $(cut -d' ' -f1 /proc/loadavg)" >&2
done
echo "# end $(date -u +%FT%TZ), load average $(cut -d' ' -f1-3 /proc/loadavg)" >>"$out"

# The medians: way, scenario, ns/op, cpu-ns/op.
awk '
/^(before|off|on) Benchmark/ {
	split($2, p, "/"); sc = p[2]; sub(/^scenario=/, "", sc)
	for (i = 3; i < NF; i++) {
		if ($(i + 1) == "ns/op") ns[$1 " " sc] = ns[$1 " " sc] " " $i
		if ($(i + 1) == "cpu-ns/op") cpu[$1 " " sc] = cpu[$1 " " sc] " " $i
	}
	if (!(sc in seen)) { seen[sc] = 1; order[++n] = sc }
}
function median(s,   a, k, i, j, t) {
	k = split(s, a, " ")
	for (i = 1; i <= k; i++) for (j = i + 1; j <= k; j++) if (a[j] + 0 < a[i] + 0) { t = a[i]; a[i] = a[j]; a[j] = t }
	if (k == 0) return "-"
	return (k % 2) ? a[(k + 1) / 2] : (a[k / 2] + a[k / 2 + 1]) / 2
}
END {
	printf "%-22s %12s %12s %12s %8s   %12s %12s %12s %8s\n", "scenario", "before ns", "off ns", "on ns", "on/off", "before cpu", "off cpu", "on cpu", "on/off"
	for (i = 1; i <= n; i++) {
		sc = order[i]
		b = median(ns["before " sc]); f = median(ns["off " sc]); o = median(ns["on " sc])
		bc = median(cpu["before " sc]); fc = median(cpu["off " sc]); oc = median(cpu["on " sc])
		printf "%-22s %12s %12s %12s %8.2f   %12s %12s %12s %8.2f\n", sc, b, f, o, o / f, bc, fc, oc, oc / fc
	}
}' "$out"
