package cors

import (
	"strings"
	"testing"
)

func TestCheckRequestHeaders(t *testing.T) {
	listed, _, err := compile(config{AllowedOrigins: []string{"*"}, AllowedHeaders: []string{"Content-Type", "X-Api-Key", "x-" + strings.Repeat("long", 20)}}, compileOptions{})
	if err != nil {
		t.Fatal(err)
	}
	star, _, err := compile(config{AllowedOrigins: []string{"*"}, AllowedHeaders: []string{"*"}}, compileOptions{})
	if err != nil {
		t.Fatal(err)
	}
	starAuth, _, err := compile(config{AllowedOrigins: []string{"*"}, AllowedHeaders: []string{"*", "AUTHORIZATION"}}, compileOptions{})
	if err != nil {
		t.Fatal(err)
	}
	long := "x-" + strings.Repeat("long", 20)
	// More names than are compared one by one: they are looked up in a map.
	many, _, err := compile(config{AllowedOrigins: []string{"*"}, AllowedHeaders: []string{
		"X-A", "X-B", "X-C", "X-D", "X-E", "X-F", "X-G", "Content-Type", "X-Api-Key", long, "x-api-key"}}, compileOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if many.headerList != nil || listed.headerList == nil {
		t.Fatalf("header lists: %d names compared one by one, want none; %d, want 3", len(many.headerList), len(listed.headerList))
	}
	for _, tc := range []struct {
		name   string
		p      *policy
		lines  []string
		want   string // Access-Control-Allow-Headers
		reason refusalReason
		value  string
	}{
		{"none asked", listed, nil, "", allowed, ""},
		{"browser form is echoed as is", listed, []string{"content-type,x-api-key"}, "content-type,x-api-key", allowed, ""},
		{"any case", listed, []string{"Content-Type,X-API-KEY"}, "content-type,x-api-key", allowed, ""},
		{"whitespace and empty elements", listed, []string{" content-type ,\t, ,x-api-key,"}, "content-type,x-api-key", allowed, ""},
		{"several lines", listed, []string{"content-type", "", "x-api-key"}, "content-type,x-api-key", allowed, ""},
		{"repeats", listed, []string{"x-api-key,X-Api-Key", "x-api-key"}, "x-api-key,x-api-key,x-api-key", allowed, ""},
		{"a name longer than the lower-case buffer", listed, []string{strings.ToUpper(long)}, long, allowed, ""},
		{"an empty line alone", listed, []string{""}, "", allowed, ""},
		{"one name not allowed", listed, []string{"content-type,x-other"}, "", refusedHeader, "x-other"},
		{"a name longer than any allowed", listed, []string{long + "x"}, "", refusedHeader, long + "x"},
		{"a prefix of an allowed name", listed, []string{"content"}, "", refusedHeader, "content"},
		{"a space inside a name", listed, []string{"content type"}, "", refusedMalformed, headerRequestHeaders},
		{"a NUL byte", listed, []string{"x-api-key\x00"}, "", refusedMalformed, headerRequestHeaders},
		{"a non-ASCII byte", listed, []string{"x-\xc3\xa9"}, "", refusedMalformed, headerRequestHeaders},
		{"a CR LF attempt", listed, []string{"x-api-key\r\nSet-Cookie: a=b"}, "", refusedMalformed, headerRequestHeaders},
		{"many: browser form", many, []string{"content-type,x-api-key,x-g"}, "content-type,x-api-key,x-g", allowed, ""},
		{"many: any case", many, []string{"Content-Type,X-API-KEY"}, "content-type,x-api-key", allowed, ""},
		{"many: longer than the lower-case buffer", many, []string{strings.ToUpper(long)}, long, allowed, ""},
		{"many: not allowed", many, []string{"x-a,X-H"}, "", refusedHeader, "X-H"},
		{"star allows any name", star, []string{"x-anything,Content-Type"}, "x-anything,content-type", allowed, ""},
		{"star does not allow authorization", star, []string{"x-a,Authorization"}, "", refusedAuthorization, "Authorization"},
		{"star and Authorization listed", starAuth, []string{"authorization,x-a"}, "authorization,x-a", allowed, ""},
		{"256 elements", star, []string{strings.Repeat("x-a,", 255) + "x-a"}, strings.Repeat("x-a,", 255) + "x-a", allowed, ""},
		{"257 elements", star, []string{strings.Repeat("x-a,", 256) + "x-a"}, "", refusedTooManyHeaders, headerRequestHeaders},
		{"257 empty elements", star, []string{strings.Repeat(",", 256)}, "", refusedTooManyHeaders, headerRequestHeaders},
		{"257 lines", star, make([]string, 257), "", refusedTooManyHeaders, headerRequestHeaders},
		{"64 KiB", star, []string{"x-" + strings.Repeat("a", 64<<10-2)}, "x-" + strings.Repeat("a", 64<<10-2), allowed, ""},
		{"over 64 KiB", star, []string{"x-" + strings.Repeat("a", 64<<10-1)}, "", refusedTooManyHeaders, headerRequestHeaders},
		{"1 MB of spaces and commas", star, []string{strings.Repeat(" ,", 1<<19)}, "", refusedTooManyHeaders, headerRequestHeaders},
		{"one name 4096 times", listed, []string{strings.Repeat("x-api-key,", 4095) + "x-api-key"}, "", refusedTooManyHeaders, headerRequestHeaders},
		{"10000 lines", star, make([]string, 10000), "", refusedTooManyHeaders, headerRequestHeaders},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, r := tc.p.checkRequestHeaders(tc.lines)
			if got != tc.want || r.reason != tc.reason || r.value != tc.value {
				t.Errorf("checkRequestHeaders = %.60q, {%v %.40q}; want %.60q, {%v %.40q}", got, r.reason, r.value, tc.want, tc.reason, tc.value)
			}
		})
	}
}

// TestCheckRequestHeadersAllocations checks that the form browsers send
// costs no allocation.
func TestCheckRequestHeadersAllocations(t *testing.T) {
	p, _, err := compile(config{AllowedOrigins: []string{"*"}, AllowedHeaders: []string{"Content-Type", "X-Api-Key", "Authorization"}}, compileOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, lines := range [][]string{
		{"authorization,content-type,x-api-key"},
		{"Authorization,Content-Type,X-Api-Key"}, // refused or not, lookups of mixed case do not allocate
		{"x-other"},
	} {
		lower := strings.ToLower(lines[0]) == lines[0]
		if n := testing.AllocsPerRun(100, func() { p.allowsRequestHeader(lines[0], lower) }); n != 0 {
			t.Errorf("allowsRequestHeader(%q) allocates %v times", lines[0], n)
		}
	}
	if n := testing.AllocsPerRun(100, func() { p.checkRequestHeaders([]string{"authorization,content-type,x-api-key"}) }); n != 0 {
		t.Errorf("checkRequestHeaders allocates %v times", n)
	}
}
