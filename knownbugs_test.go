package cors

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// One test per security bug known from other CORS libraries, each named for
// the mistake, so that the bug cannot come back unnoticed. Two more live
// with their kind: the preflight that cost rs/cors 121 MB
// (GHSA-mh55-gqvf-xfwm) is TestHostileRequestsAllocations, and the shared
// header slices that raced (rs/cors#198, jub0bs/cors#14) are
// TestLaterHandlerEditsDoNotReachOtherRequests. SECURITY.md maps the
// threats to the tests.

// serveOnce runs one request through a handler provisioned from policy and
// returns the status and the Access-Control-* and Vary headers.
func serveOnce(t *testing.T, policy string, method string, lines ...string) (int, map[string]string) {
	t.Helper()
	h, _ := provision(t, policy)
	rec := httptest.NewRecorder()
	if err := h.ServeHTTP(rec, request(method, lines...), respond); err != nil {
		t.Fatalf("ServeHTTP: %v", err)
	}
	return rec.Code, corsHeaders(rec.Header())
}

// wantNoCORS checks that an origin got no Access-Control-* header at all.
func wantNoCORS(t *testing.T, origin string, got map[string]string) {
	t.Helper()
	for name, value := range got {
		if strings.HasPrefix(name, "Access-Control-") {
			t.Errorf("Origin %q was answered with %s: %s", origin, name, value)
		}
	}
}

// wantAllowed checks that an origin got its own value in
// Access-Control-Allow-Origin.
func wantAllowed(t *testing.T, origin string, got map[string]string) {
	t.Helper()
	if got["Access-Control-Allow-Origin"] != origin {
		t.Errorf("Origin %q was answered with Access-Control-Allow-Origin %q", origin, got["Access-Control-Allow-Origin"])
	}
}

// wantRefused checks that compile refuses cfg with a message holding msg.
func wantRefused(t *testing.T, cfg config, msg string) {
	t.Helper()
	_, _, err := compile(cfg, compileOptions{})
	if err == nil || !strings.Contains(err.Error(), msg) {
		t.Errorf("compile(%+v) = %v, want a refusal containing %q", cfg, err, msg)
	}
}

// checkOrigins sends an actual request and a preflight from each origin,
// and checks that exactly the allowed ones are answered.
func checkOrigins(t *testing.T, policy string, allow, deny []string) {
	t.Helper()
	check := func(origin string, allowed bool) {
		t.Helper()
		_, actual := serveOnce(t, policy, "GET", "Origin: "+origin)
		status, preflight := serveOnce(t, policy, "OPTIONS", "Origin: "+origin, "Access-Control-Request-Method: GET")
		wantStatus := http.StatusForbidden
		if allowed {
			wantAllowed(t, origin, actual)
			wantAllowed(t, origin, preflight)
			wantStatus = http.StatusNoContent
		} else {
			wantNoCORS(t, origin, actual)
			wantNoCORS(t, origin, preflight)
		}
		if status != wantStatus {
			t.Errorf("preflight from %q: status %d, want %d", origin, status, wantStatus)
		}
	}
	for _, origin := range allow {
		check(origin, true)
	}
	for _, origin := range deny {
		check(origin, false)
	}
}

// rs/cors before 1.5.0 (GO-2023-1792) and gofiber (CVE-2024-25124) answered
// any Origin with itself and credentials when "*" was configured with
// credentials; rs/cors#197 does the same for patterns such as "https://*".
func TestAnyOriginIsNeverReflectedWithCredentials(t *testing.T) {
	wantRefused(t, config{AllowedOrigins: []string{"*"}, AllowCredentials: true}, `"*" cannot be combined with credentials`)
	wantRefused(t, config{AllowedOrigins: []string{"https://*"}, AllowCredentials: true}, "wildcard for the whole host")
	wantRefused(t, config{AllowedOrigins: []string{"h*"}, AllowCredentials: true}, "has no scheme")
	wantRefused(t, config{AllowedOriginRegexps: []string{`https://.*`}, AllowCredentials: true}, "matches the origins of any site")
	wantRefused(t, config{AllowedOriginRegexps: []string{`https://[^/]+`}, AllowCredentials: true}, "matches the origins of any site")
	checkOrigins(t, credentialed, []string{"https://app.example.com"}, []string{"https://evil.example", "https://attacker.invalid"})
}

