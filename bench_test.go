package cors

import (
	"context"
	"flag"
	"fmt"
	"net/http"
	"reflect"
	"runtime"
	"strings"
	"testing"
	"unsafe"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	chicors "github.com/go-chi/cors"
	"github.com/gorilla/handlers"
	rscors "github.com/rs/cors"
	"go.uber.org/zap"
)

// The benchmarks compare the handler with the most used Go CORS libraries,
// configured with the same policy, on the same requests, in the same run.
// Their names read BenchmarkCORS/scenario=…/lib=… so that benchstat can
// line the libraries up scenario by scenario:
//
//	go test -run '^$' -bench . -benchmem -count 6 > bench.txt
//	benchstat -col /lib bench.txt

// benchProtection turns cross_origin_protection on in caddy-cors's
// policy, so that BenchmarkCORS measures what it costs:
//
//	go test -c -o cors.test .
//	./cors.test -test.run '^$' -test.bench 'CORS/.*/lib=caddy-cors' -protection
var benchProtection = flag.Bool("protection", false, "BenchmarkCORS: give caddy-cors's policy cross_origin_protection")

// headerWriter is the least a response writer can be, so that benchmarks
// measure the handlers rather than httptest.ResponseRecorder.
type headerWriter struct{ h http.Header }

func (w *headerWriter) Header() http.Header         { return w.h }
func (w *headerWriter) Write(b []byte) (int, error) { return len(b), nil }
func (w *headerWriter) WriteHeader(int)             {}

// benchPolicy is the policy every library is given, as plain lists.
type benchPolicy struct {
	exact    []string // exact origins
	suffixes []string // "https://*.example.org" as ".example.org"
}

func (p benchPolicy) origins() []string {
	out := append([]string(nil), p.exact...)
	for _, s := range p.suffixes {
		out = append(out, "https://*"+s)
	}
	return out
}

// sizedPolicy returns a policy of n exact origins and max(n/10, 1)
// patterns, whose last entries are https://app.example.com and
// https://*.example.org, so that requests from those two origins are
// matched whatever n is, and differ from one size to another in the policy
// alone.
func sizedPolicy(n int) benchPolicy {
	var p benchPolicy
	for i := range n - 1 {
		p.exact = append(p.exact, fmt.Sprintf("https://app%d.example.com", i))
	}
	for i := range max(n/10, 1) - 1 {
		p.suffixes = append(p.suffixes, fmt.Sprintf(".tenant%d.example.net", i))
	}
	p.exact = append(p.exact, "https://app.example.com")
	p.suffixes = append(p.suffixes, ".example.org")
	return p
}

// smallPolicy is the policy of every scenario but the big ones: one exact
// origin and one pattern, with credentials, three methods and headers, two
// exposed headers and a ten-minute max age. bigPolicy is the same with
// 10,000 exact origins and 1,000 patterns.
var (
	smallPolicy = sizedPolicy(1)
	bigPolicy   = sizedPolicy(10000)
)

var (
	benchMethods       = []string{"PUT", "DELETE", "PATCH"}
	benchAllMethods    = append([]string{"GET", "HEAD", "POST"}, benchMethods...) // for the libraries that do not allow the safelisted methods by themselves
	benchHeaders       = []string{"Content-Type", "X-Api-Key", "Authorization"}
	benchExposed       = []string{"X-Request-Id", "ETag"}
	benchMaxAgeSeconds = 600
)

// benchScenario is one request, sent to every library.
type benchScenario struct {
	name string
	big  bool // under bigPolicy rather than smallPolicy
	req  *http.Request
}

// policy returns the policy the scenario runs under.
func (sc benchScenario) policy() benchPolicy {
	if sc.big {
		return bigPolicy
	}
	return smallPolicy
}

