package cors

import (
	"bufio"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	"go.uber.org/zap"
)

// hostileRequest is a request no browser sends, crafted to make a CORS
// handler slow, wrong or broken, with the answer it must get.
type hostileRequest struct {
	name   string
	policy string
	method string
	header http.Header // used as it is: values may hold any byte
	status int
	want   map[string]string // every Access-Control-* and Vary header
}

// repeatLines returns n copies of s.
func repeatLines(s string, n int) []string {
	lines := make([]string, n)
	for i := range lines {
		lines[i] = s
	}
	return lines
}

// hostileRequests are answered in process, on the wire and in the
// benchmark.
func hostileRequests() []hostileRequest {
	const app = "https://app.example.com"
	allowed := map[string]string{
		"Access-Control-Allow-Origin": app, "Access-Control-Allow-Credentials": "true",
		"Access-Control-Expose-Headers": "X-Request-Id, ETag", "Vary": "Origin",
	}
	varyOrigin := map[string]string{"Vary": "Origin"}
	refusedPreflight := map[string]string{"Vary": preflightVary}
	preflight := func(origin string, extra http.Header) http.Header {
		h := http.Header{"Origin": {origin}, "Access-Control-Request-Method": {"PUT"}}
		for k, v := range extra {
			h[k] = v
		}
		return h
	}
	megabyte := 1 << 20
	return []hostileRequest{
		{
			name: "1 MB of Access-Control-Request-Headers names", policy: public, method: "OPTIONS",
			header: preflight(app, http.Header{"Access-Control-Request-Headers": {strings.Repeat("x-a,", megabyte/4)}}),
			status: 403, want: refusedPreflight,
		},
		{
			name: "1 MB of commas and spaces in Access-Control-Request-Headers", policy: credentialed, method: "OPTIONS",
			header: preflight(app, http.Header{"Access-Control-Request-Headers": {strings.Repeat(" ,", megabyte/2)}}),
			status: 403, want: refusedPreflight,
		},
		{
			name: "one name of 1 MB in Access-Control-Request-Headers", policy: public, method: "OPTIONS",
			header: preflight(app, http.Header{"Access-Control-Request-Headers": {strings.Repeat("x", megabyte)}}),
			status: 403, want: refusedPreflight,
		},
		{
			name: "10,000 Access-Control-Request-Headers lines", policy: public, method: "OPTIONS",
			header: preflight(app, http.Header{"Access-Control-Request-Headers": repeatLines("x-a", 10000)}),
			status: 403, want: refusedPreflight,
		},
		{
			name: "10,000 lines of other headers around an allowed preflight", policy: credentialed, method: "OPTIONS",
			header: preflight(app, http.Header{"X-Junk": repeatLines("junk", 10000)}),
			status: 204,
			want: map[string]string{
				"Access-Control-Allow-Origin": app, "Access-Control-Allow-Credentials": "true",
				"Access-Control-Allow-Methods": "PUT", "Access-Control-Max-Age": "600", "Vary": preflightVary,
			},
		},
		{
			name: "10,000 Origin lines", policy: credentialed, method: "GET",
			header: http.Header{"Origin": repeatLines(app, 10000)},
			status: 200, want: varyOrigin,
		},
		{
			name: "10,000 Access-Control-Request-Method lines", policy: credentialed, method: "OPTIONS",
			header: http.Header{"Origin": {app}, "Access-Control-Request-Method": repeatLines("PUT", 10000)},
			status: 403, want: refusedPreflight,
		},
		{
			name: "an Origin of 64 KB", policy: credentialed, method: "GET",
			header: http.Header{"Origin": {"https://" + strings.Repeat("a.", 32<<10) + "example.org"}},
			status: 200, want: varyOrigin,
		},
		{
			name: "a preflight from an Origin of 64 KB", policy: credentialed, method: "OPTIONS",
			header: preflight("https://"+strings.Repeat("a", 64<<10)+".example.org", nil),
			status: 403, want: refusedPreflight,
		},
		{
			name: "an Origin of 64 KB under any origin", policy: public, method: "GET",
			header: http.Header{"Origin": {"https://" + strings.Repeat("a", 64<<10)}},
			status: 200, want: map[string]string{"Access-Control-Allow-Origin": "*", "Access-Control-Expose-Headers": "X-Request-Id"},
		},
		{
			name: "a method of 64 KB under any method", policy: `{"allowed_origins": ["https://app.example.com"], "allowed_methods": ["*"]}`, method: "OPTIONS",
			header: http.Header{"Origin": {app}, "Access-Control-Request-Method": {strings.Repeat("M", 64<<10)}},
			status: 204, want: map[string]string{"Access-Control-Allow-Origin": app, "Access-Control-Allow-Methods": strings.Repeat("M", 64<<10), "Vary": preflightVary},
		},
		{
			name: "a NUL byte after an allowed Origin", policy: credentialed, method: "GET",
			header: http.Header{"Origin": {app + "\x00"}},
			status: 200, want: varyOrigin,
		},
		{
			name: "a NUL byte in a subdomain", policy: credentialed, method: "GET",
			header: http.Header{"Origin": {"https://a\x00.example.org"}},
			status: 200, want: varyOrigin,
		},
		{
			name: "a NUL byte in Access-Control-Request-Method", policy: credentialed, method: "OPTIONS",
			header: http.Header{"Origin": {app}, "Access-Control-Request-Method": {"PUT\x00"}},
			status: 403, want: refusedPreflight,
		},
		{
			name: "NUL and non-ASCII bytes in Access-Control-Request-Headers", policy: public, method: "OPTIONS",
			header: preflight(app, http.Header{"Access-Control-Request-Headers": {"x-a\x00b,x-é"}}),
			status: 403, want: refusedPreflight,
		},
		{
			name: "a non-ASCII subdomain in Unicode", policy: credentialed, method: "GET",
			header: http.Header{"Origin": {"https://élève.example.org"}},
			status: 200, want: varyOrigin,
		},
		{
			name: "invalid UTF-8 in Origin", policy: credentialed, method: "GET",
			header: http.Header{"Origin": {"https://\xff\xfe.example.org"}},
			status: 200, want: varyOrigin,
		},
		{
			name: "CRLF, NUL and non-ASCII bytes in an Origin that a loose regexp matches", method: "GET",
			policy: `{"allowed_origins": ["https://app.example.com"], "allowed_origin_regexps": ["^https://[^.]+\\.example\\.com$"]}`,
			header: http.Header{"Origin": {"https://a\r\nSet-Cookie: session=stolen;\x00 é.example.com"}},
			status: 200, want: varyOrigin,
		},
		{
			name: "a space in an Origin that a loose regexp matches", method: "OPTIONS",
			policy: `{"allowed_origins": ["https://app.example.com"], "allowed_origin_regexps": ["^https://[^.]+\\.example\\.com$"]}`,
			header: http.Header{"Origin": {"https://a b.example.com"}, "Access-Control-Request-Method": {"GET"}},
			status: 403, want: refusedPreflight,
		},
		{
			name: "an Origin that a loose regexp matches, for comparison", method: "GET",
			policy: `{"allowed_origins": ["https://app.example.com"], "allowed_origin_regexps": ["^https://[^.]+\\.example\\.com$"]}`,
			header: http.Header{"Origin": {"https://a-b.example.com"}},
			status: 200, want: map[string]string{"Access-Control-Allow-Origin": "https://a-b.example.com", "Vary": "Origin"},
		},
		{
			name: "two Origin lines, both allowed", policy: credentialed, method: "GET",
			header: http.Header{"Origin": {app, app}},
			status: 200, want: varyOrigin,
		},
		{
			name: "two Origin lines in a preflight", policy: credentialed, method: "OPTIONS",
			header: http.Header{"Origin": {app, "https://evil.example"}, "Access-Control-Request-Method": {"PUT"}},
			status: 403, want: refusedPreflight,
		},
		{
			name: "an Origin list in one line", policy: credentialed, method: "GET",
			header: http.Header{"Origin": {app + ", https://evil.example"}},
			status: 200, want: varyOrigin,
		},
		{
			name: "CRLF after an allowed Origin", policy: credentialed, method: "GET",
			header: http.Header{"Origin": {app + "\r\nSet-Cookie: session=stolen"}},
			status: 200, want: varyOrigin,
		},
		{
			name: "CRLF in Access-Control-Request-Method", policy: `{"allowed_origins": ["https://app.example.com"], "allowed_methods": ["*"]}`, method: "OPTIONS",
			header: http.Header{"Origin": {app}, "Access-Control-Request-Method": {"PUT\r\nSet-Cookie: session=stolen"}},
			status: 403, want: refusedPreflight,
		},
		{
			name: "CRLF in Access-Control-Request-Headers", policy: public, method: "OPTIONS",
			header: preflight(app, http.Header{"Access-Control-Request-Headers": {"x-a\r\nSet-Cookie: session=stolen"}}),
			status: 403, want: refusedPreflight,
		},
		{
			name: "an allowed Origin, for comparison", policy: credentialed, method: "GET",
			header: http.Header{"Origin": {app}},
			status: 200, want: allowed,
		},
	}
}

