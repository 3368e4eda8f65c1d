package cors

import (
	"slices"
	"strings"
	"testing"
)

func TestIsSafelistedRequestHeader(t *testing.T) {
	for _, tc := range []struct {
		name, value string
		want        bool
	}{
		{"Accept", "application/json, text/plain;q=0.9", true},
		{"accept", "*/*", true},
		{"Accept", "text/html\tx", true}, // tab is not an unsafe byte
		{"Accept", "a(b", false},
		{"Accept", "a\x01", false},
		{"Accept", "a\x7f", false},
		{"Accept", "a@b", false},
		{"Accept", strings.Repeat("a", 128), true},
		{"Accept", strings.Repeat("a", 129), false},
		{"Accept-Language", "en-US,en;q=0.9", true},
		{"Accept-Language", "*", true},
		{"Accept-Language", "en_US", false},
		{"Content-Language", "de-DE, en", true},
		{"Content-Language", "de/DE", false},
		{"Content-Type", "text/plain", true},
		{"Content-Type", "Text/Plain;charset=utf-8", true},
		{"Content-Type", "text/plain ;charset=utf-8", true},
		{"Content-Type", "application/x-www-form-urlencoded", true},
		{"Content-Type", "multipart/form-data; boundary=x", true},
		{"Content-Type", "multipart/form-data", true},
		{"Content-Type", "application/json", false},
		{"Content-Type", `text/plain; charset="utf-8"`, false}, // the quote is an unsafe byte
		{"Content-Type", "text /plain", false},
		{"Content-Type", "text/", false},
		{"Content-Type", "text", false},
		{"Content-Type", "text/plain:x", false},
		{"Content-Type", "text/plain; " + strings.Repeat("a", 120), false},
		{"Range", "bytes=0-", true},
		{"Range", "bytes=0-499", true},
		{"Range", "bytes=5-5", true},
		{"Range", "bytes=-500", false}, // suffix range
		{"Range", "bytes=500-0", false},
		{"Range", "bytes=0-1,5-6", false},
		{"Range", "bytes = 0-1", false},
		{"Range", "Bytes=0-1", false},
		{"Range", "items=0-1", false},
		{"Range", "bytes=-", false},
		{"Range", "bytes=a-1", false},
		{"Range", "bytes=99999999999999999999-", false},
		{"X-Api-Key", "k", false},
		{"Authorization", "Bearer x", false},
		{"DPR", "2", false},
	} {
		t.Run(tc.name+": "+tc.value, func(t *testing.T) {
			if got := isSafelistedRequestHeader(tc.name, tc.value); got != tc.want {
				t.Errorf("isSafelistedRequestHeader(%q, %q) = %v, want %v", tc.name, tc.value, got, tc.want)
			}
		})
	}
}

func TestUnsafeRequestHeaderNames(t *testing.T) {
	long := strings.Repeat("a", 128)
	for _, tc := range []struct {
		name    string
		headers []headerPair
		want    []string
	}{
		{"none", nil, nil},
		{"safelisted only", []headerPair{{"Accept", "*/*"}, {"Content-Type", "text/plain"}}, nil},
		{"lowercased, sorted, without repeats", []headerPair{{"X-B", "1"}, {"Content-Type", "application/json"}, {"x-a", "1"}, {"X-A", "2"}},
			[]string{"content-type", "x-a", "x-b"}},
		{"1024 bytes of safelisted values pass", []headerPair{{"Accept", long}, {"Accept-Language", long}, {"Content-Language", long},
			{"Content-Type", "text/plain;" + strings.Repeat("a", 117)}, {"Accept", long}, {"Accept", long}, {"Accept", long}, {"Accept", long}}, nil},
		{"over 1024 bytes make them all unsafe", []headerPair{{"Accept", long}, {"Accept-Language", long}, {"Content-Language", long},
			{"Content-Type", "text/plain;" + strings.Repeat("a", 117)}, {"Accept", long}, {"Accept", long}, {"Accept", long}, {"Accept", long},
			{"Range", "bytes=0-"}, {"X-A", "1"}},
			[]string{"accept", "accept-language", "content-language", "content-type", "range", "x-a"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := unsafeRequestHeaderNames(tc.headers); !slices.Equal(got, tc.want) {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

func TestIsForbiddenRequestHeaderPair(t *testing.T) {
	for _, tc := range []struct {
		name, value string
		want        bool
	}{
		{"Cookie", "a=b", true},
		{"Sec-Fetch-Mode", "cors", true},
		{"Proxy-Authorization", "x", true},
		{"X-HTTP-Method-Override", "PUT", false},
		{"X-HTTP-Method-Override", "trace", true},
		{"x-method-override", "GET, Connect", true},
		{"X-HTTP-Method", " TRACK ", true},
		{"X-Api-Key", "TRACE", false},
		{"Authorization", "Bearer x", false},
	} {
		t.Run(tc.name+": "+tc.value, func(t *testing.T) {
			if got := isForbiddenRequestHeaderPair(tc.name, tc.value); got != tc.want {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
}

func TestParseHeaderList(t *testing.T) {
	for _, tc := range []struct {
		name  string
		lines []string
		want  []string
		ok    bool
	}{
		{"absent", nil, nil, true},
		{"one", []string{"PUT"}, []string{"PUT"}, true},
		{"whitespace and empty elements", []string{" PUT ,\t, DELETE,"}, []string{"PUT", "DELETE"}, true},
		{"several lines", []string{"x-a", "", "x-b, *"}, []string{"x-a", "x-b", "*"}, true},
		{"a space inside an element", []string{"x-a, x custom"}, nil, false},
		{"a bad byte", []string{"x-a;"}, nil, false},
		{"a bad second line", []string{"x-a", "x b"}, nil, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := parseHeaderList(tc.lines)
			if ok != tc.ok || !slices.Equal(got, tc.want) {
				t.Errorf("got %q, %v; want %q, %v", got, ok, tc.want, tc.ok)
			}
		})
	}
}

func TestIsSafelistedResponseHeader(t *testing.T) {
	for _, name := range []string{"Cache-Control", "content-language", "Content-Length", "CONTENT-TYPE", "Expires", "Last-Modified", "Pragma"} {
		if !isSafelistedResponseHeader(name) {
			t.Errorf("%s is not safelisted", name)
		}
	}
	for _, name := range []string{"Vary", "Date", "Server", "Set-Cookie", "Access-Control-Allow-Origin", "ETag"} {
		if isSafelistedResponseHeader(name) {
			t.Errorf("%s is safelisted", name)
		}
	}
}