func benchScenarios() []benchScenario {
	preflight := func(origin string, acrh ...string) *http.Request {
		lines := []string{"Origin: " + origin, "Access-Control-Request-Method: PUT"}
		for _, v := range acrh {
			lines = append(lines, "Access-Control-Request-Headers: "+v)
		}
		return request("OPTIONS", lines...)
	}
	manyLines := request("OPTIONS", "Origin: https://app.example.com", "Access-Control-Request-Method: PUT")
	manyLines.Header["Access-Control-Request-Headers"] = make([]string, 1024)
	return []benchScenario{
		{name: "not-cors", req: request("GET")},
		{name: "actual-exact", req: request("GET", "Origin: https://app.example.com")},
		{name: "actual-pattern", req: request("GET", "Origin: https://a.example.org")},
		{name: "actual-disallowed", req: request("GET", "Origin: https://evil.example")},
		{name: "preflight", req: preflight("https://app.example.com")},
		{name: "preflight-3-headers", req: preflight("https://app.example.com", "authorization,content-type,x-api-key")},
		{name: "preflight-disallowed", req: preflight("https://evil.example")},
		// Access-Control-Request-Headers built to make a parser work hard.
		{name: "acrh-1mb-ows", req: preflight("https://app.example.com", strings.Repeat(" ,", 1<<19))},
		{name: "acrh-4096-repeats", req: preflight("https://app.example.com", strings.Repeat("x-api-key,", 4095)+"x-api-key")},
		{name: "acrh-1024-lines", req: manyLines},
		// actual-exact and actual-pattern under bigPolicy.
		{name: "big-actual-exact", big: true, req: request("GET", "Origin: https://app.example.com")},
		{name: "big-actual-pattern", big: true, req: request("GET", "Origin: https://a.example.org")},
		// Writes and a WebSocket handshake, which cross_origin_protection
		// checks (see -protection); without it, they are actual requests.
		{name: "write-allowed", req: request("POST", "Origin: https://app.example.com", "Sec-Fetch-Site: cross-site")},
		{name: "write-same-origin", req: request("POST", "Origin: https://api.example.com")},
		{name: "write-refused", req: request("POST", "Origin: https://evil.example", "Sec-Fetch-Site: cross-site")},
		{name: "websocket-refused", req: request("GET", "Origin: https://evil.example", "Upgrade: websocket", "Connection: Upgrade")},
	}
}

// benchNext is the handler behind every library: it writes the status.
func benchNext(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusOK) }

// caddyCORS provisions the handler from JSON, as Caddy does, with debug
// logging off as in production.
func caddyCORS(b *testing.B, p benchPolicy) func(http.ResponseWriter, *http.Request) {
	h, _ := provision(b, p.json())
	h.logger = zap.NewNop()
	next := caddyhttp.HandlerFunc(func(w http.ResponseWriter, r *http.Request) error {
		benchNext(w, r)
		return nil
	})
	return func(w http.ResponseWriter, r *http.Request) {
		if err := h.ServeHTTP(w, r, next); err != nil {
			b.Fatal(err)
		}
	}
}

// json is the handler's configuration of the policy, with
// cross_origin_protection if -protection is set.
func (p benchPolicy) json() string {
	return fmt.Sprintf(`{"allowed_origins": %s, "allow_credentials": true, "allowed_methods": %s,
		"allowed_headers": %s, "exposed_headers": %s, "max_age": "%ds", "cross_origin_protection": %t}`,
		jsonList(p.origins()), jsonList(benchMethods), jsonList(benchHeaders), jsonList(benchExposed), benchMaxAgeSeconds, *benchProtection)
}

func jsonList(values []string) string {
	return `["` + strings.Join(values, `", "`) + `"]`
}

// benchLibs builds each library's handler for a policy.
var benchLibs = []struct {
	name  string
	build func(*testing.B, benchPolicy) func(http.ResponseWriter, *http.Request)
}{
	{"caddy-cors", caddyCORS},
	{"rs-cors", func(_ *testing.B, p benchPolicy) func(http.ResponseWriter, *http.Request) {
		return rscors.New(rscors.Options{
			AllowedOrigins:       p.origins(),
			AllowedMethods:       benchAllMethods,
			AllowedHeaders:       benchHeaders,
			ExposedHeaders:       benchExposed,
			AllowCredentials:     true,
			MaxAge:               benchMaxAgeSeconds,
			OptionsSuccessStatus: http.StatusNoContent,
		}).Handler(http.HandlerFunc(benchNext)).ServeHTTP
	}},
	// go-chi/cors answers preflights 200, which it cannot change.
	{"go-chi-cors", func(_ *testing.B, p benchPolicy) func(http.ResponseWriter, *http.Request) {
		return chicors.Handler(chicors.Options{
			AllowedOrigins:   p.origins(),
			AllowedMethods:   benchAllMethods,
			AllowedHeaders:   benchHeaders,
			ExposedHeaders:   benchExposed,
			AllowCredentials: true,
			MaxAge:           benchMaxAgeSeconds,
		})(http.HandlerFunc(benchNext)).ServeHTTP
	}},
	{"gorilla-handlers", func(_ *testing.B, p benchPolicy) func(http.ResponseWriter, *http.Request) {
		// gorilla/handlers knows no patterns: a validator does what the
		// others do with "https://*.example.org".
		exact := make(map[string]bool, len(p.exact))
		for _, o := range p.exact {
			exact[o] = true
		}
		return handlers.CORS(
			handlers.AllowedOriginValidator(func(origin string) bool {
				if exact[origin] {
					return true
				}
				for _, s := range p.suffixes {
					if strings.HasPrefix(origin, "https://") && strings.HasSuffix(origin, s) {
						return true
					}
				}
				return false
			}),
			handlers.AllowedMethods(benchAllMethods),
			handlers.AllowedHeaders(benchHeaders),
			handlers.ExposedHeaders(benchExposed),
			handlers.AllowCredentials(),
			handlers.MaxAge(benchMaxAgeSeconds),
			handlers.OptionStatusCode(http.StatusNoContent),
		)(http.HandlerFunc(benchNext)).ServeHTTP
	}},
}

