package cors

import (
	"bytes"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	neturl "net/url"
	"strings"
	"sync"
	"testing"
	"time"
	_ "unsafe" // for go:linkname

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig/httpcaddyfile"
	"github.com/caddyserver/caddy/v2/caddytest"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"
	"golang.org/x/net/websocket"
)

// Caddy v2.11.9 serves HTTP/2 through golang.org/x/net/http2, which
// supports WebSockets over HTTP/2 (RFC 8441 extended CONNECT) but, as of
// x/net v0.62.0, advertises it only when the process starts with
// GODEBUG=http2xconnect=1 (golang/go#71128); reverse_proxy then turns the
// extended CONNECT into an HTTP/1.1 upgrade to the upstream. The test
// binary turns it on as that setting does, before any server starts, so
// that the tests see what browsers do against such a Caddy.
//
//go:linkname http2DisableExtendedConnect golang.org/x/net/http2.disableExtendedConnectProtocol
var http2DisableExtendedConnect bool

func init() {
	http2DisableExtendedConnect = false

	caddy.RegisterModule(protectionSeen{})
	httpcaddyfile.RegisterHandlerDirective("protection_seen", func(h httpcaddyfile.Helper) (caddyhttp.MiddlewareHandler, error) {
		h.Next()
		seen := &protectionSeen{Label: reached}
		if h.NextArg() {
			seen.Label = h.Val()
		}
		if h.NextArg() {
			return nil, h.ArgErr()
		}
		return seen, nil
	})
}

// seenRequest is a request that a protectionSeen handler saw.
type seenRequest struct {
	method     string
	protoMajor int
	origin     string // the Origin lines, joined
	fetchSite  string // Sec-Fetch-Site
}

// seenLog holds, by label and path, the requests that protectionSeen
// handlers saw.
var seenLog struct {
	sync.Mutex
	requests map[[2]string][]seenRequest
}

// reached labels the protectionSeen handler after cors: the application.
const reached = "reached"

// seenAt returns the requests that the protectionSeen handlers labelled
// label saw at path.
func seenAt(label, path string) []seenRequest {
	seenLog.Lock()
	defer seenLog.Unlock()
	return seenLog.requests[[2]string{label, path}]
}

// reachedApplication returns the requests that reached the application
// at path.
func reachedApplication(path string) []seenRequest { return seenAt(reached, path) }

// protectionSeen is a test-only handler that records every request that
// reaches it under its label, then hands it on: after cors, labelled
// "reached", it is the application's view.
type protectionSeen struct {
	Label string `json:"label"`
}

func (protectionSeen) CaddyModule() caddy.ModuleInfo {
	return caddy.ModuleInfo{
		ID:  "http.handlers.protection_seen",
		New: func() caddy.Module { return new(protectionSeen) },
	}
}

func (s protectionSeen) ServeHTTP(w http.ResponseWriter, r *http.Request, next caddyhttp.Handler) error {
	seenLog.Lock()
	if seenLog.requests == nil {
		seenLog.requests = make(map[[2]string][]seenRequest)
	}
	key := [2]string{s.Label, r.URL.Path}
	seenLog.requests[key] = append(seenLog.requests[key], seenRequest{
		method: r.Method, protoMajor: r.ProtoMajor,
		origin: strings.Join(r.Header.Values("Origin"), ", "), fetchSite: r.Header.Get("Sec-Fetch-Site"),
	})
	seenLog.Unlock()
	return next.ServeHTTP(w, r)
}

// echoServer is a WebSocket server that echoes what it receives and
// counts the handshakes it accepted, by path.
type echoServer struct {
	*httptest.Server
	mu         sync.Mutex
	handshakes map[string]int
}

// startEchoServer starts an echoServer that accepts any Origin: deciding
// is the cors handler's job.
func startEchoServer(t *testing.T) *echoServer {
	t.Helper()
	e := &echoServer{handshakes: make(map[string]int)}
	e.Server = httptest.NewServer(websocket.Server{Handler: func(ws *websocket.Conn) {
		e.mu.Lock()
		e.handshakes[ws.Request().URL.Path]++
		e.mu.Unlock()
		_, _ = io.Copy(ws, ws)
	}})
	t.Cleanup(e.Close)
	return e
}

func (e *echoServer) handshakesAt(path string) int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.handshakes[path]
}

// protectedSites is the Caddyfile of the integration tests: a protected
// policy on plain http and on https, WebSockets proxied to echo, and a
// webhook route left out of the protection by a handle block before it,
// as the README shows.
func protectedSites(echo string) string {
	return testGlobalOptions("local_certs", "auto_https disable_redirects") + `
http://localhost:9080, https://localhost:9443 {
	handle /webhooks/* {
		route {
			protection_seen
			respond "webhook"
		}
	}
	handle {
		cors https://app.example.com https://*.example.org {
			origin_regexp ^https://pr-[0-9]+\.preview\.example\.net$
			credentials
			methods PUT
			cross_origin_protection
		}
		route {
			protection_seen
			reverse_proxy /ws/* ` + echo + `
			respond "ok"
		}
	}
}
`
}

