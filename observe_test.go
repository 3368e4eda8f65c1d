package cors

import (
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"
)

// TestReasonWords checks that every refusal reason has a word of its own,
// which metrics, access logs and placeholders use, and that only an allowed
// request has none.
func TestReasonWords(t *testing.T) {
	seen := make(map[string]refusalReason)
	for r := range numRefusalReasons {
		w := r.word()
		switch {
		case r == allowed && w != "":
			t.Errorf("allowed has the word %q, want none", w)
		case r == allowed:
		case w == "":
			t.Errorf("reason %d (%s) has no word", r, refusal{reason: r})
		case strings.Trim(w, "abcdefghijklmnopqrstuvwxyz_") != "":
			t.Errorf("reason %d has the word %q, want lower case letters and _", r, w)
		}
		if first, dup := seen[w]; dup {
			t.Errorf("reasons %d and %d have the same word %q", first, r, w)
		}
		seen[w] = r
		want := "refused"
		if r == allowed {
			want = "allowed"
		}
		if got := r.result(); got != want {
			t.Errorf("reason %d has the result %q, want %q", r, got, want)
		}
	}
}

// counterValue reads a counter.
func counterValue(t *testing.T, c prometheus.Counter) float64 {
	t.Helper()
	var m dto.Metric
	if err := c.Write(&m); err != nil {
		t.Fatal(err)
	}
	return m.GetCounter().GetValue()
}

// withMetrics gives h the process's counters, registered in a fresh
// registry, as Provision does when Caddy's HTTP metrics are on.
func withMetrics(t testing.TB, h *Handler) {
	t.Helper()
	c, err := registerMetrics(prometheus.NewPedanticRegistry())
	if err != nil {
		t.Fatal(err)
	}
	h.counters = c
}

// TestRegisterMetricsTwice checks that the handlers of one configuration,
// and those of the next, share the counters without a registration error.
func TestRegisterMetricsTwice(t *testing.T) {
	first := prometheus.NewPedanticRegistry()
	for i, registry := range []*prometheus.Registry{first, first, prometheus.NewPedanticRegistry()} {
		if _, err := registerMetrics(registry); err != nil {
			t.Fatalf("registration %d: %v", i+1, err)
		}
	}
	families, err := first.Gather()
	if err != nil {
		t.Fatal(err)
	}
	series := make(map[string]int)
	for _, f := range families {
		series[f.GetName()] = len(f.GetMetric())
	}
	// Every combination is exported from the start: 2 kinds × 7 reasons
	// (the first of which is "allowed"), and 2 kinds × 2 changes × 6
	// refusal reasons.
	want := map[string]int{
		"caddy_cors_requests_total":             2 * int(numRefusalReasons),
		"caddy_cors_shadow_disagreements_total": 2 * 2 * (int(numRefusalReasons) - 1),
	}
	for name, n := range want {
		if series[name] != n {
			t.Errorf("%s has %d series, want %d", name, series[name], n)
		}
	}
}

// TestRegisterMetricsConflict checks that a collector of another plugin
// under the same name is an error, not a panic.
func TestRegisterMetricsConflict(t *testing.T) {
	registry := prometheus.NewPedanticRegistry()
	registry.MustRegister(prometheus.NewCounter(prometheus.CounterOpts{Name: "caddy_cors_requests_total", Help: "another"}))
	_, err := registerMetrics(registry)
	if err == nil || !strings.HasPrefix(err.Error(), "registering the cors metrics: ") {
		t.Errorf("error %v, want one about registering the cors metrics", err)
	}
}

