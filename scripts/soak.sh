#!/usr/bin/env bash
# Soak under reload: runs Caddy with the cors handler on loopback under hey
# at high concurrency while the configuration is replaced through the admin
# API's POST /load every second, alternating two policies, then reports
# requests, answers, connection errors and resident memory, and checks every
# answer Caddy logged against the two policies (scripts/soakcheck).
#
# Usage: scripts/soak.sh [--control] [seconds] [connections]   (default: 60 256)
#
# The load is six hey processes, one per kind of request: an actual GET and
# a preflight (PUT, Content-Type) from each of https://a.example and
# https://b.example, which the policies allow in turn, and from
# https://c.example, which neither allows. hey keeps its connections alive
# and, like a browser, sends a request again on a new connection when the
# server closed the one it was sent on before answering: each reload shuts
# down the replaced server, which closes its idle connections and drops a
# request it reads after that (net/http's Server.Shutdown). wrk sends no
# request again, and counts each of those as a read error, with or without
# the handler (about one per connection and reload).
#
# The listening socket is made once, by systemd-socket-activate, and handed
# to Caddy as fd/3, so that every configuration accepts from the same
# socket: with a socket of its own per configuration, as Caddy binds by
# default, connections still queued on the replaced socket are reset when it
# closes.
#
# --control runs the same soak without the cors handler (the two
# configurations then differ only in the body they answer).
#
# Needs hey and systemd-socket-activate (apt-get install -y hey systemd).
# Ports: HTTP 127.0.0.1:9400, admin localhost:9499. Exits non-zero if a
# request fails, if scripts/soakcheck finds an answer wrong, if the access
# log does not hold as many answers as hey received, if a load fails, or if
# resident memory moves by more than 10%.
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
origins=(https://a.example https://b.example https://c.example)

for tool in hey systemd-socket-activate; do
	command -v "$tool" >/dev/null || { echo "soak.sh needs $tool (apt-get install -y hey systemd)" >&2; exit 1; }
done

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
# allows ORIGIN with credentials, and whose access log goes to
# $work/access.log.
policy() {
	local cors='{"handler": "cors", "allowed_origins": ["'"$1"'"], "allow_credentials": true,
			"allowed_methods": ["PUT"], "allowed_headers": ["Content-Type"], "exposed_headers": ["X-Request-Id"]},'
	[ -n "$control" ] && cors=""
	cat <<JSON
{
	"admin": {"listen": "$admin_addr"},
	"logging": {"logs": {
		"default": {"level": "WARN", "exclude": ["http.log.access"]},
		"access": {"include": ["http.log.access"], "encoder": {"format": "json"},
			"writer": {"output": "file", "filename": "$work/access.log", "roll": false}}
	}},
	"apps": {"http": {"servers": {"soak": {"listen": ["fd/3"], "logs": {}, "routes": [{"handle": [
		$cors
		{"handler": "static_response", "body": "$1"}
	]}]}}}}
}
JSON
}
policy https://a.example >"$work/a.json"
policy https://b.example >"$work/b.json"

rss_kib() { awk '/^VmRSS:/ { print $2 }' "/proc/$caddy_pid/status"; }

# load SECONDS OUT: runs the six hey processes for SECONDS, sharing the
# connections between them, each writing its report to OUT.<n>.
load() {
	local per=$(((connections + 5) / 6)) n=0 pids=()
	for origin in "${origins[@]}"; do
		hey -z "$1s" -c "$per" -H "Origin: $origin" "http://$http_addr/things" >"$2.$n" 2>&1 &
		pids+=($!) n=$((n + 1))
		hey -z "$1s" -c "$per" -m OPTIONS -H "Origin: $origin" -H "Access-Control-Request-Method: PUT" \
			-H "Access-Control-Request-Headers: content-type" "http://$http_addr/things" >"$2.$n" 2>&1 &
		pids+=($!) n=$((n + 1))
	done
	wait "${pids[@]}"
}

echo "building Caddy and the log check"
go build -o "$work/caddy" ./cmd/caddy
go build -o "$work/soakcheck" ./scripts/soakcheck

# systemd-socket-activate binds the socket, then runs Caddy in its own
# process when the first connection arrives: curl's, which Caddy answers once
# it has started.
systemd-socket-activate -l "$http_addr" "$work/caddy" run --config "$work/a.json" >"$work/caddy.log" 2>&1 &
caddy_pid=$!
curl -fsS --max-time 20 --retry 10 --retry-delay 1 --retry-connrefused "http://$http_addr/" >/dev/null
curl -fsS "http://$admin_addr/config/" >/dev/null

echo "warming up for ${warmup}s"
load "$warmup" "$work/warmup"
rss_start=$(rss_kib)
: >"$work/access.log" # Caddy appends: what follows is the soak's alone

echo "soaking for ${duration}s: $connections connections, POST /load every second"
load "$duration" "$work/hey" &
load_pid=$!
start=$(date +%s)
loads=0
failed_loads=0
rss_peak=$rss_start
# The first load waits until hey's connections are open: a request on a
# connection the replaced server accepted but had not read from when its
# shutdown began is dropped, and hey (Go's net/http client) sends a request
# again only if it went over a connection that had already been used.
sleep 1
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
wait "$load_pid"
sleep 1 # the last answers' log lines
echo

# hey's reports: "  [200]	1234 responses" per status, "  [12]	Get ...: EOF"
# per error.
cat "$work"/hey.* | awk '
	/^Status code distribution:/ { section = "status"; next }
	/^Error distribution:/ { section = "error"; next }
	/^$/ { section = "" }
	section == "status" && /responses$/ { answers += $2; status[$1] += $2 }
	section == "error" && /^ *\[[0-9]+\]/ {
		n = $1; gsub(/[][]/, "", n); errors += n
		sub(/^ *\[[0-9]+\][ \t]*/, ""); error[$0] += n
	}
	END {
		print answers + 0, errors + 0 >"/dev/stderr"
		printf "requests %d: answered %d, failed %d\n", answers + errors, answers, errors
		for (s in status) printf "  status %s: %d\n", s, status[s]
		for (e in error) printf "  failed %d times: %s\n", error[e], e
	}' 2>"$work/totals"
read -r answers errors <"$work/totals"
logged=$(wc -l <"$work/access.log")
check=0
"$work/soakcheck" ${control:+-control} <"$work/access.log" || check=$?
growth=$(awk -v a="$rss_start" -v b="$rss_end" 'BEGIN { printf "%+.1f", (b - a) * 100 / a }')
echo "loads $loads, failed $failed_loads"
echo "resident memory: start ${rss_start} KiB, end ${rss_end} KiB (${growth}%), peak ${rss_peak} KiB"

fail=0
[ "$errors" -eq 0 ] || fail=1
if [ "$logged" -ne "$answers" ]; then
	echo "hey received $answers answers, and Caddy logged $logged"
	fail=1
fi
[ "$check" -eq 0 ] || fail=1
[ "$failed_loads" -eq 0 ] || fail=1
awk -v g="$growth" 'BEGIN { exit !(g <= 10 && g >= -10) }' || fail=1
if [ "$fail" -ne 0 ]; then
	echo "soak${control:+ (control)}: FAILED"
	exit 1
fi
echo "soak${control:+ (control)}: ok"
