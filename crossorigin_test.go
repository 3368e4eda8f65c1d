package cors

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	"go.uber.org/zap"
)

// protected is a policy with cross-origin protection whose trusted origins
// are an exact origin, a pattern and a regexp.
const protected = `{"allowed_origins": ["https://app.example.com", "https://*.example.org"],
	"allowed_origin_regexps": ["^https://pr-[0-9]+\\.preview\\.example\\.net$"],
	"allow_credentials": true, "allowed_methods": ["PUT", "DELETE"], "cross_origin_protection": true}`

// TestCheckCrossOrigin covers every branch of the decision: the methods
// that pass, WebSocket handshakes, each Sec-Fetch-Site value, the trusted
// origins, and the Origin against the Host without Sec-Fetch-Site.
func TestCheckCrossOrigin(t *testing.T) {
	h, _ := provision(t, protected)
	const (
		pass   = false
		refuse = true
	)
	const evil = "Origin: https://evil.example"
	for _, tc := range []struct {
		name   string
		method string
		host   string // "" is api.example.com
		header []string
		want   bool
	}{
		// Safe methods.
		{"GET cross-site", "GET", "", []string{evil, "Sec-Fetch-Site: cross-site"}, pass},
		{"GET without Origin", "GET", "", nil, pass},
		{"HEAD cross-site", "HEAD", "", []string{evil, "Sec-Fetch-Site: cross-site"}, pass},
		{"OPTIONS preflight from a refused origin", "OPTIONS", "", []string{evil, "Access-Control-Request-Method: PUT", "Sec-Fetch-Site: cross-site"}, pass},
		{"HEAD with Upgrade: websocket is no handshake", "HEAD", "", []string{evil, "Upgrade: websocket", "Connection: Upgrade"}, pass},
		{"OPTIONS with Upgrade: websocket is no handshake", "OPTIONS", "", []string{evil, "Upgrade: websocket", "Connection: Upgrade"}, pass},
		{"GET upgrading to h2c", "GET", "", []string{evil, "Connection: Upgrade, HTTP2-Settings", "Upgrade: h2c"}, pass},
		{"GET with an empty Upgrade", "GET", "", []string{evil, "Upgrade: "}, pass},
		{"GET upgrading to websocketx", "GET", "", []string{evil, "Upgrade: websocketx"}, pass},

		// Methods are case-sensitive: only GET, HEAD and OPTIONS are safe.
		{"post", "post", "", []string{evil}, refuse},
		{"get", "get", "", []string{evil}, refuse},
		{"Options", "Options", "", []string{evil}, refuse},
		{"PUT", "PUT", "", []string{evil, "Sec-Fetch-Site: cross-site"}, refuse},
		{"DELETE", "DELETE", "", []string{evil, "Sec-Fetch-Site: cross-site"}, refuse},
		{"PATCH", "PATCH", "", []string{evil}, refuse},

		// WebSocket handshakes are checked like writes.
		{"WebSocket from another site", "GET", "", []string{evil, "Upgrade: websocket", "Connection: Upgrade"}, refuse},
		{"WebSocket, upper case", "GET", "", []string{evil, "Upgrade: WEBSOCKET"}, refuse},
		{"WebSocket, mixed case", "GET", "", []string{evil, "Upgrade: WebSocket"}, refuse},
		{"WebSocket in a list", "GET", "", []string{evil, "Upgrade: h2c,  websocket "}, refuse},
		{"WebSocket on a second line", "GET", "", []string{evil, "Upgrade: h2c", "Upgrade: websocket"}, refuse},
		{"WebSocket with a version", "GET", "", []string{evil, "Upgrade: websocket/13"}, refuse},
		{"WebSocket, cross-site", "GET", "", []string{evil, "Upgrade: websocket", "Sec-Fetch-Site: cross-site"}, refuse},
		{"WebSocket from the allowed origin", "GET", "", []string{"Origin: https://app.example.com", "Upgrade: websocket"}, pass},
		{"WebSocket from the API's own origin, without Sec-Fetch-Site", "GET", "", []string{"Origin: https://api.example.com", "Upgrade: websocket"}, pass},
		{"WebSocket same-origin", "GET", "", []string{"Origin: https://api.example.com", "Upgrade: websocket", "Sec-Fetch-Site: same-origin"}, pass},
		{"WebSocket without Origin", "GET", "", []string{"Upgrade: websocket"}, pass},

		// HTTP/2 extended CONNECT (RFC 8441) carries no Upgrade: CONNECT is
		// not safe.
		{"extended CONNECT from another site", "CONNECT", "", []string{evil, ":protocol: websocket", "Sec-Websocket-Version: 13"}, refuse},
		{"extended CONNECT, cross-site", "CONNECT", "", []string{evil, ":protocol: websocket", "Sec-Fetch-Site: cross-site"}, refuse},
		{"extended CONNECT from the allowed origin", "CONNECT", "", []string{"Origin: https://app.example.com", ":protocol: websocket"}, pass},
		{"extended CONNECT from the API's own origin", "CONNECT", "", []string{"Origin: https://api.example.com", ":protocol: websocket"}, pass},
		{"extended CONNECT same-origin", "CONNECT", "", []string{evil, ":protocol: websocket", "Sec-Fetch-Site: same-origin"}, pass},

		// Sec-Fetch-Site.
		{"cross-site", "POST", "", []string{evil, "Sec-Fetch-Site: cross-site"}, refuse},
		{"same-site", "POST", "", []string{"Origin: https://other.example.com", "Sec-Fetch-Site: same-site"}, refuse},
		{"same-origin", "POST", "", []string{"Origin: https://api.example.com", "Sec-Fetch-Site: same-origin"}, pass},
		{"none", "POST", "", []string{"Sec-Fetch-Site: none"}, pass},
		{"same-origin decides, whatever the Origin", "POST", "", []string{evil, "Sec-Fetch-Site: same-origin"}, pass},
		{"Sec-Fetch-Site is compared case-sensitively", "POST", "", []string{evil, "Sec-Fetch-Site: Same-Origin"}, refuse},
		{"an unknown Sec-Fetch-Site", "POST", "", []string{evil, "Sec-Fetch-Site: elsewhere"}, refuse},
		{"cross-site, no Origin", "POST", "", []string{"Sec-Fetch-Site: cross-site"}, refuse},
		{"cross-site with the Host's own Origin", "POST", "", []string{"Origin: https://api.example.com", "Sec-Fetch-Site: cross-site"}, refuse},
		{"only the first Sec-Fetch-Site counts", "POST", "", []string{evil, "Sec-Fetch-Site: cross-site", "Sec-Fetch-Site: same-origin"}, refuse},

		// Trusted origins, with and without Sec-Fetch-Site.
		{"exact origin, cross-site", "POST", "", []string{"Origin: https://app.example.com", "Sec-Fetch-Site: cross-site"}, pass},
		{"exact origin, same-site", "POST", "", []string{"Origin: https://app.example.com", "Sec-Fetch-Site: same-site"}, pass},
		{"exact origin, no Sec-Fetch-Site", "POST", "", []string{"Origin: https://app.example.com"}, pass},
		{"pattern", "POST", "", []string{"Origin: https://a.b.example.org", "Sec-Fetch-Site: cross-site"}, pass},
		{"pattern, not its apex", "POST", "", []string{"Origin: https://example.org", "Sec-Fetch-Site: cross-site"}, refuse},
		{"regexp", "POST", "", []string{"Origin: https://pr-42.preview.example.net", "Sec-Fetch-Site: cross-site"}, pass},
		{"regexp, no match", "POST", "", []string{"Origin: https://pr-x.preview.example.net", "Sec-Fetch-Site: cross-site"}, refuse},
		{"exact origin over plain http", "POST", "", []string{"Origin: http://app.example.com", "Sec-Fetch-Site: cross-site"}, refuse},
		{"exact origin with another port", "POST", "", []string{"Origin: https://app.example.com:8443"}, refuse},
		{"a look-alike", "POST", "", []string{"Origin: https://app.example.com.evil.example", "Sec-Fetch-Site: cross-site"}, refuse},
		{"two Origin lines of a trusted origin", "POST", "", []string{"Origin: https://app.example.com", "Origin: https://app.example.com"}, refuse},
		// A page with Referrer-Policy: no-referrer sends "null" on its form
		// POSTs, even from a trusted origin.
		{"null from a no-referrer page", "POST", "", []string{"Origin: null", "Sec-Fetch-Site: cross-site"}, refuse},
		{"null without Sec-Fetch-Site", "POST", "", []string{"Origin: null"}, refuse},

		// Without Sec-Fetch-Site: the Origin against the Host.
		{"no Origin: not a browser", "POST", "", nil, pass},
		{"an empty Origin", "POST", "", []string{"Origin: "}, pass},
		{"Origin names the Host", "POST", "", []string{"Origin: https://api.example.com"}, pass},
		{"Origin names the Host, plain http", "POST", "", []string{"Origin: http://api.example.com"}, pass},
		{"Origin names the Host in upper case", "POST", "", []string{"Origin: https://API.Example.com"}, pass},
		{"Origin and Host with a port", "POST", "api.example.com:8443", []string{"Origin: https://api.example.com:8443"}, pass},
		{"Origin without the Host's port", "POST", "api.example.com:8443", []string{"Origin: https://api.example.com"}, refuse},
		{"Origin with a port the Host lacks", "POST", "", []string{"Origin: https://api.example.com:8443"}, refuse},
		{"Origin with another port", "POST", "api.example.com:8443", []string{"Origin: https://api.example.com:9443"}, refuse},
		{"IPv6 Host", "POST", "[::1]:8443", []string{"Origin: https://[::1]:8443"}, pass},
		{"IPv6 Host, another port", "POST", "[::1]:8443", []string{"Origin: https://[::1]:9443"}, refuse},
		{"IPv6 Host without a port", "POST", "[::1]", []string{"Origin: http://[::1]"}, pass},
		{"IPv6 Host, another address", "POST", "[::1]:8443", []string{"Origin: https://[::2]:8443"}, refuse},
		{"another site", "POST", "", []string{evil}, refuse},
		{"a subdomain of the Host", "POST", "", []string{"Origin: https://x.api.example.com"}, refuse},
		{"Origin with a path", "POST", "", []string{"Origin: https://api.example.com/"}, refuse},
		{"Origin with user information", "POST", "", []string{"Origin: https://evil@api.example.com"}, refuse},
		{"Origin without a scheme", "POST", "", []string{"Origin: api.example.com"}, refuse},
		{"Origin with an empty host, no Host", "POST", "-", []string{"Origin: https://"}, refuse},
		{"two Origin lines, the first the Host's", "POST", "", []string{"Origin: https://api.example.com", evil}, refuse},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := request(tc.method, tc.header...)
			switch tc.host {
			case "":
				r.Host = "api.example.com" // httptest.NewRequest reads a CONNECT's URL otherwise
			case "-":
				r.Host = ""
			default:
				r.Host = tc.host
			}
			got := h.policy.checkCrossOrigin(r)
			if refused := got.reason != allowed; refused != tc.want {
				t.Errorf("%s %s, Host %s, %q: refused %v, want %v", tc.method, r.URL.Path, r.Host, tc.header, refused, tc.want)
			}
			if got.reason != allowed {
				if got.reason != refusedCrossOrigin {
					t.Errorf("reason %v, want refusedCrossOrigin", got.reason)
				}
				if want := r.Header.Get("Origin"); got.value != want {
					t.Errorf("refused value %q, want the Origin %q", got.value, want)
				}
			}
		})
	}
}

