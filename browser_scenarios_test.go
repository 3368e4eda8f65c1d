package cors

import (
	"flag"
	"fmt"
	"maps"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/caddy-cors/cors/internal/browsers"
)

// browserPolicies are the cors directives the browser scenarios run against, each
// served under /<name>/ on the API.
var browserPolicies = map[string]browserPolicy{
	"public": {cors: `cors {
	origins *
	methods PUT PATCH DELETE
	headers X-Api-Key Content-Type
	expose X-Request-Id
}`},
	"app": {cors: `cors https://app.example.test:9443 {
	methods PUT PATCH DELETE PURGE
	headers X-Api-Key
	expose X-Request-Id
}`},
	"credentials": {cors: `cors https://app.example.test:9443 https://*.app.example.test:9443 {
	credentials
	methods PUT
	headers X-Api-Key
	expose X-Request-Id
}`, app: `@login path */login
header @login Set-Cookie "session=s3cret; Path={http.request.uri.path.dir}; Secure; SameSite=None"
` + appDefault},
	"any-header": {cors: `cors https://app.example.test:9443 {
	headers *
	expose X-Request-Id
}`},
	"authorization": {cors: `cors https://app.example.test:9443 {
	headers Authorization
	expose X-Request-Id
}`},
	"expose-all": {cors: `cors {
	origins *
	expose *
}`},
	"subdomains": {cors: `cors https://*.example.test:9443 {
	expose X-Request-Id
}`},
	"any-port": {cors: `cors https://app.example.test:* {
	expose X-Request-Id
}`},
	"localhost":   {cors: `cors http://localhost:9080`},
	"loopback-ip": {cors: `cors http://127.0.0.1:9080`},
	"max-age": {cors: `cors https://app.example.test:9443 {
	methods PUT
	max_age 10m
}`},
	"max-age-0": {cors: `cors https://app.example.test:9443 {
	methods PUT
	max_age 0
}`},
	"errors": {cors: `cors https://app.example.test:9443 {
	methods PUT
	headers Authorization
	expose X-Request-Id
}`, app: `header X-Request-Id 42
@private path */private
basic_auth @private {
	alice $2a$04$QlxIxk6EcS1bJHSAQiJ3TOy1QGcGfSI9/BeuYa/N8T1F2I4HIa0Du
}
@missing path */missing
handle @missing {
	error "nothing here" 404
}
@dead path */dead
handle @dead {
	reverse_proxy 127.0.0.1:9089
}
handle {
	respond "ok"
}`},
	"upstream": {cors: `cors https://app.example.test:9443 {
	credentials
	expose X-Request-Id
}`, app: `reverse_proxy 127.0.0.1:9086`},
	"passthrough": {cors: `cors https://app.example.test:9443 {
	methods PUT
	passthrough
}`, app: `header X-Request-Id 42
@refusesOptions {
	method OPTIONS
	path */no-options
}
handle @refusesOptions {
	respond 405
}
@options method OPTIONS
handle @options {
	respond 200
}
handle {
	respond "ok"
}`},
	"cached": {cors: `cors https://app.example.test:9443 https://sub.app.example.test:9443 {
	expose X-Request-Id
}`, app: `header X-Request-Id 42
header Cache-Control "max-age=600"
respond "ok"`},
	// Not this handler: the header recipe some users write by hand, to show
	// what the engines do with a literal "*".
	"hand-written": {cors: `header Access-Control-Allow-Origin https://app.example.test:9443
header Access-Control-Allow-Headers *
@preflight method OPTIONS
respond @preflight 204`},
	// Not this handler either: a hand-written Access-Control-Max-Age with a
	// unit, which is no number of seconds.
	"hand-written-max-age": {cors: `header Access-Control-Allow-Origin https://app.example.test:9443
header Access-Control-Allow-Methods PUT
header Access-Control-Max-Age 10m
@preflight method OPTIONS
respond @preflight 204`},
	"reload": {cors: `cors https://app.example.test:9443 {
	expose X-Request-Id
}`},
}

