package cors

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/caddyserver/caddy/v2/caddytest"
)

// exampleProbes are the requests that each example's comments describe, sent
// to the example's Caddyfile and then to its JSON twin. The examples listen
// on port 8080, moved to the tests' 9080.
var exampleProbes = map[string][]probe{
	"public-api": {
		{name: "simple GET", method: "GET", url: "http://localhost:9080/status", header: []string{"Origin: https://anyone.example"},
			wantStatus: 200, wantBody: `{"status":"ok"}`,
			want: map[string]string{"Access-Control-Allow-Origin": "*", "Access-Control-Expose-Headers": "X-Request-Id"}},
		{name: "no Origin gets * too", method: "GET", url: "http://localhost:9080/items", wantStatus: 200,
			want: map[string]string{"Access-Control-Allow-Origin": "*", "Access-Control-Expose-Headers": "X-Request-Id"}},
		{name: "preflight", method: "OPTIONS", url: "http://localhost:9080/items/1", wantStatus: 204,
			header: []string{"Origin: https://anyone.example", "Access-Control-Request-Method: PUT", "Access-Control-Request-Headers: content-type,x-api-key"},
			want: map[string]string{"Access-Control-Allow-Origin": "*", "Access-Control-Allow-Methods": "PUT",
				"Access-Control-Allow-Headers": "content-type,x-api-key", "Access-Control-Max-Age": "3600", "Vary": preflightVary}},
		{name: "preflight for a method not listed", method: "OPTIONS", url: "http://localhost:9080/items/1", wantStatus: 403,
			header: []string{"Origin: https://anyone.example", "Access-Control-Request-Method: PATCH"},
			want:   map[string]string{"Vary": preflightVary}},
	},
	"spa-credentials": {
		{name: "the app", method: "GET", url: "http://localhost:9080/me", header: []string{"Origin: https://app.example.com"}, wantStatus: 200,
			wantBody: `{"user":"ada"}`,
			want: map[string]string{"Access-Control-Allow-Origin": "https://app.example.com", "Access-Control-Allow-Credentials": "true",
				"Access-Control-Expose-Headers": "ETag", "Vary": "Origin"}},
		{name: "a subdomain of the app", method: "GET", url: "http://localhost:9080/me", header: []string{"Origin: https://eu.app.example.com"}, wantStatus: 200,
			want: map[string]string{"Access-Control-Allow-Origin": "https://eu.app.example.com", "Access-Control-Allow-Credentials": "true",
				"Access-Control-Expose-Headers": "ETag", "Vary": "Origin"}},
		{name: "another site", method: "GET", url: "http://localhost:9080/me", header: []string{"Origin: https://evil.example"}, wantStatus: 200,
			want: map[string]string{"Vary": "Origin"}},
		{name: "a look-alike", method: "GET", url: "http://localhost:9080/me", header: []string{"Origin: https://app.example.com.evil.example"}, wantStatus: 200,
			want: map[string]string{"Vary": "Origin"}},
		{name: "preflight with the CSRF header", method: "OPTIONS", url: "http://localhost:9080/me", wantStatus: 204,
			header: []string{"Origin: https://app.example.com", "Access-Control-Request-Method: PATCH", "Access-Control-Request-Headers: content-type,x-csrf-token"},
			want: map[string]string{"Access-Control-Allow-Origin": "https://app.example.com", "Access-Control-Allow-Credentials": "true",
				"Access-Control-Allow-Methods": "PATCH", "Access-Control-Allow-Headers": "content-type,x-csrf-token",
				"Access-Control-Max-Age": "600", "Vary": preflightVary}},
		{name: "404 is readable", method: "GET", url: "http://localhost:9080/nothing", header: []string{"Origin: https://app.example.com"}, wantStatus: 404,
			want: map[string]string{"Access-Control-Allow-Origin": "https://app.example.com", "Access-Control-Allow-Credentials": "true",
				"Access-Control-Expose-Headers": "ETag", "Vary": "Origin"}},
	},
	"partner-dashboard": {
		{name: "the partner's check of the designated API", method: "OPTIONS", url: "http://partner-api.localhost:9080/quests", wantStatus: 204,
			header: []string{"Origin: https://dashboard.partner.example", "Access-Control-Request-Method: POST", "Access-Control-Request-Headers: authorization,content-type"},
			want: map[string]string{"Access-Control-Allow-Origin": "https://dashboard.partner.example", "Access-Control-Allow-Methods": "POST",
				"Access-Control-Allow-Headers": "authorization,content-type", "Vary": preflightVary}},
		{name: "another origin at the designated API", method: "OPTIONS", url: "http://partner-api.localhost:9080/quests", wantStatus: 403,
			header: []string{"Origin: https://other.example", "Access-Control-Request-Method: POST", "Access-Control-Request-Headers: authorization,content-type"},
			want:   map[string]string{"Vary": preflightVary}},
		{name: "the partner's check of the open API", method: "OPTIONS", url: "http://open-api.localhost:9080/quests", wantStatus: 204,
			header: []string{"Origin: https://dashboard.partner.example", "Access-Control-Request-Method: POST", "Access-Control-Request-Headers: authorization,content-type"},
			want: map[string]string{"Access-Control-Allow-Origin": "*", "Access-Control-Allow-Methods": "POST",
				"Access-Control-Allow-Headers": "authorization,content-type", "Vary": preflightVary}},
		{name: "the call itself", method: "POST", url: "http://partner-api.localhost:9080/quests", header: []string{"Origin: https://dashboard.partner.example"},
			wantStatus: 200, wantBody: `{"quests":[]}`,
			want: map[string]string{"Access-Control-Allow-Origin": "https://dashboard.partner.example", "Vary": "Origin"}},
	},
	"cloud-elements": {
		{name: "safelisted origin and headers", method: "OPTIONS", url: "http://localhost:9080/elements/api-v2/accounts", wantStatus: 204,
			header: []string{"Origin: https://console.example.com", "Access-Control-Request-Method: POST",
				"Access-Control-Request-Headers: authorization,content-type,elements-session,subsite,x-amz-server-side-encryption-context"},
			want: map[string]string{"Access-Control-Allow-Origin": "https://console.example.com", "Access-Control-Allow-Methods": "POST",
				"Access-Control-Allow-Headers": "authorization,content-type,elements-session,subsite,x-amz-server-side-encryption-context", "Vary": preflightVary}},
		{name: "a header not in the list", method: "OPTIONS", url: "http://localhost:9080/elements/api-v2/accounts", wantStatus: 403,
			header: []string{"Origin: https://console.example.com", "Access-Control-Request-Method: POST", "Access-Control-Request-Headers: elements-session,x-custom"},
			want:   map[string]string{"Vary": preflightVary}},
		{name: "the Origin is echoed", method: "GET", url: "http://localhost:9080/elements/api-v2/accounts", header: []string{"Origin: https://app.example.com"},
			wantStatus: 200, want: map[string]string{"Access-Control-Allow-Origin": "https://app.example.com", "Vary": "Origin"}},
		{name: "an origin not safelisted", method: "GET", url: "http://localhost:9080/elements/api-v2/accounts", header: []string{"Origin: https://unknown.example"},
			wantStatus: 200, want: map[string]string{"Vary": "Origin"}},
	},
	"digibee": {
		{name: "example 1: GET with Content-Type and apikey", method: "OPTIONS", url: "http://trigger.localhost:9080/pipeline/run", wantStatus: 204,
			header: []string{"Origin: https://portal.example.com", "Access-Control-Request-Method: GET", "Access-Control-Request-Headers: apikey,content-type"},
			want: map[string]string{"Access-Control-Allow-Origin": "*", "Access-Control-Allow-Methods": "GET",
				"Access-Control-Allow-Headers": "apikey,content-type", "Vary": preflightVary}},
		{name: "example 1: the GET itself", method: "GET", url: "http://trigger.localhost:9080/pipeline/run", wantStatus: 200, wantBody: `{"pipeline":"ok"}`,
			header: []string{"Origin: https://portal.example.com", "apikey: k", "Content-Type: application/json"},
			want:   map[string]string{"Access-Control-Allow-Origin": "*"}},
		{name: "example 2: an unlisted test header", method: "OPTIONS", url: "http://trigger.localhost:9080/pipeline/run", wantStatus: 403,
			header: []string{"Origin: https://portal.example.com", "Access-Control-Request-Method: GET", "Access-Control-Request-Headers: apikey,content-type,test"},
			want:   map[string]string{"Vary": preflightVary}},
		{name: "example 3: POST gets a readable 404", method: "POST", url: "http://trigger.localhost:9080/pipeline/run", wantStatus: 404,
			header: []string{"Origin: https://portal.example.com", "apikey: k", "Content-Type: application/json"},
			want:   map[string]string{"Access-Control-Allow-Origin": "*"}},
		{name: "realm policy on one site", method: "GET", url: "http://orders.localhost:9080/", header: []string{"Origin: https://eu.portal.example.com"},
			wantStatus: 200, wantBody: `{"orders":[]}`,
			want: map[string]string{"Access-Control-Allow-Origin": "https://eu.portal.example.com", "Access-Control-Allow-Credentials": "true",
				"Access-Control-Expose-Headers": "X-Execution-Id", "Vary": "Origin"}},
		{name: "realm policy on another site", method: "OPTIONS", url: "http://invoices.localhost:9080/", wantStatus: 204,
			header: []string{"Origin: https://portal.example.com", "Access-Control-Request-Method: DELETE", "Access-Control-Request-Headers: apikey"},
			want: map[string]string{"Access-Control-Allow-Origin": "https://portal.example.com", "Access-Control-Allow-Credentials": "true",
				"Access-Control-Allow-Methods": "DELETE", "Access-Control-Allow-Headers": "apikey", "Access-Control-Max-Age": "300", "Vary": preflightVary}},
		{name: "realm policy refuses other origins", method: "GET", url: "http://invoices.localhost:9080/", header: []string{"Origin: https://evil.example"},
			wantStatus: 200, want: map[string]string{"Vary": "Origin"}},
	},
}

