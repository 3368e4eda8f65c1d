package cors

import (
	"fmt"
	"net/http"
	"reflect"
	"runtime"
	"strings"
	"testing"
	"unsafe"

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
		// checks (caddy-cors+protection); without it, they are actual
		// requests.
		{name: "write-allowed", req: request("POST", "Origin: https://app.example.com", "Sec-Fetch-Site: cross-site")},
		{name: "write-same-origin", req: request("POST", "Origin: https://api.example.com")},
		{name: "write-refused", req: request("POST", "Origin: https://evil.example", "Sec-Fetch-Site: cross-site")},
		{name: "websocket-refused", req: request("GET", "Origin: https://evil.example", "Upgrade: websocket", "Connection: Upgrade")},
	}
}

// benchNext is the handler behind every library: it writes the status.
func benchNext(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusOK) }

// caddyVariant is caddy-cors with some of its features on, each as an
// operator turns it on: Caddy's metrics, a shadow policy that agrees with
// the policy on every request, cross_origin_protection. Every variant but
// the bare one serves its requests in the context Caddy gives them, where
// the handler hands its placeholders to the request's replacer.
type caddyVariant struct {
	name                        string
	metrics, shadow, protection bool
	// bare: without Caddy's request context, so without placeholders, as
	// the libraries are measured: the work they do too.
	bare bool
}

var caddyVariants = []caddyVariant{
	{name: "caddy-cors"},
	{name: "caddy-cors-bare", bare: true},
	{name: "caddy-cors+metrics", metrics: true},
	{name: "caddy-cors+shadow", shadow: true},
	{name: "caddy-cors+protection", protection: true},
	{name: "caddy-cors+all", metrics: true, shadow: true, protection: true},
}

// handler provisions the variant's handler from JSON, as Caddy does, with
// debug logging off as in production.
func (v caddyVariant) handler(tb testing.TB, p benchPolicy) *Handler {
	h, _ := provision(tb, p.json(v))
	h.logger = zap.NewNop()
	if v.metrics {
		withMetrics(tb, h)
	}
	return h
}

// json is the handler's configuration of the policy, with what the variant
// turns on. The shadow policy allows what the policy allows.
func (p benchPolicy) json(v caddyVariant) string {
	decides := fmt.Sprintf(`"allowed_origins": %s, "allow_credentials": true, "allowed_methods": %s, "allowed_headers": %s`,
		jsonList(p.origins()), jsonList(benchMethods), jsonList(benchHeaders))
	shadow := ""
	if v.shadow {
		shadow = `, "shadow": {` + decides + `}`
	}
	return fmt.Sprintf(`{%s, "exposed_headers": %s, "max_age": "%ds", "cross_origin_protection": %t%s}`,
		decides, jsonList(benchExposed), benchMaxAgeSeconds, v.protection, shadow)
}

func jsonList(values []string) string {
	return `["` + strings.Join(values, `", "`) + `"]`
}

// benchLib is one library's handler for a policy.
type benchLib struct {
	name  string
	build func(testing.TB, benchPolicy) func(http.ResponseWriter, *http.Request)
	bare  bool // serve requests without Caddy's context
}