// Request headers the scenarios use.
var (
	apiKey        = [2]string{"X-Api-Key", "k1"}
	otherHeader   = [2]string{"X-Other", "1"}
	plainText     = [2]string{"Content-Type", "text/plain"}
	jsonType      = [2]string{"Content-Type", "application/json"}
	bearer        = [2]string{"Authorization", "Bearer t0ken"}
	aliceBasic    = [2]string{"Authorization", "Basic YWxpY2U6aHVudGVyMg=="} // alice:hunter2
	include       = "include"
	exposedID     = allowedSaw(200, "x-request-id")
	onlySafelist  = allowedSaw(200)
	preflightOnly = serverSaw{preflights: 1, preflightStatus: 403}
)

// xhrGet is a step's script: a GET through XMLHttpRequest, which follows
// the same CORS protocol as fetch().
var xhrGet = stepScript{name: "XMLHttpRequest GET", js: `(url) => new Promise((resolve) => {
	const xhr = new XMLHttpRequest();
	xhr.open('GET', url);
	xhr.onload = () => resolve({blocked: false, status: xhr.status,
		readable: ['` + strings.Join(probeHeaders, "', '") + `'].filter((n) => xhr.getResponseHeader(n) !== null)});
	xhr.onerror = () => resolve({blocked: true, error: 'XMLHttpRequest: network error', readable: []});
	xhr.send();
})`}

// preflighted is what the server sees of an allowed preflight and its
// actual request.
var preflighted = serverSaw{preflights: 1, preflightStatus: 204, actual: 1}

// loggedIn is a first fetch from page that makes the API set its cookie.
func loggedIn(page string) []step {
	return []step{{page: page, fetch: fetchCall{path: "login", credentials: include}, want: exposedID}}
}