// TestRequestCounter checks which counter each request is counted in.
func TestRequestCounter(t *testing.T) {
	h, _ := provision(t, `{"allowed_origins": ["https://app.example.com"], "allowed_methods": ["PUT"], "allowed_headers": ["*"]}`)
	withMetrics(t, h)
	for _, tc := range []struct {
		name   string
		req    *http.Request
		kind   requestKind
		reason refusalReason
	}{
		{"actual allowed", request("GET", "Origin: https://app.example.com"), actual, allowed},
		{"actual refused", request("GET", "Origin: https://evil.example"), actual, refusedOrigin},
		{"two origins", request("GET", "Origin: https://app.example.com", "Origin: https://app.example.com"), actual, refusedMalformed},
		{"preflight allowed", request("OPTIONS", "Origin: https://app.example.com", "Access-Control-Request-Method: PUT"), preflight, allowed},
		{"preflight method", request("OPTIONS", "Origin: https://app.example.com", "Access-Control-Request-Method: PATCH"), preflight, refusedMethod},
		{"preflight authorization", request("OPTIONS", "Origin: https://app.example.com", "Access-Control-Request-Method: PUT",
			"Access-Control-Request-Headers: authorization"), preflight, refusedAuthorization},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := h.counters.requests[tc.kind][tc.reason]
			before := counterValue(t, c)
			if err := h.ServeHTTP(httptest.NewRecorder(), tc.req, respond); err != nil {
				t.Fatal(err)
			}
			if got := counterValue(t, c) - before; got != 1 {
				t.Errorf("counted %v times in kind=%s reason=%q, want 1", got, kindWords[tc.kind], tc.reason.word())
			}
		})
	}
	t.Run("not CORS", func(t *testing.T) {
		var before float64
		for kind := range numKinds {
			for reason := range numRefusalReasons {
				if c := h.counters.requests[kind][reason]; c != nil {
					before += counterValue(t, c)
				}
			}
		}
		if err := h.ServeHTTP(httptest.NewRecorder(), request("GET"), respond); err != nil {
			t.Fatal(err)
		}
		var after float64
		for kind := range numKinds {
			for reason := range numRefusalReasons {
				if c := h.counters.requests[kind][reason]; c != nil {
					after += counterValue(t, c)
				}
			}
		}
		if after != before {
			t.Errorf("a request without Origin was counted %v times", after-before)
		}
	})
}

// caddyRequest prepares r as Caddy's HTTP server does for its handlers,
// with a replacer and the list of extra access log fields, for a server
// that writes access logs or not.
func caddyRequest(r *http.Request, accessLogs bool) (*http.Request, *caddy.Replacer) {
	srv := new(caddyhttp.Server)
	if accessLogs {
		srv.Logs = new(caddyhttp.ServerLogConfig)
	}
	repl := caddy.NewReplacer()
	return caddyhttp.PrepareRequest(r, repl, httptest.NewRecorder(), srv), repl
}

// TestPlaceholders checks the placeholders that hold the decision, for the
// handlers after cors.
func TestPlaceholders(t *testing.T) {
	h, _ := provision(t, `{"allowed_origins": ["https://app.example.com"], "allowed_methods": ["PUT"]}`)
	for _, tc := range []struct {
		name           string
		req            *http.Request
		result, reason string
	}{
		{"not CORS", request("GET"), "", ""},
		{"allowed", request("GET", "Origin: https://app.example.com"), "allowed", ""},
		{"origin", request("GET", "Origin: https://evil.example"), "refused", "origin"},
		{"method", request("OPTIONS", "Origin: https://app.example.com", "Access-Control-Request-Method: PATCH"), "refused", "method"},
		{"header", request("OPTIONS", "Origin: https://app.example.com", "Access-Control-Request-Method: PUT",
			"Access-Control-Request-Headers: x-api-key"), "refused", "header"},
		{"malformed", request("OPTIONS", "Origin: https://app.example.com", "Access-Control-Request-Method: P U T"), "refused", "malformed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, repl := caddyRequest(tc.req, false)
			var seen string
			next := caddyhttp.HandlerFunc(func(w http.ResponseWriter, r *http.Request) error {
				seen = repl.ReplaceKnown("{http.cors.result}/{http.cors.reason}", "")
				return nil
			})
			if err := h.ServeHTTP(httptest.NewRecorder(), r, next); err != nil {
				t.Fatal(err)
			}
			want := tc.result + "/" + tc.reason
			if got := repl.ReplaceKnown("{http.cors.result}/{http.cors.reason}", ""); got != want {
				t.Errorf("after the handler: %q, want %q", got, want)
			}
			if r.Method != http.MethodOptions && seen != want {
				t.Errorf("in the next handler: %q, want %q", seen, want)
			}
		})
	}
}

// TestPlaceholderAllocations measures what handing the placeholders to a
// request's replacer costs, in the request context Caddy's HTTP server
// prepares: Replacer.Map appends to a slice with room to spare, while
// Replacer.Set puts the values into a map that has none yet.
func TestPlaceholderAllocations(t *testing.T) {
	base := request("GET", "Origin: https://app.example.com")
	prepare := func() *caddy.Replacer {
		_, repl := caddyRequest(base, false)
		return repl
	}
	alone := testing.AllocsPerRun(100, func() { prepare() })
	mapped := testing.AllocsPerRun(100, func() { prepare().Map(placeholders[allowed]) })
	set := testing.AllocsPerRun(100, func() { prepare().Set(placeholderResult, "allowed") })
	if mapped != alone {
		t.Errorf("Replacer.Map costs %v allocations, want 0", mapped-alone)
	}
	t.Logf("Replacer.Set costs %v allocations", set-alone)
}

