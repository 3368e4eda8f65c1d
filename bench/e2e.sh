#!/usr/bin/env bash
# End-to-end benchmark: what the cors handler costs a Caddy server.
#
# It builds Caddy with the module, serves the same small response four ways,
#
#   none    no CORS at all
#   static  the CORS headers of an allowed request, written statically: the
#           floor any CORS handler can reach
#   recipe  the same policy with Caddy's header directive and matchers, as
#           the Caddy documentation suggests
#   module  the same policy with this module's cors directive
#   shadow  the module with a shadow policy that agrees with it on every
#           request
#
# and loads each in turn with wrk on loopback, several rounds alternating the
# four so that drift of the machine hits them alike. Each request is an
# actual request from an allowed origin. It prints the median requests/s and
# p99 latency of each, and their ratios; then the median CPU time Caddy spent
# per request, which other processes on the machine disturb less, and the
# throughput ratios that CPU time allows.
#
# Usage: bench/e2e.sh [rounds] [seconds per run]
# Environment: CONNECTIONS (default 32), PORT_BASE (default 9300; uses the
# next five ports, and PORT_BASE+99 for Caddy's admin endpoint), CADDY_CPU
# and WRK_CPU (CPUs to pin each to with taskset, default 1 and 0 when the
# machine has two or more), METRICS (on: Caddy's HTTP metrics, and so the
# module's, are on for every way; default off).
set -euo pipefail
cd "$(dirname "$0")/.."

rounds=${1:-6}
seconds=${2:-5}
connections=${CONNECTIONS:-32}
base=${PORT_BASE:-9300}
admin=$((base + 99))
origin=https://app.example.com
metrics=${METRICS:-off}
case $metrics in
on) metrics_option=metrics ;;
off) metrics_option= ;;
*) echo "METRICS is on or off, not '$metrics'" >&2; exit 2 ;;
esac

command -v wrk >/dev/null || { echo "e2e.sh needs wrk (apt-get install -y wrk)" >&2; exit 1; }

work=$(mktemp -d)
caddy_pid=
cleanup() {
	if [ -n "$caddy_pid" ]; then kill "$caddy_pid" 2>/dev/null || true; wait "$caddy_pid" 2>/dev/null || true; fi
	rm -rf "$work"
}
trap cleanup EXIT

go build -o "$work/caddy" ./cmd/caddy

pin_caddy=() pin_wrk=()
if [ "$(nproc)" -ge 2 ] && command -v taskset >/dev/null; then
	pin_caddy=(taskset -c "${CADDY_CPU:-1}")
	pin_wrk=(taskset -c "${WRK_CPU:-0}")
fi

names=(none static recipe module shadow)
cat >"$work/Caddyfile" <<EOF
{
	admin localhost:$admin
	auto_https off
	skip_install_trust
	persist_config off
	$metrics_option
}

# none
http://:$((base + 1)) {
	respond "ok" 200
}

# static
http://:$((base + 2)) {
	header {
		Access-Control-Allow-Origin $origin
		Access-Control-Allow-Credentials true
		Access-Control-Expose-Headers "X-Request-Id, ETag"
		Vary Origin
	}
	respond "ok" 200
}

# recipe
http://:$((base + 3)) {
	@origin header_regexp Origin ^https://(app\.example\.com|([a-z0-9-]+\.)+example\.org)$
	@preflight {
		method OPTIONS
		header_regexp Origin ^https://(app\.example\.com|([a-z0-9-]+\.)+example\.org)$
		header Access-Control-Request-Method *
	}
	header Vary Origin
	handle @preflight {
		header {
			Access-Control-Allow-Origin {http.request.header.Origin}
			Access-Control-Allow-Credentials true
			Access-Control-Allow-Methods "GET, HEAD, POST, PUT, DELETE, PATCH"
			Access-Control-Allow-Headers "Content-Type, X-Api-Key, Authorization"
			Access-Control-Max-Age 600
		}
		respond 204
	}
	header @origin {
		Access-Control-Allow-Origin {http.request.header.Origin}
		Access-Control-Allow-Credentials true
		Access-Control-Expose-Headers "X-Request-Id, ETag"
	}
	respond "ok" 200
}

# What decides a request, for the policy and its shadow.
(deciding) {
	origins $origin https://*.example.org
	credentials
	methods PUT DELETE PATCH
	headers Content-Type X-Api-Key Authorization
}

# module
http://:$((base + 4)) {
	cors {
		import deciding
		expose X-Request-Id ETag
		max_age 10m
	}
	respond "ok" 200
}

# shadow
http://:$((base + 5)) {
	cors {
		import deciding
		expose X-Request-Id ETag
		max_age 10m
		shadow {
			import deciding
		}
	}
	respond "ok" 200
}
EOF

