package cors

import (
	"net/http"
	"testing"
)

func TestKindOf(t *testing.T) {
	for _, tc := range []struct {
		name   string
		method string
		header http.Header
		want   requestKind
	}{
		{"no Origin", "GET", http.Header{}, notCORS},
		{"OPTIONS with a method but no Origin", "OPTIONS", http.Header{"Access-Control-Request-Method": {"PUT"}}, notCORS},
		{"GET with Origin", "GET", http.Header{"Origin": {"https://a.example"}}, actual},
		{"empty Origin", "GET", http.Header{"Origin": {""}}, actual},
		{"POST with Origin and a method", "POST", http.Header{"Origin": {"https://a.example"}, "Access-Control-Request-Method": {"PUT"}}, actual},
		{"plain OPTIONS", "OPTIONS", http.Header{"Origin": {"https://a.example"}}, actual},
		{"OPTIONS with an empty method", "OPTIONS", http.Header{"Origin": {"https://a.example"}, "Access-Control-Request-Method": {""}}, actual},
		{"preflight", "OPTIONS", http.Header{"Origin": {"https://a.example"}, "Access-Control-Request-Method": {"PUT"}}, preflight},
		{"preflight with a second, empty method line", "OPTIONS", http.Header{"Origin": {"null"}, "Access-Control-Request-Method": {"", "PUT"}}, preflight},
		{"lower-case options is another method", "options", http.Header{"Origin": {"https://a.example"}, "Access-Control-Request-Method": {"PUT"}}, actual},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got, _, _ := kindOf(tc.method, tc.header); got != tc.want {
				t.Errorf("kindOf = %v, want %v", got, tc.want)
			}
		})
	}
}

// TestDecide checks the policy alone: what it decides for each kind of
// request, before anything is written.
func TestDecide(t *testing.T) {
	compiled := func(cfg config) *policy {
		p, _, err := compile(cfg, compileOptions{})
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	list := compiled(config{AllowedOrigins: []string{"https://a.example"}, AllowCredentials: true, ExposedHeaders: []string{"X-Id"}, AllowedMethods: []string{"PUT"}})
	star := compiled(config{AllowedOrigins: []string{"*"}, ExposedHeaders: []string{"X-Id"}})
	preflightTo := func(origin, method string) http.Header {
		return http.Header{"Origin": {origin}, "Access-Control-Request-Method": {method}}
	}
	for _, tc := range []struct {
		name    string
		p       *policy
		method  string
		header  http.Header
		reason  refusalReason
		vary    string
		origin  string // Access-Control-Allow-Origin
		methods string // Access-Control-Allow-Methods
		expose  string // Access-Control-Expose-Headers
	}{
		{"not CORS under a list", list, "GET", http.Header{}, allowed, "Origin", "", "", ""},
		{"not CORS under *", star, "GET", http.Header{}, allowed, "", "*", "", "X-Id"},
		{"allowed actual", list, "GET", http.Header{"Origin": {"https://a.example"}}, allowed, "Origin", "https://a.example", "", "X-Id"},
		{"refused actual", list, "GET", http.Header{"Origin": {"https://b.example"}}, refusedOrigin, "Origin", "", "", ""},
		{"actual under *", star, "GET", http.Header{"Origin": {"https://b.example"}}, allowed, "", "*", "", "X-Id"},
		{"allowed preflight", list, "OPTIONS", preflightTo("https://a.example", "PUT"), allowed, preflightVary, "https://a.example", "PUT", ""},
		{"preflight for a safelisted method", list, "OPTIONS", preflightTo("https://a.example", "HEAD"), allowed, preflightVary, "https://a.example", "HEAD", ""},
		{"refused origin", list, "OPTIONS", preflightTo("https://b.example", "PUT"), refusedOrigin, preflightVary, "", "", ""},
		{"refused method", list, "OPTIONS", preflightTo("https://a.example", "put"), refusedMethod, preflightVary, "", "", ""},
		{"preflight under *", star, "OPTIONS", preflightTo("null", "GET"), allowed, preflightVary, "*", "GET", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var d decision
			tc.p.decide(tc.method, tc.header, &d)
			got := func(i owned) string { return d.value(i) }
			if d.refusal.reason != tc.reason || d.vary() != tc.vary || got(ownedAllowOrigin) != tc.origin ||
				got(ownedAllowMethods) != tc.methods || got(ownedExposeHeaders) != tc.expose {
				t.Errorf("decided %v, vary %q, origin %q, methods %q, expose %q; want %v, %q, %q, %q, %q",
					d.refusal.reason, d.vary(), got(ownedAllowOrigin), got(ownedAllowMethods), got(ownedExposeHeaders),
					tc.reason, tc.vary, tc.origin, tc.methods, tc.expose)
			}
			for i := range numOwned {
				if tc.reason != allowed && got(i) != "" {
					t.Errorf("a refusal carries %s: %q", ownedNames[i], got(i))
				}
			}
		})
	}
}