// TestObserveAllocations checks that, through a request context prepared
// as Caddy's HTTP server does, counting a request, handing it the
// placeholders and comparing a shadow policy that agrees keep the handler
// at one allocation per request when the server writes no access log. It
// reports what the access log fields add when it does.
func TestObserveAllocations(t *testing.T) {
	js := smallPolicy.json(caddyVariants[0])
	shadowed := strings.TrimSuffix(js, "}") + `, "shadow": {"allowed_origins": ` + jsonList(smallPolicy.origins()) +
		`, "allow_credentials": true, "allowed_methods": ` + jsonList(benchMethods) + `, "allowed_headers": ` + jsonList(benchHeaders) + `}}`
	for _, cfg := range []struct{ name, js string }{{"metrics", js}, {"metrics+shadow", shadowed}} {
		h, _ := provision(t, cfg.js)
		h.logger = zap.NewNop()
		withMetrics(t, h)
		next := caddyhttp.HandlerFunc(func(w http.ResponseWriter, r *http.Request) error {
			benchNext(w, r)
			return nil
		})
		w := &headerWriter{h: make(http.Header)}
		for _, sc := range benchScenarios() {
			if sc.big {
				continue
			}
			t.Run(cfg.name+"/"+sc.name, func(t *testing.T) {
				for _, logs := range []bool{false, true} {
					h.accessLogs = logs // as provisioned in a server that writes access logs, or not
					alone := testing.AllocsPerRun(50, func() { caddyRequest(sc.req, logs) })
					n := testing.AllocsPerRun(50, func() {
						r, _ := caddyRequest(sc.req, logs)
						clear(w.h)
						_ = h.ServeHTTP(w, r, next)
					}) - alone
					if logs {
						// Adding a field to the access log entry costs
						// Caddy's ExtraLogFields a few allocations.
						t.Logf("with access logs, ServeHTTP allocates %v times per request", n)
					} else if n != 1 {
						t.Errorf("ServeHTTP allocates %v times per request, want 1", n)
					}
				}
			})
		}
	}
}

// shadowHandler provisions a handler with a shadow policy, metrics and an
// observed logger.
func shadowHandler(t *testing.T, js string) (*Handler, *observer.ObservedLogs) {
	t.Helper()
	h, _ := provision(t, js)
	withMetrics(t, h)
	core, logs := observer.New(zapcore.InfoLevel)
	h.logger = zap.New(core).Named("http.handlers.cors")
	return h, logs
}

