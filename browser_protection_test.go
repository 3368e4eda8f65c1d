package cors

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/caddy-cors/cors/internal/browsers"
	"github.com/caddyserver/caddy/v2/caddytest"
)

// The cross-origin protection scenarios: pages on several origins make the
// browser send writes and WebSocket handshakes to an API whose cors handler
// has cross_origin_protection, and each scenario asserts what the script
// saw and whether the request reached the application. Every browser
// action is a script in the page, so that engines driven only through
// script evaluation can run the same table.

// The origins of the scenarios. The engines reach every *.test name on
// 127.0.0.1 through the suite's proxy (startEngines).
// protect.test is a registrable domain (test is a top-level domain the
// Public Suffix List does not know), so other.protect.test is same-site
// with the API, and attacker.test is another site.
const (
	protectAPI       = "https://api.protect.test:9443" // HTTP/1.1 and HTTP/2, with extended CONNECT
	protectAPIHTTP1  = "https://api.protect.test:9444" // HTTP/1.1 only
	protectAllowed   = "https://app.protect.test:9443" // the origin the policy allows, same-site with the API
	protectPartner   = "https://partner.test:9443"     // an origin the policy allows on another site
	protectOtherSite = "https://attacker.test:9443"
	protectSameSite  = "https://other.protect.test:9443" // same-site, not listed
)

// protectionCaddyfile serves the pages and the protected API, whose
// WebSockets go to the echo server at echo. Two protectionSeen handlers
// record each request: "arrived" before cors, "reached" after it.
func protectionCaddyfile(echo string) string {
	return testGlobalOptions("local_certs", "auto_https disable_redirects", "servers :9444 {\n\tprotocols h1\n}") + `
` + protectAllowed + `, ` + protectPartner + `, ` + protectOtherSite + `, ` + protectSameSite + ` {
	header Content-Type "text/html; charset=utf-8"
	header /no-referrer Referrer-Policy no-referrer
	respond "<!doctype html><title>page</title><body></body>"
}

` + protectAPI + `, ` + protectAPIHTTP1 + ` {
	route {
		protection_seen arrived
		cors ` + protectAllowed + ` ` + protectPartner + ` {
			credentials
			methods PUT
			cross_origin_protection
		}
		protection_seen
		reverse_proxy /ws/* ` + echo + `
		header Content-Type "text/html; charset=utf-8"
		respond "<!doctype html><title>api</title><body>ok</body>"
	}
}
`
}

// The scripts: each is an async function of the target URL that returns a
// small JSON object.
const (
	// protectFormPost submits a form by POST into an iframe, and waits
	// for the iframe to load the answer.
	protectFormPost = `async (url) => {
	const frame = document.createElement('iframe');
	frame.name = 'f' + Math.random().toString(36).slice(2);
	document.body.appendChild(frame);
	const loaded = new Promise((resolve) => frame.addEventListener('load', function onLoad() {
		try {
			if (frame.contentWindow.location.href === 'about:blank') return; // the empty frame's own load
		} catch (e) {} // a cross-origin document: the answer
		frame.removeEventListener('load', onLoad);
		resolve();
	}));
	const form = document.createElement('form');
	form.method = 'POST';
	form.action = url;
	form.target = frame.name;
	const input = document.createElement('input');
	input.name = 'amount';
	input.value = '100';
	form.appendChild(input);
	document.body.appendChild(form);
	form.submit();
	await loaded;
	return {loaded: true};
}`

	// protectNoCorsPost sends a POST with fetch in no-cors mode, whose
	// answer the script cannot read across origins.
	protectNoCorsPost = `async (url) => {
	try {
		const res = await fetch(url, {method: 'POST', mode: 'no-cors', credentials: 'include', body: 'amount=100',
			headers: {'Content-Type': 'application/x-www-form-urlencoded'}});
		return {type: res.type, status: res.status};
	} catch (e) {
		return {error: String(e)};
	}
}`

	// protectWebSocket opens a WebSocket, sends "hello" and waits for the
	// echo, or for the error of a refused handshake.
	protectWebSocket = `async (url) => {
	return await new Promise((resolve) => {
		const ws = new WebSocket(url.replace(/^http/, 'ws'));
		ws.onopen = () => ws.send('hello');
		ws.onmessage = (e) => { resolve({opened: true, echo: String(e.data)}); ws.close(); };
		ws.onerror = () => resolve({opened: false});
		setTimeout(() => resolve({opened: false, error: 'timeout'}), 10000);
	});
}`

	// protectWebSocketAfterFetch fetches from the target's origin first, so
	// that Chromium holds an HTTP/2 connection to it, over which it then
	// opens the WebSocket with an extended CONNECT.
	protectWebSocketAfterFetch = `async (url) => {
	await fetch(new URL('/warm-up', url), {mode: 'no-cors'});
	return await (` + protectWebSocket + `)(url);
}`

	// protectNavigate loads the target into an iframe: a GET navigation.
	protectNavigate = `async (url) => {
	const frame = document.createElement('iframe');
	const loaded = new Promise((resolve) => frame.addEventListener('load', resolve, {once: true}));
	frame.src = url;
	document.body.appendChild(frame);
	await loaded;
	return {loaded: true};
}`
)

