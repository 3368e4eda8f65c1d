package cors

import (
	"bufio"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2/caddytest"
)

// What the handler decides is seen outside it through Caddy's metrics, its
// access log, the placeholders and the shadow policy's log lines. The
// sites listen on :9130, the metrics handler on :9131, which no other
// integration test uses.

// observeSites writes the configuration of the tests: the same policy and
// shadow policy in three sites, so that each has a handler, and a rate
// limit of its log lines, of its own. localhost gets a mix of requests,
// refuse.localhost a burst that the shadow policy would refuse, and
// allow.localhost one that it would allow.
func observeSites(accessLog, shadowLog string, metrics bool) string {
	var extra []string
	if metrics {
		extra = append(extra, "metrics")
	}
	extra = append(extra, "log shadow {\n\toutput file "+shadowLog+"\n\tinclude http.handlers.cors.shadow\n}")
	return testGlobalOptions(extra...) + `
(policy) {
	cors https://app.example.com https://old.example.com {
		methods PUT DELETE
		headers Content-Type
		shadow {
			origins https://app.example.com https://new.example.com
			methods PUT PATCH
			headers Content-Type
		}
	}
	header X-Debug-Cors {http.cors.reason}
	log_append cors_seen {http.cors.result}
	respond "result={http.cors.result} reason={http.cors.reason}"
}

http://localhost:9130 {
	log {
		output file ` + accessLog + `
	}
	import policy
}

http://refuse.localhost:9130 {
	import policy
}

http://allow.localhost:9130 {
	import policy
}

http://localhost:9131 {
	metrics
}
`
}

// scrape reads the cors series of a Prometheus text exposition: each
// line's name and labels, as written, against its value.
func scrape(t *testing.T, client *http.Client, url string) map[string]float64 {
	t.Helper()
	res, err := client.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	series := make(map[string]float64)
	for _, line := range strings.Split(string(body), "\n") {
		if !strings.HasPrefix(line, "caddy_cors_") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err != nil {
			t.Fatalf("%s: %v", line, err)
		}
		series[line[:i]] = v
	}
	return series
}

// requestSeries and shadowSeries write a series as the exposition does,
// its labels in alphabetical order.
func requestSeries(kind, result, reason string) string {
	return `caddy_cors_requests_total{kind="` + kind + `",reason="` + reason + `",result="` + result + `"}`
}

func shadowSeries(kind, change, reason string) string {
	return `caddy_cors_shadow_disagreements_total{change="` + change + `",kind="` + kind + `",reason="` + reason + `"}`
}

