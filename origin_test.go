package cors

import (
	"fmt"
	"slices"
	"strings"
	"testing"
)

func TestParseOriginPatternNormalises(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"https://app.example.com", "https://app.example.com"},
		{"HTTPS://App.Example.COM", "https://app.example.com"},
		{"https://example.com:443", "https://example.com"},
		{"http://example.com:80", "http://example.com"},
		{"https://example.com:80", "https://example.com:80"},
		{"http://localhost:8080", "http://localhost:8080"},
		{"http://localhost:08080", "http://localhost:8080"},
		{"https://élève.example", "https://xn--lve-6lad.example"},
		{"https://Bücher.example:8443", "https://xn--bcher-kva.example:8443"},
		{"https://xn--lve-6lad.example", "https://xn--lve-6lad.example"},
		{"https://a_b.example.com", "https://a_b.example.com"},
		{"http://127.0.0.1:3000", "http://127.0.0.1:3000"},
		{"http://[::1]:3000", "http://[::1]:3000"},
		{"http://[0:0:0:0:0:0:0:1]", "http://[::1]"},
		{"http://[2001:DB8:0:0:1:0:0:1]", "http://[2001:db8::1:0:0:1]"},
		{"http://[::ffff:1.2.3.4]", "http://[::ffff:102:304]"},
		{"capacitor://localhost", "capacitor://localhost"},
		{"chrome-extension://abcdefghijklmnopabcdefghijklmnop", "chrome-extension://abcdefghijklmnopabcdefghijklmnop"},
		{"https://*.example.com", "https://*.example.com"},
		{"https://*.Example.com:443", "https://*.example.com"},
		{"https://*.example.com:8443", "https://*.example.com:8443"},
		{"https://*.example.com:*", "https://*.example.com:*"},
		{"http://localhost:*", "http://localhost:*"},
		{"http://*.localhost:*", "http://*.localhost:*"},
		{"http://[::1]:*", "http://[::1]:*"},
		// A trailing dot makes another origin, normalised like any other.
		{"https://example.com.", "https://example.com."},
		{"HTTPS://Example.COM.:443", "https://example.com."},
		{"https://example.com.:8443", "https://example.com.:8443"},
		{"https://élève.example.", "https://xn--lve-6lad.example."},
		{"https://élève.example。", "https://xn--lve-6lad.example."},
		{"http://localhost.:*", "http://localhost.:*"},
		{"https://*.example.com.", "https://*.example.com."},
		{"https://*.Example.com.:*", "https://*.example.com.:*"},
		// The URL standard reads an IPv4 address with a trailing dot as the
		// address, which serialises without it.
		{"http://127.0.0.1.", "http://127.0.0.1"},
		{"http://192.0.2.10.:8080", "http://192.0.2.10:8080"},
		{"https://" + strings.Repeat("a.", 126) + "a.", "https://" + strings.Repeat("a.", 126) + "a."},
	} {
		t.Run(tc.in, func(t *testing.T) {
			o, err := parseOriginPattern(tc.in)
			if err != nil {
				t.Fatalf("parseOriginPattern(%q): %v", tc.in, err)
			}
			if got := o.String(); got != tc.want {
				t.Errorf("parseOriginPattern(%q) = %q, want %q", tc.in, got, tc.want)
			}
			// The normal form is a fixed point.
			again, err := parseOriginPattern(o.String())
			if err != nil || again != o {
				t.Errorf("reparsing %q gave %+v, %v; want %+v", o.String(), again, err, o)
			}
		})
	}
}

