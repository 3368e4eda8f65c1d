package cors

import (
	"errors"
	"maps"
	"strings"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"
)

func duration(d time.Duration) *time.Duration { return &d }

// TestCompileRefuses lists every configuration refused at load, with the
// problem each must report.
func TestCompileRefuses(t *testing.T) {
	anyOrigin := []string{"*"}
	for _, tc := range []struct {
		name string
		cfg  config
		want []string // one per problem, in order
	}{
		{
			name: "no origin",
			cfg:  config{AllowedMethods: []string{"PUT"}},
			want: []string{`allowed_origins: no origin is allowed, so the handler would do nothing: list the origins of your pages, such as "https://app.example.com" (Caddyfile: cors https://app.example.com), or allow any origin with "*" (Caddyfile: origins *)`},
		},
		{
			// "*" is refused with the protection, so it is not offered.
			name: "no origin, with cross_origin_protection",
			cfg:  config{CrossOriginProtection: true},
			want: []string{`allowed_origins: no origin is allowed, so the handler would do nothing: list the origins of your pages, such as "https://app.example.com" (Caddyfile: cors https://app.example.com)`},
		},
		{
			name: "any origin with credentials",
			cfg:  config{AllowedOrigins: anyOrigin, AllowCredentials: true},
			want: []string{`allowed_origins: "*" cannot be combined with credentials: browsers refuse "*" on a credentialed request, and answering any origin with credentials lets every site read your users' data; list the origins that may send credentials`},
		},
		{
			name: "any origin with cross-origin protection",
			cfg:  config{AllowedOrigins: []string{"https://a.example", "*"}, CrossOriginProtection: true},
			want: []string{`allowed_origins: "*" cannot be combined with cross_origin_protection: it trusts every origin, so the protection would refuse nothing; list the origins of your pages, such as "https://app.example.com"`},
		},
		{
			name: "null",
			cfg:  config{AllowedOrigins: []string{"null"}},
			want: []string{`allowed_origins: "null" can never be allowed: every sandboxed iframe, data: URL, file: page and cross-origin redirect sends "Origin: null", so allowing it allows anyone; list the real origins of your pages`},
		},
		{
			name: "file origin",
			cfg:  config{AllowedOrigins: []string{"file://"}},
			want: []string{`allowed_origins: "file://" is a file: origin, which browsers send as "null": file: pages cannot be allowed; serve the page over http(s)`},
		},
		{
			name: "malformed origins, each reported",
			cfg: config{AllowedOrigins: []string{
				"https://example.com/", "https://u@example.com", "https://example.com?q", "https://example.com:99999",
				"https://*", "https://*example.com", "https://foo.*.example.com",
			}},
			want: []string{
				`allowed_origins: "https://example.com/" has a path ("/"): an origin is scheme://host[:port] with nothing after it; write "https://example.com"`,
				`allowed_origins: "https://u@example.com" has user information ("u@"): browsers never send it in an origin; write "https://example.com"`,
				`allowed_origins: "https://example.com?q" has a query ("?q"): an origin is scheme://host[:port] with nothing after it; write "https://example.com"`,
				`allowed_origins: "https://example.com:99999" has an invalid port "99999": write a number from 1 to 65535, or "*" for any port`,
				`allowed_origins: "https://*" has a wildcard for the whole host, which would allow any site: write "*" alone to allow any origin, or a domain pattern such as "https://*.example.com"`,
				`allowed_origins: "https://*example.com" has a "*" that is not a whole leading label: "*." may only start the host, as in "https://*.example.com", which allows the subdomains of example.com (not example.com itself)`,
				`allowed_origins: "https://foo.*.example.com" has a "*" that is not a whole leading label`,
			},
		},
		{
			name: "plain-http origins with credentials",
			cfg:  config{AllowedOrigins: []string{"http://app.example.com", "http://*.example.com:*"}, AllowCredentials: true},
			want: []string{
				`allowed_origins: "http://app.example.com" is not a secure origin: with credentials, a network attacker who injects a script into that plain-http page can read your users' responses; serve the page over https and write "https://app.example.com", or set allow_insecure_origins if you accept that risk`,
				`allowed_origins: "http://*.example.com:*" is not a secure origin: with credentials, a network attacker who injects a script into that plain-http page can read your users' responses; serve the page over https and write "https://*.example.com:*", or set allow_insecure_origins if you accept that risk`,
			},
		},
		{
			name: "wildcards over a public suffix with credentials",
			cfg: config{AllowedOrigins: []string{
				"https://*.com", "https://*.github.io", "https://*.co.uk", "https://*.herokuapp.com:*", "https://*.netlify.app.",
			}, AllowCredentials: true},
			want: []string{
				`allowed_origins: "https://*.com" allows every site under "com", a top-level domain where anyone can register a name, and with credentials any of them could read your users' data: list the sites you trust, such as "https://yours.com" ("*" is refused with credentials too, and allow_public_suffix_wildcards does not cover a top-level domain)`,
				`allowed_origins: "https://*.github.io" allows every site under "github.io", a public suffix where anyone can publish a page, so with credentials every such page could read your users' data: list the sites you trust, such as "https://yours.github.io", or set allow_public_suffix_wildcards if you accept that risk`,
				`allowed_origins: "https://*.co.uk" allows every site under "co.uk", a public suffix where anyone can register a name, and with credentials any of them could read your users' data: list the sites you trust, such as "https://yours.co.uk" ("*" is refused with credentials too, and allow_public_suffix_wildcards does not cover a public suffix)`,
				`allowed_origins: "https://*.herokuapp.com:*" allows every site under "herokuapp.com", a public suffix where anyone can publish a page`,
				`allowed_origins: "https://*.netlify.app." allows every site under "netlify.app", a public suffix where anyone can publish a page, so with credentials every such page could read your users' data: list the sites you trust, such as "https://yours.netlify.app.", or set`,
			},
		},
		{
			name: "wildcards over a top-level domain or an ICANN suffix, in any form",
			cfg: config{AllowedOrigins: []string{
				"https://*.com", "https://*.co.uk", "https://*.COM:*", "https://*.com:8443", "https://*.com.", "wss://*.ｃｏｍ",
				"https://*.公司.cn", "https://*.рф", "https://*.ck", "https://*.kawasaki.jp", "https://*.arpa",
			}},
			want: []string{
				`allowed_origins: "https://*.com" allows every site under "com", a top-level domain where anyone can register a name: write "*" if you mean any site, or list the sites you trust, such as "https://yours.com"`,
				`allowed_origins: "https://*.co.uk" allows every site under "co.uk", a public suffix where anyone can register a name: write "*" if you mean any site, or list the sites you trust, such as "https://yours.co.uk"`,
				`allowed_origins: "https://*.COM:*" allows every site under "com", a top-level domain where anyone can register a name`,
				`allowed_origins: "https://*.com:8443" allows every site under "com", a top-level domain where anyone can register a name`,
				`allowed_origins: "https://*.com." allows every site under "com", a top-level domain where anyone can register a name: write "*" if you mean any site, or list the sites you trust, such as "https://yours.com."`,
				`allowed_origins: "wss://*.ｃｏｍ" allows every site under "com", a top-level domain where anyone can register a name: write "*" if you mean any site, or list the sites you trust, such as "wss://yours.com"`,
				`allowed_origins: "https://*.公司.cn" allows every site under "xn--55qx5d.cn", a public suffix where anyone can register a name`,
				`allowed_origins: "https://*.рф" allows every site under "xn--p1ai", a top-level domain where anyone can register a name`,
				`allowed_origins: "https://*.ck" allows every site under "ck", a top-level domain where anyone can register a name`,
				`allowed_origins: "https://*.kawasaki.jp" allows every site under "kawasaki.jp", a public suffix where anyone can register a name`,
				`allowed_origins: "https://*.arpa" allows every site under "arpa", a top-level domain`,
			},
		},
		{
			name: "a wildcard over a top-level domain despite the opt-outs",
			cfg: config{AllowedOrigins: []string{"https://*.com", "http://*.org:*"}, AllowCredentials: true,
				AllowPublicSuffixWildcards: true, AllowInsecureOrigins: true},
			want: []string{
				`allowed_origins: "https://*.com" allows every site under "com", a top-level domain where anyone can register a name, and with credentials`,
				`allowed_origins: "http://*.org:*" allows every site under "org", a top-level domain where anyone can register a name, and with credentials`,
			},
		},
		{
			name: "wildcards over a private network's domain with credentials",
			cfg:  config{AllowedOrigins: []string{"https://*.internal", "https://*.corp:*", "https://*.home.arpa", "https://*.lan."}, AllowCredentials: true},
			want: []string{
				`allowed_origins: "https://*.internal" allows every site under "internal", a private network's domain that no public registry serves, where any machine on that network may be able to name itself: with credentials, list the sites you trust, such as "https://yours.internal", or set allow_public_suffix_wildcards if you control every name under it`,
				`allowed_origins: "https://*.corp:*" allows every site under "corp", a private network's domain`,
				`allowed_origins: "https://*.home.arpa" allows every site under "home.arpa", a private network's domain`,
				`allowed_origins: "https://*.lan." allows every site under "lan", a private network's domain that no public registry serves, where any machine on that network may be able to name itself: with credentials, list the sites you trust, such as "https://yours.lan.", or set`,
			},
		},
		{
			name: "forbidden and invalid methods",
			cfg:  config{AllowedOrigins: anyOrigin, AllowedMethods: []string{"CONNECT", "trace", "Track", "PU T", "", "put", "delete"}},
			want: []string{
				`allowed_methods: "CONNECT" is a method that browsers never send (fetch() refuses CONNECT, TRACE and TRACK): remove it`,
				`allowed_methods: "trace" is a method that browsers never send`,
				`allowed_methods: "Track" is a method that browsers never send`,
				"allowed_methods: \"PU T\" is not a method name: a method is a token of letters, digits and !#$%&'*+-.^_`|~",
				`allowed_methods: "" is not a method name`,
				`allowed_methods: "put" never reaches the server in this case: fetch() sends it as "PUT", and methods are case-sensitive; write "PUT"`,
				`allowed_methods: "delete" never reaches the server in this case: fetch() sends it as "DELETE"`,
			},
		},
		{
			name: "forbidden and invalid request headers",
			cfg: config{AllowedOrigins: anyOrigin, AllowedHeaders: []string{
				"Cookie", "host", "Origin", "Sec-Fetch-Mode", "Proxy-Authorization", "Content-Length", "X Custom", "X-Ok:",
			}},
			want: []string{
				`allowed_headers: "Cookie" is a header that browsers never let scripts send, so no preflight asks for it: remove it`,
				`allowed_headers: "host" is a header that browsers never let scripts send`,
				`allowed_headers: "Origin" is a header that browsers never let scripts send`,
				`allowed_headers: "Sec-Fetch-Mode" is a header that browsers never let scripts send`,
				`allowed_headers: "Proxy-Authorization" is a header that browsers never let scripts send`,
				`allowed_headers: "Content-Length" is a header that browsers never let scripts send`,
				`allowed_headers: "X Custom" is not a header name`,
				`allowed_headers: "X-Ok:" is not a header name`,
			},
		},
		{
			name: "exposed headers",
			cfg:  config{AllowedOrigins: []string{"https://a.example"}, AllowCredentials: true, ExposedHeaders: []string{"Set-Cookie", "set-cookie2", "*", "X Y"}},
			want: []string{
				`exposed_headers: "Set-Cookie" can never be read by scripts, whatever Access-Control-Expose-Headers says: remove it`,
				`exposed_headers: "set-cookie2" can never be read by scripts`,
				`exposed_headers: "*" means "all headers" only without credentials; with credentials browsers read it as a header named "*": list the headers scripts may read`,
				`exposed_headers: "X Y" is not a header name`,
			},
		},
		{
			name: "negative max_age",
			cfg:  config{AllowedOrigins: anyOrigin, MaxAge: duration(-time.Second)},
			want: []string{`max_age: -1s is negative, and negative values are refused: write 0 to forbid caching preflights, or a duration such as 10m`},
		},
		{
			name: "max_age over a day",
			cfg:  config{AllowedOrigins: anyOrigin, MaxAge: duration(25 * time.Hour)},
			want: []string{`max_age: 25h is longer than any browser caches a preflight (Firefox: 24h, Chromium: 2h): write 2h or less`},
		},
		{
			name: "max_age not in whole seconds",
			cfg:  config{AllowedOrigins: anyOrigin, MaxAge: duration(1500 * time.Millisecond)},
			want: []string{`max_age: 1.5s is not a whole number of seconds, the unit of Access-Control-Max-Age: write 1s`},
		},
		{
			name: "preflight_status below 200",
			cfg:  config{AllowedOrigins: anyOrigin, PreflightStatus: 199},
			want: []string{`preflight_status: 199 is not a success: browsers accept a preflight only with a status from 200 to 299; write 204 (the default) or 200`},
		},
		{
			name: "preflight_status above 299",
			cfg:  config{AllowedOrigins: anyOrigin, PreflightStatus: 301},
			want: []string{`preflight_status: 301 is not a success`},
		},
		{
			name: "regexps",
			cfg: config{AllowedOriginRegexps: []string{
				`https?://example\.com`, `(?i)https://example\.com`, `.*\.example\.com`, `^(https://a|https://b)$`,
				`https://[`, `null`, `HTTPS://x\.example`,
			}},
			want: []string{
				`allowed_origin_regexps: "https?://example\.com" does not begin with a fixed lower-case scheme and "://", so it could match other schemes than you meant: write one regexp per scheme, such as "^https://[a-z0-9-]+\.example\.com$"`,
				`allowed_origin_regexps: "(?i)https://example\.com" does not begin with a fixed lower-case scheme`,
				`allowed_origin_regexps: ".*\.example\.com" does not begin with a fixed lower-case scheme`,
				`allowed_origin_regexps: "^(https://a|https://b)$" does not begin with a fixed lower-case scheme`,
				"allowed_origin_regexps: \"https://[\" does not compile: error parsing regexp: missing closing ]: `[`",
				`allowed_origin_regexps: "null" does not begin with a fixed lower-case scheme`,
				`allowed_origin_regexps: "HTTPS://x\.example" does not begin with a fixed lower-case scheme`,
			},
		},
		{
			name: "a regexp that matches any site, with credentials",
			cfg:  config{AllowedOriginRegexps: []string{`https://.*`, `^https://[a-z.]+$`, `^https://[a-z]+\.example\.com$`}, AllowCredentials: true},
			want: []string{
				`allowed_origin_regexps: "https://.*" matches the origins of any site, such as "https://attacker.invalid": with credentials, every site could read your users' data; match your own domain only, such as "^https://[a-z0-9-]+\.example\.com$"`,
				`allowed_origin_regexps: "^https://[a-z.]+$" matches the origins of any site`,
			},
		},
		{
			name: "plain-http regexp with credentials",
			cfg:  config{AllowedOriginRegexps: []string{`^http://localhost:[0-9]+$`}, AllowCredentials: true},
			want: []string{`allowed_origin_regexps: "^http://localhost:[0-9]+$" matches plain-http origins, which are not secure with credentials: match "https://" instead, use an origin pattern such as "http://localhost:*" for local development, or set allow_insecure_origins`},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, _, err := compile(tc.cfg, compileOptions{})
			if err == nil {
				t.Fatalf("compile(%+v) accepted the policy %+v, want %d problems", tc.cfg, p, len(tc.want))
			}
			var perr *policyError
			if !errors.As(err, &perr) {
				t.Fatalf("error %T %v, want a *policyError", err, err)
			}
			if len(perr.problems) != len(tc.want) {
				t.Fatalf("got %d problems, want %d:\n%v", len(perr.problems), len(tc.want), err)
			}
			for i, pb := range perr.problems {
				if got := pb.describe(pb.field); !strings.HasPrefix(got, tc.want[i]) {
					t.Errorf("problem %d:\n\t%s\nwant it to start with:\n\t%s", i, got, tc.want[i])
				}
			}
			if p != nil {
				t.Errorf("a refused configuration returned a policy")
			}
		})
	}
}