// TestHostileRequests answers each hostile request in process, where every
// byte reaches the handler, and checks the exact answer.
func TestHostileRequests(t *testing.T) {
	for _, tc := range hostileRequests() {
		t.Run(tc.name, func(t *testing.T) {
			h, _ := provision(t, tc.policy)
			req := httptest.NewRequest(tc.method, "http://api.example.com/things", nil)
			req.Header = tc.header
			rec := httptest.NewRecorder()
			if err := h.ServeHTTP(rec, req, respond); err != nil {
				t.Fatalf("ServeHTTP: %v", err)
			}
			if rec.Code != tc.status {
				t.Errorf("status %d, want %d", rec.Code, tc.status)
			}
			if got := corsHeaders(rec.Header()); !mapsEqual(got, tc.want) {
				t.Errorf("CORS headers\n\t%.300v\nwant\n\t%.300v", got, tc.want)
			}
		})
	}
}

// TestHostileRequestsOnTheWire sends each hostile request as raw bytes to a
// Go HTTP server in front of the handler, which may refuse what it cannot
// parse (NUL or CR bytes, say) before the handler sees it. Whatever happens,
// the answer is no 5xx, a CRLF sent inside a value never becomes a response
// header, and Access-Control-Allow-Origin is only ever an allowed origin or
// "*".
func TestHostileRequestsOnTheWire(t *testing.T) {
	for _, tc := range hostileRequests() {
		t.Run(tc.name, func(t *testing.T) {
			h, _ := provision(t, tc.policy)
			srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if err := h.ServeHTTP(w, r, respond); err != nil {
					t.Errorf("ServeHTTP: %v", err)
				}
			}))
			srv.Config.MaxHeaderBytes = 4 << 20 // let the largest requests reach the handler
			srv.Start()
			defer srv.Close()

			conn, err := net.Dial("tcp", srv.Listener.Addr().String())
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			w := bufio.NewWriter(conn)
			fmt.Fprintf(w, "%s /things HTTP/1.1\r\nHost: api.example.com\r\nConnection: close\r\n", tc.method)
			for name, values := range tc.header {
				for _, v := range values {
					fmt.Fprintf(w, "%s: %s\r\n", name, v)
				}
			}
			w.WriteString("\r\n")
			if err := w.Flush(); err != nil {
				t.Fatal(err)
			}
			res, err := http.ReadResponse(bufio.NewReader(conn), nil)
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			if res.StatusCode >= 500 {
				t.Errorf("status %d", res.StatusCode)
			}
			if c := res.Header.Values("Set-Cookie"); len(c) > 0 {
				t.Errorf("a request header became a response header: Set-Cookie %q", c)
			}
			// On the wire, a CRLF in a value ends the line and the rest is
			// another header: the allowed origin may then be answered.
			if acao := res.Header.Values("Access-Control-Allow-Origin"); len(acao) > 1 ||
				len(acao) == 1 && acao[0] != "*" && acao[0] != "https://app.example.com" && acao[0] != tc.want["Access-Control-Allow-Origin"] {
				t.Errorf("Access-Control-Allow-Origin %.100q", acao)
			}
		})
	}
}

