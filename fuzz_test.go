package cors

import (
	"cmp"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	"go.uber.org/zap"
)

// FuzzParseOriginPattern checks that whatever parses comes out in a normal
// form that parses to itself, that the form is an origin as net/url reads
// it, that letter case in the configuration does not matter, and that a set
// built from the pattern allows what it should and nothing unnormalised.
func FuzzParseOriginPattern(f *testing.F) {
	for _, s := range []string{
		"https://example.com", "HTTP://LOCALHOST:8080", "https://*.example.com:*", "http://[::ffff:1.2.3.4]:80",
		"https://élève.example", "capacitor://localhost", "https://example.com/", "null", "https://*", "http://127.1",
		"https://*.[", "https://*.[::1]:8080",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		o, err := parseOriginPattern(s)
		if err != nil {
			if err.Error() == "" {
				t.Fatalf("%q is refused without a reason", s)
			}
			return
		}
		norm := o.String()
		again, err := parseOriginPattern(norm)
		if err != nil || again != o {
			t.Fatalf("%q normalises to %q, which parses to %+v, %v", s, norm, again, err)
		}
		for i := 0; i < len(norm); i++ {
			if c := norm[i]; c <= ' ' || c >= 0x7f || 'A' <= c && c <= 'Z' {
				t.Fatalf("%q normalises to %q, which holds %q", s, norm, c)
			}
		}
		if o.host[0] != '[' && len(strings.TrimSuffix(o.host, ".")) > 253 {
			t.Fatalf("%q normalises to a host of %d bytes", s, len(o.host))
		}
		if isASCII(s) {
			// On ASCII, strings.ToUpper and ToLower change letters only.
			for _, variant := range []string{strings.ToUpper(s), strings.ToLower(s)} {
				if v, err := parseOriginPattern(variant); err != nil || v != o {
					t.Fatalf("%q parses to %+v, but %q to %+v, %v", s, o, variant, v, err)
				}
			}
		}

		var set originSet
		set.add(o)
		if set.contains(norm) != !o.isPattern() {
			t.Fatalf("the set of %q allows its own form %q: %v", s, norm, set.contains(norm))
		}
		if norm != s && set.contains(s) {
			t.Fatalf("the set of %q allows the unnormalised %q", norm, s)
		}
		// An origin the pattern allows, built from its parts.
		sample := exampleOrigin(o)
		if !set.contains(sample) || !refAllowsOrigin([]originPattern{o}, sample) {
			t.Fatalf("%q: %q allowed by the set %v, by the reference %v", norm, sample,
				set.contains(sample), refAllowsOrigin([]originPattern{o}, sample))
		}
		if o.isPattern() {
			return
		}
		u, err := url.Parse(norm)
		if err != nil || u.Scheme != o.scheme || u.Path != "" || u.RawQuery != "" || u.User != nil || u.Port() != o.port {
			t.Fatalf("%q normalises to %q, which is not an origin (%v)", s, norm, err)
		}
	})
}