// jsonLines waits until path holds at least n JSON lines (the access log
// is written once the response has gone), and returns them all.
func jsonLines(t *testing.T, path string, n int) []map[string]any {
	t.Helper()
	var entries []map[string]any
	for range 100 {
		entries = entries[:0]
		if f, err := os.Open(path); err == nil {
			for lines := bufio.NewScanner(f); lines.Scan(); {
				var e map[string]any
				if err := json.Unmarshal(lines.Bytes(), &e); err != nil {
					t.Fatalf("%s: %v", lines.Text(), err)
				}
				entries = append(entries, e)
			}
			f.Close()
		}
		if len(entries) >= n {
			return entries
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("%s holds %d lines, want %d", path, len(entries), n)
	return nil
}

// observed is one request of the mix, and what the handler must decide.
type observed struct {
	method  string
	path    string
	header  []string
	kind    string // "" for a request without Origin
	reason  string // "" when allowed
	change  string // the shadow policy's, if it disagrees
	sreason string
}

func (o observed) result() string {
	switch {
	case o.kind == "":
		return ""
	case o.reason == "":
		return "allowed"
	}
	return "refused"
}

// TestIntegrationObserve checks, through a real Caddy with metrics and an
// access log, every way the decision shows: the counters on the admin
// API's /metrics and the metrics handler, the access log fields, the
// placeholders in a header and a body, and the shadow policy's counters
// and rate-limited log lines.
func TestIntegrationObserve(t *testing.T) {
	dir := t.TempDir()
	accessLog, shadowLog := filepath.Join(dir, "access.log"), filepath.Join(dir, "shadow.log")
	tester := caddytest.NewTester(t)
	tester.InitServer(observeSites(accessLog, shadowLog, true), "caddyfile")
	client := *tester.Client
	client.Jar = nil
	before := scrape(t, &client, "http://localhost:2999/metrics")
	if len(before) == 0 {
		t.Fatal("no caddy_cors series on the admin API's /metrics")
	}

	origin := func(o string) string { return "Origin: " + o }
	acrm := func(m string) string { return "Access-Control-Request-Method: " + m }
	const app, old, neu, evil = "https://app.example.com", "https://old.example.com", "https://new.example.com", "https://evil.example"
	mix := []observed{
		{method: "GET", path: "/none"},
		{method: "GET", path: "/allowed", header: []string{origin(app)}, kind: "actual"},
		{method: "GET", path: "/evil", header: []string{origin(evil)}, kind: "actual", reason: "origin"},
		{method: "GET", path: "/two-origins", header: []string{origin(app), origin(app)}, kind: "actual", reason: "malformed"},
		{method: "OPTIONS", path: "/preflight", header: []string{origin(app), acrm("PUT")}, kind: "preflight"},
		{method: "OPTIONS", path: "/authorization", header: []string{origin(app), acrm("PUT"), "Access-Control-Request-Headers: authorization"},
			kind: "preflight", reason: "header"},
		{method: "OPTIONS", path: "/delete", header: []string{origin(app), acrm("DELETE")}, kind: "preflight",
			change: "would_refuse", sreason: "method"},
		{method: "OPTIONS", path: "/patch", header: []string{origin(app), acrm("PATCH")}, kind: "preflight", reason: "method",
			change: "would_allow", sreason: "method"},
		{method: "GET", path: "/old", header: []string{origin(old)}, kind: "actual", change: "would_refuse", sreason: "origin"},
		{method: "POST", path: "/new", header: []string{origin(neu)}, kind: "actual", reason: "origin", change: "would_allow", sreason: "origin"},
	}
	wantDelta := make(map[string]float64)
	for _, o := range mix {
		status := 200
		if o.kind == "preflight" {
			status = 204
			if o.reason != "" {
				status = 403
			}
		}
		req, _ := http.NewRequest(o.method, "http://localhost:9130"+o.path, nil)
		for _, l := range o.header {
			name, value, _ := strings.Cut(l, ": ")
			req.Header.Add(name, value)
		}
		res, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != status {
			t.Errorf("%s %s: status %d, want %d", o.method, o.path, res.StatusCode, status)
		}
		if o.kind != "preflight" {
			// The placeholders, in a header and in the body of respond.
			if got := res.Header.Get("X-Debug-Cors"); got != o.reason {
				t.Errorf("%s: X-Debug-Cors %q, want %q", o.path, got, o.reason)
			}
			if want := "result=" + o.result() + " reason=" + o.reason; string(body) != want {
				t.Errorf("%s: body %q, want %q", o.path, body, want)
			}
		}
		if o.kind != "" {
			wantDelta[requestSeries(o.kind, o.result(), o.reason)]++
		}
		if o.change != "" {
			wantDelta[shadowSeries(o.kind, o.change, o.sreason)]++
		}
	}

	// The shadow policy's log lines: one would_allow line, then a burst
	// of would_refuse that writes one line and counts every request, and
	// after a quiet second, another line that says how many it dropped.
	send := func(method, url string, header ...string) {
		t.Helper()
		req, _ := http.NewRequest(method, url, nil)
		for _, l := range header {
			name, value, _ := strings.Cut(l, ": ")
			req.Header.Add(name, value)
		}
		res, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
	}
	send("OPTIONS", "http://allow.localhost:9130/patch", origin(app), acrm("PATCH"), "Access-Control-Request-Headers: content-type")
	wantDelta[requestSeries("preflight", "refused", "method")]++
	wantDelta[shadowSeries("preflight", "would_allow", "method")]++
	const burst = 25
	start := time.Now()
	for range burst {
		send("GET", "http://refuse.localhost:9130/old", origin(old))
	}
	burstTook := time.Since(start)
	time.Sleep(1100 * time.Millisecond)
	send("GET", "http://refuse.localhost:9130/old", origin(old))
	wantDelta[requestSeries("actual", "allowed", "")] += burst + 1
	wantDelta[shadowSeries("actual", "would_refuse", "origin")] += burst + 1

	after := scrape(t, &client, "http://localhost:2999/metrics")
	for series, want := range wantDelta {
		if got := after[series] - before[series]; got != want {
			t.Errorf("%s grew by %v, want %v", series, got, want)
		}
	}
	for series := range after {
		if _, counted := wantDelta[series]; !counted && after[series] != before[series] {
			t.Errorf("%s grew by %v, want 0", series, after[series]-before[series])
		}
	}
	if viaHandler := scrape(t, &client, "http://localhost:9131/metrics"); len(viaHandler) != len(after) {
		t.Errorf("the metrics handler serves %d cors series, the admin API %d", len(viaHandler), len(after))
	}

	// The access log of localhost:9130: the fields of every CORS request,
	// preflights that the handler answers included, and none for the
	// request without Origin; and the placeholders as log_append, which
	// runs around cors, saw them once the request was done.
	entries := jsonLines(t, accessLog, len(mix))
	byPath := make(map[string]map[string]any)
	for _, e := range entries {
		req, _ := e["request"].(map[string]any)
		uri, _ := req["uri"].(string)
		byPath[uri] = e
	}
	for _, o := range mix {
		e, ok := byPath[o.path]
		if !ok {
			t.Errorf("%s: no access log entry", o.path)
			continue
		}
		if e["cors_seen"] != o.result() {
			t.Errorf("%s: log_append's cors_seen %v, want %q", o.path, e["cors_seen"], o.result())
		}
		result, hasResult := e["cors_result"]
		reason, hasReason := e["cors_reason"]
		switch {
		case o.kind == "" && (hasResult || hasReason):
			t.Errorf("%s: cors_result %v, cors_reason %v in the entry of a request without Origin", o.path, result, reason)
		case o.kind == "":
		case result != o.result():
			t.Errorf("%s: cors_result %v, want %q", o.path, result, o.result())
		case o.reason == "" && hasReason:
			t.Errorf("%s: cors_reason %v on an allowed request", o.path, reason)
		case o.reason != "" && reason != o.reason:
			t.Errorf("%s: cors_reason %v, want %q", o.path, reason, o.reason)
		}
	}

	// The shadow log lines of the two other sites.
	var allowLines, refuseLines []map[string]any
	for _, e := range jsonLines(t, shadowLog, 3) {
		if e["logger"] != "http.handlers.cors.shadow" || e["level"] != "info" {
			t.Errorf("line %v, want logger http.handlers.cors.shadow at info", e)
		}
		switch e["host"] {
		case "allow.localhost:9130":
			allowLines = append(allowLines, e)
		case "refuse.localhost:9130":
			refuseLines = append(refuseLines, e)
		}
	}
	if len(allowLines) != 1 {
		t.Fatalf("%d lines for allow.localhost, want 1", len(allowLines))
	}
	wantFields := map[string]any{"msg": "the shadow policy would allow a request that the policy refuses",
		"kind": "preflight", "change": "would_allow", "reason": "method", "refused": "PATCH", "origin": app, "method": "PATCH",
		"request_headers": "content-type", "path": "/patch", "dropped": float64(0)}
	for k, want := range wantFields {
		if allowLines[0][k] != want {
			t.Errorf("allow.localhost's line: %s is %v, want %v", k, allowLines[0][k], want)
		}
	}
	// Each line counts itself and those dropped before it: together they
	// account for every disagreement, however the burst was timed.
	total := 0.0
	for _, e := range refuseLines {
		dropped, _ := e["dropped"].(float64)
		total += 1 + dropped
	}
	if total != burst+1 {
		t.Errorf("refuse.localhost's %d lines account for %v disagreements, want %d: %v", len(refuseLines), total, burst+1, refuseLines)
	}
	if burstTook < 900*time.Millisecond && len(refuseLines) != 2 {
		t.Errorf("a burst of %d in %v and one more after a quiet second wrote %d lines, want 2", burst, burstTook, len(refuseLines))
	}
	if n := len(refuseLines); n > 0 {
		last := refuseLines[n-1]
		for k, want := range map[string]any{"msg": "the shadow policy would refuse a request that the policy allows",
			"kind": "actual", "change": "would_refuse", "reason": "origin", "refused": old, "origin": old, "method": "GET", "path": "/old"} {
			if last[k] != want {
				t.Errorf("refuse.localhost's last line: %s is %v, want %v", k, last[k], want)
			}
		}
	}
}

// TestIntegrationMetricsOff checks that without Caddy's metrics the cors
// counters are not served, and the placeholders and access log still are.
func TestIntegrationMetricsOff(t *testing.T) {
	dir := t.TempDir()
	tester := caddytest.NewTester(t)
	tester.InitServer(observeSites(filepath.Join(dir, "access.log"), filepath.Join(dir, "shadow.log"), false), "caddyfile")
	client := *tester.Client
	client.Jar = nil
	p := probe{name: "refused", method: "GET", url: "http://localhost:9130/", header: []string{"Origin: https://evil.example"},
		wantStatus: 200, want: map[string]string{"Vary": "Origin"}, wantBody: "result=refused reason=origin"}
	if res := p.runWith(t, &client); res != nil && res.Header.Get("X-Debug-Cors") != "origin" {
		t.Errorf("X-Debug-Cors %q, want origin", res.Header.Get("X-Debug-Cors"))
	}
	if series := scrape(t, &client, "http://localhost:2999/metrics"); len(series) != 0 {
		t.Errorf("%d cors series on /metrics with metrics off, want none", len(series))
	}
	entries := jsonLines(t, filepath.Join(dir, "access.log"), 1)
	if e := entries[0]; e["cors_result"] != "refused" || e["cors_reason"] != "origin" {
		t.Errorf("access log entry %v, want cors_result refused and cors_reason origin", e)
	}
}
