package cors

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"
)

// provision builds a handler from its JSON configuration, as Caddy does,
// with a logger that records what it writes.
func provision(t testing.TB, js string) (*Handler, *observer.ObservedLogs) {
	t.Helper()
	h := new(Handler)
	if err := caddy.StrictUnmarshalJSON([]byte(js), h); err != nil {
		t.Fatalf("decoding %s: %v", js, err)
	}
	ctx, cancel := caddy.NewContext(caddy.Context{Context: context.Background()})
	t.Cleanup(cancel)
	if err := h.Provision(ctx); err != nil {
		t.Fatalf("provision: %v", err)
	}
	if err := h.Validate(); err != nil {
		t.Fatalf("validate: %v", err)
	}
	core, logs := observer.New(zapcore.DebugLevel)
	h.logger = zap.New(core)
	return h, logs
}

// corsHeaders returns the Access-Control-* and Vary headers of h, the
// values of several lines joined with " | ".
func corsHeaders(h http.Header) map[string]string {
	out := make(map[string]string)
	for name, values := range h {
		if strings.HasPrefix(name, "Access-Control-") || name == "Vary" {
			out[name] = strings.Join(values, " | ")
		}
	}
	return out
}

// request builds a request from "Name: value" header lines.
func request(method string, lines ...string) *http.Request {
	r := httptest.NewRequest(method, "http://api.example.com/things", nil)
	for _, l := range lines {
		name, value, _ := strings.Cut(l, ":")
		r.Header.Add(name, strings.TrimPrefix(value, " "))
	}
	return r
}

// respond is a next handler that answers 200 "ok".
var respond = caddyhttp.HandlerFunc(func(w http.ResponseWriter, r *http.Request) error {
	_, err := io.WriteString(w, "ok")
	return err
})

const (
	credentialed = `{"allowed_origins": ["https://app.example.com", "https://*.example.org"], "allow_credentials": true,
		"allowed_methods": ["PUT", "DELETE", "PATCH"], "allowed_headers": ["Content-Type", "X-Api-Key", "Authorization"],
		"exposed_headers": ["X-Request-Id", "ETag"], "max_age": "10m"}`
	public        = `{"allowed_origins": ["*"], "allowed_methods": ["*"], "allowed_headers": ["*"], "exposed_headers": ["X-Request-Id"]}`
	headersStar   = `{"allowed_origins": ["https://app.example.com"], "allowed_headers": ["*"]}`
	preflightVary = "Origin, Access-Control-Request-Method, Access-Control-Request-Headers"
)