// exampleOrigin returns an origin that o allows: its subdomain "a" for a
// subdomain pattern, port 8443 for an any-port pattern.
func exampleOrigin(o originPattern) string {
	s := o.scheme + "://"
	if o.subdomains {
		s += "a."
	}
	s += o.host
	switch o.port {
	case "":
	case "*":
		s += ":8443"
	default:
		s += ":" + o.port
	}
	return s
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

// FuzzOriginSetContains compares the origin set, which finds patterns
// through maps without parsing the Origin, with the reference matcher,
// which parses it with net/url and compares scheme, labels and port.
func FuzzOriginSetContains(f *testing.F) {
	for _, seed := range [][3]string{
		{"https://foo.com", "https://bar.com", "https://barfoo.com"},
		{"https://foo.com", "https://bar.com", "https://bar.com"},
		{"https://*.example.com", "http://localhost:*", "https://a.b.example.com"},
		{"https://*.example.com", "http://localhost:*", "http://localhost:3000"},
		{"https://*.example.com", "https://example.com", "https://evilexample.com"},
		{"https://example.com", "https://*.example.com:*", "https://example.com.evil.com"},
		{"https://*.example.com:*", "http://[::1]:*", "https://x.example.com:8080"},
		{"http://[::1]:*", "https://example.com", "http://[::1]:65535"},
		{"https://*.example.com:8443", "https://example.com", "https://a.example.com:08443"},
		{"https://*.xn--lve-6lad.example", "ws://127.0.0.1:*", "https://a.xn--lve-6lad.example"},
	} {
		f.Add(seed[0], seed[1], seed[2])
	}
	f.Fuzz(func(t *testing.T, pattern1, pattern2, origin string) {
		var set originSet
		var patterns []originPattern
		for _, s := range []string{pattern1, pattern2} {
			if o, err := parseOriginPattern(s); err == nil {
				set.add(o)
				patterns = append(patterns, o)
			}
		}
		if len(patterns) == 0 {
			return
		}
		if got, want := set.contains(origin), refAllowsOrigin(patterns, origin); got != want {
			t.Fatalf("%v: %q allowed %v, the reference says %v", patterns, origin, got, want)
		}
		for _, o := range patterns {
			if sample := exampleOrigin(o); !set.contains(sample) {
				t.Fatalf("%v: %q is not allowed", patterns, sample)
			}
		}
	})
}

// FuzzCheckRequestHeaders compares the bounded scanner of
// Access-Control-Request-Headers with the reference reading of the list
// (split, trim, lower-case, look up), under a list of names, under "*", and
// under "*" with Authorization, in one line (when the high bit of which is
// set) or two.
func FuzzCheckRequestHeaders(f *testing.F) {
	f.Add(uint8(0), "content-type,x-api-key", "")
	f.Add(uint8(0), " Content-Type ,, X-API-KEY ", "authorization")
	f.Add(uint8(0), "x-a\x00", "x-b")
	f.Add(uint8(1), ",,,", "")
	f.Add(uint8(1), "authorization", "x-anything")
	f.Add(uint8(2), "Authorization,X-Anything", "")
	f.Add(uint8(0x80), "authorization,content-type", "")
	f.Add(uint8(0x80), "content-type ,x-api-key", "")
	policies := [][]string{
		{"Content-Type", "X-Api-Key", "Authorization", "x-" + strings.Repeat("a", 70)},
		{"*"},
		{"*", "Authorization"},
	}
	compiled := make([]*policy, len(policies))
	for i, headers := range policies {
		p, _, err := compile(config{AllowedOrigins: []string{"*"}, AllowedHeaders: headers}, compileOptions{})
		if err != nil {
			f.Fatal(err)
		}
		compiled[i] = p
	}
	f.Fuzz(func(t *testing.T, which uint8, line1, line2 string) {
		i := int(which&0x7f) % len(policies)
		lines := []string{line1, line2}
		if which&0x80 != 0 {
			lines = lines[:1] // the line echoed as it is when it needs no rewriting
		}
		got, r := compiled[i].checkRequestHeaders(lines)
		want, wantOK := refRequestHeaders(policies[i], lines)
		if (r.reason == allowed) != wantOK {
			t.Fatalf("%q under %q: allowed %v (%v %q), want %v", lines, policies[i], r.reason == allowed, r, r.value, wantOK)
		}
		if wantOK && got != want {
			t.Fatalf("%q under %q: Access-Control-Allow-Headers %q, want %q", lines, policies[i], got, want)
		}
	})
}

// FuzzUnmarshalCaddyfile checks that no Caddyfile input makes the parser
// panic, and that what it accepts without placeholders compiles.
func FuzzUnmarshalCaddyfile(f *testing.F) {
	for _, s := range []string{
		"cors https://a.example",
		"cors {\n origins *\n methods *\n headers * Authorization\n max_age 0\n}",
		"cors https://a.example {\n credentials\n expose X-A\n preflight_status 200\n passthrough\n private_network\n}",
		"cors null",
		"cors {\n origin_regexp ^https://[a-z]{2}\\.example$\n}",
		"cors https://a.example {\n methods PUT\n shadow {\n origins https://a.example\n methods * PUT\n credentials\n }\n}",
		"cors https://a.example {\n shadow {\n expose X-A\n }\n shadow\n}",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, input string) {
		tokens, err := caddyfile.Tokenize([]byte(input), "Caddyfile")
		if err != nil || len(tokens) == 0 || tokens[0].Text != "cors" {
			return
		}
		var h Handler
		if err := h.UnmarshalCaddyfile(caddyfile.NewDispenser(tokens)); err != nil {
			return
		}
		if strings.ContainsAny(input, "{}") {
			return
		}
		cfg, _ := h.expandedConfig(nil)
		if _, _, err := compile(cfg, compileOptions{}); err != nil {
			t.Fatalf("accepted %q, which does not compile: %v", input, err)
		}
	})
}