const protectionRefusedBody = "403 Forbidden: cross-origin request refused by the cors handler's cross_origin_protection\n"

// TestIntegrationCrossOriginProtection sends writes through a real Caddy
// and checks, on the application's side, which reached it.
func TestIntegrationCrossOriginProtection(t *testing.T) {
	echo := startEchoServer(t)
	tester := caddytest.NewTester(t)
	tester.InitServer(protectedSites(strings.TrimPrefix(echo.URL, "http://")), "caddyfile")
	awaitCertificate(t, "localhost", "9443").Close()

	const (
		evil    = "Origin: https://evil.example"
		allowed = "Origin: https://app.example.com"
		cross   = "Sec-Fetch-Site: cross-site"
	)
	allowedCORS := map[string]string{"Access-Control-Allow-Origin": "https://app.example.com", "Access-Control-Allow-Credentials": "true", "Vary": "Origin"}
	varyOnly := map[string]string{"Vary": "Origin"}
	client := *tester.Client
	client.Jar = nil
	for _, base := range []string{"http://localhost:9080", "https://localhost:9443"} {
		self := "Origin: " + base
		scheme, _, _ := strings.Cut(base, ":")
		for _, tc := range []struct {
			probe
			reached bool
		}{
			{probe{name: "form POST from another site", method: "POST", header: []string{evil, cross}, wantStatus: 403, wantBody: protectionRefusedBody}, false},
			{probe{name: "POST from another site, no Sec-Fetch-Site", method: "POST", header: []string{evil}, wantStatus: 403}, false},
			{probe{name: "PUT from a same-site origin not listed", method: "PUT", header: []string{"Origin: https://other.example.com", "Sec-Fetch-Site: same-site"}, wantStatus: 403}, false},
			{probe{name: "null from a no-referrer page", method: "POST", header: []string{"Origin: null", cross}, wantStatus: 403}, false},
			{probe{name: "POST from the allowed origin", method: "POST", header: []string{allowed, cross}, wantStatus: 200, want: allowedCORS, wantBody: "ok"}, true},
			{probe{name: "POST from a pattern", method: "POST", header: []string{"Origin: https://a.example.org", cross}, wantStatus: 200, wantBody: "ok",
				want: map[string]string{"Access-Control-Allow-Origin": "https://a.example.org", "Access-Control-Allow-Credentials": "true", "Vary": "Origin"}}, true},
			{probe{name: "POST from a regexp", method: "POST", header: []string{"Origin: https://pr-7.preview.example.net", cross}, wantStatus: 200, wantBody: "ok",
				want: map[string]string{"Access-Control-Allow-Origin": "https://pr-7.preview.example.net", "Access-Control-Allow-Credentials": "true", "Vary": "Origin"}}, true},
			{probe{name: "POST from the same origin", method: "POST", header: []string{self, "Sec-Fetch-Site: same-origin"}, wantStatus: 200, want: varyOnly, wantBody: "ok"}, true},
			{probe{name: "POST from the Host, no Sec-Fetch-Site", method: "POST", header: []string{self}, wantStatus: 200, want: varyOnly, wantBody: "ok"}, true},
			{probe{name: "POST without Origin", method: "POST", wantStatus: 200, want: varyOnly, wantBody: "ok"}, true},
			{probe{name: "GET from another site", method: "GET", header: []string{evil, cross}, wantStatus: 200, want: varyOnly, wantBody: "ok"}, true},
			{probe{name: "preflight from another site", method: "OPTIONS", header: []string{evil, "Access-Control-Request-Method: PUT", cross},
				wantStatus: 403, want: map[string]string{"Vary": preflightVary}}, false},
		} {
			path := "/" + scheme + "/" + slug(tc.name)
			tc.url = base + path
			res := tc.runWith(t, &client)
			if res != nil && tc.wantStatus == 403 && tc.method != "OPTIONS" {
				if ct, nosniff := res.Header.Get("Content-Type"), res.Header.Get("X-Content-Type-Options"); ct != "text/plain; charset=utf-8" || nosniff != "nosniff" {
					t.Errorf("%s: Content-Type %q, X-Content-Type-Options %q", tc.name, ct, nosniff)
				}
			}
			if got := len(reachedApplication(path)) > 0; got != tc.reached {
				t.Errorf("%s %s: reached the application %v, want %v", base, tc.name, got, tc.reached)
			}
		}

		// The webhook route is outside the protected handle block.
		path := "/webhooks/" + scheme
		probe{name: "webhook from another site", method: "POST", url: base + path, header: []string{evil, cross}, wantStatus: 200, wantBody: "webhook"}.runWith(t, &client)
		if len(reachedApplication(path)) != 1 {
			t.Errorf("%s: the webhook did not reach the application", base)
		}
	}
}