// protectionSaw is what a scenario's script returns.
type protectionSaw struct {
	Loaded bool   `json:"loaded,omitempty"`
	Type   string `json:"type,omitempty"`
	Status int    `json:"status,omitempty"`
	Opened bool   `json:"opened,omitempty"`
	Echo   string `json:"echo,omitempty"`
	Error  string `json:"error,omitempty"`
}

// protectionScenario is one page, one script and what both sides see.
type protectionScenario struct {
	name    string
	page    string // the URL of the page the script runs in
	script  string
	target  string // the API's origin; the scenario's path is added
	want    protectionSaw
	reached bool // the request reached the application behind cors
	// For a WebSocket: the HTTP version its handshake arrived over at
	// Caddy, refused or not (2: an extended CONNECT), and where an engine
	// uses another.
	proto   int
	protoIn map[string]int
	// Where an engine sends what the protection cannot refuse: what its
	// script sees and whether the request reaches the application there.
	wantIn    map[string]protectionSaw
	reachedIn map[string]bool
}

var (
	sentForm     = protectionSaw{Loaded: true}
	sentOpaque   = protectionSaw{Type: "opaque"} // a no-cors answer, whatever its status
	echoed       = protectionSaw{Opened: true, Echo: "hello"}
	notConnected = protectionSaw{}
)

// webKitHTTP1 says that WebKit opens its WebSockets over HTTP/1.1 even
// where the others use HTTP/2.
var webKitHTTP1 = map[string]int{browsers.WebKit: 1}

var protectionScenarios = []protectionScenario{
	// Another site: its writes never reach the application; a GET does.
	{name: "other site: form POST", page: protectOtherSite + "/", script: protectFormPost, target: protectAPI, want: sentForm},
	{name: "other site: no-cors fetch POST", page: protectOtherSite + "/", script: protectNoCorsPost, target: protectAPI, want: sentOpaque},
	{name: "other site: WebSocket over HTTP/1.1", page: protectOtherSite + "/", script: protectWebSocket, target: protectAPIHTTP1, want: notConnected, proto: 1},
	// Firefox 153 sends its extended CONNECT without Origin or any
	// Sec-Fetch-* header, like a client that is not a browser, so the
	// protection lets it through (the README says so). WebKit opens
	// WebSockets over HTTP/1.1 only.
	{name: "other site: WebSocket over HTTP/2", page: protectOtherSite + "/", script: protectWebSocketAfterFetch, target: protectAPI, want: notConnected, proto: 2,
		protoIn: webKitHTTP1, wantIn: map[string]protectionSaw{browsers.Firefox: echoed}, reachedIn: map[string]bool{browsers.Firefox: true}},
	{name: "other site: GET navigation", page: protectOtherSite + "/", script: protectNavigate, target: protectAPI, want: sentForm, reached: true},

	// A same-site origin that the policy does not list is refused too.
	{name: "same site: form POST", page: protectSameSite + "/", script: protectFormPost, target: protectAPI, want: sentForm},
	{name: "same site: no-cors fetch POST", page: protectSameSite + "/", script: protectNoCorsPost, target: protectAPI, want: sentOpaque},
	{name: "same site: WebSocket", page: protectSameSite + "/", script: protectWebSocket, target: protectAPIHTTP1, want: notConnected, proto: 1},

	// The allowed origin.
	{name: "allowed origin: form POST", page: protectAllowed + "/", script: protectFormPost, target: protectAPI, want: sentForm, reached: true},
	{name: "allowed origin: no-cors fetch POST", page: protectAllowed + "/", script: protectNoCorsPost, target: protectAPI, want: sentOpaque, reached: true},
	{name: "allowed origin: WebSocket over HTTP/1.1", page: protectAllowed + "/", script: protectWebSocket, target: protectAPIHTTP1, want: echoed, reached: true, proto: 1},
	{name: "allowed origin: WebSocket over HTTP/2", page: protectAllowed + "/", script: protectWebSocketAfterFetch, target: protectAPI, want: echoed, reached: true, proto: 2, protoIn: webKitHTTP1},
	{name: "allowed origin on another site: form POST", page: protectPartner + "/", script: protectFormPost, target: protectAPI, want: sentForm, reached: true},
	{name: "allowed origin on another site: no-cors fetch POST", page: protectPartner + "/", script: protectNoCorsPost, target: protectAPI, want: sentOpaque, reached: true},
	{name: "allowed origin on another site: WebSocket over HTTP/2", page: protectPartner + "/", script: protectWebSocketAfterFetch, target: protectAPI,
		want: echoed, reached: true, proto: 2, protoIn: webKitHTTP1},

	// The API's own origin: Chromium sends no Sec-Fetch-Site with a
	// WebSocket handshake, so there the Origin matches the Host.
	{name: "same origin: form POST", page: protectAPI + "/page", script: protectFormPost, target: protectAPI, want: sentForm, reached: true},
	{name: "same origin: no-cors fetch POST", page: protectAPI + "/page", script: protectNoCorsPost, target: protectAPI,
		want: protectionSaw{Type: "basic", Status: 200}, reached: true},
	{name: "same origin: WebSocket over HTTP/1.1", page: protectAPIHTTP1 + "/page", script: protectWebSocket, target: protectAPIHTTP1, want: echoed, reached: true, proto: 1},
	{name: "same origin: WebSocket over HTTP/2", page: protectAPI + "/page", script: protectWebSocket, target: protectAPI, want: echoed, reached: true, proto: 2, protoIn: webKitHTTP1},

	// A page of the allowed origin served with Referrer-Policy:
	// no-referrer sends "Origin: null" with its form POST: refused, as
	// the README says.
	{name: "no-referrer page of the allowed origin: form POST", page: protectAllowed + "/no-referrer", script: protectFormPost, target: protectAPI, want: sentForm},
}