// FuzzMIMEEssence checks that an essence parses to itself and that what
// fails to parse has no token type or subtype.
func FuzzMIMEEssence(f *testing.F) {
	for _, s := range []string{"text/plain", "Text/Plain ; charset=utf-8", "multipart/form-data;boundary=\"x\"", "text /plain", "/", "a/b/c"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		essence, ok := mimeEssence(s)
		if !ok {
			return
		}
		if essence != strings.ToLower(essence) {
			t.Fatalf("%q: essence %q is not lower case", s, essence)
		}
		typ, sub, _ := strings.Cut(essence, "/")
		if !isToken(typ) || !isToken(sub) {
			t.Fatalf("%q: essence %q is not token/token", s, essence)
		}
		if again, ok := mimeEssence(essence); !ok || again != essence {
			t.Fatalf("%q: essence %q parses to %q, %v", s, essence, again, ok)
		}
	})
}

// FuzzParseSingleRange checks that a parsed range serialises back to a
// value that parses to the same range.
func FuzzParseSingleRange(f *testing.F) {
	for _, s := range []string{"bytes=0-", "bytes=0-499", "bytes=-5", "bytes=5-1", "bytes=0-1,2-3", "bytes= 1-2"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		start, end, ok := parseSingleRange(s)
		if !ok {
			return
		}
		if start < 0 && end < 0 || start >= 0 && end >= 0 && start > end {
			t.Fatalf("%q parses to the impossible range %d-%d", s, start, end)
		}
		again := "bytes="
		if start >= 0 {
			again += strconv.FormatInt(start, 10)
		}
		again += "-"
		if end >= 0 {
			again += strconv.FormatInt(end, 10)
		}
		if s2, e2, ok := parseSingleRange(again); !ok || s2 != start || e2 != end {
			t.Fatalf("%q parses to %d-%d, whose form %q parses to %d-%d, %v", s, start, end, again, s2, e2, ok)
		}
	})
}

// FuzzParseHeaderList compares the list parser with a plain reading:
// split on commas, trim, skip empty elements, every other one a token.
func FuzzParseHeaderList(f *testing.F) {
	f.Add("PUT, DELETE", "")
	f.Add(" x-a ,,\t", "x b")
	f.Add("*", "authorization")
	f.Fuzz(func(t *testing.T, line1, line2 string) {
		got, ok := parseHeaderList([]string{line1, line2})
		var want []string
		wantOK := true
		for _, elem := range strings.Split(line1+","+line2, ",") {
			if item := strings.Trim(elem, " \t"); item != "" {
				wantOK = wantOK && isToken(item)
				want = append(want, item)
			}
		}
		if ok != wantOK || ok && !slices.Equal(got, want) {
			t.Fatalf("%q, %q: got %q, %v; want %q, %v", line1, line2, got, ok, want, wantOK)
		}
	})
}

// Bits of the flags argument of FuzzServeHTTP: the policy, the request and
// what the next handler does.
const (
	fuzzCredentials uint16 = 1 << iota
	fuzzAnyMethod
	fuzzAnyHeader
	fuzzAuthorization
	fuzzExposeAll
	fuzzMaxAge
	fuzzStatus200
	fuzzPassthrough
	fuzzPrivateNetwork
	fuzzInsecure
	fuzzPublicSuffix
	fuzzRegexp
	fuzzNoOrigin
	fuzzRequestPrivateNetwork
	fuzzUpstreamCORS
	fuzzNextError
)

