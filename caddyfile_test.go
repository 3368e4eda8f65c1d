package cors

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
)

func TestUnmarshalCaddyfile(t *testing.T) {
	tenMinutes := MaxAge(10 * time.Minute)
	zero := MaxAge(0)
	for _, tc := range []struct {
		name  string
		input string
		want  Handler
	}{
		{
			name:  "origins on the directive line",
			input: `cors https://a.example https://b.example`,
			want:  Handler{AllowedOrigins: []string{"https://a.example", "https://b.example"}},
		},
		{
			name: "every subdirective",
			input: `cors https://a.example {
				origins https://*.b.example http://localhost:*
				origins capacitor://localhost
				origin_regexp ^https://pr-[0-9]+\.example$ ^https://x\.example$
				methods PUT DELETE
				methods PATCH
				headers Content-Type X-Api-Key
				expose X-Request-Id
				credentials
				max_age 10m
				preflight_status 200
				passthrough
				private_network
				allow_insecure_origins
				allow_public_suffix_wildcards
			}`,
			want: Handler{
				AllowedOrigins:             []string{"https://a.example", "https://*.b.example", "http://localhost:*", "capacitor://localhost"},
				AllowedOriginRegexps:       []string{`^https://pr-[0-9]+\.example$`, `^https://x\.example$`},
				AllowedMethods:             []string{"PUT", "DELETE", "PATCH"},
				AllowedHeaders:             []string{"Content-Type", "X-Api-Key"},
				ExposedHeaders:             []string{"X-Request-Id"},
				AllowCredentials:           true,
				MaxAge:                     &tenMinutes,
				PreflightStatus:            200,
				OptionsPassthrough:         true,
				AllowPrivateNetwork:        true,
				AllowInsecureOrigins:       true,
				AllowPublicSuffixWildcards: true,
			},
		},
		{
			name: "wildcards",
			input: `cors {
				origins *
				methods *
				headers * Authorization
				expose *
			}`,
			want: Handler{
				AllowedOrigins: []string{"*"}, AllowedMethods: []string{"*"},
				AllowedHeaders: []string{"*", "Authorization"}, ExposedHeaders: []string{"*"},
			},
		},
		{
			name:  "credentials false, max_age 0",
			input: "cors https://a.example {\n credentials true\n credentials false\n max_age 0\n}",
			want:  Handler{AllowedOrigins: []string{"https://a.example"}, MaxAge: &zero},
		},
		{
			name:  "cross_origin_protection",
			input: "cors https://a.example {\n\tcross_origin_protection\n}",
			want:  Handler{AllowedOrigins: []string{"https://a.example"}, CrossOriginProtection: true},
		},
		{
			name:  "placeholders are kept for Provision",
			input: "cors {env.CORS_ORIGINS} {\n origin_regexp {env.RE}\n credentials\n}",
			want:  Handler{AllowedOrigins: []string{"{env.CORS_ORIGINS}"}, AllowedOriginRegexps: []string{"{env.RE}"}, AllowCredentials: true},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got Handler
			if err := got.UnmarshalCaddyfile(caddyfile.NewTestDispenser(tc.input)); err != nil {
				t.Fatalf("UnmarshalCaddyfile: %v", err)
			}
			gotJSON, _ := json.Marshal(got)
			wantJSON, _ := json.Marshal(tc.want)
			if string(gotJSON) != string(wantJSON) {
				t.Errorf("got  %s\nwant %s", gotJSON, wantJSON)
			}
		})
	}
}

