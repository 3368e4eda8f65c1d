package cors

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"testing"

	"github.com/caddyserver/caddy/v2/caddyconfig"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
)

// TestSecondHandlerDecidesNothing chains two cors handlers, as two routes
// or a JSON configuration may: the first decides every request, a preflight
// it hands on included, and the second leaves them alone and logs one
// warning, whatever number of requests reach it.
func TestSecondHandlerDecidesNothing(t *testing.T) {
	first, _ := provision(t, `{"allowed_origins": ["https://first.example"], "allowed_methods": ["PUT"], "options_passthrough": true}`)
	second, logs := provision(t, `{"allowed_origins": ["https://second.example"], "allowed_methods": ["PUT", "PATCH"]}`)
	reached := 0
	app := caddyhttp.HandlerFunc(func(w http.ResponseWriter, r *http.Request) error {
		reached++
		w.WriteHeader(http.StatusTeapot)
		return nil
	})
	// A wrapper between the two, as the header directive or encode puts.
	between := caddyhttp.HandlerFunc(func(w http.ResponseWriter, r *http.Request) error {
		return second.ServeHTTP(&caddyhttp.ResponseWriterWrapper{ResponseWriter: w}, r, app)
	})
	for _, tc := range []struct {
		name string
		req  *http.Request
		want map[string]string
	}{
		{"the first's origin", request("GET", "Origin: https://first.example"),
			map[string]string{"Access-Control-Allow-Origin": "https://first.example", "Vary": "Origin"}},
		{"the second's origin", request("GET", "Origin: https://second.example"),
			map[string]string{"Vary": "Origin"}},
		{"the first's preflight, handed on", request("OPTIONS", "Origin: https://first.example", "Access-Control-Request-Method: PUT"),
			map[string]string{"Access-Control-Allow-Origin": "https://first.example", "Access-Control-Allow-Methods": "PUT", "Vary": preflightVary}},
		{"the second's preflight, refused by the first and handed on", request("OPTIONS", "Origin: https://second.example", "Access-Control-Request-Method: PATCH"),
			map[string]string{"Vary": preflightVary}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := reached
			w := httptest.NewRecorder()
			if err := first.ServeHTTP(w, tc.req, between); err != nil {
				t.Fatal(err)
			}
			if reached != before+1 || w.Code != http.StatusTeapot {
				t.Errorf("the application answered %d times, status %d; want once, %d", reached-before, w.Code, http.StatusTeapot)
			}
			if got := corsHeaders(w.Header()); !mapsEqual(got, tc.want) {
				t.Errorf("CORS headers\n\t%v\nwant\n\t%v", got, tc.want)
			}
		})
	}
	warnings := logs.FilterMessageSnippet("another cors handler already decided").AllUntimed()
	if len(warnings) != 1 {
		t.Fatalf("%d warnings after 4 requests, want 1", len(warnings))
	}
	fields := warnings[0].ContextMap()
	for key, want := range map[string]string{
		"this_handler":  "origins: https://second.example",
		"first_handler": "origins: https://first.example",
		"host":          "api.example.com",
		"path":          "/things",
	} {
		if fields[key] != want {
			t.Errorf("warning field %s = %v, want %q", key, fields[key], want)
		}
	}
}

// TestDecidedBy checks how a handler finds the writer of a cors handler
// that came before it.
func TestDecidedBy(t *testing.T) {
	cw, _ := newCORSWriter(&answer{})
	cw.ResponseWriter = httptest.NewRecorder()
	wrap := func(w http.ResponseWriter) http.ResponseWriter {
		return &caddyhttp.ResponseWriterWrapper{ResponseWriter: w}
	}
	deep := http.ResponseWriter(cw)
	for range maxUnwrap {
		deep = wrap(deep)
	}
	for _, tc := range []struct {
		name string
		w    http.ResponseWriter
		want *corsWriter
	}{
		{"no cors handler", wrap(httptest.NewRecorder()), nil},
		{"its writer", cw, cw},
		{"under a wrapper", wrap(wrap(cw)), cw},
		{"under more wrappers than are unwrapped", deep, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := decidedBy(tc.w); got != tc.want {
				t.Errorf("decidedBy = %p, want %p", got, tc.want)
			}
			if n := testing.AllocsPerRun(10, func() { decidedBy(tc.w) }); n != 0 {
				t.Errorf("decidedBy allocates %v times", n)
			}
		})
	}
}

// TestDistinctBlocksUnderGC adapts a Caddyfile whose many handle blocks each
// hold their own cors, while the garbage collector runs: a block is told
// apart from the others by the identity of Caddy's own values for it, and
// once a block is parsed, nothing but this check may keep them alive. Were
// the check to hold mere addresses, a later block could be given the memory
// of an earlier one and be refused as its duplicate.
func TestDistinctBlocksUnderGC(t *testing.T) {
	var b strings.Builder
	b.WriteString("api.example.com {\n")
	for i := range 200 {
		fmt.Fprintf(&b, "\thandle /p%d/* {\n\t\tcors https://app%d.example.com\n\t\trespond ok\n\t}\n", i, i)
	}
	b.WriteString("}\n")
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			select {
			case <-stop:
				return
			default:
				runtime.GC()
			}
		}
	}()
	defer func() { close(stop); <-done }()
	for range 20 {
		if _, _, err := caddyconfig.GetAdapter("caddyfile").Adapt([]byte(b.String()), nil); err != nil {
			t.Fatalf("a Caddyfile with a cors in each of its handle blocks is refused: %v", err)
		}
	}
}
