#!/usr/bin/env bash
# Runs the Go benchmarks as BENCHMARKS.md reports them: every scenario and
# library, caddy-cors's variants among them (metrics, a shadow policy,
# cross_origin_protection, all three), in COUNT rounds (default 12) of
# BENCHTIME each (default 0.5s), into bench/results.txt; then prints the
# benchstat tables and the ratios (of the medians, and the medians of the
# ratios of each round), and redraws bench/chart.svg (CPU time)
# and bench/chart-wall.svg (wall time). With --report-only, it reuses
# bench/results.txt.
#
# Each round runs every benchmark once, so that the libraries of one
# scenario are measured seconds apart in every round, and a drift of the
# machine over minutes hits them alike rather than one library's runs.
#
# On a shared machine, run it as root under nice -n -10 (see BENCHMARKS.md).
set -euo pipefail
cd "$(dirname "$0")/.."
count=${COUNT:-12}
benchtime=${BENCHTIME:-0.5s}
benchstat() { go run golang.org/x/perf/cmd/benchstat@v0.0.0-20260908200009-22c9c6c9d4da "$@"; }

if [ "${1:-}" != "--report-only" ]; then
	tmp=$(mktemp -d)
	trap 'rm -rf "$tmp"' EXIT
	go test -c -o "$tmp/cors.test" .
	{
		echo "# start $(date -u +%FT%TZ), load average $(cut -d' ' -f1-3 /proc/loadavg), $count rounds of -test.benchtime $benchtime"
		for round in $(seq "$count"); do
			"$tmp/cors.test" -test.run '^$' -test.bench . -test.benchmem -test.benchtime "$benchtime" -test.timeout 1h
			echo "# round $round done $(date -u +%FT%TZ), load average $(cut -d' ' -f1-3 /proc/loadavg)"
			echo "round $round of $count done" >&2
		done
		echo "# end $(date -u +%FT%TZ), load average $(cut -d' ' -f1-3 /proc/loadavg)"
	} >bench/results.txt
fi

benchstat -col /lib -filter '.name:CORS' bench/results.txt
benchstat -filter '.name:Policy' bench/results.txt
benchstat -filter '.name:PolicySize' bench/results.txt
for unit in sec/op cpu-sec/op; do
	echo
	echo "caddy-cors and its variants against the faster of rs/cors and go-chi/cors, $unit:"
	benchstat -col /lib -format csv -filter '.name:CORS' bench/results.txt 2>/dev/null | go run ./bench/chart -unit "$unit" -ratios
done
echo
echo "caddy-cors and its variants against the faster of rs/cors and go-chi/cors, cpu-sec/op, round by round:"
go run ./bench/chart -paired -unit cpu-sec/op <bench/results.txt
benchstat -col /lib -format csv -filter '.name:CORS' bench/results.txt 2>/dev/null >bench/results.csv
go run ./bench/chart -unit cpu-sec/op -title "CPU time per request (cpu-ns/op), median of $count runs, lower is better" \
	<bench/results.csv >bench/chart.svg
go run ./bench/chart -unit sec/op -title "Wall time per request (ns/op), median of $count runs, lower is better" \
	<bench/results.csv >bench/chart-wall.svg
rm bench/results.csv
