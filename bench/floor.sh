#!/usr/bin/env bash
# Measures what the one allocation of a request costs: the handler as it is
# against the same handler built with bench/floor.patch, which takes the
# allocation out by giving every request the same writer and the same
# array of header values. That build is the data race the handler's
# no-shared-slice rule forbids (a later handler that edits a value in
# place would change it for every response) and serves this measurement
# only, on one goroutine; its TestAllocations fails, as it should.
# The patch follows the code of module.go and writer.go: when they change
# so that it no longer applies, git apply says so and the script stops,
# and the patch must be made again.
#
# Both builds run the scenarios whose targets the allocation decides, in
# ROUNDS rounds (default 12) that run each build once, the libraries of
# the first build and the variants of both seconds apart. The raw output
# goes to OUT (default bench/floor-results.txt), the patched build's
# variants named with "-shared"; the script then prints the medians of the
# ratios of each round over the faster of rs/cors and go-chi/cors. With
# --report-only, it reuses that file.
#
#	ROUNDS=12 bench/floor.sh
#
# On a shared machine, run it as root under nice -n -10 (see BENCHMARKS.md).
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${ROUNDS:-12}
out=${OUT:-bench/floor-results.txt}
scenarios='not-cors|actual-exact|actual-pattern|actual-disallowed|preflight|preflight-3-headers|preflight-disallowed'

if [ "${1:-}" != "--report-only" ]; then
	tmp=$(mktemp -d)
	trap 'rm -rf "$tmp"' EXIT
	for build in owned shared; do
		mkdir "$tmp/$build"
		git archive HEAD | tar -x -C "$tmp/$build"
	done
	git -C "$tmp/shared" apply "$PWD/bench/floor.patch"
	for build in owned shared; do
		(cd "$tmp/$build" && go test -c -o "$tmp/$build.test" .)
	done
	{
		echo "# start $(date -u +%FT%TZ), load average $(cut -d' ' -f1-3 /proc/loadavg), commit $(git rev-parse --short HEAD), $rounds rounds"
		for round in $(seq "$rounds"); do
			(cd "$tmp/owned" && "$tmp/owned.test" -test.run '^$' -test.benchmem -test.benchtime 0.5s \
				-test.bench "^BenchmarkCORS\$/scenario=($scenarios)\$/lib=(caddy-cors|caddy-cors-bare|rs-cors|go-chi-cors)\$")
			(cd "$tmp/shared" && "$tmp/shared.test" -test.run '^$' -test.benchmem -test.benchtime 0.5s \
				-test.bench "^BenchmarkCORS\$/scenario=($scenarios)\$/lib=(caddy-cors|caddy-cors-bare)\$") |
				sed -E 's,/lib=(caddy-cors(-bare)?)-,/lib=\1-shared-,'
			echo "# round $round done $(date -u +%FT%TZ), load average $(cut -d' ' -f1-3 /proc/loadavg)"
			echo "round $round of $rounds done" >&2
		done
		echo "# end $(date -u +%FT%TZ), load average $(cut -d' ' -f1-3 /proc/loadavg)"
	} | grep -E '^(Benchmark|#)' >"$out"
fi

go run ./bench/chart -paired -unit cpu-sec/op <"$out"
