#!/usr/bin/env bash
# Runs the Go benchmarks as BENCHMARKS.md reports them: every scenario and
# library, COUNT times (default 6), into bench/results.txt; then prints the
# benchstat tables and the ratios, and redraws bench/chart.svg (CPU time)
# and bench/chart-wall.svg (wall time). With --report-only, it reuses
# bench/results.txt.
#
# On a shared machine, run it as root under nice -n -10 (see BENCHMARKS.md).
set -euo pipefail
cd "$(dirname "$0")/.."
count=${COUNT:-6}
benchstat() { go run golang.org/x/perf/cmd/benchstat@v0.0.0-20260908200009-22c9c6c9d4da "$@"; }

if [ "${1:-}" != "--report-only" ]; then
	{
		echo "# start $(date -u +%FT%TZ), load average $(cut -d' ' -f1-3 /proc/loadavg)"
		go test -run '^$' -bench . -benchmem -count "$count" .
		echo "# end $(date -u +%FT%TZ), load average $(cut -d' ' -f1-3 /proc/loadavg)"
	} >bench/results.txt
fi

benchstat -col /lib -filter '.name:CORS' bench/results.txt
benchstat -filter '.name:Policy' bench/results.txt
benchstat -filter '.name:PolicySize' bench/results.txt
for unit in sec/op cpu-sec/op; do
	echo
	echo "caddy-cors over the faster of rs/cors and go-chi/cors, $unit:"
	benchstat -col /lib -format csv -filter '.name:CORS' bench/results.txt 2>/dev/null | go run ./bench/chart -unit "$unit" -ratios
done
benchstat -col /lib -format csv -filter '.name:CORS' bench/results.txt 2>/dev/null >bench/results.csv
go run ./bench/chart -unit cpu-sec/op -title "CPU time per request (cpu-ns/op), median of $count runs, lower is better" \
	<bench/results.csv >bench/chart.svg
go run ./bench/chart -unit sec/op -title "Wall time per request (ns/op), median of $count runs, lower is better" \
	<bench/results.csv >bench/chart-wall.svg
rm bench/results.csv