// browserScenarios are the scenarios TestBrowser runs, in order. The
// expected verdicts follow the Fetch standard
// (https://fetch.spec.whatwg.org/#http-cors-protocol) and the handler's
// documented behaviour.
var browserScenarios = []scenario{
	// Simple requests: no preflight; the request reaches the server whatever
	// its origin, and CORS decides only whether the script may read it.
	{name: "simple GET from an allowed origin", policy: "app",
		step: step{page: app, want: exposedID}, server: serverSaw{actual: 1}},
	{name: "simple GET from another site reaches the server, the script is blocked", policy: "app",
		step: step{page: evil, want: blockedSaw}, server: serverSaw{actual: 1}},
	{name: "HEAD from an allowed origin", policy: "app",
		step: step{page: app, fetch: fetchCall{method: "HEAD"}, want: exposedID}, server: serverSaw{actual: 1}},
	{name: "HEAD from another site", policy: "app",
		step: step{page: evil, fetch: fetchCall{method: "HEAD"}, want: blockedSaw}, server: serverSaw{actual: 1}},
	{name: "text/plain POST from an allowed origin needs no preflight", policy: "app",
		step: step{page: app, fetch: fetchCall{method: "POST", headers: [][2]string{plainText}, body: "hello"}, want: exposedID}, server: serverSaw{actual: 1}},
	{name: "text/plain POST from another site is sent all the same", policy: "app",
		step: step{page: evil, fetch: fetchCall{method: "POST", headers: [][2]string{plainText}, body: "hello"}, want: blockedSaw}, server: serverSaw{actual: 1}},
	{name: "form POST from an allowed origin needs no preflight", policy: "app",
		step:   step{page: app, fetch: fetchCall{method: "POST", headers: [][2]string{{"Content-Type", "application/x-www-form-urlencoded"}}, body: "a=1"}, want: exposedID},
		server: serverSaw{actual: 1}},
	{name: "cache mode no-store adds no preflight", policy: "app",
		step: step{page: app, fetch: fetchCall{cache: "no-store"}, want: exposedID}, server: serverSaw{actual: 1}},
	{name: "a safelisted Accept-Language needs no preflight", policy: "app",
		step: step{page: app, fetch: fetchCall{headers: [][2]string{{"Accept-Language", "fr-CH"}}}, want: exposedID}, server: serverSaw{actual: 1}},
	{name: "an Accept over 128 bytes needs a preflight, refused when not listed", policy: "app",
		step: step{page: app, fetch: fetchCall{headers: [][2]string{{"Accept", strings.Repeat("a", 129)}}}, want: blockedSaw}, server: preflightOnly},
	{name: "any origin under *", policy: "public",
		step: step{page: evil, want: exposedID}, server: serverSaw{actual: 1}},
	{name: "XMLHttpRequest from an allowed origin reads the exposed header", policy: "app",
		step: step{page: app, script: xhrGet, want: exposedID}, server: serverSaw{actual: 1}},

	// Preflighted methods: the method is compared case-sensitively, after
	// fetch() has uppercased the six methods it normalises.
	{name: "PUT from an allowed origin", policy: "app",
		step: step{page: app, fetch: fetchCall{method: "PUT"}, want: exposedID}, server: preflighted},
	{name: "put is normalised to PUT by fetch", policy: "app",
		step: step{page: app, fetch: fetchCall{method: "put"}, want: exposedID}, server: preflighted},
	{name: "PATCH listed", policy: "app",
		step: step{page: app, fetch: fetchCall{method: "PATCH"}, want: exposedID}, server: preflighted},
	{name: "patch is not normalised, so PATCH does not match it", policy: "app",
		step: step{page: app, fetch: fetchCall{method: "patch"}, want: blockedSaw}, server: preflightOnly},
	{name: "DELETE listed", policy: "app",
		step: step{page: app, fetch: fetchCall{method: "DELETE"}, want: exposedID}, server: preflighted},
	{name: "custom method listed", policy: "app",
		step: step{page: app, fetch: fetchCall{method: "PURGE"}, want: exposedID}, server: preflighted},
	{name: "custom method not listed", policy: "app",
		step: step{page: app, fetch: fetchCall{method: "MOVE"}, want: blockedSaw}, server: preflightOnly},
	{name: "PUT from another site never reaches the route", policy: "app",
		step: step{page: evil, fetch: fetchCall{method: "PUT"}, want: blockedSaw}, server: preflightOnly},
	{name: "PUT under * from any site", policy: "public",
		step: step{page: evil, fetch: fetchCall{method: "PUT"}, want: exposedID}, server: preflighted},
	{name: "DELETE under a policy that lists no methods", policy: "subdomains",
		step: step{page: app, fetch: fetchCall{method: "DELETE"}, want: blockedSaw}, server: preflightOnly},

	// Request headers.
	{name: "custom header listed", policy: "app",
		step: step{page: app, fetch: fetchCall{headers: [][2]string{apiKey}}, want: exposedID}, server: preflighted},
	{name: "custom header not listed", policy: "app",
		step: step{page: app, fetch: fetchCall{headers: [][2]string{otherHeader}}, want: blockedSaw}, server: preflightOnly},
	{name: "one header listed and one not", policy: "app",
		step: step{page: app, fetch: fetchCall{headers: [][2]string{apiKey, otherHeader}}, want: blockedSaw}, server: preflightOnly},
	{name: "JSON POST when Content-Type is listed", policy: "public",
		step: step{page: evil, fetch: fetchCall{method: "POST", headers: [][2]string{jsonType}, body: "{}"}, want: exposedID}, server: preflighted},
	{name: "JSON POST when Content-Type is not listed", policy: "app",
		step: step{page: app, fetch: fetchCall{method: "POST", headers: [][2]string{jsonType}, body: "{}"}, want: blockedSaw}, server: preflightOnly},
	{name: "headers * allows any name", policy: "any-header",
		step: step{page: app, fetch: fetchCall{headers: [][2]string{{"X-Anything", "1"}}}, want: exposedID}, server: preflighted},
	{name: "headers * allows several names", policy: "any-header",
		step: step{page: app, fetch: fetchCall{headers: [][2]string{{"X-One", "1"}, {"X-Two", "2"}, {"X-Three", "3"}}}, want: exposedID}, server: preflighted},
	{name: "headers * does not cover Authorization", policy: "any-header",
		step: step{page: app, fetch: fetchCall{headers: [][2]string{bearer}}, want: blockedSaw}, server: preflightOnly,
		browsers: "Chromium, Firefox and WebKit let a literal `Access-Control-Allow-Headers: *` cover Authorization, which the Fetch standard forbids; the handler never sends `*` for it, so the standard's verdict holds"},
	{name: "a hand-written Access-Control-Allow-Headers: * lets Authorization through in every engine", policy: "hand-written",
		step: step{page: app, fetch: fetchCall{headers: [][2]string{bearer}}, want: onlySafelist}, server: serverSaw{preflights: 1, preflightStatus: 204, actual: 1},
		browsers: "the Fetch standard blocks this request: `*` never covers Authorization; Chromium 156, Firefox 153 and WebKitGTK 2.50 let it through (whatwg/fetch#1919)", standardBlocks: true},
	{name: "Authorization listed by name", policy: "authorization",
		step: step{page: app, fetch: fetchCall{headers: [][2]string{bearer}}, want: exposedID}, server: preflighted},

	// Credentials: a cookie the API sets comes back only in "include" mode,
	// and only to a policy that allows credentials for that very origin.
	{name: "a cookie set by the API is sent back", policy: "credentials",
		before: loggedIn(app),
		step:   step{page: app, fetch: fetchCall{credentials: include}, want: exposedID}, server: serverSaw{actual: 2, cookie: true}},
	{name: "a credentialed request from an allowed subdomain", policy: "credentials",
		before: loggedIn(sub),
		step:   step{page: sub, fetch: fetchCall{credentials: include}, want: exposedID}, server: serverSaw{actual: 2, cookie: true}},
	{name: "a credentialed request from another site", policy: "credentials",
		step: step{page: evil, fetch: fetchCall{credentials: include}, want: blockedSaw}, server: serverSaw{actual: 1}},
	{name: "credentials omit sends no cookie", policy: "credentials",
		before: loggedIn(app),
		step:   step{page: app, fetch: fetchCall{credentials: "omit"}, want: exposedID}, server: serverSaw{actual: 2}},
	{name: "the default credentials mode sends no cookie cross-origin", policy: "credentials",
		before: loggedIn(app),
		step:   step{page: app, want: exposedID}, server: serverSaw{actual: 2}},
	{name: "a credentialed PUT: the preflight has no cookie, the request has", policy: "credentials",
		before: loggedIn(app),
		step:   step{page: app, fetch: fetchCall{method: "PUT", headers: [][2]string{apiKey}, credentials: include}, want: exposedID},
		server: serverSaw{preflights: 1, preflightStatus: 204, actual: 2, cookie: true}},
	{name: "credentials include under * is blocked", policy: "public",
		step: step{page: app, fetch: fetchCall{credentials: include}, want: blockedSaw}, server: serverSaw{actual: 1}},
	{name: "a credentialed preflight under * is blocked", policy: "public",
		step: step{page: app, fetch: fetchCall{method: "PUT", credentials: include}, want: blockedSaw}, server: serverSaw{preflights: 1, preflightStatus: 204}},
	{name: "credentials include without credentials in the policy is blocked", policy: "app",
		step: step{page: app, fetch: fetchCall{credentials: include}, want: blockedSaw}, server: serverSaw{actual: 1}},

	// Exposed headers: safelisted ones are always readable, others only
	// when exposed.
	{name: "without expose only safelisted headers are readable", policy: "localhost",
		step: step{page: localhost, want: onlySafelist}, server: serverSaw{actual: 1}},
	{name: "expose * shows every header", policy: "expose-all",
		step: step{page: evil, want: allowedSaw(200, "x-request-id", "x-hidden", "server")}, server: serverSaw{actual: 1}},

	// Subdomain patterns and their look-alikes.
	{name: "*.example.test allows a subdomain", policy: "subdomains",
		step: step{page: sub, want: exposedID}, server: serverSaw{actual: 1}},
	{name: "*.example.test allows app.example.test", policy: "subdomains",
		step: step{page: app, want: exposedID}, server: serverSaw{actual: 1}},
	{name: "*.example.test allows two labels deep", policy: "subdomains",
		step: step{page: deep, want: exposedID}, server: serverSaw{actual: 1}},
	{name: "*.example.test does not allow example.test itself", policy: "subdomains",
		step: step{page: apex, want: blockedSaw}, server: serverSaw{actual: 1}},
	{name: "*.example.test does not allow evilexample.test", policy: "subdomains",
		step: step{page: lookAlike, want: blockedSaw}, server: serverSaw{actual: 1}},
	{name: "*.example.test does not allow example.test.evil.test", policy: "subdomains",
		step: step{page: suffixed, want: blockedSaw}, server: serverSaw{actual: 1}},
	{name: "*.example.test on port 9443 does not allow port 9444", policy: "subdomains",
		step: step{page: appPort9444, want: blockedSaw}, server: serverSaw{actual: 1}},

	// Ports.
	{name: "any port allows 9443", policy: "any-port",
		step: step{page: app, want: exposedID}, server: serverSaw{actual: 1}},
	{name: "any port allows 9444", policy: "any-port",
		step: step{page: appPort9444, want: exposedID}, server: serverSaw{actual: 1}},
	{name: "any port does not mean any host", policy: "any-port",
		step: step{page: sub, want: blockedSaw}, server: serverSaw{actual: 1}},
	{name: "an exact origin does not allow another port", policy: "app",
		step: step{page: appPort9444, want: blockedSaw}, server: serverSaw{actual: 1}},

	// localhost and 127.0.0.1 are different origins.
	{name: "localhost allowed from localhost", policy: "localhost",
		step: step{page: localhost, fetch: fetchCall{method: "HEAD"}, want: onlySafelist}, server: serverSaw{actual: 1}},
	{name: "localhost does not allow 127.0.0.1", policy: "localhost",
		step: step{page: loopbackIP, want: blockedSaw}, server: serverSaw{actual: 1}},
	{name: "127.0.0.1 allowed from 127.0.0.1", policy: "loopback-ip",
		step: step{page: loopbackIP, want: onlySafelist}, server: serverSaw{actual: 1}},
	{name: "127.0.0.1 does not allow localhost", policy: "loopback-ip",
		step: step{page: localhost, want: blockedSaw}, server: serverSaw{actual: 1}},

	// The opaque origin of a sandboxed iframe, sent as "null".
	{name: "a sandboxed page under *", policy: "public",
		step: step{page: sandboxed, want: exposedID}, server: serverSaw{actual: 1}},
	{name: "a sandboxed page under a list of origins", policy: "app",
		step: step{page: sandboxed, want: blockedSaw}, server: serverSaw{actual: 1}},
	{name: "a preflight from a sandboxed page is refused", policy: "app",
		step: step{page: sandboxed, fetch: fetchCall{method: "PUT"}, want: blockedSaw}, server: preflightOnly},

	// The preflight cache.
	{name: "max_age 10m: one preflight for three calls", policy: "max-age",
		step: step{page: app, fetch: fetchCall{method: "PUT"}, times: 3, want: onlySafelist}, server: serverSaw{preflights: 1, preflightStatus: 204, actual: 3}},
	{name: "max_age 0: a preflight for every call", policy: "max-age-0",
		step: step{page: app, fetch: fetchCall{method: "PUT"}, times: 3, want: onlySafelist}, server: serverSaw{preflights: 3, preflightStatus: 204, actual: 3}},
	{name: "no max_age: the browser caches a preflight for 5 seconds", policy: "app",
		step: step{page: app, fetch: fetchCall{method: "PUT"}, times: 3, want: exposedID}, server: serverSaw{preflights: 1, preflightStatus: 204, actual: 3}},
	// https://fetch.spec.whatwg.org/#cors-preflight-fetch: a max-age that
	// does not parse counts as absent, so the 5 seconds apply.
	{name: "a hand-written Access-Control-Max-Age: 10m counts as absent", policy: "hand-written-max-age",
		step: step{page: app, fetch: fetchCall{method: "PUT"}, times: 3, want: onlySafelist}, server: serverSaw{preflights: 1, preflightStatus: 204, actual: 3},
		engines: map[string]departure{
			browsers.Firefox: {server: serverSaw{preflights: 3, preflightStatus: 204, actual: 3},
				why: "Firefox caches no preflight whose Access-Control-Max-Age does not parse, rather than for 5 seconds; a preflight each time, the same verdict"},
		}},
	// The preflight cache is not the HTTP cache: the standard consults it
	// whatever the request's cache mode
	// (https://fetch.spec.whatwg.org/#http-fetch, step "If
	// makeCORSPreflight is true").
	{name: "max_age 10m: a cache no-store PUT still uses the cached preflight", policy: "max-age",
		before: []step{{page: app, fetch: fetchCall{method: "PUT"}, want: onlySafelist}},
		step:   step{page: app, fetch: fetchCall{method: "PUT", cache: "no-store"}, want: onlySafelist},
		server: serverSaw{preflights: 1, preflightStatus: 204, actual: 2},
		engines: map[string]departure{
			browsers.Chromium: {server: serverSaw{preflights: 2, preflightStatus: 204, actual: 2},
				why: "Chromium bypasses its preflight cache for a request that bypasses the HTTP cache; a second preflight, the same verdict"},
			browsers.Firefox: {server: serverSaw{preflights: 2, preflightStatus: 204, actual: 2},
				why: "Firefox bypasses its preflight cache for a request that bypasses the HTTP cache; a second preflight, the same verdict"},
		}},

	// Error statuses are readable cross-origin, and preflights are answered
	// before authentication.
	{name: "401 from basic_auth is readable", policy: "errors",
		step: step{page: app, fetch: fetchCall{path: "private"}, want: scriptSaw{Status: 401, Readable: []string{"x-request-id"}}}, server: serverSaw{actual: 1}},
	{name: "404 is readable", policy: "errors",
		step: step{page: app, fetch: fetchCall{path: "missing"}, want: scriptSaw{Status: 404, Readable: []string{"x-request-id"}}}, server: serverSaw{actual: 1}},
	{name: "502 from a dead upstream is readable", policy: "errors",
		step: step{page: app, fetch: fetchCall{path: "dead"}, want: scriptSaw{Status: 502, Readable: []string{"x-request-id"}}}, server: serverSaw{actual: 1}},
	{name: "a preflight in front of basic_auth, then an authorised PUT", policy: "errors",
		step: step{page: app, fetch: fetchCall{method: "PUT", path: "private", headers: [][2]string{aliceBasic}}, want: exposedID}, server: preflighted},
	{name: "a preflight in front of basic_auth, then a PUT without credentials gets 401", policy: "errors",
		step:   step{page: app, fetch: fetchCall{method: "PUT", path: "private"}, want: scriptSaw{Status: 401, Readable: []string{"x-request-id"}}},
		server: preflighted},

	// An upstream that writes CORS headers of its own.
	{name: "an upstream's Access-Control-Allow-Origin is replaced, not doubled", policy: "upstream",
		step: step{page: app, fetch: fetchCall{credentials: include}, want: exposedID}, server: serverSaw{actual: 1}},
	{name: "an upstream's * does not let another site in", policy: "upstream",
		step: step{page: evil, want: blockedSaw}, server: serverSaw{actual: 1}},

	// options_passthrough: the application answers preflights itself.
	{name: "passthrough: the application answers the preflight", policy: "passthrough",
		step: step{page: app, fetch: fetchCall{method: "PUT"}, want: onlySafelist}, server: serverSaw{preflights: 1, preflightStatus: 200, actual: 1}},
	{name: "passthrough: an application that refuses OPTIONS fails the preflight", policy: "passthrough",
		step: step{page: app, fetch: fetchCall{method: "PUT", path: "no-options"}, want: blockedSaw}, server: serverSaw{preflights: 1, preflightStatus: 405}},

	// Vary: Origin keeps a cached answer for one origin from another.
	{name: "a cached answer for one origin is not reused for another", policy: "cached",
		before: []step{{page: app, want: exposedID}},
		step:   step{page: sub, want: exposedID}, server: serverSaw{actual: 2}},

	// A policy changed through the admin API applies at once.
	{name: "a policy changed through /load applies to the next fetch", policy: "reload",
		before: []step{{page: evil, want: blockedSaw}},
		reload: "cors https://app.example.test:9443 https://evil.test:9443 {\n\texpose X-Request-Id\n}",
		step:   step{page: evil, want: exposedID}, server: serverSaw{actual: 2}},
}