func TestUnmarshalCaddyfileRefuses(t *testing.T) {
	for _, tc := range []struct {
		name, input, want string
	}{
		{"no origin", "cors", `cors: no origin is allowed, so the handler would do nothing: list the origins of your pages, such as "https://app.example.com" (Caddyfile: cors https://app.example.com), or allow any origin with "*" (Caddyfile: origins *), at Testfile:1`},
		{"null", "cors null", `origins: "null" can never be allowed`},
		{"each problem at its line", "cors https://a.example/ {\n\tcredentials\n\torigins *\n\tmethods TRACE\n\tmax_age 25h\n}",
			"4 problems in the CORS policy: " +
				"(1) origins: \"https://a.example/\" has a path (\"/\"): an origin is scheme://host[:port] with nothing after it; write \"https://a.example\", at Testfile:1; " +
				"(2) origins: \"*\" cannot be combined with credentials: browsers refuse \"*\" on a credentialed request, and answering any origin with credentials lets every site read your users' data; list the origins that may send credentials, at Testfile:3; " +
				"(3) methods: \"TRACE\" is a method that browsers never send (fetch() refuses CONNECT, TRACE and TRACK): remove it, at Testfile:4; " +
				"(4) max_age: 25h is longer than any browser caches a preflight (Firefox: 24h, Chromium: 2h): write 2h or less, at Testfile:5"},
		{"origins without a value", "cors {\n\torigins\n}", `wrong argument count or unexpected line ending after 'origins', at Testfile:2`},
		{"methods without a value", "cors * {\n\tmethods\n}", `wrong argument count`},
		{"credentials with a bad value", "cors https://a.example {\n\tcredentials yes\n}", `credentials takes true, false or nothing (true), not "yes", at Testfile:2`},
		{"credentials with two values", "cors https://a.example {\n\tcredentials true false\n}", `credentials takes true, false or nothing (true), not "false"`},
		{"max_age not a duration", "cors https://a.example {\n\tmax_age soon\n}", `max_age: soon is not a duration (time: invalid duration "soon"): write a duration with a unit, such as 10m, 2h or 0s`},
		{"max_age with two values", "cors https://a.example {\n\tmax_age 1m 2m\n}", `wrong argument count`},
		{"preflight_status not a number", "cors https://a.example {\n\tpreflight_status ok\n}", `preflight_status "ok" is not a status code`},
		{"preflight_status 0", "cors https://a.example {\n\tpreflight_status 0\n}", `preflight_status 0 is not a success: write 204 (the default) or 200`},
		{"preflight_status 302", "cors https://a.example {\n\tpreflight_status 302\n}", `preflight_status: 302 is not a success: browsers accept a preflight only with a status from 200 to 299`},
		{"flag with a value", "cors https://a.example {\n\tpassthrough yes\n}", `wrong argument count`},
		{"private_network with a value", "cors https://a.example {\n\tprivate_network on\n}", `wrong argument count`},
		{"cross_origin_protection with a value", "cors https://a.example {\n\tcross_origin_protection on\n}",
			`wrong argument count or unexpected line ending after 'on', at Testfile:2`},
		{"cross_origin_protection with any origin", "cors {\n\torigins *\n\tcross_origin_protection\n}",
			`origins: "*" cannot be combined with cross_origin_protection: it trusts every origin, so the protection would refuse nothing; ` +
				`list the origins of your pages, such as "https://app.example.com", at Testfile:2`},
		{"regexp without scheme", "cors {\n\torigin_regexp .*\n}", `origin_regexp: ".*" does not begin with a fixed lower-case scheme`},
		{"forbidden header", "cors * {\n\torigins https://a.example\n\theaders Cookie\n}", `headers: "Cookie" is a header that browsers never let scripts send, so no preflight asks for it: remove it, at Testfile:3`},
		{"expose Set-Cookie", "cors https://a.example {\n\texpose Set-Cookie\n}", `expose: "Set-Cookie" can never be read by scripts`},
		{"expose * with credentials", "cors https://a.example {\n\texpose *\n\tcredentials\n}", `expose: "*" means "all headers" only without credentials`},
		{"public suffix", "cors https://*.github.io {\n\tcredentials\n}", `origins: "https://*.github.io" allows every site under "github.io"`},
		{"ICANN public suffix", "cors https://a.example {\n\torigins https://a.example.org\n\torigins https://*.co.uk\n}",
			`origins: "https://*.co.uk" allows every site under "co.uk", a public suffix where anyone can register a name: write "*" if you mean any site, or list the sites you trust, such as "https://yours.co.uk", at Testfile:3`},
		{"private network's domain with credentials", "cors https://*.internal:* {\n\tcredentials\n}",
			`origins: "https://*.internal:*" allows every site under "internal", a private network's domain that no public registry serves, where any machine on that network may be able to name itself: with credentials, list the sites you trust, such as "https://yours.internal:*", or set allow_public_suffix_wildcards if you control every name under it, at Testfile:1`},
		{"insecure", "cors http://app.example.com {\n\tcredentials\n}", `origins: "http://app.example.com" is not a secure origin`},
		{"file origin", "cors file://", `origins: "file://" is a file: origin`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var h Handler
			err := h.UnmarshalCaddyfile(caddyfile.NewTestDispenser(tc.input))
			if err == nil {
				t.Fatalf("accepted %q", tc.input)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error:\n%v\nwant it to contain:\n%s", err, tc.want)
			}
		})
	}
}

