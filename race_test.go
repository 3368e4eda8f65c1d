package cors

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	"go.uber.org/zap"
)

// snapshotWriter records the CORS headers as they are when the header is
// written, which is what goes out on the wire.
type snapshotWriter struct {
	h        http.Header
	snapshot map[string]string
}

func (w *snapshotWriter) Header() http.Header { return w.h }

func (w *snapshotWriter) WriteHeader(int) {
	if w.snapshot == nil {
		w.snapshot = corsHeaders(w.h)
	}
}

func (w *snapshotWriter) Write(b []byte) (int, error) {
	w.WriteHeader(http.StatusOK)
	return len(b), nil
}

// TestLaterHandlerEditsDoNotReachOtherRequests runs one handler from many
// goroutines in front of a handler that edits every response header value
// in place, before and after the header is written, as Caddy's header
// directive does for its replacements. Shared header slices (rs/cors#198,
// jub0bs/cors#14) would let one request's edit reach another's response: the
// race detector would see it, and so would the values each response went
// out with.
func TestLaterHandlerEditsDoNotReachOtherRequests(t *testing.T) {
	h, _ := provision(t, credentialed)
	h.logger = zap.NewNop()
	scribble := func(hdr http.Header, with string) {
		for _, values := range hdr {
			for i := range values {
				values[i] = with
			}
		}
	}
	next := caddyhttp.HandlerFunc(func(w http.ResponseWriter, r *http.Request) error {
		scribble(w.Header(), "edited before")
		w.Header()[headerAllowOrigin] = append(w.Header()[headerAllowOrigin], "appended")
		w.WriteHeader(http.StatusOK)
		scribble(w.Header(), "edited after")
		return nil
	})
	const workers, requests = 8, 200
	var wg sync.WaitGroup
	errs := make(chan string, workers)
	for g := range workers {
		wg.Go(func() {
			for i := range requests {
				origin := fmt.Sprintf("https://w%d-%d.example.org", g, i%4)
				var req *http.Request
				want := map[string]string{"Access-Control-Allow-Origin": origin, "Access-Control-Allow-Credentials": "true"}
				if i%2 == 0 {
					req = request("GET", "Origin: "+origin)
					want["Access-Control-Expose-Headers"] = "X-Request-Id, ETag"
					want["Vary"] = "Origin"
				} else {
					req = request("OPTIONS", "Origin: "+origin, "Access-Control-Request-Method: PUT", "Access-Control-Request-Headers: x-api-key")
					want["Access-Control-Allow-Methods"] = "PUT"
					want["Access-Control-Allow-Headers"] = "x-api-key"
					want["Access-Control-Max-Age"] = "600"
					want["Vary"] = preflightVary
				}
				w := &snapshotWriter{h: http.Header{"Vary": {"Accept-Encoding"}}}
				if err := h.ServeHTTP(w, req, next); err != nil {
					errs <- err.Error()
					return
				}
				if req.Method == "GET" {
					// The next handler edited both lines of Vary into the
					// same name; the handler writes it once, with Origin
					// back, when the header is written.
					want["Vary"] = "edited before, Origin"
				} else {
					want["Vary"] = "Accept-Encoding | " + preflightVary
				}
				if !mapsEqual(w.snapshot, want) {
					errs <- fmt.Sprintf("%s from %s went out with\n\t%v\nwant\n\t%v", req.Method, origin, w.snapshot, want)
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
}

// TestConcurrentRequestsOnOneHandler sends every kind of request to one
// handler from many goroutines, and checks each answer against the one the
// same request gets alone.
func TestConcurrentRequestsOnOneHandler(t *testing.T) {
	h, _ := provision(t, credentialed)
	h.logger = zap.NewNop()
	reqs := []*http.Request{
		request("GET"),
		request("GET", "Origin: https://app.example.com"),
		request("PUT", "Origin: https://a.b.example.org"),
		request("GET", "Origin: https://evil.example"),
		request("OPTIONS", "Origin: https://app.example.com", "Access-Control-Request-Method: PUT", "Access-Control-Request-Headers: X-Api-Key, content-type"),
		request("OPTIONS", "Origin: https://evil.example", "Access-Control-Request-Method: PUT"),
	}
	alone := make([]map[string]string, len(reqs))
	for i, req := range reqs {
		rec := httptest.NewRecorder()
		if err := h.ServeHTTP(rec, req, respond); err != nil {
			t.Fatal(err)
		}
		alone[i] = corsHeaders(rec.Header())
	}
	var wg sync.WaitGroup
	errs := make(chan string, 8)
	for g := range 8 {
		wg.Go(func() {
			for i := range 300 {
				k := (g + i) % len(reqs)
				rec := httptest.NewRecorder()
				if err := h.ServeHTTP(rec, reqs[k], respond); err != nil {
					errs <- err.Error()
					return
				}
				if got := corsHeaders(rec.Header()); !mapsEqual(got, alone[k]) {
					errs <- fmt.Sprintf("request %d: %v, alone %v", k, got, alone[k])
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
}