// The README lists the browser scenarios between these markers; the list is
// generated from browserScenarios, and a test keeps it in step.
const (
	scenariosStart = "<!-- browser scenarios: generated by `go test -run TestBrowserScenariosInREADME -update-readme` -->\n"
	scenariosEnd   = "<!-- end of browser scenarios -->\n"
)

// scenariosMarkdown writes the policies and the scenario table.
func scenariosMarkdown() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d scenarios against %d policies, each on a path of its own on `%s`. Pages: ", len(browserScenarios), len(browserPolicies), apiBase)
	for i, o := range pageOrigins {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "`%s`", o)
	}
	b.WriteString(", and a sandboxed iframe (`null`) in the first.\n\n")
	b.WriteString("The script sees the same in every engine; the server sees what the Fetch standard implies, unless an engine's column says otherwise (✓: as the standard).\n\n")
	b.WriteString("| # | scenario | policy | page | fetch | the script sees | the server sees |")
	for _, e := range browsers.Names {
		b.WriteString(" " + e + " |")
	}
	b.WriteString("\n|---|---|---|---|---|---|---|" + strings.Repeat("---|", len(browsers.Names)) + "\n")
	for i, s := range browserScenarios {
		var steps []string
		for _, st := range s.before {
			steps = append(steps, "first "+stepMarkdown(st))
		}
		if s.reload != "" {
			steps = append(steps, "then the policy becomes `"+strings.Join(strings.Fields(s.reload), " ")+"` through `/load`")
		}
		fetch := stepWhat(s.step)
		if s.times > 1 {
			fetch += fmt.Sprintf(" ×%d", s.times)
		}
		if len(steps) > 0 {
			fetch = strings.Join(steps, "; ") + "; then " + fetch
		}
		name := s.name
		if s.browsers != "" {
			name += " (" + s.browsers + ")"
		}
		fmt.Fprintf(&b, "| %d | %s | [%s](#policy-%s) | %s | %s | %s | %s |",
			i+1, name, s.policy, s.policy, pageMarkdown(s.page), fetch, sawMarkdown(s.want), s.server.markdown())
		for _, e := range browsers.Names {
			if d, ok := s.engines[e]; ok {
				fmt.Fprintf(&b, " %s: %s |", d.server.markdown(), d.why)
			} else {
				b.WriteString(" ✓ |")
			}
		}
		b.WriteString("\n")
	}
	b.WriteString("\nThe policies, as the suite loads them:\n\n")
	for _, name := range slices.Sorted(maps.Keys(browserPolicies)) {
		p := browserPolicies[name]
		fmt.Fprintf(&b, "<a id=\"policy-%s\"></a>`%s`:\n\n```caddyfile\n%s\n```\n\n", name, name, p.cors)
	}
	return b.String()
}