// benchLibs are caddy-cors's variants and the libraries it is compared with.
var benchLibs = append(caddyLibs(), []benchLib{
	{name: "rs-cors", build: func(_ testing.TB, p benchPolicy) func(http.ResponseWriter, *http.Request) {
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
	{name: "go-chi-cors", build: func(_ testing.TB, p benchPolicy) func(http.ResponseWriter, *http.Request) {
		return chicors.Handler(chicors.Options{
			AllowedOrigins:   p.origins(),
			AllowedMethods:   benchAllMethods,
			AllowedHeaders:   benchHeaders,
			ExposedHeaders:   benchExposed,
			AllowCredentials: true,
			MaxAge:           benchMaxAgeSeconds,
		})(http.HandlerFunc(benchNext)).ServeHTTP
	}},
	{name: "gorilla-handlers", build: func(_ testing.TB, p benchPolicy) func(http.ResponseWriter, *http.Request) {
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
}...)

// caddyLibs are caddy-cors's variants as libraries.
func caddyLibs() []benchLib {
	var libs []benchLib
	for _, v := range caddyVariants {
		libs = append(libs, benchLib{name: v.name, bare: v.bare, build: func(tb testing.TB, p benchPolicy) func(http.ResponseWriter, *http.Request) {
			h := v.handler(tb, p)
			next := caddyhttp.HandlerFunc(func(w http.ResponseWriter, r *http.Request) error {
				benchNext(w, r)
				return nil
			})
			return func(w http.ResponseWriter, r *http.Request) {
				if err := h.ServeHTTP(w, r, next); err != nil {
					tb.Fatal(err)
				}
			}
		}})
	}
	return libs
}

// inCaddy returns r in the context Caddy's HTTP server gives a request,
// which holds the replacer that caddy-cors hands its placeholders to, and a
// function that takes off the replacer again what a request through
// caddy-cors added (one provider): making a new replacer for each request
// would cost more than any handler here. It sets the length of the
// replacer's unexported list of providers back, through its slice header,
// whose second word is the length.
func inCaddy(tb testing.TB, r *http.Request) (*http.Request, func()) {
	r, repl := caddyRequest(r, false)
	providers := reflect.ValueOf(repl).Elem().FieldByName("providers")
	if providers.Kind() != reflect.Slice {
		tb.Fatalf("caddy.Replacer has no list of providers to reset (%v): the benchmark needs another way to reuse a replacer", providers.Kind())
	}
	length := (*int)(unsafe.Add(unsafe.Pointer(providers.UnsafeAddr()), unsafe.Sizeof(uintptr(0))))
	n := providers.Len()
	return r, func() {
		if providers.Len() > n+1 {
			tb.Fatalf("the replacer has %d providers, want at most %d", providers.Len(), n+1)
		}
		*length = n
	}
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

// BenchmarkCORS measures each library's handler on each scenario, on a
// request in the context Caddy gives it (which only caddy-cors reads), but
// for caddy-cors-bare.
func BenchmarkCORS(b *testing.B) {
	for _, sc := range benchScenarios() {
		for _, lib := range benchLibs {
			b.Run("scenario="+sc.name+"/lib="+lib.name, func(b *testing.B) {
				serve := lib.build(b, sc.policy())
				req, reset := inCaddy(b, sc.req)
				if lib.bare {
					req = sc.req
				}
				w := &headerWriter{h: make(http.Header)}
				benchLoop(b, func() {
					reset()
					clear(w.h)
					serve(w, req)
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
			h, _ := provision(b, sc.policy().json(caddyVariants[0]))
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
			h, _ := provision(b, sizedPolicy(n).json(caddyVariants[0])) // only for the sizes -bench selects
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
// without allocating. The handler allocates once per request, whatever
// features are on: the writer wrapper that puts the answer back when the
// response is committed, with the values it puts into the response
// headers. Those values cannot live in an array shared between requests,
// since a later handler may edit them in place (Caddy's header directive
// does for its replacements) and the access log reads them after the
// handler has returned; nor in the request's own header slices, which the
// same edits would then change. Every response carries at least Vary, so
// every request costs that one allocation.
func TestAllocations(t *testing.T) {
	next := caddyhttp.HandlerFunc(func(w http.ResponseWriter, r *http.Request) error {
		benchNext(w, r)
		return nil
	})
	w := &headerWriter{h: make(http.Header)}
	for _, sc := range benchScenarios() {
		for _, v := range caddyVariants {
			h := v.handler(t, sc.policy())
			t.Run(sc.name+"/"+v.name, func(t *testing.T) {
				req, reset := inCaddy(t, sc.req)
				if v.bare {
					req = sc.req
				}
				if n := testing.AllocsPerRun(100, func() {
					reset()
					clear(w.h)
					_ = h.ServeHTTP(w, req, next)
				}); n != 1 {
					t.Errorf("ServeHTTP allocates %v times per request, want 1", n)
				}
				if len(w.h["Vary"]) == 0 && w.h.Get("Content-Type") == "" {
					t.Errorf("neither Vary nor a refusal's body in the response: %v", w.h)
				}
			})
		}
		t.Run(sc.name+"/decide", func(t *testing.T) {
			h, _ := provision(t, sc.policy().json(caddyVariants[0]))
			var d decision
			if n := testing.AllocsPerRun(100, func() {
				d = decision{}
				h.policy.decide(sc.req.Method, sc.req.Header, &d)
			}); n != 0 {
				t.Errorf("decide allocates %v times per request, want 0", n)
			}
		})
	}
	// A preflight handed to the next handler needs room for more header
	// values than any other request, in the same one allocation.
	h, _ := provision(t, strings.TrimSuffix(smallPolicy.json(caddyVariants[0]), "}")+`, "options_passthrough": true}`)
	maxAge := []string{"1"} // what the next handler writes costs it an allocation of its own with Set
	next = caddyhttp.HandlerFunc(func(w http.ResponseWriter, r *http.Request) error {
		w.Header()["Access-Control-Max-Age"] = maxAge // replaced when committed, without allocating
		w.WriteHeader(http.StatusNoContent)
		return nil
	})
	req := request("OPTIONS", "Origin: https://app.example.com", "Access-Control-Request-Method: PUT",
		"Access-Control-Request-Headers: content-type,x-api-key", "Access-Control-Request-Private-Network: true")
	if n := testing.AllocsPerRun(100, func() {
		clear(w.h)
		_ = h.ServeHTTP(w, req, next)
	}); n != 1 {
		t.Errorf("a preflight handed on allocates %v times, want 1", n)
	}
	if got := w.h["Access-Control-Max-Age"]; len(got) != 1 || got[0] != "600" {
		t.Errorf("Access-Control-Max-Age %v, want [600]", got)
	}
}

// BenchmarkCrossOriginCheck measures cross_origin_protection's decision
// alone on each scenario's request, before anything is written.
func BenchmarkCrossOriginCheck(b *testing.B) {
	for _, sc := range benchScenarios() {
		b.Run("scenario="+sc.name, func(b *testing.B) {
			h, _ := provision(b, sc.policy().json(caddyVariant{protection: true}))
			var r refusal
			benchLoop(b, func() {
				r = h.policy.checkCrossOrigin(sc.req)
			})
			_ = r
		})
	}
}