func TestParseOriginPatternRefuses(t *testing.T) {
	for _, tc := range []struct{ in, wantErr string }{
		{"", "is empty"},
		{"null", `can never be allowed`},
		{"NULL", `can never be allowed`},
		{"example.com", `has no scheme: an origin is scheme://host[:port]; write "https://example.com"`},
		{"//example.com", `write "https://example.com"`},
		{"https://example.com/", `has a path ("/"): an origin is scheme://host[:port] with nothing after it; write "https://example.com"`},
		{"https://example.com/app", `has a path ("/app")`},
		{"https://example.com?x=1", `has a query ("?x=1")`},
		{"https://example.com#top", `has a fragment ("#top")`},
		{`https://example.com\x`, `has a path`},
		{"https://user:pw@example.com", `has user information ("user:pw@"): browsers never send it in an origin; write "https://example.com"`},
		{"https://example.com:", `has an empty port`},
		{"https://example.com:0", `has an invalid port "0"`},
		{"https://example.com:65536", `has an invalid port "65536"`},
		{"https://example.com:+80", `has an invalid port "+80"`},
		{"https://example.com:http", `has an invalid port "http"`},
		{"https://*", `has a wildcard for the whole host`},
		{"https://*:443", `has a wildcard for the whole host`},
		{"https://*.", `has "*." with no domain after it`},
		{"https://*example.com", `has a "*" that is not a whole leading label`},
		{"https://foo.*.example.com", `has a "*" that is not a whole leading label`},
		{"https://example.*", `has a "*" that is not a whole leading label`},
		{"https://*.*.example.com", `has a "*" that is not a whole leading label`},
		{"*://example.com", `has a wildcard scheme`},
		{"ht tp://example.com", `contains a space`},
		{"https://exa mple.com", `contains a space`},
		{"https://example.com\n", `contains a space or a control character`},
		{"1http://example.com", `has an invalid scheme "1http"`},
		{"file://", `is a file: origin`},
		{"file:///home/me/index.html", `is a file: origin`},
		{"https://", `has no host`},
		{"https://:8080", `has no host`},
		{"https://a..example.com", `has an invalid host`},
		{"https://.example.com", `has an invalid host`},
		{"https://exa$mple.com", `has an invalid host`},
		{"https://example.com..", `has an invalid host "example.com.."`},
		{"https://.", `has an invalid host "."`},
		{"https://*..", `has an invalid host "."`},
		{"https://*.example..com.", `has an invalid host`},
		{"https://" + strings.Repeat("a.", 127) + "a.", `has an invalid host`},
		{"http://127.0.0.1..", `has an invalid host "127.0.0.1.."`},
		{"http://127.1.", `browsers read as an IPv4 address`},
		{"https://*.127.0.0.1.", `in front of an IP address`},
		{"https://" + strings.Repeat("a", 64) + ".com", `has an invalid host`},
		{"https://xn--zz.example", `has an invalid international host name`},
		{"http://127.1", `browsers read as an IPv4 address`},
		{"http://0x7f.0.0.1", `browsers read as an IPv4 address`},
		{"http://256.0.0.1", `browsers read as an IPv4 address`},
		{"http://[::1", `without its closing "]"`},
		{"http://[::1]x", `after the IPv6 address`},
		{"http://[fe80::1%25eth0]", `has an invalid IPv6 address`},
		{"http://[1.2.3.4]", `has an invalid IPv6 address`},
		{"http://::1", `has several ":"`},
		{"https://*.127.0.0.1", `in front of an IP address`},
		{"https://*.[::1]", `in front of an IP address`},
		{"https://*.[::1]:8080", `in front of an IP address`},
		{"https://*.[", `without its closing "]"`},
		{"https://*.[]", `has an invalid IPv6 address "[]"`},
		{"https://*.:443", `has "*." with no domain after it`},
		{"https://*.*", `has a wildcard for the whole host`},
	} {
		t.Run(tc.in, func(t *testing.T) {
			o, err := parseOriginPattern(tc.in)
			if err == nil {
				t.Fatalf("parseOriginPattern(%q) = %q, want an error", tc.in, o.String())
			}
			if !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("parseOriginPattern(%q) error:\n\t%v\nwant it to contain:\n\t%s", tc.in, err, tc.wantErr)
			}
		})
	}
}

func TestOriginPatternIsLoopback(t *testing.T) {
	for in, want := range map[string]bool{
		"http://localhost":        true,
		"http://localhost:*":      true,
		"http://app.localhost":    true,
		"http://*.localhost:3000": true,
		"http://127.0.0.1":        true,
		"http://127.8.9.10:*":     true,
		"http://[::1]:8080":       true,
		"http://localhost.":       true,
		"http://app.localhost.:*": true,
		"http://*.localhost.":     true,
		"http://127.0.0.1.":       true,
		"http://localhost.com.":   false,
		"http://localhost.com":    false,
		"http://mylocalhost":      false,
		"http://128.0.0.1":        false,
		"http://10.0.0.1":         false,
		"http://[::2]":            false,
		"http://*.example.com":    false,
	} {
		o, err := parseOriginPattern(in)
		if err != nil {
			t.Fatal(err)
		}
		if got := o.isLoopback(); got != want {
			t.Errorf("isLoopback(%q) = %v, want %v", in, got, want)
		}
	}
}