// TestServeHTTP covers the behaviour of the handler, request by request.
func TestServeHTTP(t *testing.T) {
	errUnauthorized := caddyhttp.Error(http.StatusUnauthorized, errors.New("no credentials"))
	for _, tc := range []struct {
		name       string
		policy     string
		req        *http.Request
		next       caddyhttp.HandlerFunc // default: respond
		wantStatus int
		wantNext   bool
		wantErr    error
		want       map[string]string // every Access-Control-* and Vary header
	}{
		// 1. What is a preflight.
		{
			name:       "a preflight is answered without the next handler",
			policy:     credentialed,
			req:        request("OPTIONS", "Origin: https://app.example.com", "Access-Control-Request-Method: PUT"),
			wantStatus: 204,
			want: map[string]string{
				"Access-Control-Allow-Origin": "https://app.example.com", "Access-Control-Allow-Credentials": "true",
				"Access-Control-Allow-Methods": "PUT", "Access-Control-Max-Age": "600", "Vary": preflightVary,
			},
		},
		{
			name:       "OPTIONS without Access-Control-Request-Method is an ordinary request",
			policy:     credentialed,
			req:        request("OPTIONS", "Origin: https://app.example.com"),
			wantStatus: 200, wantNext: true,
			want: map[string]string{
				"Access-Control-Allow-Origin": "https://app.example.com", "Access-Control-Allow-Credentials": "true",
				"Access-Control-Expose-Headers": "X-Request-Id, ETag", "Vary": "Origin, Access-Control-Request-Method",
			},
		},
		{
			name:       "OPTIONS with an empty Access-Control-Request-Method is an ordinary request",
			policy:     credentialed,
			req:        request("OPTIONS", "Origin: https://app.example.com", "Access-Control-Request-Method: "),
			wantStatus: 200, wantNext: true,
			want: map[string]string{
				"Access-Control-Allow-Origin": "https://app.example.com", "Access-Control-Allow-Credentials": "true",
				"Access-Control-Expose-Headers": "X-Request-Id, ETag", "Vary": "Origin, Access-Control-Request-Method",
			},
		},
		{
			name:       "OPTIONS with Access-Control-Request-Method but no Origin is not CORS",
			policy:     credentialed,
			req:        request("OPTIONS", "Access-Control-Request-Method: PUT"),
			wantStatus: 200, wantNext: true,
			want: map[string]string{"Vary": "Origin, Access-Control-Request-Method"},
		},
		// 2. Allowed preflights.
		{
			name:   "requested headers are echoed in lower case, from any form",
			policy: credentialed,
			req: request("OPTIONS", "Origin: https://a.b.example.org", "Access-Control-Request-Method: DELETE",
				"Access-Control-Request-Headers: X-API-Key , ,content-type", "Access-Control-Request-Headers: authorization"),
			wantStatus: 204,
			want: map[string]string{
				"Access-Control-Allow-Origin": "https://a.b.example.org", "Access-Control-Allow-Credentials": "true",
				"Access-Control-Allow-Methods": "DELETE", "Access-Control-Allow-Headers": "x-api-key,content-type,authorization",
				"Access-Control-Max-Age": "600", "Vary": preflightVary,
			},
		},
		{
			name:       "safelisted methods are always allowed",
			policy:     `{"allowed_origins": ["https://app.example.com"], "allowed_headers": ["X-Api-Key"]}`,
			req:        request("OPTIONS", "Origin: https://app.example.com", "Access-Control-Request-Method: POST", "Access-Control-Request-Headers: x-api-key"),
			wantStatus: 204,
			want: map[string]string{
				"Access-Control-Allow-Origin": "https://app.example.com", "Access-Control-Allow-Methods": "POST",
				"Access-Control-Allow-Headers": "x-api-key", "Vary": preflightVary,
			},
		},
		{
			name:       "methods are case-sensitive: PATCH as listed",
			policy:     credentialed,
			req:        request("OPTIONS", "Origin: https://app.example.com", "Access-Control-Request-Method: PATCH"),
			wantStatus: 204,
			want: map[string]string{
				"Access-Control-Allow-Origin": "https://app.example.com", "Access-Control-Allow-Credentials": "true",
				"Access-Control-Allow-Methods": "PATCH", "Access-Control-Max-Age": "600", "Vary": preflightVary,
			},
		},
		{
			name:       "methods are case-sensitive: patch is another method",
			policy:     credentialed,
			req:        request("OPTIONS", "Origin: https://app.example.com", "Access-Control-Request-Method: patch"),
			wantStatus: 403,
			want:       map[string]string{"Vary": preflightVary},
		},
		{
			name:       "any origin answers * on a preflight",
			policy:     public,
			req:        request("OPTIONS", "Origin: https://anyone.example", "Access-Control-Request-Method: PROPFIND", "Access-Control-Request-Headers: x-custom"),
			wantStatus: 204,
			want: map[string]string{
				"Access-Control-Allow-Origin": "*", "Access-Control-Allow-Methods": "PROPFIND",
				"Access-Control-Allow-Headers": "x-custom", "Vary": preflightVary,
			},
		},
		{
			name:       "headers * with Authorization listed allows it",
			policy:     `{"allowed_origins": ["https://app.example.com"], "allowed_headers": ["*", "Authorization"]}`,
			req:        request("OPTIONS", "Origin: https://app.example.com", "Access-Control-Request-Method: GET", "Access-Control-Request-Headers: authorization,x-anything"),
			wantStatus: 204,
			want: map[string]string{
				"Access-Control-Allow-Origin": "https://app.example.com", "Access-Control-Allow-Methods": "GET",
				"Access-Control-Allow-Headers": "authorization,x-anything", "Vary": preflightVary,
			},
		},
		{
			name:       "preflight_status",
			policy:     `{"allowed_origins": ["https://app.example.com"], "preflight_status": 200, "max_age": 0}`,
			req:        request("OPTIONS", "Origin: https://app.example.com", "Access-Control-Request-Method: GET"),
			wantStatus: 200,
			want: map[string]string{
				"Access-Control-Allow-Origin": "https://app.example.com", "Access-Control-Allow-Methods": "GET",
				"Access-Control-Max-Age": "0", "Vary": preflightVary,
			},
		},
		{
			name:   "options_passthrough hands an allowed preflight on with its headers",
			policy: `{"allowed_origins": ["https://app.example.com"], "allowed_methods": ["PUT"], "options_passthrough": true}`,
			req:    request("OPTIONS", "Origin: https://app.example.com", "Access-Control-Request-Method: PUT"),
			next: func(w http.ResponseWriter, r *http.Request) error {
				if w.Header().Get("Access-Control-Allow-Methods") != "PUT" {
					return errors.New("the next handler got no CORS headers")
				}
				w.WriteHeader(http.StatusOK)
				return nil
			},
			wantStatus: 200, wantNext: true,
			want: map[string]string{
				"Access-Control-Allow-Origin": "https://app.example.com", "Access-Control-Allow-Methods": "PUT", "Vary": preflightVary,
			},
		},
		{
			name:       "private network access, when otherwise allowed",
			policy:     `{"allowed_origins": ["https://app.example.com"], "allow_private_network": true}`,
			req:        request("OPTIONS", "Origin: https://app.example.com", "Access-Control-Request-Method: GET", "Access-Control-Request-Private-Network: true"),
			wantStatus: 204,
			want: map[string]string{
				"Access-Control-Allow-Origin": "https://app.example.com", "Access-Control-Allow-Methods": "GET",
				"Access-Control-Allow-Private-Network": "true", "Vary": preflightVary + ", Access-Control-Request-Private-Network",
			},
		},
		{
			name:       "private network access is not granted unless enabled",
			policy:     `{"allowed_origins": ["https://app.example.com"]}`,
			req:        request("OPTIONS", "Origin: https://app.example.com", "Access-Control-Request-Method: GET", "Access-Control-Request-Private-Network: true"),
			wantStatus: 204,
			want: map[string]string{
				"Access-Control-Allow-Origin": "https://app.example.com", "Access-Control-Allow-Methods": "GET", "Vary": preflightVary,
			},
		},
		// 3. Refused preflights: 403, no Access-Control-* at all.
		{
			name:       "preflight from a disallowed origin",
			policy:     credentialed,
			req:        request("OPTIONS", "Origin: https://evil.example", "Access-Control-Request-Method: PUT"),
			wantStatus: 403,
			want:       map[string]string{"Vary": preflightVary},
		},
		{
			name:       "preflight for a method not allowed",
			policy:     credentialed,
			req:        request("OPTIONS", "Origin: https://app.example.com", "Access-Control-Request-Method: PROPFIND"),
			wantStatus: 403,
			want:       map[string]string{"Vary": preflightVary},
		},
		{
			name:       "preflight for a header not allowed",
			policy:     credentialed,
			req:        request("OPTIONS", "Origin: https://app.example.com", "Access-Control-Request-Method: PUT", "Access-Control-Request-Headers: content-type,x-other"),
			wantStatus: 403,
			want:       map[string]string{"Vary": preflightVary},
		},
		{
			name:       "headers * does not cover Authorization",
			policy:     headersStar,
			req:        request("OPTIONS", "Origin: https://app.example.com", "Access-Control-Request-Method: GET", "Access-Control-Request-Headers: Authorization"),
			wantStatus: 403,
			want:       map[string]string{"Vary": preflightVary},
		},
		{
			name:       "refused under any origin: no Access-Control-* either",
			policy:     `{"allowed_origins": ["*"]}`,
			req:        request("OPTIONS", "Origin: https://a.example", "Access-Control-Request-Method: DELETE"),
			wantStatus: 403,
			want:       map[string]string{"Vary": preflightVary},
		},
		{
			name:       "a malformed method is refused",
			policy:     public,
			req:        request("OPTIONS", "Origin: https://a.example", "Access-Control-Request-Method: PU T"),
			wantStatus: 403,
			want:       map[string]string{"Vary": preflightVary},
		},
		{
			name:       "two method lines are refused",
			policy:     public,
			req:        request("OPTIONS", "Origin: https://a.example", "Access-Control-Request-Method: PUT", "Access-Control-Request-Method: GET"),
			wantStatus: 403,
			want:       map[string]string{"Vary": preflightVary},
		},
		{
			name:       "two Origin lines are refused",
			policy:     credentialed,
			req:        request("OPTIONS", "Origin: https://app.example.com", "Origin: https://app.example.com", "Access-Control-Request-Method: PUT"),
			wantStatus: 403,
			want:       map[string]string{"Vary": preflightVary},
		},
		{
			name:   "options_passthrough hands a refused preflight on without CORS headers",
			policy: `{"allowed_origins": ["https://app.example.com"], "options_passthrough": true}`,
			req:    request("OPTIONS", "Origin: https://evil.example", "Access-Control-Request-Method: PUT"),
			next: func(w http.ResponseWriter, r *http.Request) error {
				w.Header().Set("Access-Control-Allow-Origin", "*")
				w.WriteHeader(http.StatusMethodNotAllowed)
				return nil
			},
			wantStatus: 405, wantNext: true,
			want: map[string]string{"Vary": preflightVary},
		},
		// 4. Actual requests from allowed origins.
		{
			name:       "actual request from an allowed origin",
			policy:     credentialed,
			req:        request("PUT", "Origin: https://app.example.com"),
			wantStatus: 200, wantNext: true,
			want: map[string]string{
				"Access-Control-Allow-Origin": "https://app.example.com", "Access-Control-Allow-Credentials": "true",
				"Access-Control-Expose-Headers": "X-Request-Id, ETag", "Vary": "Origin",
			},
		},
		{
			name:   "the CORS headers survive an error of the next handler",
			policy: credentialed,
			req:    request("GET", "Origin: https://x.example.org"),
			next: func(w http.ResponseWriter, r *http.Request) error {
				w.Header().Set("Access-Control-Allow-Origin", "*") // overwritten before the error is written
				w.Header().Del("Vary")
				return errUnauthorized
			},
			wantStatus: 200, wantNext: true, wantErr: errUnauthorized,
			want: map[string]string{
				"Access-Control-Allow-Origin": "https://x.example.org", "Access-Control-Allow-Credentials": "true",
				"Access-Control-Expose-Headers": "X-Request-Id, ETag", "Vary": "Origin",
			},
		},
		{
			name:   "error statuses written by the next handler keep them",
			policy: credentialed,
			req:    request("GET", "Origin: https://app.example.com"),
			next: func(w http.ResponseWriter, r *http.Request) error {
				http.NotFound(w, r)
				return nil
			},
			wantStatus: 404, wantNext: true,
			want: map[string]string{
				"Access-Control-Allow-Origin": "https://app.example.com", "Access-Control-Allow-Credentials": "true",
				"Access-Control-Expose-Headers": "X-Request-Id, ETag", "Vary": "Origin",
			},
		},
		// 5. Disallowed origins: no CORS headers, and the request goes on.
		{
			name:       "actual request from a disallowed origin reaches the next handler",
			policy:     credentialed,
			req:        request("POST", "Origin: https://evil.example"),
			wantStatus: 200, wantNext: true,
			want: map[string]string{"Vary": "Origin"},
		},
		{
			name:       "an upper-case Origin is not the serialised origin",
			policy:     credentialed,
			req:        request("GET", "Origin: https://APP.example.com"),
			wantStatus: 200, wantNext: true,
			want: map[string]string{"Vary": "Origin"},
		},
		{
			name:       "an Origin with a trailing slash is not the serialised origin",
			policy:     credentialed,
			req:        request("GET", "Origin: https://app.example.com/"),
			wantStatus: 200, wantNext: true,
			want: map[string]string{"Vary": "Origin"},
		},
		{
			name:       "an Origin with the default port is not the serialised origin",
			policy:     credentialed,
			req:        request("GET", "Origin: https://app.example.com:443"),
			wantStatus: 200, wantNext: true,
			want: map[string]string{"Vary": "Origin"},
		},
		{
			name:       "null is never allowed by a list",
			policy:     credentialed,
			req:        request("GET", "Origin: null"),
			wantStatus: 200, wantNext: true,
			want: map[string]string{"Vary": "Origin"},
		},
		// 6. Vary.
		{
			name:   "Vary is merged with what is there",
			policy: credentialed,
			req:    request("GET"),
			next: func(w http.ResponseWriter, r *http.Request) error {
				w.Header().Add("Vary", "Accept-Encoding")
				return nil
			},
			wantStatus: 200, wantNext: true,
			want: map[string]string{"Vary": "Origin | Accept-Encoding"},
		},
		{
			name:   "Vary is not repeated",
			policy: credentialed,
			req:    request("GET", "Origin: https://evil.example"),
			next: func(w http.ResponseWriter, r *http.Request) error {
				w.Header().Set("Vary", "accept-encoding, origin")
				return nil
			},
			wantStatus: 200, wantNext: true,
			want: map[string]string{"Vary": "accept-encoding, origin"},
		},
		{
			name:   "Vary: * covers Origin",
			policy: credentialed,
			req:    request("GET"),
			next: func(w http.ResponseWriter, r *http.Request) error {
				w.Header().Set("Vary", "*")
				return nil
			},
			wantStatus: 200, wantNext: true,
			want: map[string]string{"Vary": "*"},
		},
		{
			name:       "a request without Origin varies with it",
			policy:     credentialed,
			req:        request("GET"),
			wantStatus: 200, wantNext: true,
			want: map[string]string{"Vary": "Origin"},
		},
		{
			name:       "any origin without credentials: * on every response, no Vary",
			policy:     public,
			req:        request("GET"),
			wantStatus: 200, wantNext: true,
			want: map[string]string{"Access-Control-Allow-Origin": "*", "Access-Control-Expose-Headers": "X-Request-Id"},
		},
		{
			name:       "any origin without credentials: a plain OPTIONS varies with what makes a preflight",
			policy:     public,
			req:        request("OPTIONS", "Origin: https://a.example"),
			wantStatus: 200, wantNext: true,
			want: map[string]string{
				"Access-Control-Allow-Origin": "*", "Access-Control-Expose-Headers": "X-Request-Id",
				"Vary": "Origin, Access-Control-Request-Method",
			},
		},
		{
			name:       "any origin without credentials: null gets * too",
			policy:     public,
			req:        request("GET", "Origin: null"),
			wantStatus: 200, wantNext: true,
			want: map[string]string{"Access-Control-Allow-Origin": "*", "Access-Control-Expose-Headers": "X-Request-Id"},
		},
		// 7. The handler owns the CORS response headers.
		{
			name:   "an upstream's CORS headers are replaced for an allowed origin",
			policy: credentialed,
			req:    request("GET", "Origin: https://app.example.com"),
			next: func(w http.ResponseWriter, r *http.Request) error {
				h := w.Header()
				h.Add("Access-Control-Allow-Origin", "*")
				h.Add("Access-Control-Allow-Methods", "GET, POST")
				h.Add("Access-Control-Max-Age", "86400")
				h.Add("Access-Control-Expose-Headers", "X-Secret")
				h.Set("Access-Control-Allow-Credentials", "false")
				w.WriteHeader(http.StatusCreated)
				return nil
			},
			wantStatus: 201, wantNext: true,
			want: map[string]string{
				"Access-Control-Allow-Origin": "https://app.example.com", "Access-Control-Allow-Credentials": "true",
				"Access-Control-Expose-Headers": "X-Request-Id, ETag", "Vary": "Origin",
			},
		},
		{
			name:   "an upstream's CORS headers are removed for a disallowed origin",
			policy: credentialed,
			req:    request("GET", "Origin: https://evil.example"),
			next: func(w http.ResponseWriter, r *http.Request) error {
				w.Header().Set("Access-Control-Allow-Origin", "https://evil.example")
				w.Header().Set("Access-Control-Allow-Credentials", "true")
				_, err := w.Write([]byte("ok")) // an implicit 200
				return err
			},
			wantStatus: 200, wantNext: true,
			want: map[string]string{"Vary": "Origin"},
		},
		{
			name:   "an upstream's CORS headers are removed from a request without Origin",
			policy: credentialed,
			req:    request("GET"),
			next: func(w http.ResponseWriter, r *http.Request) error {
				w.Header().Set("Access-Control-Allow-Origin", "*")
				_, err := io.Copy(w, strings.NewReader("ok")) // through ReadFrom
				return err
			},
			wantStatus: 200, wantNext: true,
			want: map[string]string{"Vary": "Origin"},
		},
		{
			name:   "an upstream's origin is replaced by * under any origin",
			policy: public,
			req:    request("GET", "Origin: https://a.example"),
			next: func(w http.ResponseWriter, r *http.Request) error {
				w.Header().Set("Access-Control-Allow-Origin", "https://a.example")
				w.Header().Set("Access-Control-Allow-Credentials", "true")
				return http.NewResponseController(w).Flush()
			},
			wantStatus: 200, wantNext: true,
			want: map[string]string{"Access-Control-Allow-Origin": "*", "Access-Control-Expose-Headers": "X-Request-Id"},
		},
		{
			name:   "a value edited in place by a later handler is put back",
			policy: credentialed,
			req:    request("GET", "Origin: https://app.example.com"),
			next: func(w http.ResponseWriter, r *http.Request) error {
				w.Header()["Access-Control-Allow-Origin"][0] = "https://evil.example"
				w.WriteHeader(http.StatusOK)
				return nil
			},
			wantStatus: 200, wantNext: true,
			want: map[string]string{
				"Access-Control-Allow-Origin": "https://app.example.com", "Access-Control-Allow-Credentials": "true",
				"Access-Control-Expose-Headers": "X-Request-Id, ETag", "Vary": "Origin",
			},
		},
		// 8. Hostile input.
		{
			name:       "an Origin of 64 KiB",
			policy:     credentialed,
			req:        request("GET", "Origin: https://"+strings.Repeat("a", 64<<10)+".example.org"),
			wantStatus: 200, wantNext: true,
			want: map[string]string{"Vary": "Origin"},
		},
		{
			name:   "1 MB of Access-Control-Request-Headers",
			policy: public,
			req: request("OPTIONS", "Origin: https://a.example", "Access-Control-Request-Method: PUT",
				"Access-Control-Request-Headers: "+strings.Repeat(" ,", 1<<19)),
			wantStatus: 403,
			want:       map[string]string{"Vary": preflightVary},
		},
		{
			name:   "NUL and non-ASCII bytes in a requested header",
			policy: public,
			req: request("OPTIONS", "Origin: https://a.example", "Access-Control-Request-Method: PUT",
				"Access-Control-Request-Headers: x-a\x00b,x-é"),
			wantStatus: 403,
			want:       map[string]string{"Vary": preflightVary},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h, _ := provision(t, tc.policy)
			next := tc.next
			if next == nil {
				next = respond
			}
			called := false
			rec := httptest.NewRecorder()
			err := h.ServeHTTP(rec, tc.req, caddyhttp.HandlerFunc(func(w http.ResponseWriter, r *http.Request) error {
				called = true
				return next(w, r)
			}))
			if !errors.Is(err, tc.wantErr) {
				t.Errorf("error %v, want %v", err, tc.wantErr)
			}
			if called != tc.wantNext {
				t.Errorf("next handler called: %v, want %v", called, tc.wantNext)
			}
			if rec.Code != tc.wantStatus {
				t.Errorf("status %d, want %d", rec.Code, tc.wantStatus)
			}
			if got := corsHeaders(rec.Header()); !mapsEqual(got, tc.want) {
				t.Errorf("CORS headers:\n\t%v\nwant:\n\t%v", got, tc.want)
			}
			if tc.req.Method == "OPTIONS" && !called && rec.Body.Len() != 0 {
				t.Errorf("a preflight answer has a body: %q", rec.Body.String())
			}
		})
	}
}

