package cors

import (
	"net/http"
	"slices"
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
		{"star among names", []string{"Accept, *"}, preflightVary, []string{"Accept, *"}},
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