// fuzzRegexpExpr is the regexp a fuzzed policy may hold, loose on purpose;
// refRegexpAllows is its reference, which admits only the visible ASCII
// bytes of a serialised origin.
const fuzzRegexpExpr = `https://[^.]+\.regexp\.example`

func refRegexpAllows(origin string) bool {
	rest, ok := strings.CutPrefix(origin, "https://")
	if !ok {
		return false
	}
	if mid, ok := strings.CutSuffix(rest, ".regexp.example"); !ok || mid == "" || strings.Contains(mid, ".") {
		return false
	}
	for _, c := range []byte(origin) {
		if c < 0x21 || c > 0x7e {
			return false
		}
	}
	return true
}

// FuzzServeHTTP runs the handler on random requests under random valid
// policies, in front of a next handler that may write CORS headers of its
// own or fail, and checks the answer against the references: an origin is
// answered only if the reference allows it, with its own value or "*",
// never "*" with credentials; a preflight gets a 2xx with every header it
// needs or a 403 with none; Vary holds Origin whenever the answer depends
// on it; nothing ends in a 5xx.
func FuzzServeHTTP(f *testing.F) {
	f.Add("https://app.example.com https://*.example.org", fuzzCredentials|fuzzMaxAge, "OPTIONS", "https://a.example.org", "PUT", "X-Api-Key,content-type")
	f.Add("https://app.example.com", fuzzCredentials, "GET", "https://app.example.com", "", "")
	f.Add("https://foo.com https://bar.com", uint16(0), "GET", "https://barfoo.com", "", "")
	f.Add("*", fuzzAnyMethod|fuzzAnyHeader|fuzzExposeAll, "OPTIONS", "null", "PROPFIND", "x-a\nx-b")
	f.Add("*", fuzzAnyHeader, "OPTIONS", "https://a.example", "PATCH", "authorization")
	f.Add("http://localhost:*", fuzzCredentials|fuzzRegexp|fuzzPassthrough, "OPTIONS", "https://pr.regexp.example", "DELETE", "")
	f.Add("https://*.example.com", fuzzPrivateNetwork|fuzzRequestPrivateNetwork|fuzzUpstreamCORS, "OPTIONS", "https://a.example.com", "GET", "")
	f.Add("https://app.example.com", fuzzUpstreamCORS|fuzzNextError, "POST", "https://app.example.com\nhttps://app.example.com", "", "")
	f.Add("https://app.example.com", fuzzPassthrough|fuzzUpstreamCORS|fuzzCredentials|fuzzPrivateNetwork|fuzzRequestPrivateNetwork, "OPTIONS", "https://app.example.com", "PUT", "x-api-key")
	f.Fuzz(func(t *testing.T, origins string, flags uint16, method, origin, requestMethod, requestHeaders string) {
		has := func(bit uint16) bool { return flags&bit != 0 }

		// The policy.
		cfg := config{
			AllowCredentials:           has(fuzzCredentials),
			AllowedMethods:             []string{"PUT", "PATCH", "propfind"},
			AllowedHeaders:             []string{"X-Api-Key", "Content-Type"},
			ExposedHeaders:             []string{"X-Request-Id"},
			OptionsPassthrough:         has(fuzzPassthrough),
			AllowPrivateNetwork:        has(fuzzPrivateNetwork),
			AllowInsecureOrigins:       has(fuzzInsecure),
			AllowPublicSuffixWildcards: has(fuzzPublicSuffix),
		}
		var patterns []originPattern
		anyOrigin := false
		for _, s := range strings.Fields(origins) {
			if s == "*" {
				anyOrigin = true
				cfg.AllowedOrigins = append(cfg.AllowedOrigins, s)
			} else if o, err := parseOriginPattern(s); err == nil {
				patterns = append(patterns, o)
				cfg.AllowedOrigins = append(cfg.AllowedOrigins, s)
			}
		}
		if has(fuzzRegexp) {
			cfg.AllowedOriginRegexps = []string{fuzzRegexpExpr}
		}
		if has(fuzzAnyMethod) {
			cfg.AllowedMethods = []string{"*"}
		}
		if has(fuzzAnyHeader) {
			cfg.AllowedHeaders = []string{"*"}
		}
		if has(fuzzAuthorization) {
			cfg.AllowedHeaders = append(cfg.AllowedHeaders, "Authorization")
		}
		if has(fuzzExposeAll) {
			cfg.ExposedHeaders = []string{"*"}
		}
		if has(fuzzMaxAge) {
			d := 10 * time.Minute
			cfg.MaxAge = &d
		}
		if has(fuzzStatus200) {
			cfg.PreflightStatus = http.StatusOK
		}
		p, _, err := compile(cfg, compileOptions{})
		if err != nil {
			return // not a valid policy
		}
		h := &Handler{policy: p, logger: zap.NewNop()}
		static := anyOrigin && !cfg.AllowCredentials

		// The request.
		req := httptest.NewRequest("GET", "http://api.example.com/things", nil)
		req.Method = method
		originLines := strings.Split(origin, "\n")
		if has(fuzzNoOrigin) {
			originLines = nil
		} else {
			req.Header[headerOrigin] = originLines
		}
		var methodLines, headerLines []string
		if requestMethod != "" {
			methodLines = strings.Split(requestMethod, "\n")
			req.Header[headerRequestMethod] = methodLines
		}
		if requestHeaders != "" {
			headerLines = strings.Split(requestHeaders, "\n")
			req.Header[headerRequestHeaders] = headerLines
		}
		if has(fuzzRequestPrivateNetwork) {
			req.Header.Set(headerRequestPrivateNetwork, "true")
		}

		// The next handler.
		called := false
		errNext := caddyhttp.Error(http.StatusUnauthorized, errors.New("no credentials"))
		next := caddyhttp.HandlerFunc(func(w http.ResponseWriter, r *http.Request) error {
			called = true
			if has(fuzzUpstreamCORS) {
				w.Header().Set(headerAllowOrigin, "*")
				w.Header().Set(headerAllowCredentials, "true")
				w.Header().Set(headerAllowMethods, "GET")
				w.Header()[headerAllowHeaders] = []string{"a", "b"}
				w.Header().Add(headerVary, "Accept-Encoding")
				if !static {
					// A name the handler merged too, on a line of its own,
					// as reverse_proxy copies an upstream's Vary.
					w.Header().Add(headerVary, "accept-encoding, origin")
				}
			}
			if has(fuzzNextError) {
				return errNext
			}
			w.WriteHeader(http.StatusOK)
			return nil
		})

		rec := httptest.NewRecorder()
		err = h.ServeHTTP(rec, req, next)
		status := rec.Code
		if err != nil {
			if !has(fuzzNextError) || !called || err != errNext {
				t.Fatalf("ServeHTTP: %v", err)
			}
			status = http.StatusUnauthorized
		}
		if status >= 500 {
			t.Fatalf("status %d", status)
		}

		// The references' answer.
		oneOrigin := len(originLines) == 1
		originOK := static || oneOrigin && (refAllowsOrigin(patterns, origin) || has(fuzzRegexp) && refRegexpAllows(origin))
		isPreflight := method == http.MethodOptions && originLines != nil && slices.ContainsFunc(methodLines, func(m string) bool { return m != "" })
		allowHeaders, headersOK := refRequestHeaders(cfg.AllowedHeaders, headerLines)
		methodOK := len(methodLines) == 1 && refToken.MatchString(methodLines[0]) &&
			(slices.Contains([]string{"GET", "HEAD", "POST"}, methodLines[0]) || slices.Contains(cfg.AllowedMethods, methodLines[0]) || has(fuzzAnyMethod))
		allowed := originOK && (!isPreflight || methodOK && headersOK)

		// What the handler answered.
		got := make(map[string]string)
		for name, values := range rec.Header() {
			if !strings.HasPrefix(name, "Access-Control-") {
				continue
			}
			if len(values) != 1 || values[0] == "" {
				t.Fatalf("%s: %q, want one non-empty value", name, values)
			}
			got[name] = values[0]
		}
		describe := func() string {
			return fmt.Sprintf("policy %+v, %s with Origin %q, method %q, headers %q: status %d, headers %v",
				cfg, method, originLines, methodLines, headerLines, status, rec.Header())
		}
		want := make(map[string]string)
		if allowed {
			want[headerAllowOrigin] = "*"
			if !static {
				want[headerAllowOrigin] = origin
			}
			if cfg.AllowCredentials {
				want[headerAllowCredentials] = "true"
			}
			if isPreflight {
				want[headerAllowMethods] = methodLines[0]
				if allowHeaders != "" {
					want[headerAllowHeaders] = allowHeaders
				}
				if cfg.MaxAge != nil {
					want[headerMaxAge] = "600"
				}
				if cfg.AllowPrivateNetwork && has(fuzzRequestPrivateNetwork) {
					want[headerAllowPrivateNetwork] = "true"
				}
			} else {
				want[headerExposeHeaders] = strings.Join(cfg.ExposedHeaders, ", ")
			}
		}
		if !maps.Equal(got, want) {
			t.Fatalf("CORS headers %v, want %v\n%s", got, want, describe())
		}
		if acao := got[headerAllowOrigin]; acao != "" && acao != "*" && (!oneOrigin || acao != origin) {
			t.Fatalf("Access-Control-Allow-Origin is not the request's Origin\n%s", describe())
		}
		if got[headerAllowOrigin] == "*" && got[headerAllowCredentials] != "" {
			t.Fatalf("* with credentials\n%s", describe())
		}
		vary := rec.Header().Values(headerVary)
		// An answer depends on the Origin unless the policy is static, and
		// whether an OPTIONS request is a preflight depends on the Origin
		// and Access-Control-Request-Method.
		options := method == http.MethodOptions
		if wantVary := options || !static; varyNames(vary)["origin"] != wantVary {
			t.Fatalf("Vary %q, want Origin in it: %v\n%s", vary, wantVary, describe())
		}
		if options && !varyNames(vary)["access-control-request-method"] {
			t.Fatalf("OPTIONS answered with Vary %q\n%s", vary, describe())
		}
		if isPreflight && !varyNames(vary)["access-control-request-headers"] {
			t.Fatalf("preflight answered with Vary %q\n%s", vary, describe())
		}
		if (options || !static) && !varyOnce(vary) {
			t.Fatalf("Vary %q repeats a name\n%s", vary, describe())
		}
		switch {
		case isPreflight && !cfg.OptionsPassthrough:
			wantStatus := http.StatusForbidden
			if allowed {
				wantStatus = cmp.Or(cfg.PreflightStatus, http.StatusNoContent)
			}
			if called || status != wantStatus {
				t.Fatalf("preflight answered %d (next called: %v), want %d\n%s", status, called, wantStatus, describe())
			}
		case !called:
			t.Fatalf("the next handler was not called\n%s", describe())
		}
	})
}

// varyOnce reports whether each name of the Vary lines appears once, in
// any letter case.
func varyOnce(lines []string) bool {
	seen := make(map[string]bool)
	for _, line := range lines {
		for _, name := range strings.Split(line, ",") {
			if name = strings.ToLower(strings.TrimSpace(name)); name != "" && seen[name] {
				return false
			}
			seen[name] = true
		}
	}
	return true
}

// varyNames returns the names Vary lines hold, in lower case.
func varyNames(lines []string) map[string]bool {
	names := make(map[string]bool)
	for _, line := range lines {
		for _, name := range strings.Split(line, ",") {
			names[strings.ToLower(strings.TrimSpace(name))] = true
		}
	}
	return names
}