// benchLoop runs body b.N times and reports, besides the wall time
// (ns/op), the CPU time of the benchmark's own thread (cpu-ns/op): on a
// shared machine the wall time also counts the time other processes held
// the CPU. Work the runtime does on other threads, such as most of the
// garbage collector's, is in neither figure.
func benchLoop(b *testing.B, body func()) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	b.ReportAllocs()
	start, ok := threadCPUTime()
	for b.Loop() {
		body()
	}
	if end, ok2 := threadCPUTime(); ok && ok2 {
		b.ReportMetric(float64(end-start)/float64(b.N), "cpu-ns/op")
	}
}

// BenchmarkCORS measures each library's handler on each scenario.
func BenchmarkCORS(b *testing.B) {
	for _, sc := range benchScenarios() {
		for _, lib := range benchLibs {
			b.Run("scenario="+sc.name+"/lib="+lib.name, func(b *testing.B) {
				serve := lib.build(b, sc.policy())
				w := &headerWriter{h: make(http.Header)}
				benchLoop(b, func() {
					clear(w.h)
					serve(w, sc.req)
				})
			})
		}
	}
}

// BenchmarkPolicy measures the decision alone, without the response
// headers or the next handler.
func BenchmarkPolicy(b *testing.B) {
	for _, sc := range benchScenarios() {
		b.Run("scenario="+sc.name, func(b *testing.B) {
			h, _ := provision(b, sc.policy().json())
			pol := h.policy
			var d decision
			benchLoop(b, func() {
				d = decision{}
				pol.decide(sc.req.Method, sc.req.Header, &d)
			})
		})
	}
}

// BenchmarkPolicySize measures the decision on an actual request from an
// origin matched exactly and from one matched by a pattern, under policies
// of 1 to 100,000 exact origins (and a tenth as many patterns): a lookup
// that scanned the entries would grow with them.
func BenchmarkPolicySize(b *testing.B) {
	for _, n := range []int{1, 100, 1000, 10000, 100000} {
		b.Run(fmt.Sprintf("origins=%d", n), func(b *testing.B) {
			h, _ := provision(b, sizedPolicy(n).json()) // only for the sizes -bench selects
			for _, m := range []struct{ name, origin string }{
				{"exact", "https://app.example.com"},
				{"pattern", "https://a.example.org"},
			} {
				b.Run("match="+m.name, func(b *testing.B) {
					req := request("GET", "Origin: "+m.origin)
					var d decision
					benchLoop(b, func() {
						d = decision{}
						h.policy.decide(req.Method, req.Header, &d)
					})
					if d.origin != m.origin {
						b.Fatalf("%s not allowed under %d origins", m.origin, n)
					}
				})
			}
		})
	}
}

// TestAllocations asserts what the benchmarks report, since allocation
// counts, unlike timings, do not depend on the machine. The policy decides
// without allocating. The handler allocates once per request: the values
// it puts into the response headers, and the writer wrapper that puts them
// back when the response is committed. Those values cannot live in an
// array shared between requests, since a later handler may edit them in
// place (Caddy's header directive does for its replacements) and the
// access log reads them after the handler has returned; nor in the
// request's own header slices, which the same edits would then change.
// Every response carries at least Vary, so every request costs that one
// allocation.
func TestAllocations(t *testing.T) {
	for _, sc := range benchScenarios() {
		h, _ := provision(t, sc.policy().json())
		h.logger = zap.NewNop()
		next := caddyhttp.HandlerFunc(func(w http.ResponseWriter, r *http.Request) error {
			benchNext(w, r)
			return nil
		})
		w := &headerWriter{h: make(http.Header)}
		t.Run(sc.name, func(t *testing.T) {
			if n := testing.AllocsPerRun(100, func() {
				clear(w.h)
				_ = h.ServeHTTP(w, sc.req, next)
			}); n != 1 {
				t.Errorf("ServeHTTP allocates %v times per request, want 1", n)
			}
			if len(w.h["Vary"]) == 0 {
				t.Errorf("no Vary in the response: %v", w.h)
			}
			var d decision
			if n := testing.AllocsPerRun(100, func() {
				d = decision{}
				h.policy.decide(sc.req.Method, sc.req.Header, &d)
			}); n != 0 {
				t.Errorf("decide allocates %v times per request, want 0", n)
			}
		})
	}
}

