package cors

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
)

func TestMergeVary(t *testing.T) {
	for _, tc := range []struct {
		name string
		have []string
		vary string
		want []string
	}{
		{"none yet", nil, "Origin", []string{"Origin"}},
		{"another name", []string{"Accept-Encoding"}, "Origin", []string{"Accept-Encoding", "Origin"}},
		{"present in another case", []string{"accept-encoding,ORIGIN"}, "Origin", []string{"accept-encoding,ORIGIN"}},
		{"present on a second line", []string{"Accept", " origin "}, "Origin", []string{"Accept", " origin "}},
		{"star", []string{"*"}, "Origin", []string{"*"}},
		{"star with spaces", []string{" * "}, "Origin", []string{" * "}},
		{"star among names", []string{"Accept, *"}, preflightVary, []string{"*"}},
		{"star on a later line", []string{"Origin", "*"}, "Origin", []string{"*"}},
		{"star next to the handler's line", []string{preflightVary, "Accept-Encoding, *"}, preflightVary, []string{"*"}},
		{"repeated on a later line", []string{"Origin", "Accept-Encoding, Origin"}, "Origin", []string{"Origin, Accept-Encoding"}},
		{"repeated in another case", []string{"Origin", "origin"}, "Origin", []string{"Origin"}},
		{"repeated within a line", []string{"Origin, ORIGIN,origin"}, "Origin", []string{"Origin"}},
		{"repeated and missing", []string{"Accept-Encoding", "accept-encoding"}, "Origin", []string{"Accept-Encoding, Origin"}},
		{"repeated preflight names", []string{preflightVary, "origin, access-control-request-method"}, preflightVary, []string{preflightVary}},
		{"empty elements are not names", []string{"Origin, , Accept", ","}, "Origin", []string{"Origin, , Accept", ","}},
		{"more names than are compared in place", []string{manyVaryNames(40), "X-Name-3"}, "Origin", []string{manyVaryNames(40) + ", Origin"}},
		{"some of several", []string{"Origin, Accept"}, preflightVary, []string{"Origin, Accept", "Access-Control-Request-Method, Access-Control-Request-Headers"}},
		{"all of several", []string{"Accept"}, preflightVary, []string{"Accept", preflightVary}},
		{"a look-alike is not the name", []string{"Origins, X-Origin"}, "Origin", []string{"Origins, X-Origin", "Origin"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := http.Header{}
			if tc.have != nil {
				h["Vary"] = slices.Clone(tc.have)
			}
			mergeVary(h, h["Vary"], tc.vary, make([]string, 1))
			if !slices.Equal(h["Vary"], tc.want) {
				t.Errorf("Vary %q, want %q", h["Vary"], tc.want)
			}
		})
	}
}

// manyVaryNames returns a Vary line of n distinct names.
func manyVaryNames(n int) string {
	names := make([]string, n)
	for i := range names {
		names[i] = fmt.Sprintf("X-Name-%d", i)
	}
	return strings.Join(names, ", ")
}

// TestApplyOwnsItsSlices checks that the values put into a response belong
// to it: appending to or editing one response's headers cannot reach
// another's, nor an array shared with an earlier handler.
func TestApplyOwnsItsSlices(t *testing.T) {
	shared := make([]string, 1, 4)
	shared[0] = "Accept-Encoding"
	var headers []http.Header
	for range 2 {
		a := &answer{p: &policy{}, origin: "https://a.example"}
		h := http.Header{"Vary": shared}
		a.apply(h, make([]string, a.slotsNeeded()))
		headers = append(headers, h)
	}
	headers[0]["Access-Control-Allow-Origin"][0] = "changed"
	_ = append(headers[0]["Access-Control-Allow-Origin"], "appended")
	if got := headers[1]["Access-Control-Allow-Origin"]; !slices.Equal(got, []string{"https://a.example"}) {
		t.Errorf("second response's Access-Control-Allow-Origin = %q", got)
	}
	if got := shared[:2]; got[1] != "" {
		t.Errorf("the Vary merge wrote into an earlier handler's array: %q", got)
	}
}

func TestApplyIsIdempotentAndFree(t *testing.T) {
	a := &answer{p: &policy{preflightVary: preflightVary}, preflight: true, origin: "https://a.example", method: "PUT"}
	slots := make([]string, a.slotsNeeded())
	h := http.Header{}
	a.apply(h, slots)
	want := corsHeaders(h)
	if n := testing.AllocsPerRun(100, func() { a.apply(h, slots) }); n != 0 {
		t.Errorf("applying again allocates %v times", n)
	}
	if got := corsHeaders(h); !mapsEqual(got, want) || len(want) != 3 {
		t.Errorf("applying again changed the headers: %v, want %v", got, want)
	}
}

// TestApplyMergesVaryWithoutAllocating checks that a response whose Vary
// lines already hold the answer's names, once each, costs no allocation.
func TestApplyMergesVaryWithoutAllocating(t *testing.T) {
	for _, vary := range [][]string{
		{"Origin"},
		{"Accept-Encoding", "Origin"},
		{"origin, Accept-Encoding"},
		{"*"},
	} {
		t.Run(strings.Join(vary, "|"), func(t *testing.T) {
			a := &answer{p: &policy{}, origin: "https://a.example"}
			slots := make([]string, a.slotsNeeded())
			h := http.Header{"Access-Control-Allow-Origin": {"https://a.example"}, "Vary": vary}
			if n := testing.AllocsPerRun(100, func() { a.apply(h, slots) }); n != 0 {
				t.Errorf("apply allocates %v times", n)
			}
			if !slices.Equal(h["Vary"], vary) {
				t.Errorf("Vary %q, want %q", h["Vary"], vary)
			}
		})
	}
}