// TestExamples runs every example, in both its forms, and sends it the
// requests its comments describe.
func TestExamples(t *testing.T) {
	dirs := examples(t)
	if len(dirs) != len(exampleProbes) {
		t.Errorf("%d examples, %d with probes: every example needs probes", len(dirs), len(exampleProbes))
	}
	for _, dir := range dirs {
		name := filepath.Base(dir)
		probes := exampleProbes[name]
		if len(probes) == 0 {
			t.Errorf("example %s has no probes", name)
			continue
		}
		t.Run(name, func(t *testing.T) {
			caddyfile, twin := readExample(t, dir)
			var cfg map[string]any
			if err := json.Unmarshal([]byte(strings.ReplaceAll(twin, ":8080", ":9080")), &cfg); err != nil {
				t.Fatal(err)
			}
			cfg["admin"] = map[string]any{"listen": "localhost:2999"}
			if err := json.Unmarshal([]byte("{"+testLogging+"}"), &cfg); err != nil {
				t.Fatal(err)
			}
			js, _ := json.Marshal(cfg)

			for _, form := range []struct{ config, adapter string }{
				{testGlobals + strings.ReplaceAll(caddyfile, ":8080", ":9080"), "caddyfile"},
				{string(js), "json"},
			} {
				t.Run(form.adapter, func(t *testing.T) {
					tester := caddytest.NewTester(t)
					tester.InitServer(form.config, form.adapter)
					for _, p := range probes {
						p.run(t, tester)
					}
				})
			}
		})
	}
}