// BenchmarkCrossOriginCheck measures cross_origin_protection's decision
// alone on each scenario's request, before anything is written.
func BenchmarkCrossOriginCheck(b *testing.B) {
	for _, sc := range benchScenarios() {
		b.Run("scenario="+sc.name, func(b *testing.B) {
			h, _ := provision(b, strings.Replace(sc.policy().json(), `"cross_origin_protection": false`, `"cross_origin_protection": true`, 1))
			var r refusal
			benchLoop(b, func() {
				r = h.policy.checkCrossOrigin(sc.req)
			})
			_ = r
		})
	}
}

// caddyContext is a request context that holds what Caddy's HTTP server
// gives its handlers and the handler looks up: a replacer, new for each
// request.
type caddyContext struct {
	context.Context
	repl *caddy.Replacer
}

func (c *caddyContext) Value(key any) any {
	switch key {
	case caddy.ReplacerCtxKey:
		return c.repl
	}
	return c.Context.Value(key)
}

// observeVariants are what BenchmarkObserve turns on: nothing, Caddy's
// metrics, and a shadow policy beside them that agrees with the policy on
// every request or that would refuse https://app.example.com.
var observeVariants = []struct {
	name    string
	metrics bool
	shadow  string // the shadow policy's JSON, if any
}{
	{"off", false, ""},
	{"metrics", true, ""},
	{"metrics+shadow", true, `{"allowed_origins": ` + jsonList(smallPolicy.origins()) + `, "allow_credentials": true, ` +
		`"allowed_methods": ` + jsonList(benchMethods) + `, "allowed_headers": ` + jsonList(benchHeaders) + `}`},
	{"metrics+shadow-disagrees", true, `{"allowed_origins": ["https://*.example.org"], "allow_credentials": true, ` +
		`"allowed_methods": ` + jsonList(benchMethods) + `, "allowed_headers": ` + jsonList(benchHeaders) + `}`},
}

// BenchmarkObserve measures the handler on the scenarios of the small
// policy with each observeVariant, in a request context that holds a
// replacer as Caddy's does, with the provider Caddy's HTTP server maps into
// it. Rather than make a new replacer for each request, which would cost
// more than the handler, it takes the handler's provider off again: it
// sets the length of the replacer's unexported list of providers back,
// through its slice header, whose second word is the length.
//
//	go test -run '^$' -bench 'Observe' -benchmem -count 6 .
func BenchmarkObserve(b *testing.B) {
	for _, sc := range benchScenarios() {
		if sc.big {
			continue
		}
		for _, v := range observeVariants {
			b.Run("scenario="+sc.name+"/observe="+v.name, func(b *testing.B) {
				js := smallPolicy.json()
				if v.shadow != "" {
					js = strings.TrimSuffix(js, "}") + `, "shadow": ` + v.shadow + `}`
				}
				h, _ := provision(b, js)
				h.logger = zap.NewNop()
				if v.metrics {
					withMetrics(b, h)
				}
				next := caddyhttp.HandlerFunc(func(w http.ResponseWriter, r *http.Request) error {
					benchNext(w, r)
					return nil
				})
				repl := caddy.NewReplacer()
				repl.Map(func(string) (any, bool) { return nil, false })
				providers := reflect.ValueOf(repl).Elem().FieldByName("providers")
				length := (*int)(unsafe.Add(unsafe.Pointer(providers.UnsafeAddr()), unsafe.Sizeof(uintptr(0))))
				n := providers.Len()
				req := sc.req.WithContext(&caddyContext{Context: sc.req.Context(), repl: repl})
				w := &headerWriter{h: make(http.Header)}
				benchLoop(b, func() {
					*length = n
					clear(w.h)
					if err := h.ServeHTTP(w, req, next); err != nil {
						b.Fatal(err)
					}
				})
				if providers.Len() != n+1 {
					b.Fatalf("the replacer has %d providers, want %d", providers.Len(), n+1)
				}
			})
		}
	}
}
