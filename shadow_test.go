package cors

import (
	"context"
	"reflect"
	"strings"
	"testing"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"
)

// TestShadowProblems checks that a shadow policy is checked with the
// handler's rules when the configuration loads, its problems numbered with
// the handler's and named "shadow: …".
func TestShadowProblems(t *testing.T) {
	t.Setenv("CORS_SHADOW_TEST_ORIGIN", "https://app.example.com/")
	for _, tc := range []struct{ name, js, want string }{
		{
			name: "insecure shadow",
			js:   `{"allowed_origins": ["https://app.example.com"], "allow_credentials": true, "shadow": {"allowed_origins": ["http://app.example.com"], "allow_credentials": true}}`,
			want: `shadow: allowed_origins: "http://app.example.com" is not a secure origin: with credentials, a network attacker who injects a script into ` +
				`that plain-http page can read your users' responses; serve the page over https and write "https://app.example.com", ` +
				`or set allow_insecure_origins if you accept that risk`,
		},
		{
			name: "problems of both",
			js:   `{"allowed_origins": ["null"], "shadow": {"allowed_origins": ["*"], "allow_credentials": true, "allowed_methods": ["TRACE"]}}`,
			want: `3 problems in the CORS policy: ` +
				`(1) allowed_origins: "null" can never be allowed: every sandboxed iframe, data: URL, file: page and cross-origin redirect sends "Origin: null", ` +
				`so allowing it allows anyone; list the real origins of your pages; ` +
				`(2) shadow: allowed_origins: "*" cannot be combined with credentials: browsers refuse "*" on a credentialed request, ` +
				`and answering any origin with credentials lets every site read your users' data; list the origins that may send credentials; ` +
				`(3) shadow: allowed_methods: "TRACE" is a method that browsers never send (fetch() refuses CONNECT, TRACE and TRACK): remove it`,
		},
		{
			name: "no origin",
			js:   `{"allowed_origins": ["https://app.example.com"], "shadow": {"allowed_methods": ["PUT"]}}`,
			want: `shadow: allowed_origins: no origin is allowed, so the shadow policy would refuse every CORS request: list the origins it would allow, ` +
				`such as "https://app.example.com" (Caddyfile: origins https://app.example.com inside shadow), or any origin with "*"`,
		},
		{
			name: "any origin under cross_origin_protection",
			js:   `{"allowed_origins": ["https://app.example.com"], "cross_origin_protection": true, "shadow": {"allowed_origins": ["*"]}}`,
			want: `shadow: allowed_origins: "*" cannot be combined with cross_origin_protection: it trusts every origin, so the protection would refuse nothing; ` +
				`list the origins of your pages, such as "https://app.example.com"`,
		},
		{
			name: "no origin under cross_origin_protection",
			js:   `{"allowed_origins": ["https://app.example.com"], "cross_origin_protection": true, "shadow": {"allowed_methods": ["PUT"]}}`,
			want: `shadow: allowed_origins: no origin is allowed, so the shadow policy would refuse every CORS request: list the origins it would allow, ` +
				`such as "https://app.example.com" (Caddyfile: origins https://app.example.com inside shadow)`,
		},
		{
			name: "placeholder",
			js:   `{"allowed_origins": ["https://app.example.com"], "shadow": {"allowed_origins": ["{env.CORS_SHADOW_TEST_ORIGIN}"]}}`,
			want: `shadow: allowed_origins: "https://app.example.com/" (from "{env.CORS_SHADOW_TEST_ORIGIN}") has a path ("/"): an origin is scheme://host[:port] with nothing after it; write "https://app.example.com"`,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := new(Handler)
			if err := caddy.StrictUnmarshalJSON([]byte(tc.js), h); err != nil {
				t.Fatal(err)
			}
			ctx, cancel := caddy.NewContext(caddy.Context{Context: context.Background()})
			defer cancel()
			if err := h.Provision(ctx); err != nil {
				t.Fatal(err)
			}
			if err := h.Validate(); err == nil || err.Error() != tc.want {
				t.Errorf("error:\n%v\nwant:\n%s", err, tc.want)
			}
		})
	}
}

// TestShadowWarnings checks that the warnings of a shadow policy are
// logged, named "shadow: …".
func TestShadowWarnings(t *testing.T) {
	h := new(Handler)
	js := `{"allowed_origins": ["https://app.example.com"], "shadow": {"allowed_origins": ["https://*.github.io"]}}`
	if err := caddy.StrictUnmarshalJSON([]byte(js), h); err != nil {
		t.Fatal(err)
	}
	core, logs := observer.New(zapcore.WarnLevel)
	// Provision compiles the shadow policy so, with its own logger.
	sh := h.Shadow.handler(h)
	sh.logger = zap.New(core)
	if _, problems := sh.compilePolicy(caddy.NewReplacer(), true); problems != nil {
		t.Fatal(problems)
	}
	entries := logs.All()
	if len(entries) != 1 || !strings.HasPrefix(entries[0].Message, `shadow: allowed_origins: "https://*.github.io" allows every site under "github.io"`) {
		t.Errorf("warnings %v, want one about shadow: allowed_origins", entries)
	}
}

// TestShadowStrictJSON checks that the fields that do not decide whether a
// request is allowed cannot be written in a shadow policy.
func TestShadowStrictJSON(t *testing.T) {
	for _, field := range []string{`"exposed_headers": ["X-Id"]`, `"max_age": "10m"`, `"preflight_status": 200`, `"options_passthrough": true`, `"shadow": {}`} {
		err := caddy.StrictUnmarshalJSON([]byte(`{"allowed_origins": ["*"], "shadow": {"allowed_origins": ["*"], `+field+`}}`), new(Handler))
		if err == nil || !strings.Contains(err.Error(), "unknown field") {
			t.Errorf("%s in a shadow: error %v, want an unknown field", field, err)
		}
	}
}

