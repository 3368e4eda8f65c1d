package cors

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/caddyserver/caddy/v2/caddytest"
)

// The integration tests run a real Caddy in this process through caddytest,
// whose admin endpoint is fixed at localhost:2999: they live in this one
// package and never run in parallel, since each load replaces the whole
// configuration. Under -short, caddytest skips them.

// testGlobals are the global options of every test Caddyfile.
var testGlobals = testGlobalOptions()

// testGlobalOptions writes the global options of a test Caddyfile: the
// fixed admin endpoint and ports, no change to the system's trust store, and
// no logs, which would flood the output of go test; then the extra lines.
func testGlobalOptions(extra ...string) string {
	return "{\n\tskip_install_trust\n\tadmin localhost:2999\n\thttp_port 9080\n\thttps_port 9443\n\tgrace_period 1ns\n" +
		"\tlog {\n\t\toutput discard\n\t}\n" + indent(strings.Join(extra, "\n"), "\t") + "\n}\n"
}

// testLogging is testGlobalOptions's "no logs" for a JSON configuration.
const testLogging = `"logging": {"logs": {"default": {"writer": {"output": "discard"}}}}`

// probe is one request to a running Caddy and what must come back.
type probe struct {
	name       string
	method     string
	url        string
	header     []string          // "Name: value" lines
	wantStatus int               //
	want       map[string]string // every Access-Control-* and Vary header, as corsHeaders returns them
	wantBody   string            // if not empty
}

// run sends the probe without following redirects and checks the answer.
func (p probe) run(t *testing.T, tester *caddytest.Tester) {
	t.Helper()
	client := *tester.Client
	client.Jar = nil
	p.runWith(t, &client)
}

