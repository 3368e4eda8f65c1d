package cors

import (
	"bufio"
	"context"
	"crypto/tls"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2/caddytest"
)

// The handler owns the CORS response headers and its Vary names on every
// response of the requests it decides, whatever the handlers inside it
// write, and however the response travels.

// deferredHeaderSites puts a cors directive next to header directives that
// a user migrating from a header recipe may keep, one site each: their
// deferred operations run when the response is committed, inside cors in
// the default directive order.
const deferredHeaderSites = `
(decided) {
	cors https://app.example.com {
		methods PUT
	}
	respond /forbidden "no" 403
	respond "ok"
}

http://star.localhost:9080 {
	header >Access-Control-Allow-Origin "*"
	import decided
}

http://novary.localhost:9080 {
	header -Vary
	import decided
}

http://replaced.localhost:9080 {
	header >Vary X-Deferred
	import decided
}
`

// TestIntegrationDeferredHeaderOperations checks that deferred header
// operations of the same site never override the handler's answer: not on
// an allowed, refused or absent Origin, not on a preflight, not on a 4xx
// from respond.
func TestIntegrationDeferredHeaderOperations(t *testing.T) {
	tester := caddytest.NewTester(t)
	tester.InitServer(testGlobals+deferredHeaderSites, "caddyfile")

	allowed := map[string]string{"Access-Control-Allow-Origin": "https://app.example.com", "Vary": "Origin"}
	refused := map[string]string{"Vary": "Origin"}
	preflight := map[string]string{"Access-Control-Allow-Origin": "https://app.example.com", "Access-Control-Allow-Methods": "PUT",
		"Vary": preflightVary}
	for _, site := range []struct {
		host string
		vary string // what the site's own header operations leave of Vary before the handler merges Origin
	}{
		{"star.localhost", ""},
		{"novary.localhost", ""},
		{"replaced.localhost", "X-Deferred | "},
	} {
		t.Run(site.host, func(t *testing.T) {
			base := "http://" + site.host + ":9080"
			withVary := func(m map[string]string) map[string]string {
				out := make(map[string]string, len(m))
				for k, v := range m {
					out[k] = v
				}
				if v, ok := out["Vary"]; ok && v == "Origin" {
					out["Vary"] = site.vary + v
				}
				return out
			}
			for _, p := range []probe{
				{name: "allowed origin", method: "GET", url: base + "/", header: []string{"Origin: https://app.example.com"},
					wantStatus: 200, want: withVary(allowed), wantBody: "ok"},
				{name: "refused origin", method: "GET", url: base + "/", header: []string{"Origin: https://evil.example"},
					wantStatus: 200, want: withVary(refused), wantBody: "ok"},
				{name: "no Origin", method: "GET", url: base + "/", wantStatus: 200, want: withVary(refused), wantBody: "ok"},
				{name: "403 from respond, allowed origin", method: "GET", url: base + "/forbidden", header: []string{"Origin: https://app.example.com"},
					wantStatus: 403, want: withVary(allowed), wantBody: "no"},
				{name: "403 from respond, refused origin", method: "GET", url: base + "/forbidden", header: []string{"Origin: https://evil.example"},
					wantStatus: 403, want: withVary(refused), wantBody: "no"},
				{name: "allowed preflight", method: "OPTIONS", url: base + "/", wantStatus: 204, want: preflight,
					header: []string{"Origin: https://app.example.com", "Access-Control-Request-Method: PUT"}},
				{name: "refused preflight", method: "OPTIONS", url: base + "/", wantStatus: 403, want: map[string]string{"Vary": preflightVary},
					header: []string{"Origin: https://evil.example", "Access-Control-Request-Method: PUT"}},
			} {
				p.run(t, tester)
			}
		})
	}
}

// varySites proxies to an upstream that sends its own Vary lines, over
// HTTP/1.1 and h2c on :9080 and HTTP/2 over TLS on :9443.
const varySites = `
(proxied) {
	cors https://app.example.com
	reverse_proxy localhost:9081
}

http://localhost:9080 {
	import proxied
}

https://localhost:9443 {
	tls internal
	import proxied
}

http://localhost:9081 {
	handle /accept-encoding {
		header Vary "Accept-Encoding, Origin"
		respond "upstream"
	}
	handle /lower-case {
		header Vary origin
		respond "upstream"
	}
	handle /star {
		header Vary *
		respond "upstream"
	}
	handle /not-modified {
		header Vary Origin
		header ETag "\"v1\""
		respond 304
	}
}
`

// clientFor returns a client that speaks only the given protocol, dialling
// 127.0.0.1 whatever the host, and trusting any certificate.
func clientFor(proto string) *http.Client {
	var protocols http.Protocols
	switch proto {
	case "HTTP/1.1":
		protocols.SetHTTP1(true)
	case "HTTP/2":
		protocols.SetHTTP2(true)
	case "h2c":
		protocols.SetUnencryptedHTTP2(true)
	}
	dialer := &net.Dialer{Timeout: 5 * time.Second}
	return &http.Client{
		Timeout: 10 * time.Second,
		Transport: &http.Transport{
			Protocols: &protocols,
			DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
				_, port, _ := net.SplitHostPort(addr)
				return dialer.DialContext(ctx, network, "127.0.0.1:"+port)
			},
			TLSClientConfig: &tls.Config{InsecureSkipVerify: true}, //nolint:gosec // the test server's certificate
		},
	}
}

