package cors

import (
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
)

// FuzzParseOriginPattern checks that whatever parses comes out in a normal
// form that parses to itself, and that an exact origin allows exactly that
// form.
func FuzzParseOriginPattern(f *testing.F) {
	for _, s := range []string{
		"https://example.com", "HTTP://LOCALHOST:8080", "https://*.example.com:*", "http://[::ffff:1.2.3.4]:80",
		"https://élève.example", "capacitor://localhost", "https://example.com/", "null", "https://*", "http://127.1",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		o, err := parseOriginPattern(s)
		if err != nil {
			return
		}
		norm := o.String()
		again, err := parseOriginPattern(norm)
		if err != nil || again != o {
			t.Fatalf("%q normalises to %q, which parses to %+v, %v", s, norm, again, err)
		}
		if o.isPattern() {
			return
		}
		u, err := url.Parse(norm)
		if err != nil || u.Scheme != o.scheme || u.Path != "" || u.RawQuery != "" || u.User != nil {
			t.Fatalf("%q normalises to %q, which is not an origin (%v)", s, norm, err)
		}
		var set originSet
		set.add(o)
		if !set.contains(norm) {
			t.Fatalf("%q does not allow its own normal form %q", s, norm)
		}
		if norm != s && set.contains(s) && strings.ToLower(s) != norm {
			t.Fatalf("%q allows the unnormalised %q", norm, s)
		}
	})
}

// FuzzCheckRequestHeaders compares the bounded scanner of
// Access-Control-Request-Headers with a plain reading of the list: split,
// trim, look up in lower case.
func FuzzCheckRequestHeaders(f *testing.F) {
	f.Add("content-type,x-api-key", "")
	f.Add(" Content-Type ,, X-API-KEY ", "authorization")
	f.Add("x-a\x00", "x-b")
	f.Add(",,,", "")
	p, _, err := compile(config{AllowedOrigins: []string{"*"}, AllowedHeaders: []string{"Content-Type", "X-Api-Key", "Authorization", "x-" + strings.Repeat("a", 70)}}, compileOptions{})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, line1, line2 string) {
		lines := []string{line1, line2}
		got, r := p.checkRequestHeaders(lines)

		var names []string
		wantOK := true
		elements := 0
		for _, line := range lines {
			for _, elem := range strings.Split(line, ",") {
				elements++
				name := strings.Trim(elem, " \t")
				if name == "" {
					continue
				}
				if _, ok := p.headers[strings.ToLower(name)]; !ok || !isToken(name) {
					wantOK = false
				}
				names = append(names, strings.ToLower(name))
			}
		}
		if elements > maxRequestHeadersElements || len(line1)+len(line2) > maxRequestHeadersBytes {
			wantOK = false
		}
		if (r.reason == allowed) != wantOK {
			t.Fatalf("%q: allowed %v (%v %q), want %v", lines, r.reason == allowed, r.reason, r.value, wantOK)
		}
		if wantOK && got != strings.Join(names, ",") {
			t.Fatalf("%q: Access-Control-Allow-Headers %q, want %q", lines, got, strings.Join(names, ","))
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