// Many libraries let "null" be configured, which every sandboxed iframe,
// data: URL and file: page can send.
func TestNullIsNeverTrusted(t *testing.T) {
	for _, s := range []string{"null", "NULL", "Null"} {
		wantRefused(t, config{AllowedOrigins: []string{s}}, "can never be allowed")
	}
	wantRefused(t, config{AllowedOrigins: []string{"file://"}}, "file: origin")
	wantRefused(t, config{AllowedOriginRegexps: []string{`null`}}, "does not begin with a fixed lower-case scheme")
}

// A sandboxed iframe (or a data: URL, or a request after a cross-origin
// redirect) sends "Origin: null". Under a list of origins it gets nothing;
// under "*" without credentials it gets "*", which browsers accept from any
// origin anyway and which carries no credentials.
func TestNullFromSandboxedPages(t *testing.T) {
	checkOrigins(t, credentialed, nil, []string{"null"})
	checkOrigins(t, `{"allowed_origins": ["https://app.example.com"], "allowed_origin_regexps": ["^https://[a-z]+\\.example\\.net$"]}`, nil, []string{"null"})
	_, got := serveOnce(t, public, "GET", "Origin: null")
	if got["Access-Control-Allow-Origin"] != "*" || got["Access-Control-Allow-Credentials"] != "" {
		t.Errorf("null under any origin: %v, want * without credentials", got)
	}
}

// rs/cors and go-chi/cors match a single "*" by prefix and suffix, so
// "https://*example.com" admits "https://evilexample.com", and
// "https://*.example.com" admits "https://.example.com".
func TestSuffixMatchingDoesNotAdmitEvilExample(t *testing.T) {
	wantRefused(t, config{AllowedOrigins: []string{"https://*example.com"}}, `"*." may only start the host`)
	checkOrigins(t, `{"allowed_origins": ["https://example.com", "https://*.example.com"]}`,
		[]string{"https://example.com", "https://a.example.com"},
		[]string{"https://evilexample.com", "https://.example.com", "https://a.evilexample.com", "https://evil-example.com", "https://xexample.com"})
}

// jub0bs/cors (GHSA-vhxv-fg4m-p2w8) and fcors (GHSA-v84h-653v-4pq9) stored
// origins in a radix tree that, given https://foo.com and https://bar.com,
// admitted https://barfoo.com.
func TestRadixTreeDoesNotAdmitBarfoo(t *testing.T) {
	checkOrigins(t, `{"allowed_origins": ["https://foo.com", "https://bar.com"]}`,
		[]string{"https://foo.com", "https://bar.com"},
		[]string{"https://barfoo.com", "https://foobar.com", "https://bar.comfoo.com", "https://foo.bar.com", "https://fo.com", "https://ba.com"})
	checkOrigins(t, `{"allowed_origins": ["https://*.foo.com", "https://bar.com"]}`,
		[]string{"https://a.foo.com", "https://bar.com"},
		[]string{"https://barfoo.com", "https://a.barfoo.com", "https://foo.com", "https://bar.foo.com.evil"})
}

// A prefix match, or an unanchored regexp, admits
// https://example.com.evil.com.
func TestPrefixMatchingDoesNotAdmitExampleComEvilCom(t *testing.T) {
	checkOrigins(t, `{"allowed_origins": ["https://example.com", "https://*.example.com", "https://example.com:*"],
		"allowed_origin_regexps": ["https://example\\.com", "https://[a-z]+\\.example\\.com"]}`,
		[]string{"https://example.com", "https://a.example.com", "https://example.com:8443"},
		[]string{"https://example.com.evil.com", "https://a.example.com.evil.com", "https://example.com:8443.evil.com", "https://example.com.", "https://example.com@evil.com"})
}