GOMAXPROCS=${GOMAXPROCS:-1} "${pin_caddy[@]}" "$work/caddy" run --config "$work/Caddyfile" --adapter caddyfile >"$work/caddy.log" 2>&1 &
caddy_pid=$!
for i in "${!names[@]}"; do
	url=http://127.0.0.1:$((base + 1 + i))/
	for _ in $(seq 50); do
		curl -fs -o /dev/null -H "Origin: $origin" "$url" && break
		sleep 0.1
	done
	# Each way must answer what it claims to, or the comparison means nothing.
	acao=$(curl -fsS -D - -o /dev/null -H "Origin: $origin" "$url" | tr -d '\r' | sed -n 's/^Access-Control-Allow-Origin: //Ip')
	want=$origin
	[ "${names[$i]}" = none ] && want=
	if [ "$acao" != "$want" ]; then
		echo "${names[$i]}: Access-Control-Allow-Origin is '$acao', want '$want'" >&2
		cat "$work/caddy.log" >&2
		exit 1
	fi
done

# caddy_cpu_ticks prints the CPU time Caddy has used, user and system, in
# clock ticks.
caddy_cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$caddy_pid/stat"; }
ticks_per_second=$(getconf CLK_TCK)

# run_wrk NAME PORT appends "rps p99_microseconds caddy_cpu_microseconds_per_request"
# to $work/NAME. Caddy's CPU time per request, unlike requests/s, does not
# count the time other processes held the CPU.
run_wrk() {
	local before after
	before=$(caddy_cpu_ticks)
	"${pin_wrk[@]}" wrk -t1 -c"$connections" -d"${seconds}s" --latency -H "Origin: $origin" "http://127.0.0.1:$2/" >"$work/out"
	after=$(caddy_cpu_ticks)
	awk -v ticks=$((after - before)) -v hz="$ticks_per_second" '
		/^Requests\/sec:/ { rps = $2 }
		/ requests in / { n = $1 }
		$1 == "99%" {
			v = $2; u = v; sub(/[0-9.]+/, "", u); sub(/[a-z]+$/, "", v)
			p99 = v * (u == "s" ? 1e6 : u == "ms" ? 1e3 : 1)
		}
		END { print rps, p99, ticks / hz * 1e6 / n }
	' "$work/out" >>"$work/$1"
}

echo "$(date -u +%FT%TZ) rounds=$rounds seconds=$seconds connections=$connections wrk=\"${pin_wrk[*]:-unpinned}\" caddy=\"${pin_caddy[*]:-unpinned}\" GOMAXPROCS=${GOMAXPROCS:-1} metrics=$metrics"
echo "load: $(cut -d' ' -f1-3 /proc/loadavg)"
for i in "${!names[@]}"; do run_wrk "${names[$i]}" $((base + 1 + i)); : >"$work/${names[$i]}"; done # warm-up, discarded
for r in $(seq "$rounds"); do
	for i in "${!names[@]}"; do
		run_wrk "${names[$i]}" $((base + 1 + i))
	done
	echo "round $r done, load $(cut -d' ' -f1 /proc/loadavg)"
done

median() { sort -g | awk '{ v[NR] = $1 } END { print (NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2) }'; }
printf '\n%-8s %12s %12s %10s %10s %12s\n' way "requests/s" "p99 (µs)" "vs static" "vs recipe" "runs (req/s)"
rps=() p99=() cpu=()
for n in "${names[@]}"; do
	rps+=("$(cut -d' ' -f1 "$work/$n" | median)")
	p99+=("$(cut -d' ' -f2 "$work/$n" | median)")
	cpu+=("$(cut -d' ' -f3 "$work/$n" | median)")
done
for i in "${!names[@]}"; do
	awk -v n="${names[$i]}" -v r="${rps[$i]}" -v p="${p99[$i]}" -v s="${rps[1]}" -v c="${rps[2]}" -v runs="$(cut -d' ' -f1 "$work/${names[$i]}" | tr '\n' ' ')" \
		'BEGIN { printf "%-8s %12.0f %12.0f %9.3fx %9.3fx   %s\n", n, r, p, r / s, r / c, runs }'
done
# Requests/s that the CPU time per request allows, as ratios: a 0.97x here
# means Caddy spends 1/0.97 times the CPU of the static headers per request.
printf '\n%-8s %16s %10s %10s %s\n' way "Caddy CPU µs/req" "vs static" "vs recipe" "runs (µs/req)"
for i in "${!names[@]}"; do
	awk -v n="${names[$i]}" -v t="${cpu[$i]}" -v s="${cpu[1]}" -v c="${cpu[2]}" -v runs="$(cut -d' ' -f3 "$work/${names[$i]}" | tr '\n' ' ')" \
		'BEGIN { printf "%-8s %16.2f %9.3fx %9.3fx   %s\n", n, t, s / t, c / t, runs }'
done

# With metrics on, the module must have counted what it decided: the
# figures above are those of a handler that counts.
if [ "$metrics" = on ]; then
	counted=$(curl -fsS "http://localhost:$admin/metrics" | awk '/^caddy_cors_requests_total\{kind="actual",reason="",result="allowed"\}/ { print $2 }')
	echo
	echo "caddy_cors_requests_total of allowed actual requests: ${counted:-none}"
	[ -n "$counted" ] && [ "${counted%.*}" != 0 ] || { echo "metrics are on, but the module counted nothing" >&2; exit 1; }
fi