func mapsEqual(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

// TestRefusalsAreLogged checks the debug line that says which part of a
// request was refused.
func TestRefusalsAreLogged(t *testing.T) {
	for _, tc := range []struct {
		name                string
		policy              string
		req                 *http.Request
		msg, reason, refuse string
	}{
		{"origin", credentialed, request("OPTIONS", "Origin: https://evil.example", "Access-Control-Request-Method: PUT"),
			"preflight refused", "origin not allowed", "https://evil.example"},
		{"method", credentialed, request("OPTIONS", "Origin: https://app.example.com", "Access-Control-Request-Method: patch"),
			"preflight refused", "method not allowed", "patch"},
		{"header", credentialed, request("OPTIONS", "Origin: https://app.example.com", "Access-Control-Request-Method: PUT", "Access-Control-Request-Headers: x-api-key,X-Other"),
			"preflight refused", "request header not allowed", "X-Other"},
		{"authorization", headersStar, request("OPTIONS", "Origin: https://app.example.com", "Access-Control-Request-Method: GET", "Access-Control-Request-Headers: authorization"),
			"preflight refused", `request header not allowed: "*" does not cover Authorization, which must be listed by name`, "authorization"},
		{"actual", credentialed, request("GET", "Origin: https://evil.example"),
			"cross-origin request not allowed", "origin not allowed", "https://evil.example"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h, logs := provision(t, tc.policy)
			if err := h.ServeHTTP(httptest.NewRecorder(), tc.req, respond); err != nil {
				t.Fatal(err)
			}
			entries := logs.All()
			if len(entries) != 1 {
				t.Fatalf("%d log entries, want 1: %v", len(entries), entries)
			}
			e := entries[0]
			fields := e.ContextMap()
			if e.Level != zapcore.DebugLevel || e.Message != tc.msg || fields["reason"] != tc.reason || fields["refused"] != tc.refuse {
				t.Errorf("logged %v %q %v; want debug %q, reason %q, refused %q", e.Level, e.Message, fields, tc.msg, tc.reason, tc.refuse)
			}
		})
	}
	t.Run("allowed requests log nothing", func(t *testing.T) {
		h, logs := provision(t, credentialed)
		_ = h.ServeHTTP(httptest.NewRecorder(), request("GET", "Origin: https://app.example.com"), respond)
		_ = h.ServeHTTP(httptest.NewRecorder(), request("GET"), respond)
		if logs.Len() != 0 {
			t.Errorf("logged %v", logs.All())
		}
	})
}