// TestIntegrationVaryOnce checks that every Vary name appears once across
// all Vary lines when an upstream sends names the handler merged too, and
// that "Vary: *" stands alone, over HTTP/1.1, HTTP/2 and h2c.
func TestIntegrationVaryOnce(t *testing.T) {
	tester := caddytest.NewTester(t)
	tester.InitServer(testGlobalOptions("servers :9080 {\n\tprotocols h1 h2c\n}")+varySites, "caddyfile")
	awaitCertificate(t, "localhost", "9443").Close()

	allowed := func(vary string) map[string]string {
		return map[string]string{"Access-Control-Allow-Origin": "https://app.example.com", "Vary": vary}
	}
	refused := func(vary string) map[string]string { return map[string]string{"Vary": vary} }
	for _, proto := range []string{"HTTP/1.1", "HTTP/2", "h2c"} {
		t.Run(proto, func(t *testing.T) {
			client := clientFor(proto)
			defer client.CloseIdleConnections()
			base, wantMajor := "http://localhost:9080", 2
			switch proto {
			case "HTTP/1.1":
				wantMajor = 1
			case "HTTP/2":
				base = "https://localhost:9443"
			}
			for _, c := range []struct {
				name, path, origin string
				wantStatus         int
				want               map[string]string
			}{
				{"upstream Vary: Accept-Encoding, Origin", "/accept-encoding", "https://app.example.com", 200, allowed("Origin, Accept-Encoding")},
				{"upstream Vary: Accept-Encoding, Origin, refused origin", "/accept-encoding", "https://evil.example", 200, refused("Origin, Accept-Encoding")},
				{"upstream Vary: Accept-Encoding, Origin, no Origin", "/accept-encoding", "", 200, refused("Origin, Accept-Encoding")},
				{"upstream Vary: origin", "/lower-case", "https://app.example.com", 200, allowed("Origin")},
				{"upstream Vary: *", "/star", "https://app.example.com", 200, allowed("*")},
				{"upstream Vary: *, no Origin", "/star", "", 200, refused("*")},
				{"upstream 304 with Vary: Origin", "/not-modified", "https://app.example.com", 304, allowed("Origin")},
			} {
				p := probe{name: c.name, method: "GET", url: base + c.path, wantStatus: c.wantStatus, want: c.want}
				if c.origin != "" {
					p.header = []string{"Origin: " + c.origin}
				}
				if res := p.runWith(t, client); res != nil && res.ProtoMajor != wantMajor {
					t.Errorf("%s: answered over %s, want %s", p.name, res.Proto, proto)
				}
			}
		})
	}
}

// twoHandlersJSON has two cors handlers in one route, as a JSON
// configuration may: the second never decides, and says so once in the
// log, which goes to logFile.
func twoHandlersJSON(logFile string) string {
	return `{
	"admin": {"listen": "localhost:2999"},
	"logging": {"logs": {"default": {"writer": {"output": "file", "filename": "` + logFile + `"}, "include": ["http.handlers.cors"]}}},
	"apps": {"http": {"grace_period": 1, "servers": {"srv0": {"listen": [":9080"], "routes": [{"handle": [
		{"handler": "cors", "allowed_origins": ["https://first.example"]},
		{"handler": "cors", "allowed_origins": ["https://second.example"], "allowed_methods": ["PUT"]},
		{"handler": "static_response", "body": "ok"}
	]}]}}}}
}`
}

// TestIntegrationSecondHandler checks that in a JSON configuration with two
// cors handlers for the same requests, the first decides every request and
// the second logs one warning, however many requests reach it.
func TestIntegrationSecondHandler(t *testing.T) {
	logFile := filepath.Join(t.TempDir(), "cors.log")
	tester := caddytest.NewTester(t)
	tester.InitServer(twoHandlersJSON(logFile), "json")
	for range 3 {
		for _, p := range []probe{
			{name: "the first's origin", method: "GET", url: "http://localhost:9080/", header: []string{"Origin: https://first.example"},
				wantStatus: 200, want: map[string]string{"Access-Control-Allow-Origin": "https://first.example", "Vary": "Origin"}, wantBody: "ok"},
			{name: "the second's origin", method: "GET", url: "http://localhost:9080/", header: []string{"Origin: https://second.example"},
				wantStatus: 200, want: map[string]string{"Vary": "Origin"}, wantBody: "ok"},
			{name: "the second's preflight", method: "OPTIONS", url: "http://localhost:9080/", wantStatus: 403,
				header: []string{"Origin: https://second.example", "Access-Control-Request-Method: PUT"}, want: map[string]string{"Vary": preflightVary}},
		} {
			p.run(t, tester)
		}
	}
	warnings := 0
	f, err := os.Open(logFile)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for lines := bufio.NewScanner(f); lines.Scan(); {
		line := lines.Text()
		if strings.Contains(line, `"level":"warn"`) && strings.Contains(line, "another cors handler already decided") {
			warnings++
			for _, want := range []string{`"this_handler":"origins: https://second.example"`, `"first_handler":"origins: https://first.example"`} {
				if !strings.Contains(line, want) {
					t.Errorf("the warning %s does not hold %s", line, want)
				}
			}
		}
	}
	if warnings != 1 {
		t.Errorf("%d warnings about the second handler after 6 requests reached it, want 1", warnings)
	}
}