// TestUnmarshalCaddyfileMaxAge checks every refusal of a max_age value, text
// and line: a number without a unit is taken for seconds, and a negative
// value gets the same answer with or without a unit.
func TestUnmarshalCaddyfileMaxAge(t *testing.T) {
	for _, tc := range []struct{ value, want string }{
		{"600", `max_age: 600 has no unit: for 600 seconds, write 600s or 10m`},
		{"7200", `max_age: 7200 has no unit: for 7200 seconds, write 7200s or 2h`},
		{"90", `max_age: 90 has no unit: for 90 seconds, write 90s`},
		{"1", `max_age: 1 has no unit: for 1 second, write 1s`},
		{"86401", `max_age: 86401 has no unit: 86401 seconds would be longer than any browser caches a preflight (Firefox: 24h, Chromium: 2h): write 2h or less`},
		{"-1", `max_age: -1 is negative, and negative values are refused: write 0 to forbid caching preflights, or a duration such as 10m`},
		{"-1s", `max_age: -1s is negative, and negative values are refused: write 0 to forbid caching preflights, or a duration such as 10m`},
		{"-10m", `max_age: -10m is negative, and negative values are refused: write 0 to forbid caching preflights, or a duration such as 10m`},
		{"25h", `max_age: 25h is longer than any browser caches a preflight (Firefox: 24h, Chromium: 2h): write 2h or less`},
		{"1.5s", `max_age: 1.5s is not a whole number of seconds, the unit of Access-Control-Max-Age: write 1s`},
		{"1500ms", `max_age: 1.5s is not a whole number of seconds, the unit of Access-Control-Max-Age: write 1s`},
		{"90m30.5s", `max_age: 1h30m30.5s is not a whole number of seconds, the unit of Access-Control-Max-Age: write 1h30m30s`},
		{"soon", `max_age: soon is not a duration (time: invalid duration "soon"): write a duration with a unit, such as 10m, 2h or 0s`},
	} {
		t.Run(tc.value, func(t *testing.T) {
			var h Handler
			err := h.UnmarshalCaddyfile(caddyfile.NewTestDispenser("cors https://a.example {\n\tmax_age " + tc.value + "\n}"))
			if want := tc.want + ", at Testfile:2"; err == nil || err.Error() != want {
				t.Errorf("error:\n%v\nwant:\n%s", err, want)
			}
		})
	}
}

// TestUnmarshalCaddyfileSuggests checks what an unknown subdirective is
// answered: the nearest subdirective, the subdirective of a JSON name, or
// the list of them all.
func TestUnmarshalCaddyfileSuggests(t *testing.T) {
	const all = `cors takes origins, origin_regexp, methods, headers, expose, credentials, max_age, preflight_status, passthrough, ` +
		`private_network, allow_insecure_origins, allow_public_suffix_wildcards, cross_origin_protection and shadow`
	for _, tc := range []struct{ sub, want string }{
		{"header", `did you mean "headers"?`},
		{"origin", `did you mean "origins"?`},
		{"method", `did you mean "methods"?`},
		{"exposed", `did you mean "expose"?`},
		{"max-age", `did you mean "max_age"?`},
		{"maxage", `did you mean "max_age"?`},
		{"credential", `did you mean "credentials"?`},
		{"Origins", `did you mean "origins"?`},
		{"mehtods", `did you mean "methods"?`},
		{"origin_regex", `did you mean "origin_regexp"?`},
		{"private_networks", `did you mean "private_network"?`},
		{"cross_origin_protections", `did you mean "cross_origin_protection"?`},
		{"expose_headers", `did you mean "expose"?`},
		{"allow_origins", `did you mean "origins"?`},
		{"allowed_origins", `"allowed_origins" is the JSON name: write "origins"`},
		{"allowed_origin_regexps", `"allowed_origin_regexps" is the JSON name: write "origin_regexp"`},
		{"Allowed_Methods", `"Allowed_Methods" is the JSON name: write "methods"`},
		{"exposed_headers", `"exposed_headers" is the JSON name: write "expose"`},
		{"allow_credentials", `"allow_credentials" is the JSON name: write "credentials"`},
		{"options_passthrough", `"options_passthrough" is the JSON name: write "passthrough"`},
		{"allow_private_network", `"allow_private_network" is the JSON name: write "private_network"`},
		{"respond", all},
		{"allow", all},
		{"insecure_origins", all},
	} {
		t.Run(tc.sub, func(t *testing.T) {
			var h Handler
			err := h.UnmarshalCaddyfile(caddyfile.NewTestDispenser("cors https://a.example {\n\t" + tc.sub + " x\n}"))
			want := `unknown cors subdirective "` + tc.sub + `": ` + tc.want + ", at Testfile:2"
			if err == nil || err.Error() != want {
				t.Errorf("error:\n%v\nwant:\n%s", err, want)
			}
		})
	}
}