// TestIntegrationCrossOriginProtectionWebSocket opens WebSockets through
// reverse_proxy to an echo server, over HTTP/1.1 and over HTTP/2 extended
// CONNECT, and checks which handshakes reached the application and the
// echo server.
func TestIntegrationCrossOriginProtectionWebSocket(t *testing.T) {
	echo := startEchoServer(t)
	tester := caddytest.NewTester(t)
	tester.InitServer(protectedSites(strings.TrimPrefix(echo.URL, "http://")), "caddyfile")
	awaitCertificate(t, "localhost", "9443").Close()

	for _, tc := range []struct {
		name    string
		origin  string
		site    string // Sec-Fetch-Site, "" for none
		allowed bool
	}{
		{"another site", "https://evil.example", "", false},
		{"another site, cross-site", "https://evil.example", "cross-site", false},
		{"a same-site origin not listed", "https://other.localhost", "same-site", false},
		{"null", "null", "", false},
		{"the allowed origin", "https://app.example.com", "", true},
		{"the allowed origin, cross-site", "https://app.example.com", "cross-site", true},
		{"a pattern", "https://a.b.example.org", "", true},
		{"the same origin, as Chromium sends it", "SELF", "", true},
		{"the same origin, same-origin", "SELF", "same-origin", true},
	} {
		for _, transport := range []struct {
			name  string
			proto int
			base  string
			dial  func(t *testing.T, url, origin, site string) error
		}{
			{"HTTP/1.1", 1, "http://localhost:9080", dialWebSocketHTTP1},
			{"HTTP/1.1 over TLS", 1, "https://localhost:9443", dialWebSocketHTTP1},
			{"HTTP/2 extended CONNECT", 2, "https://localhost:9443", dialWebSocketHTTP2},
		} {
			t.Run(transport.name+"/"+tc.name, func(t *testing.T) {
				path := "/ws/" + slug(transport.name) + "/" + slug(tc.name)
				origin := tc.origin
				if origin == "SELF" {
					origin = transport.base
				}
				err := transport.dial(t, transport.base+path, origin, tc.site)
				if tc.allowed && err != nil {
					t.Errorf("handshake from %s refused: %v", origin, err)
				}
				if !tc.allowed && !errors.Is(err, errHandshakeRefused) {
					t.Errorf("handshake from %s: %v, want it refused with 403", origin, err)
				}
				seen := reachedApplication(path)
				want := 0
				if tc.allowed {
					want = 1
				}
				if len(seen) != want || echo.handshakesAt(path) != want {
					t.Errorf("the application saw %v and the echo server %d handshakes, want %d", seen, echo.handshakesAt(path), want)
				}
				if len(seen) == 1 && seen[0].protoMajor != transport.proto {
					t.Errorf("the handshake came over HTTP/%d, want HTTP/%d", seen[0].protoMajor, transport.proto)
				}
			})
		}
	}
}

// errHandshakeRefused is what the dial functions return for a handshake
// answered with the protection's 403.
var errHandshakeRefused = errors.New("handshake refused with 403 by cross_origin_protection")

// dialWebSocketHTTP1 opens a WebSocket over HTTP/1.1, sends a message and
// reads its echo.
func dialWebSocketHTTP1(t *testing.T, url, origin, site string) error {
	t.Helper()
	wsURL := "ws" + strings.TrimPrefix(url, "http")
	config, err := websocket.NewConfig(wsURL, "http://unused")
	if err != nil {
		t.Fatal(err)
	}
	// The client writes config.Origin as the Origin header: an opaque URL
	// comes out as written, "null" too.
	config.Origin = &neturl.URL{Opaque: origin}
	config.TlsConfig = &tls.Config{ServerName: "localhost", InsecureSkipVerify: true} //nolint:gosec // the test CA
	if site != "" {
		config.Header.Set("Sec-Fetch-Site", site)
	}
	ws, err := websocket.DialConfig(config)
	if err != nil {
		var de *websocket.DialError
		if errors.As(err, &de) && errors.Is(de.Err, websocket.ErrBadStatus) {
			// The client does not tell the status: what reached the
			// application tells the refusal apart.
			return errHandshakeRefused
		}
		return err
	}
	defer ws.Close()
	if _, err := ws.Write([]byte("hello")); err != nil {
		return err
	}
	buf := make([]byte, 5)
	if _, err := io.ReadFull(ws, buf); err != nil || string(buf) != "hello" {
		return fmt.Errorf("echo %q, %v", buf, err)
	}
	return nil
}