// TestProvisionExpandsPlaceholders checks that global placeholders are
// expanded, split and checked when the configuration loads.
func TestProvisionExpandsPlaceholders(t *testing.T) {
	t.Setenv("CORS_TEST_ORIGINS", "https://a.example, https://b.example  http://localhost:*")
	t.Setenv("CORS_TEST_HOST", "c.example")
	t.Setenv("CORS_TEST_REGEXP", `^https://pr-[0-9]{1,4}\.example$`)
	h, _ := provision(t, `{"allowed_origins": ["{env.CORS_TEST_ORIGINS}", "https://{env.CORS_TEST_HOST}"],
		"allowed_origin_regexps": ["{env.CORS_TEST_REGEXP}", "^https://q[0-9]{2}\\.example$"], "allow_credentials": true}`)
	for _, o := range []string{"https://a.example", "https://b.example", "http://localhost:3000", "https://c.example", "https://pr-12.example", "https://q12.example"} {
		if !h.policy.origins.contains(o) {
			t.Errorf("%q is not allowed", o)
		}
	}

	// A file of origins, one per line.
	file := filepath.Join(t.TempDir(), "origins.txt")
	if err := os.WriteFile(file, []byte("https://d.example\nhttps://*.e.example\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	h, _ = provision(t, `{"allowed_origins": ["{file.`+file+`}"]}`)
	for o, want := range map[string]bool{"https://d.example": true, "https://x.e.example": true, "https://e.example": false} {
		if h.policy.origins.contains(o) != want {
			t.Errorf("from a file: %q allowed: %v, want %v", o, !want, want)
		}
	}

	t.Setenv("CORS_TEST_ORIGINS", "https://a.example http://b.example")
	for _, tc := range []struct{ js, want string }{
		{`{"allowed_origins": ["{env.CORS_TEST_ORIGINS}"], "allow_credentials": true}`,
			`allowed_origins: "http://b.example" (from "{env.CORS_TEST_ORIGINS}") is not a secure origin`},
		{`{"allowed_origins": ["{env.CORS_TEST_UNSET}"]}`,
			"2 problems in the CORS policy: (1) allowed_origins: \"{env.CORS_TEST_UNSET}\" evaluated placeholder {env.CORS_TEST_UNSET} is empty; (2) allowed_origins: no origin is allowed"},
		{`{"allowed_origins": ["*"], "allowed_methods": ["{unknown.placeholder}"]}`,
			`allowed_methods: "{unknown.placeholder}" unrecognized placeholder {unknown.placeholder}`},
	} {
		h := new(Handler)
		if err := caddy.StrictUnmarshalJSON([]byte(tc.js), h); err != nil {
			t.Fatal(err)
		}
		ctx, cancel := caddy.NewContext(caddy.Context{Context: context.Background()})
		if err := h.Provision(ctx); err != nil {
			t.Fatal(err)
		}
		cancel()
		if err := h.Validate(); err == nil || !strings.HasPrefix(err.Error(), tc.want) {
			t.Errorf("%s: error\n\t%v\nwant it to start with\n\t%s", tc.js, err, tc.want)
		}
	}
}

// TestJSONConfig checks the JSON surface: strict field names, and max_age
// absent, zero or set.
func TestJSONConfig(t *testing.T) {
	h := new(Handler)
	err := caddy.StrictUnmarshalJSON([]byte(`{"allowed_origin": ["*"]}`), h)
	if err == nil || !strings.Contains(err.Error(), `unknown field "allowed_origin"`) {
		t.Errorf("a misspelt field gave %v", err)
	}
	for js, want := range map[string]string{
		`{"allowed_origins": ["*"]}`:                         "",
		`{"allowed_origins": ["*"], "max_age": null}`:        "",
		`{"allowed_origins": ["*"], "max_age": 0}`:           "0",
		`{"allowed_origins": ["*"], "max_age": "0s"}`:        "0",
		`{"allowed_origins": ["*"], "max_age": "2h"}`:        "7200",
		`{"allowed_origins": ["*"], "max_age": "1d"}`:        "86400",
		`{"allowed_origins": ["*"], "max_age": 60000000000}`: "60",
	} {
		h, _ := provision(t, js)
		if h.policy.maxAge != want {
			t.Errorf("%s: Access-Control-Max-Age %q, want %q", js, h.policy.maxAge, want)
		}
	}
}

// TestMaxAgeJSON checks how max_age is read from JSON: the forms Caddy
// takes for a duration, and the refusals, which name the field, the value
// and what to write, as Caddy shows them when it loads the handler.
func TestMaxAgeJSON(t *testing.T) {
	const (
		forms   = "a JSON duration is an integer number of nanoseconds or a string with a unit"
		noUnit  = "has no unit: " + forms
		notDur  = `is not a duration: write a string with a unit, such as "10m", "2h" or "0s", or an integer number of nanoseconds`
		tooLong = `seconds would be longer than any browser caches a preflight (Firefox: 24h, Chromium: 2h): write "2h" or less`
	)
	for _, tc := range []struct {
		value string
		want  string // the error, after Caddy's "decoding module config: http.handlers.cors: "
	}{
		{`600`, `max_age: 600 is read as 600 nanoseconds: ` + forms + `; for 600 seconds, write "600s" or "10m"`},
		{`1`, `max_age: 1 is read as 1 nanosecond: ` + forms + `; for 1 second, write "1s"`},
		{`90`, `max_age: 90 is read as 90 nanoseconds: ` + forms + `; for 90 seconds, write "90s"`},
		{`86400`, `max_age: 86400 is read as 86400 nanoseconds: ` + forms + `; for 86400 seconds, write "86400s" or "24h"`},
		{`86401`, `max_age: 86401 is read as 86401 nanoseconds: ` + forms + `; 86401 ` + tooLong},
		{`999999999`, `max_age: 999999999 is read as 999999999 nanoseconds: ` + forms + `; 999999999 ` + tooLong},
		{`"600"`, `max_age: "600" ` + noUnit + `; for 600 seconds, write "600s" or "10m"`},
		{`"3600"`, `max_age: "3600" ` + noUnit + `; for 3600 seconds, write "3600s" or "1h"`},
		{`"100000"`, `max_age: "100000" ` + noUnit + `; 100000 ` + tooLong},
		{`-1`, `max_age: -1 is negative, and negative values are refused: write 0 to forbid caching preflights, or a duration such as "10m"`},
		{`-600000000000`, `max_age: -600000000000 is negative, and negative values are refused: write 0 to forbid caching preflights, or a duration such as "10m"`},
		{`"-1"`, `max_age: "-1" is negative, and negative values are refused: write 0 to forbid caching preflights, or a duration such as "10m"`},
		{`"soon"`, `max_age: "soon" is not a duration (time: invalid duration "soon"): write a string with a unit, such as "10m", "2h" or "0s", or an integer number of nanoseconds`},
		{`"10min"`, `max_age: "10min" is not a duration (time: unknown unit "min" in duration "10min"): write a string with a unit, such as "10m", "2h" or "0s", or an integer number of nanoseconds`},
		{`1.5`, `max_age: 1.5 ` + notDur},
		{`true`, `max_age: true ` + notDur},
		{`["10m"]`, `max_age: ["10m"] ` + notDur},
	} {
		t.Run(tc.value, func(t *testing.T) {
			ctx, cancel := caddy.NewContext(caddy.Context{Context: context.Background()})
			defer cancel()
			_, err := ctx.LoadModuleByID("http.handlers.cors", []byte(`{"allowed_origins": ["*"], "max_age": `+tc.value+`}`))
			if want := "decoding module config: http.handlers.cors: " + tc.want; err == nil || err.Error() != want {
				t.Errorf("error:\n%v\nwant:\n%s", err, want)
			}
		})
	}

	// What is not refused at decoding reaches the policy's checks, which
	// name the field too.
	for value, want := range map[string]string{
		`"-1s"`:      `max_age: -1s is negative, and negative values are refused: write 0 to forbid caching preflights, or a duration such as 10m`,
		`1500000000`: `max_age: 1.5s is not a whole number of seconds, the unit of Access-Control-Max-Age: write 1s`,
		`"1500ms"`:   `max_age: 1.5s is not a whole number of seconds, the unit of Access-Control-Max-Age: write 1s`,
		`"600ms"`:    `max_age: 600ms is not a whole number of seconds, the unit of Access-Control-Max-Age: write 0s`,
		`"25h"`:      `max_age: 25h is longer than any browser caches a preflight (Firefox: 24h, Chromium: 2h): write 2h or less`,
	} {
		h := new(Handler)
		if err := caddy.StrictUnmarshalJSON([]byte(`{"allowed_origins": ["*"], "max_age": `+value+`}`), h); err != nil {
			t.Fatalf("%s: %v", value, err)
		}
		ctx, cancel := caddy.NewContext(caddy.Context{Context: context.Background()})
		if err := h.Provision(ctx); err != nil {
			t.Fatal(err)
		}
		cancel()
		if err := h.Validate(); err == nil || err.Error() != want {
			t.Errorf("%s: error\n%v\nwant:\n%s", value, err, want)
		}
	}
}

// TestMaxAgeMarshals checks that max_age is written as caddy.Duration
// writes it, in nanoseconds, so that caddy adapt's output does not change,
// and that absent and 0 stay apart.
func TestMaxAgeMarshals(t *testing.T) {
	tenMinutes, zero := MaxAge(10*time.Minute), MaxAge(0)
	for _, tc := range []struct {
		h    Handler
		want string
	}{
		{Handler{MaxAge: &tenMinutes}, `{"max_age":600000000000}`},
		{Handler{MaxAge: &zero}, `{"max_age":0}`},
		{Handler{}, `{}`},
	} {
		b, err := json.Marshal(tc.h)
		if err != nil || string(b) != tc.want {
			t.Errorf("marshalled %s (%v), want %s", b, err, tc.want)
		}
		var back Handler
		if err := json.Unmarshal(b, &back); err != nil || (back.MaxAge == nil) != (tc.h.MaxAge == nil) ||
			back.MaxAge != nil && *back.MaxAge != *tc.h.MaxAge {
			t.Errorf("%s read back as %v (%v)", b, back.MaxAge, err)
		}
	}
	if b, _ := json.Marshal(caddy.Duration(10 * time.Minute)); string(b) != "600000000000" {
		t.Errorf("caddy.Duration marshals as %s", b)
	}
}

// hijacker is a response writer whose connection can be taken over, to
// check that the wrapper passes http.ResponseController through.
type hijacker struct {
	*httptest.ResponseRecorder
	hijacked bool
}

func (h *hijacker) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	h.hijacked = true
	return nil, nil, nil
}

func TestWriterPassesThrough(t *testing.T) {
	h, _ := provision(t, credentialed)
	w := &hijacker{ResponseRecorder: httptest.NewRecorder()}
	err := h.ServeHTTP(w, request("GET", "Origin: https://app.example.com", "Upgrade: websocket"), caddyhttp.HandlerFunc(func(w http.ResponseWriter, r *http.Request) error {
		w.Header().Set("Access-Control-Allow-Origin", "*")
		w.WriteHeader(http.StatusSwitchingProtocols)
		_, _, err := http.NewResponseController(w).Hijack()
		return err
	}))
	if err != nil || !w.hijacked {
		t.Fatalf("hijack through the wrapper: %v, hijacked %v", err, w.hijacked)
	}
	if got := w.Header()["Access-Control-Allow-Origin"]; !slices.Equal(got, []string{"https://app.example.com"}) {
		t.Errorf("Access-Control-Allow-Origin %v on the 101 response", got)
	}

	// An interim 103 does not commit: the final header is fixed again.
	fw := &finalHeaderWriter{header: http.Header{}}
	_ = h.ServeHTTP(fw, request("GET", "Origin: https://app.example.com"), caddyhttp.HandlerFunc(func(w http.ResponseWriter, r *http.Request) error {
		w.WriteHeader(http.StatusEarlyHints)
		w.Header().Add("Access-Control-Allow-Origin", "*")
		w.WriteHeader(http.StatusOK)
		return nil
	}))
	if got := fw.final["Access-Control-Allow-Origin"]; !slices.Equal(got, []string{"https://app.example.com"}) {
		t.Errorf("Access-Control-Allow-Origin %v after a 103", got)
	}
}

// TestWriterSeesEveryWayToTheHeaders checks that the answer is put back
// whichever way a handler behind cors reached the response headers: the
// wrapper skips that work only when no handler could have changed them.
func TestWriterSeesEveryWayToTheHeaders(t *testing.T) {
	h, _ := provision(t, credentialed)
	for _, tc := range []struct {
		name string
		next func(w http.ResponseWriter)
	}{
		{"through Header", func(w http.ResponseWriter) {
			w.Header().Set("Access-Control-Allow-Origin", "*")
			w.WriteHeader(http.StatusOK)
		}},
		{"through Unwrap", func(w http.ResponseWriter) {
			w.(interface{ Unwrap() http.ResponseWriter }).Unwrap().Header().Set("Access-Control-Allow-Origin", "*")
			w.WriteHeader(http.StatusOK)
		}},
		{"a map kept from before an interim response", func(w http.ResponseWriter) {
			header := w.Header()
			w.WriteHeader(http.StatusEarlyHints)
			header.Set("Access-Control-Allow-Origin", "*")
			w.WriteHeader(http.StatusOK)
		}},
		{"a map kept, committed by Write", func(w http.ResponseWriter) {
			header := w.Header()
			w.WriteHeader(http.StatusEarlyHints)
			header.Set("Access-Control-Allow-Origin", "*")
			_, _ = w.Write([]byte("ok"))
		}},
		{"a map kept, committed when the handler returns", func(w http.ResponseWriter) {
			w.Header().Set("Access-Control-Allow-Origin", "*")
		}},
		{"untouched", func(w http.ResponseWriter) {
			w.WriteHeader(http.StatusOK)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := &finalHeaderWriter{header: http.Header{}}
			err := h.ServeHTTP(w, request("GET", "Origin: https://app.example.com"), caddyhttp.HandlerFunc(func(w http.ResponseWriter, r *http.Request) error {
				tc.next(w)
				return nil
			}))
			if err != nil {
				t.Fatal(err)
			}
			final := w.final
			if final == nil {
				final = w.header // committed by no call: Caddy's server writes the header map as it is
			}
			if got := final["Access-Control-Allow-Origin"]; !slices.Equal(got, []string{"https://app.example.com"}) {
				t.Errorf("Access-Control-Allow-Origin %v, want the request's origin alone", got)
			}
			if got := final["Vary"]; !slices.Equal(got, []string{"Origin"}) {
				t.Errorf("Vary %v, want [Origin]", got)
			}
		})
	}
}

// finalHeaderWriter keeps a copy of the header map as it was when the final
// (not 1xx) response header was written, explicitly or by Write.
type finalHeaderWriter struct {
	header http.Header
	final  http.Header
}

func (w *finalHeaderWriter) Header() http.Header { return w.header }

func (w *finalHeaderWriter) WriteHeader(status int) {
	if w.final == nil && (status >= 200 || status == http.StatusSwitchingProtocols) {
		w.final = w.header.Clone()
	}
}

func (w *finalHeaderWriter) Write(b []byte) (int, error) {
	w.WriteHeader(http.StatusOK)
	return len(b), nil
}
