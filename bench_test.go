package cors

import (
	"net/http"
	"testing"

	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	"go.uber.org/zap"
)

// headerWriter is the least a response writer can be, so that benchmarks
// measure the handler rather than httptest.ResponseRecorder.
type headerWriter struct{ h http.Header }

func (w *headerWriter) Header() http.Header         { return w.h }
func (w *headerWriter) Write(b []byte) (int, error) { return len(b), nil }
func (w *headerWriter) WriteHeader(int)             {}

// BenchmarkServeHTTP measures the handler, provisioned from JSON as Caddy
// does, on each kind of request, in front of a handler that writes a header.
func BenchmarkServeHTTP(b *testing.B) {
	h, _ := provision(b, credentialed)
	h.logger = zap.NewNop() // debug logging off, as in production
	next := caddyhttp.HandlerFunc(func(w http.ResponseWriter, r *http.Request) error {
		w.WriteHeader(http.StatusOK)
		return nil
	})
	for _, bc := range []struct {
		name string
		req  *http.Request
	}{
		{"not CORS", request("GET")},
		{"actual, exact origin", request("GET", "Origin: https://app.example.com")},
		{"actual, pattern origin", request("GET", "Origin: https://a.example.org")},
		{"actual, disallowed origin", request("GET", "Origin: https://evil.example")},
		{"preflight", request("OPTIONS", "Origin: https://app.example.com", "Access-Control-Request-Method: PUT")},
		{"preflight, three headers", request("OPTIONS", "Origin: https://app.example.com", "Access-Control-Request-Method: PUT",
			"Access-Control-Request-Headers: authorization,content-type,x-api-key")},
		{"preflight, disallowed origin", request("OPTIONS", "Origin: https://evil.example", "Access-Control-Request-Method: PUT")},
	} {
		b.Run(bc.name, func(b *testing.B) {
			w := &headerWriter{h: make(http.Header)}
			b.ReportAllocs()
			for b.Loop() {
				clear(w.h)
				if err := h.ServeHTTP(w, bc.req, next); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
