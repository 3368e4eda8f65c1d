#!/usr/bin/env bash
# Measures what a series of commits changed in the handler's cost: builds
# each commit's test binary and runs its BenchmarkCORS benchmarks of one
# library, in ROUNDS rounds (default 10) that run every binary once, one
# after the other, so that a drift of the machine hits them alike. Each
# argument is COMMIT or COMMIT:LIB (LIB defaults to caddy-cors; since
# caddy-cors's variants, the handler as the earlier commits measured it,
# without Caddy's request context, is caddy-cors-bare). The raw output goes
# to OUT (default bench/changes-results.txt); the script then prints, per
# scenario, the median CPU time and bytes allocated of each, and each over
# the one before it. With --report-only, it reuses that file.
#
#	ROUNDS=10 bench/changes.sh 9fba2a9 be0ebb2 01f49ce 309732a HEAD:caddy-cors-bare
#	ROUNDS=10 OUT=bench/metrics-results.txt bench/changes.sh HEAD HEAD:caddy-cors+metrics
#
# On a shared machine, run it as root under nice -n -10 (see BENCHMARKS.md).
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${ROUNDS:-10}
out=${OUT:-bench/changes-results.txt}

if [ "${1:-}" != "--report-only" ]; then
	tmp=$(mktemp -d)
	trap 'rm -rf "$tmp"' EXIT
	labels=()
	for arg in "$@"; do
		commit=${arg%%:*}
		lib=caddy-cors
		[ "$arg" != "$commit" ] && lib=${arg#*:}
		label=$(git rev-parse --short "$commit")
		[ "$lib" != caddy-cors ] && label="$label-$lib"
		mkdir "$tmp/$label"
		git archive "$commit" | tar -x -C "$tmp/$label"
		(cd "$tmp/$label" && go test -c -o "$tmp/$label.test" .)
		echo "$lib" >"$tmp/$label.lib"
		labels+=("$label")
	done
	echo "# start $(date -u +%FT%TZ), load average $(cut -d' ' -f1-3 /proc/loadavg), commits ${labels[*]}" >"$out"
	for round in $(seq "$rounds"); do
		for label in "${labels[@]}"; do
			lib=$(sed 's/+/\\+/g' "$tmp/$label.lib")
			(cd "$tmp/$label" && "$tmp/$label.test" -test.run '^$' -test.bench "^BenchmarkCORS\$/scenario=[^/]*/lib=$lib\$" \
				-test.benchmem -test.benchtime 0.3s) | sed -n "s/^Benchmark/$label Benchmark/p" >>"$out"
		done
		echo "round $round of $rounds done, load $(cut -d' ' -f1 /proc/loadavg)" >&2
	done
	echo "# end $(date -u +%FT%TZ), load average $(cut -d' ' -f1-3 /proc/loadavg)" >>"$out"
fi

# The medians: per scenario, each commit's CPU time (and B/op), then each
# commit over the one before it.
awk '
/^[0-9a-f]+[^ ]* Benchmark/ {
	c = $1; split($2, p, "/"); sc = p[2]; sub(/^scenario=/, "", sc)
	for (i = 3; i < NF; i++) {
		if ($(i + 1) == "cpu-ns/op") cpu[c " " sc] = cpu[c " " sc] " " $i
		if ($(i + 1) == "B/op") bytes[c " " sc] = $i
	}
	if (!(c in seenc)) { seenc[c] = 1; commits[++nc] = c }
	if (!(sc in seens)) { seens[sc] = 1; order[++ns] = sc }
}
function median(s,   a, k, i, j, t) {
	k = split(s, a, " ")
	for (i = 1; i <= k; i++) for (j = i + 1; j <= k; j++) if (a[j] + 0 < a[i] + 0) { t = a[i]; a[i] = a[j]; a[j] = t }
	if (k == 0) return 0
	return (k % 2) ? a[(k + 1) / 2] : (a[k / 2] + a[k / 2 + 1]) / 2
}
END {
	printf "| scenario |"; for (j = 1; j <= nc; j++) printf " %s |", commits[j]
	for (j = 2; j <= nc; j++) printf " %s/%s |", commits[j], commits[j - 1]
	if (nc > 2) printf " %s/%s |", commits[nc], commits[1]
	printf "\n|---|"
	for (j = 1; j < 2 * nc + (nc > 2); j++) printf "--:|"
	printf "\n"
	for (i = 1; i <= ns; i++) {
		sc = order[i]; printf "| %s |", sc
		for (j = 1; j <= nc; j++) { m[j] = median(cpu[commits[j] " " sc]); printf " %.0f ns (%s B) |", m[j], bytes[commits[j] " " sc] }
		for (j = 2; j <= nc; j++) printf " %.2f |", m[j] / m[j - 1]
		if (nc > 2) printf " %.2f |", m[nc] / m[1]
		printf "\n"
		for (j = 1; j <= nc; j++) lg[j] += log(m[j])
	}
	printf "| geomean |"; for (j = 1; j <= nc; j++) { g[j] = exp(lg[j] / ns); printf " %.0f ns |", g[j] }
	for (j = 2; j <= nc; j++) printf " %.2f |", g[j] / g[j - 1]
	if (nc > 2) printf " %.2f |", g[nc] / g[1]
	printf "\n"
}' "$out"