func stepMarkdown(st step) string {
	return fmt.Sprintf("%s from %s (%s)", stepWhat(st), pageMarkdown(st.page), sawMarkdown(st.want))
}

// stepWhat says what a step does: its fetch, or its script's name.
func stepWhat(st step) string {
	if st.script.js != "" {
		return st.script.name
	}
	return "`" + st.fetch.String() + "`"
}

func pageMarkdown(page string) string {
	if page == sandboxed {
		return "sandboxed iframe (`null`)"
	}
	return "`" + strings.TrimPrefix(strings.TrimPrefix(page, "https://"), "http://") + "`"
}

func sawMarkdown(s scriptSaw) string {
	if s.Blocked {
		return "blocked"
	}
	var readable []string
	for _, h := range sortedCopy(s.Readable) {
		readable = append(readable, "`"+h+"`")
	}
	return fmt.Sprintf("%d, reads %s", s.Status, strings.Join(readable, " "))
}

func (s serverSaw) markdown() string {
	var parts []string
	if s.preflights > 0 {
		p := fmt.Sprintf("%d preflight", s.preflights)
		if s.preflights > 1 {
			p += "s"
		}
		if s.preflightStatus != 0 {
			p += fmt.Sprintf(" (%d)", s.preflightStatus)
		}
		parts = append(parts, p)
	}
	switch s.actual {
	case 0:
		parts = append(parts, "no request")
	case 1:
		parts = append(parts, "1 request")
	default:
		parts = append(parts, fmt.Sprintf("%d requests", s.actual))
	}
	if s.cookie {
		parts[len(parts)-1] += ", the last with the cookie"
	}
	return strings.Join(parts, ", ")
}

