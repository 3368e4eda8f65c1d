package main

import (
	"strings"
	"testing"
)

func TestCheck(t *testing.T) {
	const (
		allowedGET = `{"request":{"method":"GET","headers":{"Origin":["https://a.example"]}},"status":200,` +
			`"resp_headers":{"Vary":["Origin"],"Access-Control-Allow-Origin":["https://a.example"],` +
			`"Access-Control-Allow-Credentials":["true"],"Access-Control-Expose-Headers":["X-Request-Id"]}}`
		allowedPreflight = `{"request":{"method":"OPTIONS","headers":{"Origin":["https://b.example"]}},"status":204,` +
			`"resp_headers":{"Vary":["Origin, Access-Control-Request-Method, Access-Control-Request-Headers"],` +
			`"Access-Control-Allow-Origin":["https://b.example"],"Access-Control-Allow-Credentials":["true"],` +
			`"Access-Control-Allow-Methods":["PUT"],"Access-Control-Allow-Headers":["content-type"]}}`
		refusedPreflight = `{"request":{"method":"OPTIONS","headers":{"Origin":["https://c.example"]}},"status":403,` +
			`"resp_headers":{"Vary":["Origin"]}}`
		refusedGET = `{"request":{"method":"GET","headers":{"Origin":["https://c.example"]}},"status":200,` +
			`"resp_headers":{"Vary":["Origin"]}}`
	)
	for _, tc := range []struct {
		name      string
		lines     []string
		control   bool
		wrong     int
		mismatch  string // a part of the first mismatch, "" for none
		allowedA  int
		refusedOK int
	}{
		{name: "answers from the policies", lines: []string{allowedGET, allowedPreflight, refusedPreflight, refusedGET}, allowedA: 1, refusedOK: 1},
		{name: "no Vary", lines: []string{strings.Replace(refusedGET, `"Vary":["Origin"]`, `"Server":["Caddy"]`, 1)}, wrong: 1, mismatch: "no Vary"},
		{name: "another origin echoed", lines: []string{strings.Replace(allowedGET, `"Origin":["https://a.example"]`, `"Origin":["https://c.example"]`, 1)}, wrong: 1, mismatch: "is not the request's Origin"},
		{name: "c allowed", lines: []string{strings.ReplaceAll(allowedGET, "a.example", "c.example")}, wrong: 1, mismatch: "neither policy"},
		{name: "two values", lines: []string{strings.Replace(allowedGET, `["https://a.example"],"Access`, `["https://a.example","*"],"Access`, 1)}, wrong: 1, mismatch: "(several)"},
		{name: "refused with credentials", lines: []string{strings.Replace(refusedGET, `"Vary":["Origin"]`, `"Vary":["Origin"],"Access-Control-Allow-Credentials":["true"]`, 1)}, wrong: 1, mismatch: "Access-Control-Allow-Credentials is set"},
		{name: "preflight without methods", lines: []string{strings.Replace(allowedPreflight, `"Access-Control-Allow-Methods":["PUT"],`, ``, 1)}, wrong: 1, mismatch: "preflight allowed"},
		{name: "a 502", lines: []string{strings.Replace(refusedGET, `"status":200`, `"status":502`, 1)}, wrong: 2, mismatch: "refused with status 502"},
		{name: "control: a 403 is wrong", lines: []string{refusedPreflight}, control: true, wrong: 1, refusedOK: 1},
		{name: "control: answers are not checked", lines: []string{strings.ReplaceAll(allowedGET, "a.example", "c.example")}, control: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := check(strings.NewReader(strings.Join(tc.lines, "\n")), tc.control)
			if err != nil {
				t.Fatal(err)
			}
			if c.answers != len(tc.lines) {
				t.Errorf("answers = %d, want %d", c.answers, len(tc.lines))
			}
			if got := c.wrong(tc.control); got != tc.wrong {
				t.Errorf("wrong = %d, want %d (%+v)", got, tc.wrong, c)
			}
			if tc.mismatch == "" && c.firstMismatch != "" || !strings.Contains(c.firstMismatch, tc.mismatch) {
				t.Errorf("first mismatch %q, want one holding %q", c.firstMismatch, tc.mismatch)
			}
			if c.allowed["https://a.example"] != tc.allowedA || c.refusedPreflights != tc.refusedOK {
				t.Errorf("allowed a %d, refused preflights %d; want %d, %d", c.allowed["https://a.example"], c.refusedPreflights, tc.allowedA, tc.refusedOK)
			}
		})
	}
	if _, err := check(strings.NewReader("not json\n"), false); err == nil {
		t.Error("a line that is not JSON was accepted")
	}
}