// TestShadowDisagreements checks what is counted and logged when the
// shadow policy decides otherwise, and what is not.
func TestShadowDisagreements(t *testing.T) {
	const policy = `"allowed_origins": ["https://app.example.com", "https://old.example.com"], "allowed_methods": ["PUT", "DELETE"], "allowed_headers": ["Content-Type"]`
	const shadowPolicy = `"shadow": {"allowed_origins": ["https://app.example.com", "https://new.example.com"], "allowed_methods": ["PUT", "PATCH"],
		"allowed_headers": ["Content-Type"]}`
	askFor := func(origin, method string, more ...string) *http.Request {
		return request("OPTIONS", append([]string{"Origin: " + origin, "Access-Control-Request-Method: " + method}, more...)...)
	}
	for _, tc := range []struct {
		name   string
		req    *http.Request
		kind   requestKind
		change shadowChange
		reason refusalReason
		agree  bool
		fields map[string]any // the log line's fields, but for the logger and message
		// protect turns cross_origin_protection on, which trusts each
		// policy's own origins.
		protect bool
	}{
		{name: "both allow", req: request("GET", "Origin: https://app.example.com"), agree: true},
		{name: "both refuse", req: request("GET", "Origin: https://evil.example"), agree: true},
		{name: "both refuse for different reasons", req: askFor("https://old.example.com", "PATCH"), agree: true},
		{name: "would refuse an origin", req: request("GET", "Origin: https://old.example.com"),
			kind: actual, change: wouldRefuse, reason: refusedOrigin, fields: map[string]any{
				"kind": "actual", "change": "would_refuse", "reason": "origin", "refused": "https://old.example.com",
				"origin": "https://old.example.com", "method": "GET", "host": "api.example.com", "path": "/things", "dropped": uint64(0)}},
		{name: "would refuse a method", req: askFor("https://app.example.com", "DELETE", "Access-Control-Request-Headers: content-type"),
			kind: preflight, change: wouldRefuse, reason: refusedMethod, fields: map[string]any{
				"kind": "preflight", "change": "would_refuse", "reason": "method", "refused": "DELETE",
				"origin": "https://app.example.com", "method": "DELETE", "request_headers": "content-type",
				"host": "api.example.com", "path": "/things", "dropped": uint64(0)}},
		{name: "would allow a method", req: askFor("https://app.example.com", "PATCH"),
			kind: preflight, change: wouldAllow, reason: refusedMethod, fields: map[string]any{
				"kind": "preflight", "change": "would_allow", "reason": "method", "refused": "PATCH",
				"origin": "https://app.example.com", "method": "PATCH", "request_headers": "",
				"host": "api.example.com", "path": "/things", "dropped": uint64(0)}},
		{name: "would allow an origin", req: request("POST", "Origin: https://new.example.com"),
			kind: actual, change: wouldAllow, reason: refusedOrigin, fields: map[string]any{
				"kind": "actual", "change": "would_allow", "reason": "origin", "refused": "https://new.example.com",
				"origin": "https://new.example.com", "method": "POST", "host": "api.example.com", "path": "/things", "dropped": uint64(0)}},
		{name: "both protect from a cross-site write", protect: true, agree: true,
			req: request("POST", "Origin: https://evil.example", "Sec-Fetch-Site: cross-site")},
		{name: "both let a same-origin write through", protect: true, agree: true,
			req: request("DELETE", "Origin: https://evil.example", "Sec-Fetch-Site: same-origin")},
		{name: "would protect from a write", protect: true,
			req:  request("POST", "Origin: https://old.example.com", "Sec-Fetch-Site: cross-site"),
			kind: actual, change: wouldRefuse, reason: refusedCrossOrigin, fields: map[string]any{
				"kind": "actual", "change": "would_refuse", "reason": "cross_origin", "refused": "https://old.example.com",
				"origin": "https://old.example.com", "method": "POST", "host": "api.example.com", "path": "/things", "dropped": uint64(0)}},
		{name: "would let a WebSocket handshake through", protect: true,
			req:  request("GET", "Origin: https://new.example.com", "Upgrade: websocket"),
			kind: actual, change: wouldAllow, reason: refusedCrossOrigin, fields: map[string]any{
				"kind": "actual", "change": "would_allow", "reason": "cross_origin", "refused": "https://new.example.com",
				"origin": "https://new.example.com", "method": "GET", "host": "api.example.com", "path": "/things", "dropped": uint64(0)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			enforced := policy
			if tc.protect {
				enforced += `, "cross_origin_protection": true`
			}
			h, logs := shadowHandler(t, `{`+enforced+`, `+shadowPolicy+`}`)
			plain, _ := provision(t, `{`+enforced+`}`)
			var before float64
			if !tc.agree {
				before = counterValue(t, h.counters.shadow[tc.kind][tc.change][tc.reason])
			}
			got, want := httptest.NewRecorder(), httptest.NewRecorder()
			if err := h.ServeHTTP(got, tc.req, respond); err != nil {
				t.Fatal(err)
			}
			if err := plain.ServeHTTP(want, tc.req, respond); err != nil {
				t.Fatal(err)
			}
			if got.Code != want.Code || !mapsEqual(corsHeaders(got.Header()), corsHeaders(want.Header())) {
				t.Errorf("with a shadow policy: %d %v, without: %d %v", got.Code, corsHeaders(got.Header()), want.Code, corsHeaders(want.Header()))
			}
			if tc.agree {
				if n := logs.Len(); n != 0 {
					t.Errorf("%d log lines, want none: %v", n, logs.All())
				}
				return
			}
			if n := counterValue(t, h.counters.shadow[tc.kind][tc.change][tc.reason]) - before; n != 1 {
				t.Errorf("counted %v times, want 1", n)
			}
			entries := logs.All()
			if len(entries) != 1 {
				t.Fatalf("%d log lines, want 1: %v", len(entries), entries)
			}
			e := entries[0]
			wantMsg := "the shadow policy would refuse a request that the policy allows"
			if tc.change == wouldAllow {
				wantMsg = "the shadow policy would allow a request that the policy refuses"
			}
			if e.LoggerName != "http.handlers.cors.shadow" || e.Level != zapcore.InfoLevel || e.Message != wantMsg {
				t.Errorf("logged %s %s %q, want http.handlers.cors.shadow info %q", e.LoggerName, e.Level, e.Message, wantMsg)
			}
			if fields := e.ContextMap(); !reflect.DeepEqual(fields, tc.fields) {
				t.Errorf("fields\n\t%v\nwant\n\t%v", fields, tc.fields)
			}
		})
	}
}