// dialWebSocketHTTP2 opens a WebSocket over HTTP/2 with an extended CONNECT
// (RFC 8441), as Firefox does, writing the frames itself: it checks that
// the server advertises SETTINGS_ENABLE_CONNECT_PROTOCOL, sends the
// HEADERS frame, and, once accepted, one masked text frame whose echo it
// reads.
func dialWebSocketHTTP2(t *testing.T, url, origin, site string) error {
	t.Helper()
	authority, path, _ := strings.Cut(strings.TrimPrefix(url, "https://"), "/")
	conn, err := tls.Dial("tcp", "127.0.0.1:9443", &tls.Config{ServerName: "localhost", NextProtos: []string{"h2"}, InsecureSkipVerify: true}) //nolint:gosec // the test CA
	if err != nil {
		return err
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	if p := conn.ConnectionState().NegotiatedProtocol; p != "h2" {
		t.Fatalf("negotiated %q, not h2", p)
	}
	if _, err := io.WriteString(conn, http2.ClientPreface); err != nil {
		return err
	}
	fr := http2.NewFramer(conn, conn)
	if err := fr.WriteSettings(); err != nil {
		return err
	}
	// The server's SETTINGS come first.
	f, err := fr.ReadFrame()
	if err != nil {
		return err
	}
	settings, ok := f.(*http2.SettingsFrame)
	if !ok {
		return fmt.Errorf("first frame %v, want SETTINGS", f)
	}
	if v, ok := settings.Value(http2.SettingEnableConnectProtocol); !ok || v != 1 {
		t.Fatalf("the server does not advertise SETTINGS_ENABLE_CONNECT_PROTOCOL: %v", settings)
	}
	if err := fr.WriteSettingsAck(); err != nil {
		return err
	}

	var block bytes.Buffer
	enc := hpack.NewEncoder(&block)
	fields := [][2]string{
		{":method", "CONNECT"}, {":protocol", "websocket"}, {":scheme", "https"}, {":path", "/" + path},
		{":authority", authority}, {"origin", origin}, {"sec-websocket-version", "13"},
	}
	if site != "" {
		fields = append(fields, [2]string{"sec-fetch-site", site})
	}
	for _, f := range fields {
		if err := enc.WriteField(hpack.HeaderField{Name: f[0], Value: f[1]}); err != nil {
			return err
		}
	}
	if err := fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 1, BlockFragment: block.Bytes(), EndHeaders: true}); err != nil {
		return err
	}

	// The answer: HEADERS with :status, then, if refused, the body.
	status := ""
	var body bytes.Buffer
	dec := hpack.NewDecoder(4096, func(f hpack.HeaderField) {
		if f.Name == ":status" {
			status = f.Value
		}
	})
	for {
		f, err := fr.ReadFrame()
		if err != nil {
			return fmt.Errorf("reading the answer: %v", err)
		}
		switch f := f.(type) {
		case *http2.HeadersFrame:
			if _, err := dec.Write(f.HeaderBlockFragment()); err != nil {
				return err
			}
			if status == "200" {
				return echoOverStream(fr, 1)
			}
			if f.StreamEnded() {
				return fmt.Errorf("answered %s without a body", status)
			}
		case *http2.DataFrame:
			body.Write(f.Data())
			if f.StreamEnded() {
				if status == "403" && body.String() == protectionRefusedBody {
					return errHandshakeRefused
				}
				return fmt.Errorf("answered %s %q", status, body.String())
			}
		case *http2.RSTStreamFrame:
			return fmt.Errorf("stream reset: %v", f.ErrCode)
		case *http2.GoAwayFrame:
			return fmt.Errorf("GOAWAY: %v", f.ErrCode)
		}
	}
}

// echoOverStream sends a masked WebSocket text frame "hello" on an
// accepted extended CONNECT stream and reads the echo's frame.
func echoOverStream(fr *http2.Framer, stream uint32) error {
	mask := [4]byte{1, 2, 3, 4}
	frame := []byte{0x81, 0x80 | 5, mask[0], mask[1], mask[2], mask[3]}
	for i, c := range []byte("hello") {
		frame = append(frame, c^mask[i%4])
	}
	if err := fr.WriteData(stream, false, frame); err != nil {
		return err
	}
	var got []byte
	for len(got) < 7 {
		f, err := fr.ReadFrame()
		if err != nil {
			return fmt.Errorf("reading the echo: %v", err)
		}
		switch f := f.(type) {
		case *http2.DataFrame:
			got = append(got, f.Data()...)
		case *http2.RSTStreamFrame:
			return fmt.Errorf("stream reset: %v", f.ErrCode)
		}
	}
	if want := []byte{0x81, 5, 'h', 'e', 'l', 'l', 'o'}; !bytes.Equal(got[:7], want) {
		return fmt.Errorf("echo frame %x, want %x", got, want)
	}
	return nil
}
