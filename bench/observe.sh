#!/usr/bin/env bash
# Measures what seeing the decisions costs (metrics, placeholders, access
# log fields, a shadow policy): the handler at OLD (a commit before them,
# default 2d47768) against this tree's, alternating the two test binaries
# for ROUNDS rounds (default 6) so that drift of the machine hits both
# alike. BenchmarkCORS (caddy-cors only) runs in both; BenchmarkObserve,
# which turns metrics and a shadow policy on, in this tree's. The results go
# to bench/observe-old.txt and bench/observe-new.txt; benchstat then prints
# the medians. With --report-only, it reuses those files.
#
# Set LOCK to a file to run each test binary under flock on it.
set -euo pipefail
cd "$(dirname "$0")/.."
old=${OLD:-2d47768}
rounds=${ROUNDS:-6}
benchstat() { go run golang.org/x/perf/cmd/benchstat@v0.0.0-20260908200009-22c9c6c9d4da "$@"; }
run() { if [ -n "${LOCK:-}" ]; then flock "$LOCK" "$@"; else "$@"; fi; }

if [ "${1:-}" != "--report-only" ]; then
	tmp=$(mktemp -d)
	trap 'rm -rf "$tmp"' EXIT
	mkdir "$tmp/old"
	git archive "$old" | tar -x -C "$tmp/old"
	(cd "$tmp/old" && go test -c -o "$tmp/old.test" .)
	go test -c -o "$tmp/new.test" .
	: >bench/observe-old.txt
	: >bench/observe-new.txt
	for round in $(seq "$rounds"); do
		echo "# round $round $(date -u +%FT%TZ), load average $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a bench/observe-new.txt >>bench/observe-old.txt
		run "$tmp/old.test" -test.run '^$' -test.bench 'CORS/scenario=[^/]*/lib=caddy-cors$' -test.benchmem -test.benchtime 0.5s >>bench/observe-old.txt
		run "$tmp/new.test" -test.run '^$' -test.bench 'CORS/scenario=[^/]*/lib=caddy-cors$' -test.benchmem -test.benchtime 0.5s >>bench/observe-new.txt
		run "$tmp/new.test" -test.run '^$' -test.bench 'Observe' -test.benchmem -test.benchtime 0.3s >>bench/observe-new.txt
	done
fi

benchstat -filter '.name:CORS' old=bench/observe-old.txt new=bench/observe-new.txt
benchstat -filter '.name:Observe' -col /observe bench/observe-new.txt