// runWith sends the probe with client, without following redirects, checks
// the answer and returns it, or nil if it could not be sent.
func (p probe) runWith(t *testing.T, client *http.Client) *http.Response {
	t.Helper()
	req, err := http.NewRequest(p.method, p.url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range p.header {
		name, value, _ := strings.Cut(l, ":")
		req.Header.Add(name, strings.TrimSpace(value))
	}
	noRedirects := *client
	noRedirects.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	res, err := noRedirects.Do(req)
	if err != nil {
		t.Errorf("%s: %v", p.name, err)
		return nil
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != p.wantStatus {
		t.Errorf("%s: status %d, want %d (body %q)", p.name, res.StatusCode, p.wantStatus, body)
	}
	if got := corsHeaders(res.Header); !mapsEqual(got, p.want) {
		t.Errorf("%s: CORS headers\n\t%v\nwant\n\t%v", p.name, got, p.want)
	}
	if p.wantBody != "" && string(body) != p.wantBody {
		t.Errorf("%s: body %q, want %q", p.name, body, p.wantBody)
	}
	return res
}

// apiSites is a policy in front of basic_auth, redir, reverse_proxy to an
// upstream that sets its own CORS headers, reverse_proxy to no upstream, and
// error responses; :9080 writes errors plainly, :9082 through handle_errors.
const apiSites = `
(api) {
	cors https://app.example.com https://*.app.example.com {
		credentials
		methods PUT DELETE
		headers Content-Type X-Api-Key
		expose X-Request-Id
		max_age 10m
	}
	redir /old /new
	basic_auth /private/* {
		alice $2a$04$QlxIxk6EcS1bJHSAQiJ3TOy1QGcGfSI9/BeuYa/N8T1F2I4HIa0Du
	}
	handle /private/* {
		respond "secret" 200
	}
	handle /proxy/* {
		reverse_proxy localhost:9081
	}
	handle /dead/* {
		reverse_proxy localhost:9099
	}
	handle /missing {
		error "nothing here" 404
	}
	handle {
		respond "ok" 200
	}
}

http://localhost:9081 {
	header Access-Control-Allow-Origin *
	header Access-Control-Allow-Methods "GET, POST, PATCH"
	header Access-Control-Allow-Headers *
	header Access-Control-Max-Age 86400
	header Access-Control-Expose-Headers X-Upstream-Secret
	header Vary Accept-Encoding
	respond "upstream" 200
}

http://localhost:9080 {
	import api
}

http://localhost:9082 {
	import api
	handle_errors {
		respond "error {err.status_code}" {err.status_code}
	}
}
`

func TestIntegrationCaddyfile(t *testing.T) {
	tester := caddytest.NewTester(t)
	tester.InitServer(testGlobals+apiSites, "caddyfile")

	allowed := map[string]string{
		"Access-Control-Allow-Origin": "https://app.example.com", "Access-Control-Allow-Credentials": "true",
		"Access-Control-Expose-Headers": "X-Request-Id", "Vary": "Origin",
	}
	preflight := map[string]string{
		"Access-Control-Allow-Origin": "https://app.example.com", "Access-Control-Allow-Credentials": "true",
		"Access-Control-Allow-Methods": "PUT", "Access-Control-Allow-Headers": "content-type,x-api-key",
		"Access-Control-Max-Age": "600", "Vary": preflightVary,
	}
	origin := "Origin: https://app.example.com"
	askPut := []string{origin, "Access-Control-Request-Method: PUT", "Access-Control-Request-Headers: content-type,x-api-key"}
	auth := "Authorization: Basic YWxpY2U6aHVudGVyMg==" // alice:hunter2

	for _, base := range []string{"http://localhost:9080", "http://localhost:9082"} {
		t.Run(base, func(t *testing.T) {
			for _, p := range []probe{
				{name: "allowed preflight", method: "OPTIONS", url: base + "/things/1", header: askPut, wantStatus: 204, want: preflight},
				{name: "preflight in front of basic_auth", method: "OPTIONS", url: base + "/private/x", header: askPut, wantStatus: 204, want: preflight},
				{name: "preflight in front of redir", method: "OPTIONS", url: base + "/old", header: askPut, wantStatus: 204, want: preflight},
				{name: "refused preflight", method: "OPTIONS", url: base + "/things/1", wantStatus: 403, want: map[string]string{"Vary": preflightVary},
					header: []string{"Origin: https://evil.example", "Access-Control-Request-Method: PUT"}},
				{name: "plain OPTIONS reaches the route", method: "OPTIONS", url: base + "/things/1", header: []string{origin}, wantStatus: 200, wantBody: "ok",
					want: map[string]string{"Access-Control-Allow-Origin": "https://app.example.com", "Access-Control-Allow-Credentials": "true",
						"Access-Control-Expose-Headers": "X-Request-Id", "Vary": "Origin, Access-Control-Request-Method"}},
				{name: "actual request", method: "PUT", url: base + "/things/1", header: []string{"Origin: https://eu.app.example.com"}, wantStatus: 200,
					want: map[string]string{"Access-Control-Allow-Origin": "https://eu.app.example.com", "Access-Control-Allow-Credentials": "true",
						"Access-Control-Expose-Headers": "X-Request-Id", "Vary": "Origin"}},
				{name: "401 from basic_auth", method: "GET", url: base + "/private/x", header: []string{origin}, wantStatus: 401, want: allowed},
				{name: "authorized", method: "GET", url: base + "/private/x", header: []string{origin, auth}, wantStatus: 200, want: allowed, wantBody: "secret"},
				{name: "redirect", method: "GET", url: base + "/old", header: []string{origin}, wantStatus: 302, want: allowed},
				{name: "404", method: "GET", url: base + "/missing", header: []string{origin}, wantStatus: 404, want: allowed},
				{name: "502 from a dead upstream", method: "GET", url: base + "/dead/x", header: []string{origin}, wantStatus: 502, want: allowed},
				{name: "upstream CORS replaced", method: "GET", url: base + "/proxy/x", header: []string{origin}, wantStatus: 200, wantBody: "upstream",
					want: map[string]string{"Access-Control-Allow-Origin": "https://app.example.com", "Access-Control-Allow-Credentials": "true",
						"Access-Control-Expose-Headers": "X-Request-Id", "Vary": "Origin | Accept-Encoding"}},
				{name: "upstream CORS removed for a disallowed origin", method: "GET", url: base + "/proxy/x", header: []string{"Origin: https://evil.example"},
					wantStatus: 200, want: map[string]string{"Vary": "Origin | Accept-Encoding"}},
				{name: "upstream CORS removed without Origin", method: "GET", url: base + "/proxy/x",
					wantStatus: 200, want: map[string]string{"Vary": "Origin | Accept-Encoding"}},
				{name: "disallowed origin still reaches the route", method: "POST", url: base + "/things", header: []string{"Origin: https://app.example.com.evil.example"},
					wantStatus: 200, want: map[string]string{"Vary": "Origin"}, wantBody: "ok"},
				{name: "no Origin", method: "GET", url: base + "/things", wantStatus: 200, want: map[string]string{"Vary": "Origin"}},
			} {
				p.run(t, tester)
			}
		})
	}
	// handle_errors writes the error page with the CORS headers.
	probe{name: "handle_errors page", method: "GET", url: "http://localhost:9082/missing", header: []string{origin},
		wantStatus: 404, want: allowed, wantBody: "error 404"}.run(t, tester)
}

// publicJSON is a static policy in JSON: any origin without credentials, in
// front of an upstream that answers with its own origin, and a route that
// answers its preflights itself.
const publicJSON = `{
	"admin": {"listen": "localhost:2999"},
	` + testLogging + `,
	"apps": {"http": {"grace_period": 1, "servers": {
		"upstream": {"listen": [":9081"], "routes": [{"handle": [
			{"handler": "headers", "response": {"set": {"Access-Control-Allow-Origin": ["https://a.example"], "Access-Control-Allow-Credentials": ["true"]}}},
			{"handler": "static_response", "body": "upstream"}
		]}]},
		"api": {"listen": [":9080"], "routes": [
			{"match": [{"path": ["/passthrough"]}], "handle": [
				{"handler": "cors", "allowed_origins": ["https://a.example"], "allowed_methods": ["PUT"], "options_passthrough": true},
				{"handler": "static_response", "status_code": 200, "body": "options handled here"}
			], "terminal": true},
			{"handle": [
				{"handler": "cors", "allowed_origins": ["*"], "allowed_methods": ["*"], "allowed_headers": ["*"], "exposed_headers": ["*"], "max_age": 0},
				{"handler": "reverse_proxy", "upstreams": [{"dial": "localhost:9081"}]}
			]}
		]}
	}}}
}`

func TestIntegrationJSON(t *testing.T) {
	tester := caddytest.NewTester(t)
	tester.InitServer(publicJSON, "json")
	star := map[string]string{"Access-Control-Allow-Origin": "*", "Access-Control-Expose-Headers": "*"}
	for _, p := range []probe{
		{name: "static answer without Origin", method: "GET", url: "http://localhost:9080/", wantStatus: 200, want: star, wantBody: "upstream"},
		{name: "static answer with Origin", method: "GET", url: "http://localhost:9080/", header: []string{"Origin: https://b.example"}, wantStatus: 200, want: star},
		{name: "static answer to null", method: "GET", url: "http://localhost:9080/", header: []string{"Origin: null"}, wantStatus: 200, want: star},
		{name: "preflight", method: "OPTIONS", url: "http://localhost:9080/x", wantStatus: 204,
			header: []string{"Origin: https://b.example", "Access-Control-Request-Method: PATCH", "Access-Control-Request-Headers: x-custom"},
			want: map[string]string{"Access-Control-Allow-Origin": "*", "Access-Control-Allow-Methods": "PATCH", "Access-Control-Allow-Headers": "x-custom",
				"Access-Control-Max-Age": "0", "Vary": preflightVary}},
		{name: "passthrough of an allowed preflight", method: "OPTIONS", url: "http://localhost:9080/passthrough", wantStatus: 200, wantBody: "options handled here",
			header: []string{"Origin: https://a.example", "Access-Control-Request-Method: PUT"},
			want:   map[string]string{"Access-Control-Allow-Origin": "https://a.example", "Access-Control-Allow-Methods": "PUT", "Vary": preflightVary}},
		{name: "passthrough of a refused preflight", method: "OPTIONS", url: "http://localhost:9080/passthrough", wantStatus: 200, wantBody: "options handled here",
			header: []string{"Origin: https://b.example", "Access-Control-Request-Method: PUT"},
			want:   map[string]string{"Vary": preflightVary}},
	} {
		p.run(t, tester)
	}
}

// TestIntegrationLoad changes the policy through the admin API's /load, and
// checks that a refused policy leaves the running one in place.
func TestIntegrationLoad(t *testing.T) {
	site := func(policy string) string {
		return testGlobals + "http://localhost:9080 {\n\tcors " + policy + "\n\trespond \"ok\" 200\n}\n"
	}
	get := func(origin string, want map[string]string) probe {
		return probe{name: "GET from " + origin, method: "GET", url: "http://localhost:9080/", header: []string{"Origin: " + origin}, wantStatus: 200, want: want}
	}
	varyOnly := map[string]string{"Vary": "Origin"}

	tester := caddytest.NewTester(t)
	tester.InitServer(site("https://a.example"), "caddyfile")
	get("https://a.example", map[string]string{"Access-Control-Allow-Origin": "https://a.example", "Vary": "Origin"}).run(t, tester)
	get("https://b.example", varyOnly).run(t, tester)

	tester.InitServer(site("https://b.example"), "caddyfile")
	get("https://a.example", varyOnly).run(t, tester)
	get("https://b.example", map[string]string{"Access-Control-Allow-Origin": "https://b.example", "Vary": "Origin"}).run(t, tester)

	// An insecure and malformed policy in JSON, which no Caddyfile check
	// saw: Provision and Validate refuse it, and the admin API stays able
	// to load the next config. Its problems come on one line, which the
	// JSON answer carries without escapes. A max_age in seconds is refused
	// when the handler's JSON is decoded.
	for _, tc := range []struct {
		handler string
		want    []string
	}{
		{`"allowed_origins": ["*", "null", "https://*.["], "allow_credentials": true`, []string{
			`loading module 'cors': http.handlers.cors: invalid configuration: 3 problems in the CORS policy: (1) allowed_origins: "*" cannot be combined with credentials`,
			`; (2) allowed_origins: "null" can never be allowed`,
			`; (3) allowed_origins: "https://*.[" has an IPv6 address without its closing "]"`,
		}},
		{`"allowed_origins": ["*"], "max_age": 600`, []string{
			`loading module 'cors': decoding module config: http.handlers.cors: max_age: 600 is read as 600 nanoseconds: ` +
				`a JSON duration is an integer number of nanoseconds or a string with a unit; for 600 seconds, write "600s" or "10m"`,
		}},
		{`"allowed_origins": ["*"], "max_age": "600"`, []string{
			`loading module 'cors': decoding module config: http.handlers.cors: max_age: "600" has no unit: ` +
				`a JSON duration is an integer number of nanoseconds or a string with a unit; for 600 seconds, write "600s" or "10m"`,
		}},
	} {
		refused := `{"admin": {"listen": "localhost:2999"}, "apps": {"http": {"servers": {"srv0": {"listen": [":9080"], "routes": [{"handle": [
			{"handler": "cors", ` + tc.handler + `}]}]}}}}}`
		res, err := http.Post("http://localhost:2999/load", "application/json", strings.NewReader(refused))
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		var loadErr struct{ Error string }
		_ = json.Unmarshal(body, &loadErr)
		if res.StatusCode != http.StatusBadRequest {
			t.Errorf("/load answered %d %s, want 400", res.StatusCode, body)
		}
		if strings.ContainsAny(loadErr.Error, "\n\t") {
			t.Errorf("/load answered %s, want an error on one line", body)
		}
		for _, want := range tc.want {
			if !strings.Contains(loadErr.Error, want) {
				t.Errorf("/load answered %s\nwant an error containing\n%s", body, want)
			}
		}
	}
	get("https://b.example", map[string]string{"Access-Control-Allow-Origin": "https://b.example", "Vary": "Origin"}).run(t, tester)
	tester.InitServer(site("https://a.example"), "caddyfile")
	get("https://a.example", map[string]string{"Access-Control-Allow-Origin": "https://a.example", "Vary": "Origin"}).run(t, tester)
}