// TestCompileAccepts checks configurations that are valid, the opt-outs
// included, and what they compile to.
func TestCompileAccepts(t *testing.T) {
	for _, tc := range []struct {
		name  string
		cfg   config
		check func(t *testing.T, p *policy)
	}{
		{
			name: "any origin without credentials is static",
			cfg:  config{AllowedOrigins: []string{"*"}},
			check: func(t *testing.T, p *policy) {
				if !p.static() || p.preflightStatus != 204 || p.maxAge != "" || p.exposeHeaders != "" {
					t.Errorf("got %+v", p)
				}
			},
		},
		{
			name: "loopback http origins need no opt-out with credentials",
			cfg: config{AllowCredentials: true, AllowedOrigins: []string{
				"http://localhost", "http://localhost:*", "http://*.localhost:*", "http://127.0.0.1:8080", "http://127.1.2.3:*", "http://[::1]:*",
			}},
		},
		{
			name: "allow_insecure_origins",
			cfg:  config{AllowCredentials: true, AllowInsecureOrigins: true, AllowedOrigins: []string{"http://app.example.com"}, AllowedOriginRegexps: []string{`^http://[a-z]+\.example\.com$`}},
		},
		{
			name: "allow_public_suffix_wildcards",
			cfg: config{AllowCredentials: true, AllowPublicSuffixWildcards: true, AllowedOrigins: []string{
				"https://*.github.io", "https://*.herokuapp.com:*", "https://*.internal", "https://*.home.arpa",
			}},
		},
		{
			name: "private public suffix wildcards without credentials (a warning)",
			cfg:  config{AllowedOrigins: []string{"https://*.github.io", "https://*.netlify.app"}},
		},
		{
			name: "wildcards over a private network's domain without credentials",
			cfg: config{AllowedOrigins: []string{
				"https://*.test", "https://*.corp", "https://*.internal", "https://*.lan", "https://*.local", "https://*.home.arpa", "http://*.intranet:*",
			}},
		},
		{
			name: "wildcards under a registrable domain with credentials",
			cfg: config{AllowCredentials: true, AllowedOrigins: []string{
				"https://*.example.com", "https://*.example.test", "https://*.app.example.co.uk", "https://*.example.com.",
				"https://*.yours.github.io", "https://*.city.kawasaki.jp", "https://*.printer.home.arpa", "https://*.xn--55qx5d.xn--55qx5d.cn",
			}},
		},
		{
			name: "wildcards over localhost, with or without a trailing dot",
			cfg:  config{AllowCredentials: true, AllowedOrigins: []string{"http://*.localhost:*", "https://*.localhost.", "http://localhost.:*"}},
		},
		{
			name: "max_age zero is kept",
			cfg:  config{AllowedOrigins: []string{"*"}, MaxAge: duration(0)},
			check: func(t *testing.T, p *policy) {
				if p.maxAge != "0" {
					t.Errorf("maxAge = %q, want 0", p.maxAge)
				}
			},
		},
		{
			name: "max_age of a day",
			cfg:  config{AllowedOrigins: []string{"*"}, MaxAge: duration(24 * time.Hour)},
			check: func(t *testing.T, p *policy) {
				if p.maxAge != "86400" {
					t.Errorf("maxAge = %q, want 86400", p.maxAge)
				}
			},
		},
		{
			name: "methods, headers and exposed headers",
			cfg: config{
				AllowedOrigins:  []string{"https://a.example"},
				AllowedMethods:  []string{"PUT", "PATCH", "PROPFIND", "GET"},
				AllowedHeaders:  []string{"Content-Type", "X-API-Key", "x-api-key", "Authorization", "X-HTTP-Method-Override"},
				ExposedHeaders:  []string{"X-Request-Id", "x-request-id", "ETag"},
				PreflightStatus: 200,
			},
			check: func(t *testing.T, p *policy) {
				if p.methods.len() != 4 || len(p.headers) != 4 || !p.authorization || p.maxHeaderLen != len("x-http-method-override") {
					t.Errorf("methods %v, headers %v, authorization %v, maxHeaderLen %d", p.methods, p.headers, p.authorization, p.maxHeaderLen)
				}
				if p.exposeHeaders != "X-Request-Id, ETag" || p.preflightStatus != 200 {
					t.Errorf("exposeHeaders %q, preflightStatus %d", p.exposeHeaders, p.preflightStatus)
				}
			},
		},
		{
			name: "expose * without credentials",
			cfg:  config{AllowedOrigins: []string{"*"}, ExposedHeaders: []string{"X-A", "*"}},
			check: func(t *testing.T, p *policy) {
				if p.exposeHeaders != "*" {
					t.Errorf("exposeHeaders %q, want *", p.exposeHeaders)
				}
			},
		},
		{
			name: "private network adds its request header to the preflight Vary",
			cfg:  config{AllowedOrigins: []string{"*"}, AllowPrivateNetwork: true},
			check: func(t *testing.T, p *policy) {
				if !strings.HasSuffix(p.preflightVary, ", Access-Control-Request-Private-Network") {
					t.Errorf("preflightVary %q", p.preflightVary)
				}
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, _, err := compile(tc.cfg, compileOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if tc.check != nil {
				tc.check(t, p)
			}
		})
	}
}

// TestCompileWarnings lists the values that are allowed but probably not
// meant, with the warning each must log, in order.
func TestCompileWarnings(t *testing.T) {
	anyOrigin := []string{"*"}
	for _, tc := range []struct {
		name string
		cfg  config
		want []string
	}{
		{
			name: "a repeated origin, and * with others",
			cfg:  config{AllowedOrigins: []string{"https://a.example", "HTTPS://A.example:443", "*"}},
			want: []string{
				`allowed_origins: "HTTPS://A.example:443" repeats "https://a.example": it is listed once`,
				`allowed_origins: "*" is listed with other origins, which it already allows`,
			},
		},
		{
			name: "a regexp that matches any site, without credentials",
			cfg:  config{AllowedOriginRegexps: []string{`https://.+`}},
			want: []string{`allowed_origin_regexps: "https://.+" matches the origins of any site, such as "https://attacker.invalid"`},
		},
		{
			name: "a method fetch() does not upper-case",
			cfg:  config{AllowedOrigins: anyOrigin, AllowedMethods: []string{"patch"}},
			want: []string{`allowed_methods: "patch" is case-sensitive and allows only fetch() calls that write it so; write "PATCH" to allow PATCH`},
		},
		{
			name: "an exposed header scripts can always read",
			cfg:  config{AllowedOrigins: anyOrigin, ExposedHeaders: []string{"X-Request-Id", "content-type"}},
			want: []string{`exposed_headers: "content-type" is one that scripts can always read: listing it changes nothing`},
		},
		{
			name: "wildcards over a private public suffix without credentials",
			cfg:  config{AllowedOrigins: []string{"https://*.github.io", "https://*.netlify.app:*", "https://*.herokuapp.com.", "https://*.compute.amazonaws.com"}},
			want: []string{
				`allowed_origins: "https://*.github.io" allows every site under "github.io", a public suffix where anyone can publish a page, so every such page can read the responses: list the sites you trust, such as "https://yours.github.io", or set allow_public_suffix_wildcards to silence this warning`,
				`allowed_origins: "https://*.netlify.app:*" allows every site under "netlify.app", a public suffix where anyone can publish a page, so every such page can read the responses: list the sites you trust, such as "https://yours.netlify.app:*", or set allow_public_suffix_wildcards to silence this warning`,
				`allowed_origins: "https://*.herokuapp.com." allows every site under "herokuapp.com", a public suffix where anyone can publish a page, so every such page can read the responses: list the sites you trust, such as "https://yours.herokuapp.com.", or set allow_public_suffix_wildcards to silence this warning`,
				`allowed_origins: "https://*.compute.amazonaws.com" allows every site under "compute.amazonaws.com", a public suffix where anyone can publish a page, so every such page can read the responses: list the sites you trust, such as "https://yours.compute.amazonaws.com", or set allow_public_suffix_wildcards to silence this warning`,
			},
		},
		{
			name: "no warning once allow_public_suffix_wildcards is set",
			cfg:  config{AllowedOrigins: []string{"https://*.github.io"}, AllowPublicSuffixWildcards: true},
		},
		{
			name: "no warning for private networks, loopback or registrable domains",
			cfg: config{AllowedOrigins: []string{
				"https://*.test", "https://*.corp", "https://*.internal", "https://*.lan", "https://*.local", "https://*.home.arpa",
				"http://*.localhost:*", "https://*.example.test", "https://*.example.com", "https://*.yours.github.io",
			}},
		},
		{
			name: "CORS response headers among the allowed request headers",
			cfg: config{AllowedOrigins: anyOrigin, AllowedHeaders: []string{
				"Access-Control-Allow-Origin", "access-control-allow-credentials", "Access-Control-Allow-Methods", "Access-Control-Allow-Headers",
				"Access-Control-Expose-Headers", "Access-Control-Max-Age", "Access-Control-Allow-Private-Network",
				"ACCESS-CONTROL-ALLOW-ORIGIN", "X-Api-Key", "Authorization", "Access-Control-Foo",
			}},
			want: []string{
				`allowed_headers: "Access-Control-Allow-Origin" is a response header, which the server sends: a script that sets it as a request header is mistaken, and it never makes a response readable; remove it from the script and from the allowed headers`,
				`allowed_headers: "access-control-allow-credentials" is a response header, which the server sends`,
				`allowed_headers: "Access-Control-Allow-Methods" is a response header, which the server sends`,
				`allowed_headers: "Access-Control-Allow-Headers" is a response header, which the server sends`,
				`allowed_headers: "Access-Control-Expose-Headers" is a response header, which the server sends`,
				`allowed_headers: "Access-Control-Max-Age" is a response header, which the server sends`,
				`allowed_headers: "Access-Control-Allow-Private-Network" is a response header, which the server sends`,
			},
		},
		{
			name: "request headers and CORS response headers among the exposed headers",
			cfg: config{AllowedOrigins: anyOrigin, ExposedHeaders: []string{
				"Authorization", "if-none-match", "User-Agent", "Range", "Upgrade-Insecure-Requests", "Sec-CH-UA",
				"Cookie", "Origin", "Referer", "Sec-Fetch-Mode", "Access-Control-Request-Method",
				"Access-Control-Allow-Origin", "access-control-max-age", "Access-Control-Expose-Headers",
				"ETag", "X-Request-Id", "Upgrade", "Accept-Encoding", "Proxy-Authenticate", "Sec-WebSocket-Accept", "Content-Range",
			}},
			want: []string{
				`exposed_headers: "Authorization" is a request header, which responses do not normally carry, so scripts have nothing to read: to let scripts send it, list it in the allowed headers instead, and remove it from the exposed headers unless your responses carry it too`,
				`exposed_headers: "if-none-match" is a request header, which responses do not normally carry, so scripts have nothing to read: to let scripts send it`,
				`exposed_headers: "User-Agent" is a request header, which responses do not normally carry`,
				`exposed_headers: "Range" is a request header, which responses do not normally carry`,
				`exposed_headers: "Upgrade-Insecure-Requests" is a request header, which responses do not normally carry`,
				`exposed_headers: "Sec-CH-UA" is a request header, which the browser sets and responses do not carry, so scripts have nothing to read: remove it`,
				`exposed_headers: "Cookie" is a request header, which the browser sets and responses do not carry, so scripts have nothing to read: remove it`,
				`exposed_headers: "Origin" is a request header, which the browser sets`,
				`exposed_headers: "Referer" is a request header, which the browser sets`,
				`exposed_headers: "Sec-Fetch-Mode" is a request header, which the browser sets`,
				`exposed_headers: "Access-Control-Request-Method" is a request header, which the browser sets`,
				`exposed_headers: "Access-Control-Allow-Origin" is a CORS response header, which the browser reads itself: a script that gets the response at all was allowed, and the header tells it nothing more; remove it, and see the CORS headers in the browser's network panel or with caddy cors check`,
				`exposed_headers: "access-control-max-age" is a CORS response header, which the browser reads itself`,
				`exposed_headers: "Access-Control-Expose-Headers" is a CORS response header, which the browser reads itself`,
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, warnings, err := compile(tc.cfg, compileOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if len(warnings) != len(tc.want) {
				t.Fatalf("got %d warnings, want %d:\n%v", len(warnings), len(tc.want), describeAll(warnings))
			}
			for i, w := range warnings {
				if got := w.describe(w.field); !strings.HasPrefix(got, tc.want[i]) {
					t.Errorf("warning %d:\n\t%s\nwant it to start with:\n\t%s", i, got, tc.want[i])
				}
			}
		})
	}
}

// describeAll writes problems or warnings one a line.
func describeAll(pbs []problem) string {
	var b strings.Builder
	for _, pb := range pbs {
		b.WriteString("\t" + pb.describe(pb.field) + "\n")
	}
	return b.String()
}

// TestLogWarnings checks that each warning is logged at the warn level with
// its message, the value it came from, and the field and value as fields.
func TestLogWarnings(t *testing.T) {
	t.Setenv("CORS_TEST_EXPOSE", "X-Request-Id Authorization")
	h := &Handler{
		AllowedOrigins: []string{"https://*.github.io", "*"},
		ExposedHeaders: []string{"{env.CORS_TEST_EXPOSE}"},
	}
	cfg, expanded := h.expandedConfig(caddy.NewReplacer())
	_, warnings, err := compile(cfg, compileOptions{})
	if err != nil {
		t.Fatal(err)
	}
	core, logs := observer.New(zapcore.InfoLevel)
	h.logger = zap.New(core)
	h.logWarnings(warnings, expanded)
	type entry struct {
		msg    string
		fields map[string]any
	}
	want := []entry{
		{`allowed_origins: "https://*.github.io" allows every site under "github.io", a public suffix where anyone can publish a page, so every such page can read the responses: list the sites you trust, such as "https://yours.github.io", or set allow_public_suffix_wildcards to silence this warning`,
			map[string]any{"field": "allowed_origins", "value": "https://*.github.io"}},
		{`allowed_origins: "*" is listed with other origins, which it already allows`,
			map[string]any{"field": "allowed_origins", "value": "*"}},
		{`exposed_headers: "Authorization" (from "{env.CORS_TEST_EXPOSE}") is a request header, which responses do not normally carry, so scripts have nothing to read: to let scripts send it, list it in the allowed headers instead, and remove it from the exposed headers unless your responses carry it too`,
			map[string]any{"field": "exposed_headers", "value": "Authorization"}},
	}
	got := logs.All()
	if len(got) != len(want) {
		t.Fatalf("logged %d entries, want %d: %v", len(got), len(want), got)
	}
	for i, e := range got {
		if e.Level != zapcore.WarnLevel || e.Message != want[i].msg || !maps.Equal(e.ContextMap(), want[i].fields) {
			t.Errorf("entry %d: %v %q %v\nwant: warn %q %v", i, e.Level, e.Message, e.ContextMap(), want[i].msg, want[i].fields)
		}
	}
}

// TestPolicyErrorLists checks that several problems are numbered on one
// line, which a terminal and a JSON log line both show as it is.
func TestPolicyErrorLists(t *testing.T) {
	_, _, err := compile(config{AllowedOrigins: []string{"null", "https://a.example/"}, PreflightStatus: 500}, compileOptions{})
	want := `3 problems in the CORS policy: ` +
		`(1) allowed_origins: "null" can never be allowed: every sandboxed iframe, data: URL, file: page and cross-origin redirect sends "Origin: null", so allowing it allows anyone; list the real origins of your pages; ` +
		`(2) allowed_origins: "https://a.example/" has a path ("/"): an origin is scheme://host[:port] with nothing after it; write "https://a.example"; ` +
		`(3) preflight_status: 500 is not a success: browsers accept a preflight only with a status from 200 to 299; write 204 (the default) or 200`
	if err == nil || err.Error() != want {
		t.Errorf("error:\n%v\nwant:\n%s", err, want)
	}
	_, _, err = compile(config{AllowedOrigins: []string{"null"}}, compileOptions{})
	if want := `allowed_origins: "null" can never be allowed`; err == nil || !strings.HasPrefix(err.Error(), want) || strings.Contains(err.Error(), "(1)") {
		t.Errorf("one problem: %v, want it alone, unnumbered", err)
	}
}

func TestCompileSkipsPlaceholders(t *testing.T) {
	cfg := config{
		AllowedOrigins:       []string{"{env.ORIGINS}", "https://a.example/{env.X}"},
		AllowedOriginRegexps: []string{"{env.RE}", `^https://[a-z]{2,3}\.example$`},
		AllowedMethods:       []string{"{env.M}"},
		AllowedHeaders:       []string{"{env.H}"},
		ExposedHeaders:       []string{"{env.E}"},
	}
	if _, _, err := compile(cfg, compileOptions{skipPlaceholders: true}); err != nil {
		t.Errorf("with placeholders skipped: %v", err)
	}
	_, _, err := compile(cfg, compileOptions{})
	var perr *policyError
	if !errors.As(err, &perr) || len(perr.problems) != 6 {
		t.Errorf("with placeholders checked literally, got %v; want 6 problems", err)
	}
}