// maxHostileAllocs bounds the allocations of the handler for any hostile
// request: the one allocation of every request, which holds its decision
// (rs/cors spent over a thousand on one hostile preflight).
const maxHostileAllocs = 1

// TestHostileRequestsAllocations checks that no hostile request costs more
// allocations than an ordinary one, however large it is.
func TestHostileRequestsAllocations(t *testing.T) {
	next := func(w http.ResponseWriter, r *http.Request) error { return nil }
	for _, tc := range hostileRequests() {
		t.Run(tc.name, func(t *testing.T) {
			h, _ := provision(t, tc.policy)
			h.logger = zap.NewNop()
			req := httptest.NewRequest(tc.method, "http://api.example.com/things", nil)
			req.Header = tc.header
			w := &headerWriter{h: make(http.Header)}
			n := testing.AllocsPerRun(20, func() {
				clear(w.h)
				_ = h.ServeHTTP(w, req, caddyhttp.HandlerFunc(next))
			})
			if n > maxHostileAllocs {
				t.Errorf("%v allocations, want at most %d", n, maxHostileAllocs)
			}
		})
	}
}

// BenchmarkHostileRequests measures the handler on each hostile request:
// the time per request must stay of the order of an ordinary one's, bounded
// by the limits on what the handler reads rather than by the request size.
func BenchmarkHostileRequests(b *testing.B) {
	next := caddyhttp.HandlerFunc(func(w http.ResponseWriter, r *http.Request) error { return nil })
	for _, tc := range hostileRequests() {
		b.Run(tc.name, func(b *testing.B) {
			h, _ := provision(b, tc.policy)
			h.logger = zap.NewNop()
			req := httptest.NewRequest(tc.method, "http://api.example.com/things", nil)
			req.Header = tc.header
			w := &headerWriter{h: make(http.Header)}
			b.ReportAllocs()
			for b.Loop() {
				clear(w.h)
				if err := h.ServeHTTP(w, req, next); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