// TestServeHTTPCrossOriginProtection checks what a refused request gets and
// that it never reaches the next handler, and that a request that passes
// gets the answer it gets without the protection.
func TestServeHTTPCrossOriginProtection(t *testing.T) {
	const wantBody = "403 Forbidden: cross-origin request refused by the cors handler's cross_origin_protection\n"
	unprotected := strings.Replace(protected, `"cross_origin_protection": true`, `"cross_origin_protection": false`, 1)
	for _, tc := range []struct {
		name   string
		method string
		header []string
		refuse bool
	}{
		{"form POST from another site", "POST", []string{"Origin: https://evil.example", "Sec-Fetch-Site: cross-site"}, true},
		{"WebSocket from another site", "GET", []string{"Origin: https://evil.example", "Upgrade: websocket", "Connection: Upgrade"}, true},
		{"extended CONNECT from another site", "CONNECT", []string{"Origin: https://evil.example", ":protocol: websocket"}, true},
		{"PUT from the allowed origin", "PUT", []string{"Origin: https://app.example.com", "Sec-Fetch-Site: cross-site"}, false},
		{"POST from the same origin", "POST", []string{"Origin: https://api.example.com", "Sec-Fetch-Site: same-origin"}, false},
		{"GET from another site", "GET", []string{"Origin: https://evil.example", "Sec-Fetch-Site: cross-site"}, false},
		{"GET without Origin", "GET", nil, false},
		{"preflight from the allowed origin", "OPTIONS", []string{"Origin: https://app.example.com", "Access-Control-Request-Method: PUT"}, false},
		{"preflight from another site", "OPTIONS", []string{"Origin: https://evil.example", "Access-Control-Request-Method: PUT"}, false},
		{"plain OPTIONS", "OPTIONS", []string{"Origin: https://evil.example"}, false},
		{"POST without Origin", "POST", nil, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			serve := func(config string) (*httptest.ResponseRecorder, int, []string) {
				h, logs := provision(t, config)
				reached := 0
				next := caddyhttp.HandlerFunc(func(w http.ResponseWriter, r *http.Request) error {
					reached++
					w.Header().Set("X-App", "yes")
					_, err := io.WriteString(w, "ok")
					return err
				})
				w := httptest.NewRecorder()
				// A header an outer handler set: a refusal carries no
				// Access-Control-* header at all.
				w.Header().Set(headerAllowOrigin, "*")
				if err := h.ServeHTTP(w, request(tc.method, tc.header...), next); err != nil {
					t.Fatal(err)
				}
				var messages []string
				for _, e := range logs.All() {
					messages = append(messages, e.Message+": "+e.ContextMap()["reason"].(string))
				}
				return w, reached, messages
			}
			got, reached, logged := serve(protected)
			if !tc.refuse {
				want, wantReached, _ := serve(unprotected)
				if reached != wantReached || got.Code != want.Code || got.Body.String() != want.Body.String() ||
					!mapsEqual(corsHeaders(got.Header()), corsHeaders(want.Header())) {
					t.Errorf("with protection: reached the app %d times, %d %v %q\nwithout: %d times, %d %v %q",
						reached, got.Code, got.Header(), got.Body, wantReached, want.Code, want.Header(), want.Body)
				}
				for _, l := range logged {
					if strings.Contains(l, "cross_origin_protection") {
						t.Errorf("logged %q for a request that passed", l)
					}
				}
				return
			}
			if reached != 0 {
				t.Errorf("the next handler ran %d times", reached)
			}
			if got.Code != http.StatusForbidden || got.Body.String() != wantBody {
				t.Errorf("answered %d %q, want 403 %q", got.Code, got.Body, wantBody)
			}
			for name, want := range map[string]string{
				"Content-Type": "text/plain; charset=utf-8", "X-Content-Type-Options": "nosniff", "Content-Length": strconv.Itoa(len(wantBody)), "X-App": "",
			} {
				if v := got.Header().Get(name); v != want {
					t.Errorf("%s: %q, want %q", name, v, want)
				}
			}
			if h := corsHeaders(got.Header()); len(h) != 0 {
				t.Errorf("CORS headers on a refusal: %v", h)
			}
			wantLog := "cross-origin request refused with 403: cross-origin request refused by cross_origin_protection"
			if len(logged) != 1 || logged[0] != wantLog {
				t.Errorf("logged %q, want [%q]", logged, wantLog)
			}
		})
	}
}