// TestBrowserCrossOriginProtection runs the cross-origin protection
// scenarios in every installed engine (CORS_BROWSERS selects them, as for
// TestBrowser).
func TestBrowserCrossOriginProtection(t *testing.T) {
	if testing.Short() {
		t.Skip("browser scenarios need the browsers and the test Caddy")
	}
	names := enginesToRun(t)
	if t.Failed() {
		t.FailNow()
	}
	if len(names) == 0 {
		t.Skip(browserSummary())
	}
	echo := startEchoServer(t)
	caddytest.NewTester(withoutConfigDump{t}).InitServer(protectionCaddyfile(strings.TrimPrefix(echo.URL, "http://")), "caddyfile")
	if t.Failed() {
		t.FailNow()
	}
	engines := startEngines(t, names, certificateKeys(t, protectAPI, protectAPIHTTP1, protectAllowed, protectPartner, protectOtherSite, protectSameSite))

	for _, s := range protectionScenarios {
		t.Run(slug(s.name), func(t *testing.T) {
			runInEngines(t, engines, func(t *testing.T, e browsers.Engine) { runProtectionScenario(t, e, echo, s) })
		})
	}
}

// runProtectionScenario runs the script of s in its page in engine e and
// checks what the script saw and what the server saw.
func runProtectionScenario(t *testing.T, e browsers.Engine, echo *echoServer, s protectionScenario) {
	path := "/" + e.Name() + "/" + slug(s.name)
	if s.proto != 0 {
		path = "/ws" + path
	}
	arg, _ := json.Marshal(s.target + path)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var saw protectionSaw
	if err := browsers.RunAt(ctx, e, s.page, fmt.Sprintf("(%s)(%s)", s.script, arg), &saw); err != nil {
		t.Fatal(err)
	}
	want, reached := s.want, s.reached
	if w, ok := s.wantIn[e.Name()]; ok {
		want = w
	}
	if r, ok := s.reachedIn[e.Name()]; ok {
		reached = r
	}
	var problems []string
	if saw.Error == "timeout" || sawWithoutError(saw) != want {
		problems = append(problems, fmt.Sprintf("script saw %+v, want %+v", saw, want))
	}
	arrived, got := seenAt("arrived", path), reachedApplication(path)
	if len(arrived) == 0 {
		problems = append(problems, "the request never arrived at Caddy: the browser did not send it")
	}
	if (len(got) > 0) != reached {
		problems = append(problems, fmt.Sprintf("reached the application: %v, want %v", len(got) > 0, reached))
	}
	if s.proto != 0 {
		proto := s.proto
		if p, ok := s.protoIn[e.Name()]; ok {
			proto = p
		}
		wantMethod := "GET"
		if proto == 2 {
			wantMethod = "CONNECT"
		}
		if len(arrived) > 0 && (arrived[0].protoMajor != proto || arrived[0].method != wantMethod) {
			problems = append(problems, fmt.Sprintf("the handshake arrived as %s over HTTP/%d, want %s over HTTP/%d",
				arrived[0].method, arrived[0].protoMajor, wantMethod, proto))
		}
		handshakes := 0
		if reached {
			handshakes = 1
		}
		if n := echo.handshakesAt(path); n != handshakes {
			problems = append(problems, fmt.Sprintf("the echo server accepted %d handshakes, want %d", n, handshakes))
		}
	}
	if len(problems) > 0 {
		t.Errorf("%s, page %s, target %s:\n\t%s\narrived at Caddy: %+v\nreached the application: %+v",
			e.Name(), s.page, s.target+path, strings.Join(problems, "\n\t"), arrived, got)
	}
}

// sawWithoutError drops the error text, which differs between engines:
// the other fields tell what the script could see.
func sawWithoutError(s protectionSaw) protectionSaw {
	s.Error = ""
	return s
}