// TestUnmarshalCaddyfileShadow checks the shadow block of a Caddyfile.
func TestUnmarshalCaddyfileShadow(t *testing.T) {
	d := caddyfile.NewTestDispenser(`cors https://app.example.com https://old.example.com {
		methods PUT DELETE
		shadow {
			origins https://app.example.com
			origin_regexp ^https://pr-[0-9]+\.example\.com$
			methods PUT
			headers Content-Type
			credentials
			private_network
			allow_insecure_origins
			allow_public_suffix_wildcards
		}
	}`)
	var h Handler
	if err := h.UnmarshalCaddyfile(d); err != nil {
		t.Fatal(err)
	}
	want := &ShadowPolicy{
		AllowedOrigins:             []string{"https://app.example.com"},
		AllowedOriginRegexps:       []string{`^https://pr-[0-9]+\.example\.com$`},
		AllowedMethods:             []string{"PUT"},
		AllowedHeaders:             []string{"Content-Type"},
		AllowCredentials:           true,
		AllowPrivateNetwork:        true,
		AllowInsecureOrigins:       true,
		AllowPublicSuffixWildcards: true,
	}
	if !reflect.DeepEqual(h.Shadow, want) {
		t.Errorf("shadow %+v, want %+v", h.Shadow, want)
	}
	if !reflect.DeepEqual(h.AllowedMethods, []string{"PUT", "DELETE"}) || len(h.AllowedOrigins) != 2 {
		t.Errorf("the policy itself changed: %+v", h)
	}
}

// TestUnmarshalCaddyfileShadowErrors checks the messages of a shadow block
// that is refused, at the line of what is wrong.
func TestUnmarshalCaddyfileShadowErrors(t *testing.T) {
	const notHere = "cannot be set in a shadow policy: a shadow policy is only compared with the policy on whether it would allow each request, and "
	for _, tc := range []struct{ name, input, want string }{
		{"expose", "cors https://a.example {\n shadow {\n origins *\n expose X-Id\n }\n}",
			"shadow: expose " + notHere + "expose does not change that; set it on the cors policy itself, at Testfile:4"},
		{"max_age", "cors https://a.example {\n shadow {\n max_age 10m\n }\n}",
			"shadow: max_age " + notHere + "max_age does not change that; set it on the cors policy itself, at Testfile:3"},
		{"preflight_status", "cors https://a.example {\n shadow {\n preflight_status 200\n }\n}",
			"shadow: preflight_status " + notHere + "preflight_status does not change that; set it on the cors policy itself, at Testfile:3"},
		{"passthrough", "cors https://a.example {\n shadow {\n passthrough\n }\n}",
			"shadow: passthrough " + notHere + "passthrough does not change that; set it on the cors policy itself, at Testfile:3"},
		{"nested", "cors https://a.example {\n shadow {\n shadow {\n }\n }\n}",
			"shadow: a shadow policy cannot have a shadow of its own: write one shadow block, in the cors block, at Testfile:3"},
		{"twice", "cors https://a.example {\n shadow {\n origins *\n }\n shadow {\n origins *\n }\n}",
			"shadow is given twice: write one shadow block, at Testfile:5"},
		{"argument", "cors https://a.example {\n shadow https://b.example\n}",
			`shadow takes a block of its policy, not "https://b.example": write shadow { origins … }, at Testfile:2`},
		{"unknown", "cors https://a.example {\n shadow {\n respond\n }\n}",
			`unknown shadow subdirective "respond": shadow takes origins, origin_regexp, methods, headers, credentials, private_network, ` +
				`allow_insecure_origins and allow_public_suffix_wildcards, at Testfile:3`},
		{"problem", "cors https://a.example {\n shadow {\n origins https://app.example.com\n methods TRACE\n }\n}",
			`shadow: methods: "TRACE" is a method that browsers never send (fetch() refuses CONNECT, TRACE and TRACK): remove it, at Testfile:4`},
		{"no origin", "cors https://a.example {\n shadow {\n methods PUT\n }\n}",
			`shadow: origins: no origin is allowed, so the shadow policy would refuse every CORS request: list the origins it would allow, ` +
				`such as "https://app.example.com" (Caddyfile: origins https://app.example.com inside shadow), or any origin with "*", at Testfile:2`},
		{"any origin under cross_origin_protection", "cors https://a.example {\n shadow {\n origins *\n }\n cross_origin_protection\n}",
			`shadow: origins: "*" cannot be combined with cross_origin_protection: it trusts every origin, so the protection would refuse nothing; ` +
				`list the origins of your pages, such as "https://app.example.com", at Testfile:3`},
		{"both", "cors null {\n shadow {\n origins http://a.example\n credentials\n }\n}",
			`2 problems in the CORS policy: (1) origins: "null" can never be allowed: every sandboxed iframe, data: URL, file: page and ` +
				`cross-origin redirect sends "Origin: null", so allowing it allows anyone; list the real origins of your pages, at Testfile:1; (2) shadow: origins: "http://a.example" is not a secure origin: with credentials, ` +
				`a network attacker who injects a script into that plain-http page can read your users' responses; serve the page over https ` +
				`and write "https://a.example", or set allow_insecure_origins if you accept that risk, at Testfile:3`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var h Handler
			err := h.UnmarshalCaddyfile(caddyfile.NewTestDispenser(tc.input))
			if err == nil || err.Error() != tc.want {
				t.Errorf("error:\n%v\nwant:\n%s", err, tc.want)
			}
		})
	}
}
