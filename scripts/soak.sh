#!/usr/bin/env bash
# Soak under reload: runs Caddy with the cors handler on loopback under wrk
# at high concurrency while the configuration is replaced through the admin
# API's POST /load every second, alternating two policies, then reports
# requests, answers, connection errors and resident memory.
#
# Usage: scripts/soak.sh [--control] [seconds] [connections]   (default: 60 256)
#
# --control runs the same soak without the cors handler (the two
# configurations then differ only in the body they answer), to tell what
# Caddy's reloads do to connections from what the handler does.
#
# Needs wrk (apt-get install -y wrk). Ports: HTTP 127.0.0.1:9400, admin
# localhost:9499. Exits non-zero if any answer is a 5xx, fits neither
# policy or is another non-2xx than a refused preflight's 403, if a load
# fails, or if resident memory moves by more than 10%. Connection errors
# are reported, not judged: each reload makes Caddy close the keep-alive
# connections of the configuration it replaces, with or without the
# handler, which --control shows.
set -euo pipefail
cd "$(dirname "$0")/.."

control=""
if [ "${1:-}" = --control ]; then
	control=1
	shift
fi
duration=${1:-60}
connections=${2:-256}
warmup=5
http_addr=127.0.0.1:9400
admin_addr=localhost:9499

work=$(mktemp -d)
caddy_pid=""
cleanup() {
	if [ -n "$caddy_pid" ]; then
		kill "$caddy_pid" 2>/dev/null || true
		wait "$caddy_pid" 2>/dev/null || true
	fi
	rm -rf "$work"
}
trap cleanup EXIT

# policy ORIGIN: a configuration whose cors handler (none under --control)
# allows ORIGIN with credentials. The headers handler in front echoes the request's Origin and
# method, which scripts/soak.lua checks each answer against.
policy() {
	local cors='{"handler": "cors", "allowed_origins": ["'"$1"'"], "allow_credentials": true,
			"allowed_methods": ["PUT"], "allowed_headers": ["Content-Type"], "exposed_headers": ["X-Request-Id"]},'
	[ -n "$control" ] && cors=""
	cat <<JSON
{
	"admin": {"listen": "$admin_addr"},
	"logging": {"logs": {"default": {"level": "WARN"}}},
	"apps": {"http": {"servers": {"soak": {"listen": ["$http_addr"], "routes": [{"handle": [
		{"handler": "headers", "response": {"set": {
			"X-Request-Origin": ["{http.request.header.Origin}"],
			"X-Request-Method": ["{http.request.method}"]
		}}},
		$cors
		{"handler": "static_response", "body": "$1"}
	]}]}}}}
}
JSON
}
policy https://a.example >"$work/a.json"
policy https://b.example >"$work/b.json"

rss_kib() { awk '/^VmRSS:/ { print $2 }' "/proc/$caddy_pid/status"; }

echo "building Caddy"
go build -o "$work/caddy" ./cmd/caddy

"$work/caddy" run --config "$work/a.json" >"$work/caddy.log" 2>&1 &
caddy_pid=$!
for _ in $(seq 50); do
	curl -fsS "http://$admin_addr/config/" >/dev/null 2>&1 && break
	sleep 0.2
done
curl -fsS "http://$admin_addr/config/" >/dev/null

echo "warming up for ${warmup}s"
wrk -t2 -c"$connections" -d"${warmup}s" -s scripts/soak.lua "http://$http_addr/" >/dev/null
rss_start=$(rss_kib)

echo "soaking for ${duration}s: $connections connections, POST /load every second"
wrk -t2 -c"$connections" -d"${duration}s" -s scripts/soak.lua "http://$http_addr/" ${control:+-- control} >"$work/wrk.out" 2>&1 &
wrk_pid=$!
loads=0
failed_loads=0
rss_peak=$rss_start
start=$(date +%s)
while [ $(($(date +%s) - start)) -lt $((duration - 1)) ]; do
	sleep 1 &
	ticker=$!
	config="$work/a.json"
	[ $((loads % 2)) -eq 0 ] && config="$work/b.json"
	code=$(curl -s -o "$work/load.out" -w '%{http_code}' -X POST -H 'Content-Type: application/json' \
		--data-binary "@$config" "http://$admin_addr/load" || echo 000)
	loads=$((loads + 1))
	if [ "$code" != 200 ]; then
		failed_loads=$((failed_loads + 1))
		echo "load $loads answered $code: $(cat "$work/load.out")"
	fi
	rss=$(rss_kib)
	[ "$rss" -gt "$rss_peak" ] && rss_peak=$rss
	wait "$ticker"
done
rss_end=$(rss_kib)
[ "$rss_end" -gt "$rss_peak" ] && rss_peak=$rss_end
wait "$wrk_pid"

echo
cat "$work/wrk.out"
growth=$(awk -v a="$rss_start" -v b="$rss_end" 'BEGIN { printf "%+.1f", (b - a) * 100 / a }')
echo "loads $loads, failed $failed_loads"
echo "resident memory: start ${rss_start} KiB, end ${rss_end} KiB (${growth}%), peak ${rss_peak} KiB"

if [ -n "$control" ]; then
	echo "control run: nothing to judge"
	exit 0
fi
fail=0
grep -q '^answers from neither policy 0$' "$work/wrk.out" || fail=1
grep -q '^5xx answers 0$' "$work/wrk.out" || fail=1
grep -q '^other non-2xx answers 0$' "$work/wrk.out" || fail=1
[ "$failed_loads" -eq 0 ] || fail=1
awk -v g="$growth" 'BEGIN { exit !(g <= 10 && g >= -10) }' || fail=1
if [ "$fail" -ne 0 ]; then
	echo "soak: FAILED"
	exit 1
fi
echo "soak: ok"