var updateREADME = flag.Bool("update-readme", false, "rewrite the README's lists of browser scenarios")

// TestBrowserScenariosInREADME checks that the README lists the scenarios
// the suite runs; -update-readme rewrites the list.
func TestBrowserScenariosInREADME(t *testing.T) {
	checkREADMESection(t, scenariosStart, scenariosEnd, scenariosMarkdown())
}

// checkREADMESection checks that README.md holds content between the
// markers start and end (the first line of start names the test that
// checks it, and how to regenerate it); -update-readme rewrites it.
func checkREADMESection(t *testing.T, start, end, content string) {
	t.Helper()
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	before, rest, ok1 := strings.Cut(string(readme), start)
	_, after, ok2 := strings.Cut(rest, end)
	if !ok1 || !ok2 {
		t.Fatalf("README.md lacks the markers:\n%s%s", start, end)
	}
	want := before + start + content + end + after
	if want == string(readme) {
		return
	}
	if *updateREADME {
		if err := os.WriteFile("README.md", []byte(want), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	t.Errorf("README.md is out of date between %q and %q: run go test -run %s -update-readme", strings.TrimSpace(start), strings.TrimSpace(end), t.Name())
}

// TestBrowserScenariosAreWellFormed checks the table itself: each scenario
// has a URL of its own, a policy that exists and pages the suite serves.
func TestBrowserScenariosAreWellFormed(t *testing.T) {
	seen := map[string]string{}
	pages := append([]string{sandboxed}, pageOrigins...)
	for _, s := range browserScenarios {
		if other, ok := seen[slug(s.name)]; ok {
			t.Errorf("%q and %q share a URL", s.name, other)
		}
		seen[slug(s.name)] = s.name
		if _, ok := browserPolicies[s.policy]; !ok {
			t.Errorf("%q: no policy %q", s.name, s.policy)
		}
		for e, d := range s.engines {
			if !slices.Contains(browsers.Names, e) {
				t.Errorf("%q: no engine %q", s.name, e)
			}
			if d.server == s.server || d.why == "" {
				t.Errorf("%q: %s's departure must differ from the standard and say why", s.name, e)
			}
		}
		for _, st := range append(slices.Clone(s.before), s.step) {
			if !slices.Contains(pages, st.page) {
				t.Errorf("%q: no page %q", s.name, st.page)
			}
		}
	}
}