// gin-contrib/cors (CVE-2019-25211) matched "https://example.com*" against
// https://example.community.
func TestTrailingWildcardDoesNotAdmitExampleCommunity(t *testing.T) {
	wantRefused(t, config{AllowedOrigins: []string{"https://example.com*"}}, `"*." may only start the host`)
	wantRefused(t, config{AllowedOrigins: []string{"https://example.*"}}, `"*." may only start the host`)
	checkOrigins(t, `{"allowed_origins": ["https://example.com", "https://*.example.com", "https://example.com:*"],
		"allowed_origin_regexps": ["https://example\\.com"]}`,
		[]string{"https://example.com"},
		[]string{"https://example.community", "https://example.com-evil.com", "https://example.co", "https://a.example.community"})
}

// Browsers send origins in lower case, without a path or a trailing slash:
// the configuration is normalised to that form (or refused with a hint),
// and a request's Origin in any other form matches nothing.
func TestUppercaseAndTrailingSlashOrigins(t *testing.T) {
	wantRefused(t, config{AllowedOrigins: []string{"https://example.com/"}}, `write "https://example.com"`)
	checkOrigins(t, `{"allowed_origins": ["HTTPS://Example.COM", "https://*.Example.ORG"]}`,
		[]string{"https://example.com", "https://a.example.org"},
		[]string{"https://Example.COM", "HTTPS://example.com", "https://example.com/", "https://A.example.org", "https://a.example.org/",
			"https://example.com:443", "https://example.com ", "https://example.com/path"})
}

// International host names are configured in Unicode or punycode and sent by
// browsers in punycode only; a look-alike name is another origin.
func TestIDNOrigins(t *testing.T) {
	for _, policy := range []string{
		`{"allowed_origins": ["https://élève.example", "https://*.bücher.example"]}`,
		`{"allowed_origins": ["https://xn--lve-6lad.example", "https://*.xn--bcher-kva.example"]}`,
		`{"allowed_origins": ["https://ÉLÈVE.example", "https://*.BÜCHER.example"]}`,
	} {
		checkOrigins(t, policy,
			[]string{"https://xn--lve-6lad.example", "https://shop.xn--bcher-kva.example"},
			[]string{"https://élève.example", "https://shop.bücher.example", "https://eleve.example", "https://xn--bcher-kva.example",
				"https://xn--lve-6lad.example.evil", "https://shop.xn--bcher-kva.example.evil",
				"https://xn--lv-7iac733b.example"}) // élève with a Cyrillic е
	}
}

// A page served over plain http can be rewritten by anyone on the network:
// with credentials, http origins are refused unless served from this
// machine, and an https origin never admits its http twin.
func TestHTTPOriginsAreNotTrustedForHTTPS(t *testing.T) {
	wantRefused(t, config{AllowedOrigins: []string{"http://app.example.com"}, AllowCredentials: true}, "is not a secure origin")
	wantRefused(t, config{AllowedOriginRegexps: []string{`http://[a-z]+\.example\.com`}, AllowCredentials: true}, "matches plain-http origins")
	checkOrigins(t, credentialed,
		[]string{"https://app.example.com", "https://a.example.org"},
		[]string{"http://app.example.com", "http://a.example.org", "ws://app.example.com", "wss://app.example.com"})
}

// A wildcard over a public suffix trusts sites that anyone can register. A
// top-level domain or another ICANN suffix is refused with or without
// credentials, whatever the opt-outs say, and in any form (letter case,
// port, trailing dot, Unicode); a privately run suffix is refused with
// credentials. A wildcard over one's own domain never admits the domain
// itself, so a takeover is limited to what was listed.
func TestWildcardsOverPublicSuffixes(t *testing.T) {
	for _, o := range []string{"https://*.com", "https://*.co.uk", "https://*.COM:*", "https://*.com.", "https://*.公司.cn", "https://*.ck"} {
		for _, cfg := range []config{
			{AllowedOrigins: []string{o}},
			{AllowedOrigins: []string{o}, AllowCredentials: true, AllowPublicSuffixWildcards: true},
		} {
			wantRefused(t, cfg, "where anyone can register a name")
		}
	}
	for _, o := range []string{"https://*.github.io", "https://*.herokuapp.com", "https://*.netlify.app:*"} {
		wantRefused(t, config{AllowedOrigins: []string{o}, AllowCredentials: true}, "a public suffix where anyone can publish a page")
	}
	checkOrigins(t, credentialed, []string{"https://a.example.org"}, []string{"https://example.org", "https://a.example.org.evil"})
}