// TestLineLimiter checks the rate limit of the shadow policy's log lines
// with a clock the test moves: one line a second at most, a line after a
// quiet second always, and the count of those dropped in between.
func TestLineLimiter(t *testing.T) {
	now := time.Hour
	l := lineLimiter{now: func() time.Duration { return now }}
	type step struct {
		advance time.Duration
		ok      bool
		dropped uint64
	}
	for i, s := range []step{
		{0, true, 0}, // the first
		{0, false, 0},
		{300 * time.Millisecond, false, 0},
		{699 * time.Millisecond, false, 0},
		{time.Millisecond, true, 3}, // a second after the first line
		{2 * time.Second, true, 0},  // after a quiet period
		{999 * time.Millisecond, false, 0},
		{time.Hour, true, 1},
	} {
		now += s.advance
		dropped, ok := l.take()
		if ok != s.ok || dropped != s.dropped {
			t.Errorf("step %d: take() = %d, %v, want %d, %v", i, dropped, ok, s.dropped, s.ok)
		}
	}
}

// TestLineLimiterConcurrent checks, under the race detector too, that a
// burst of disagreements from many goroutines at one instant lets one line
// through, and that it and the next line account for every one.
func TestLineLimiterConcurrent(t *testing.T) {
	var mu sync.Mutex
	now := time.Hour
	l := lineLimiter{now: func() time.Duration { mu.Lock(); defer mu.Unlock(); return now }}
	const goroutines, each = 8, 100
	var wg sync.WaitGroup
	var lines, droppedTotal, calls = 0, uint64(0), 0
	var countMu sync.Mutex
	for range goroutines {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range each {
				dropped, ok := l.take()
				countMu.Lock()
				calls++
				if ok {
					lines++
					droppedTotal += dropped
				}
				countMu.Unlock()
			}
		}()
	}
	wg.Wait()
	if lines != 1 {
		t.Errorf("%d lines in one instant, want 1", lines)
	}
	mu.Lock()
	now += time.Second
	mu.Unlock()
	dropped, ok := l.take()
	if !ok || dropped != goroutines*each-1 {
		t.Errorf("a second later: take() = %d, %v, want %d, true", dropped, ok, goroutines*each-1)
	}
}

// TestShadowLogRateLimited checks that a burst of disagreements writes one
// line and counts every one, and that the next line, after a quiet second,
// says how many were not logged.
func TestShadowLogRateLimited(t *testing.T) {
	h, logs := shadowHandler(t, `{"allowed_origins": ["https://app.example.com", "https://old.example.com"],
		"shadow": {"allowed_origins": ["https://app.example.com"]}}`)
	now := time.Hour
	h.shadow.lines.now = func() time.Duration { return now }
	c := h.counters.shadow[actual][wouldRefuse][refusedOrigin]
	before := counterValue(t, c)
	const burst = 50
	for range burst {
		if err := h.ServeHTTP(httptest.NewRecorder(), request("GET", "Origin: https://old.example.com"), respond); err != nil {
			t.Fatal(err)
		}
	}
	if n := counterValue(t, c) - before; n != burst {
		t.Errorf("counted %v, want %d", n, burst)
	}
	if n := logs.Len(); n != 1 {
		t.Fatalf("%d lines after a burst of %d, want 1", n, burst)
	}
	now += 1100 * time.Millisecond
	if err := h.ServeHTTP(httptest.NewRecorder(), request("GET", "Origin: https://old.example.com"), respond); err != nil {
		t.Fatal(err)
	}
	entries := logs.All()
	if len(entries) != 2 {
		t.Fatalf("%d lines after a quiet second, want 2", len(entries))
	}
	if got := entries[1].ContextMap()["dropped"]; got != uint64(burst-1) {
		t.Errorf("the second line says %v dropped, want %d", got, burst-1)
	}
}