// newOriginSet builds the origin set of a list of allowed origins and
// regexps, failing the test on any problem.
func newOriginSet(t *testing.T, origins []string, regexps ...string) *originSet {
	t.Helper()
	p, _, err := compile(config{AllowedOrigins: origins, AllowedOriginRegexps: regexps}, compileOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return &p.origins
}

func TestOriginSetContains(t *testing.T) {
	for _, tc := range []struct {
		name    string
		origins []string
		regexps []string
		allow   []string
		deny    []string
	}{
		{
			name:    "exact origins are compared byte for byte",
			origins: []string{"https://example.com", "http://localhost:8080"},
			allow:   []string{"https://example.com", "http://localhost:8080"},
			deny: []string{
				"https://EXAMPLE.com", "HTTPS://example.com", "https://example.com/", "https://example.com:443",
				"http://example.com", "https://example.com.evil.com", "https://evilexample.com", "https://example.community",
				"https://sub.example.com", "http://localhost", "http://localhost:8081", "http://localhost:08080",
				" https://example.com", "https://example.com ", "null", "", "https://example.co",
			},
		},
		{
			name:    "configured forms are normalised first",
			origins: []string{"HTTPS://Example.com:443", "https://élève.example"},
			allow:   []string{"https://example.com", "https://xn--lve-6lad.example"},
			deny:    []string{"https://élève.example", "https://Example.com"},
		},
		{
			name:    "no radix-tree confusion between exact origins",
			origins: []string{"https://foo.com", "https://bar.com"},
			allow:   []string{"https://foo.com", "https://bar.com"},
			deny:    []string{"https://barfoo.com", "https://foobar.com", "https://foo.combar.com", "https://bar.comfoo.com"},
		},
		{
			name:    "a subdomain pattern allows whole labels below the domain",
			origins: []string{"https://*.example.com"},
			allow:   []string{"https://a.example.com", "https://a.b.example.com", "https://xn--lve-6lad.example.com", "https://a-b_c.example.com"},
			deny: []string{
				"https://example.com", "https://.example.com", "https://a..example.com", "https://evilexample.com",
				"https://example.com.evil.com", "https://a.example.com.evil.com", "http://a.example.com",
				"https://a.example.com:443", "https://a.example.com:8443", "https://A.example.com", "https://a.example.com/",
				"https://a.example.co", "https://a.b.example.org", "https://*.example.com", "https://a%2eexample.com",
			},
		},
		{
			name:    "a subdomain pattern with a port",
			origins: []string{"https://*.example.com:8443"},
			allow:   []string{"https://a.example.com:8443"},
			deny:    []string{"https://a.example.com", "https://a.example.com:8444", "https://a.example.com:08443", "https://example.com:8443"},
		},
		{
			name:    "a subdomain pattern with any port",
			origins: []string{"https://*.example.com:*"},
			allow:   []string{"https://a.example.com", "https://a.example.com:8443", "https://a.b.example.com:1"},
			deny:    []string{"https://example.com:8443", "https://a.example.com:443", "https://a.example.com:", "https://a.example.com:0", "https://a.example.com:65536", "https://a.example.com:80x"},
		},
		{
			name:    "any port on one host",
			origins: []string{"http://localhost:*", "http://[::1]:*", "http://127.0.0.1:*"},
			allow:   []string{"http://localhost", "http://localhost:3000", "http://[::1]:8080", "http://[::1]", "http://127.0.0.1:5173"},
			deny: []string{
				"http://localhost:80", "http://localhost:", "http://localhost:0", "http://localhost:99999",
				"https://localhost:3000", "http://app.localhost:3000", "http://localhost.evil.com:3000",
				"http://[::1]:", "http://[::1]x", "http://[::2]:80", "http://127.0.0.2:5173",
			},
		},
		{
			name:    "many patterns are found by lookup",
			origins: []string{"https://*.a.example", "https://*.b.example:*", "https://x.c.example", "http://*.d.example"},
			allow:   []string{"https://q.a.example", "https://q.b.example:9", "https://x.c.example", "http://q.d.example"},
			deny:    []string{"https://q.c.example", "https://q.d.example", "http://q.a.example", "https://a.example"},
		},
		{
			name:    "non-http schemes",
			origins: []string{"capacitor://localhost", "chrome-extension://abcdefghijklmnop"},
			allow:   []string{"capacitor://localhost", "chrome-extension://abcdefghijklmnop"},
			deny:    []string{"ionic://localhost", "http://localhost", "chrome-extension://abcdefghijklmnoq"},
		},
		{
			name:    "regexps match the whole origin",
			regexps: []string{`https://pr-[0-9]+\.preview\.example\.com`, `^https://[a-z]+\.example\.org$`},
			allow:   []string{"https://pr-12.preview.example.com", "https://abc.example.org"},
			deny: []string{
				"https://pr-12.preview.example.com.evil.com", "xhttps://pr-12.preview.example.com", "https://pr-.preview.example.com",
				"http://pr-12.preview.example.com", "https://abc.example.org.evil", "https://ABC.example.org", "null",
			},
		},
		{
			name:    "a trailing dot makes another origin",
			origins: []string{"https://example.com.", "https://app.example.org"},
			allow:   []string{"https://example.com.", "https://app.example.org"},
			deny: []string{
				"https://example.com", "https://app.example.org.", "https://example.com..", "https://Example.com.",
				"https://example.com.:443", "https://a.example.com.",
			},
		},
		{
			name:    "a subdomain pattern with a trailing dot",
			origins: []string{"https://*.example.com.", "https://*.example.org", "http://localhost.:*"},
			allow:   []string{"https://a.example.com.", "https://a.b.example.com.", "https://a.example.org", "http://localhost.", "http://localhost.:3000"},
			deny: []string{
				"https://a.example.com", "https://example.com.", "https://.example.com.", "https://a..example.com.", "https://a.example.com..",
				"https://a.example.org.", "https://example.org.", "http://localhost", "http://localhost:3000", "http://a.localhost.:3000",
			},
		},
		{
			name:    "a subdomain pattern with a trailing dot and a port",
			origins: []string{"https://*.example.com.:8443", "https://*.example.net.:*"},
			allow:   []string{"https://a.example.com.:8443", "https://a.example.net.", "https://a.example.net.:1"},
			deny:    []string{"https://a.example.com.", "https://a.example.com:8443", "https://a.example.net", "https://a.example.net:1"},
		},
		{
			name:    "an IPv4 address with a trailing dot is the address",
			origins: []string{"http://127.0.0.1.:8080"},
			allow:   []string{"http://127.0.0.1:8080"},
			deny:    []string{"http://127.0.0.1.:8080"},
		},
		{
			name:    "a trailing dot adds one byte to the longest host",
			origins: []string{"https://*.example.org."},
			allow:   []string{"https://" + strings.Repeat("a.", 121) + "example.org."},
		},
		{
			name:    "origins longer than any allowed one are refused unparsed",
			origins: []string{"https://example.com", "https://*.example.org"},
			allow:   []string{"https://" + strings.Repeat("a.", 120) + "example.org"},
			deny:    []string{"https://" + strings.Repeat("a", 64<<10) + ".example.org", "https://example.com" + strings.Repeat(" ", 400)},
		},
	} {
		// Each case runs as written, where a few entries of each kind are
		// compared one by one, and padded past maxListed with entries that
		// match none of its origins, so that every kind is looked up.
		for _, padded := range []bool{false, true} {
			origins := tc.origins
			if padded {
				origins = padOrigins(tc.origins)
			}
			t.Run(fmt.Sprintf("%s/padded=%v", tc.name, padded), func(t *testing.T) {
				s := newOriginSet(t, origins, tc.regexps...)
				if padded && len(tc.origins) > 0 && s.exact.len() <= maxListed {
					t.Fatalf("%d exact origins: the padding does not reach past maxListed", s.exact.len())
				}
				for _, o := range tc.allow {
					if !s.contains(o) {
						t.Errorf("%q is refused, want it allowed", o)
					}
				}
				for _, o := range tc.deny {
					if s.contains(o) {
						t.Errorf("%q is allowed, want it refused", o)
					}
				}
			})
		}
	}
}

// padOrigins returns origins and, for each scheme they use and for
// maxListed other schemes, maxListed+1 entries of every kind under the
// domain padding.invalid, which no test origin is under.
func padOrigins(origins []string) []string {
	schemes := map[string]bool{}
	for _, o := range origins {
		if scheme, _, ok := strings.Cut(o, "://"); ok {
			schemes[strings.ToLower(scheme)] = true
		}
	}
	for i := range maxListed + 1 {
		schemes[fmt.Sprintf("pad%d", i)] = true
	}
	out := slices.Clone(origins)
	for scheme := range schemes {
		for i := range maxListed + 1 {
			out = append(out,
				fmt.Sprintf("%s://e%d.padding.invalid", scheme, i),
				fmt.Sprintf("%s://h%d.padding.invalid:*", scheme, i),
				fmt.Sprintf("%s://*.s%d.padding.invalid", scheme, i),
				fmt.Sprintf("%s://*.p%d.padding.invalid:8443", scheme, i),
				fmt.Sprintf("%s://*.a%d.padding.invalid:*", scheme, i))
		}
	}
	return out
}

func TestSerializeIPv6(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"::", "::"},
		{"::1", "::1"},
		{"1::", "1::"},
		{"1:0:0:2:0:0:0:3", "1:0:0:2::3"},
		{"1:0:2:0:3:0:4:0", "1:0:2:0:3:0:4:0"},
		{"1:0:0:2:0:0:3:4", "1::2:0:0:3:4"},
		{"2001:db8:85a3::8a2e:370:7334", "2001:db8:85a3::8a2e:370:7334"},
		{"::ffff:192.0.2.1", "::ffff:c000:201"},
	} {
		o, err := parseOriginPattern("http://[" + tc.in + "]")
		if err != nil {
			t.Fatal(err)
		}
		if got := o.host; got != "["+tc.want+"]" {
			t.Errorf("[%s] serialises as %s, want [%s]", tc.in, got, tc.want)
		}
	}
}