// TestCrossOriginProtectionOff checks that without the option, requests
// that it would refuse reach the next handler.
func TestCrossOriginProtectionOff(t *testing.T) {
	h, _ := provision(t, strings.Replace(protected, `, "cross_origin_protection": true`, "", 1))
	for _, r := range []*http.Request{
		request("POST", "Origin: https://evil.example", "Sec-Fetch-Site: cross-site"),
		request("GET", "Origin: https://evil.example", "Upgrade: websocket"),
	} {
		reached := false
		next := caddyhttp.HandlerFunc(func(http.ResponseWriter, *http.Request) error { reached = true; return nil })
		if err := h.ServeHTTP(httptest.NewRecorder(), r, next); err != nil || !reached {
			t.Errorf("%s %v: reached %v, err %v", r.Method, r.Header, reached, err)
		}
	}
}

// TestCrossOriginProtectionAllocations checks that the protection adds no
// allocation: a request costs what it costs without it (one allocation),
// and so does a refusal.
func TestCrossOriginProtectionAllocations(t *testing.T) {
	on, _ := provision(t, protected)
	off, _ := provision(t, strings.Replace(protected, `, "cross_origin_protection": true`, "", 1))
	on.logger, off.logger = zap.NewNop(), zap.NewNop()
	next := caddyhttp.HandlerFunc(func(w http.ResponseWriter, r *http.Request) error {
		w.WriteHeader(http.StatusOK)
		return nil
	})
	w := &headerWriter{h: make(http.Header)}
	for _, tc := range []struct {
		name string
		req  *http.Request
	}{
		{"allowed POST", request("POST", "Origin: https://app.example.com", "Sec-Fetch-Site: cross-site")},
		{"same-origin POST", request("POST", "Origin: https://api.example.com")},
		{"GET", request("GET", "Origin: https://evil.example", "Sec-Fetch-Site: cross-site")},
		{"allowed WebSocket", request("GET", "Origin: https://app.example.com", "Upgrade: websocket")},
		{"refused POST", request("POST", "Origin: https://evil.example", "Sec-Fetch-Site: cross-site")},
		{"refused WebSocket", request("GET", "Origin: https://evil.example", "Upgrade: websocket")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			allocs := func(h *Handler) float64 {
				return testing.AllocsPerRun(100, func() {
					clear(w.h)
					_ = h.ServeHTTP(w, tc.req, next)
				})
			}
			if with, without := allocs(on), allocs(off); with != without || with != 1 {
				t.Errorf("allocations per request: %v with cross-origin protection, %v without; want 1 both", with, without)
			}
		})
	}
}

// TestCrossOriginProtectionObserved checks that a refusal is visible as
// the policy's are, with the reason cross_origin, and that a request that
// passes is observed as without the option.
func TestCrossOriginProtectionObserved(t *testing.T) {
	h, _ := provision(t, protected)
	for _, tc := range []struct {
		name string
		req  *http.Request
		want string // {http.cors.result}/{http.cors.reason}
	}{
		{"refused", request("POST", "Origin: https://evil.example", "Sec-Fetch-Site: cross-site"), "refused/cross_origin"},
		{"refused WebSocket", request("GET", "Origin: https://evil.example", "Upgrade: websocket"), "refused/cross_origin"},
		{"allowed origin", request("POST", "Origin: https://app.example.com", "Sec-Fetch-Site: cross-site"), "allowed/"},
		{"same origin", request("POST", "Origin: https://api.example.com"), "refused/origin"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, repl := caddyRequest(tc.req, false)
			if err := h.ServeHTTP(httptest.NewRecorder(), r, respond); err != nil {
				t.Fatal(err)
			}
			if got := repl.ReplaceKnown("{http.cors.result}/{http.cors.reason}", ""); got != tc.want {
				t.Errorf("%q, want %q", got, tc.want)
			}
		})
	}
}