// TestCheckTrailingDotOrigin checks that "caddy cors check" takes an origin
// with a trailing dot, normalised, sends it as it is, and holds it apart
// from the origin without the dot.
func TestCheckTrailingDotOrigin(t *testing.T) {
	for _, tc := range []struct {
		name, acao string
		verdict    verdict
	}{
		{"answered with the dotted origin", "https://app.example.", verdictAllowed},
		{"answered with the undotted origin", "https://app.example", verdictBlocked},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := newCraftedServer(t, refuseAll, craftedAnswer{headers: hp("Access-Control-Allow-Origin: "+tc.acao, "Vary: Origin")})
			rep, _ := runCheckJSON(t, []string{srv.URL + "/r", "--origin", "HTTPS://App.Example.:443"})
			if rep.Origin != "https://app.example." || rep.Verdict != tc.verdict {
				t.Errorf("origin %q, verdict %q (%s); want https://app.example. and %q", rep.Origin, rep.Verdict, rep.Message, tc.verdict)
			}
			if got := srv.received(); len(got) != 1 || got[0].Header.Get("Origin") != "https://app.example." {
				t.Errorf("the server got %d requests, want one from Origin https://app.example.", len(got))
			}
		})
	}
}

// TestTrailingDotOrigins sends actual requests and preflights: a page at
// https://example.com./ sends "Origin: https://example.com.", another
// origin than https://example.com, and each is allowed only where listed.
func TestTrailingDotOrigins(t *testing.T) {
	checkOrigins(t, `{"allowed_origins": ["https://Example.com.", "https://*.example.org."], "allow_credentials": true}`,
		[]string{"https://example.com.", "https://a.example.org."},
		[]string{"https://example.com", "https://a.example.org", "https://example.org.", "https://example.com..", "https://a.example.com."})
	checkOrigins(t, `{"allowed_origins": ["https://example.com", "https://*.example.org"], "allow_credentials": true}`,
		[]string{"https://example.com", "https://a.example.org"},
		[]string{"https://example.com.", "https://a.example.org.", "https://a.example.org.."})
}
