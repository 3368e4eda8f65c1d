package cors

import (
	"net/http"
	"strings"
)

// owned indexes the CORS response headers that the handler owns: on every
// response it sees, each carries the handler's value or nothing, whatever a
// later handler (an upstream behind reverse_proxy, say) wrote.
type owned uint8

const (
	ownedAllowOrigin owned = iota
	ownedAllowCredentials
	ownedAllowMethods
	ownedAllowHeaders
	ownedAllowPrivateNetwork
	ownedExposeHeaders
	ownedMaxAge
	numOwned
)

var ownedNames = [numOwned]string{
	ownedAllowOrigin:         headerAllowOrigin,
	ownedAllowCredentials:    headerAllowCredentials,
	ownedAllowMethods:        headerAllowMethods,
	ownedAllowHeaders:        headerAllowHeaders,
	ownedAllowPrivateNetwork: headerAllowPrivateNetwork,
	ownedExposeHeaders:       headerExposeHeaders,
	ownedMaxAge:              headerMaxAge,
}

// decision is the policy's answer to one request: the value of each owned
// header ("" for none) and the names the Vary header must hold.
type decision struct {
	kind    requestKind
	refusal refusal
	values  [numOwned]string
	vary    string

	// slots back the one-element slices put into the response headers, the
	// last one for Vary. They belong to this request alone: a slice shared
	// between requests could be changed for all of them by a later handler
	// that edits a header value in place, as Caddy's header directive does
	// for its replacements.
	slots [numOwned + 1]string
}

// apply makes the response headers h carry exactly the decision's CORS
// headers, and merges its Vary names in. Applying it again is cheap and
// allocates nothing when h is already right.
func (d *decision) apply(h http.Header) {
	for i, name := range ownedNames {
		want := d.values[i]
		cur, present := h[name]
		switch {
		case want == "":
			if present {
				delete(h, name)
			}
		case len(cur) == 1 && cur[0] == want:
		default:
			d.slots[i] = want
			h[name] = d.slots[i : i+1 : i+1]
		}
	}
	if d.vary != "" {
		d.mergeVary(h)
	}
}

// mergeVary adds the names of d.vary that h's Vary header lacks, keeping the
// values already there. "Vary: *" already covers every name.
// https://fetch.spec.whatwg.org/#cors-protocol-and-http-caches
// https://www.rfc-editor.org/rfc/rfc9110#section-12.5.5
func (d *decision) mergeVary(h http.Header) {
	cur := h[headerVary]
	if len(cur) == 0 {
		d.slots[numOwned] = d.vary
		h[headerVary] = d.slots[numOwned : numOwned+1 : numOwned+1]
		return
	}
	if missing := missingVaryNames(cur, d.vary); missing != "" {
		// The full slice expression makes append copy rather than write
		// into an array that may not be this request's.
		h[headerVary] = append(cur[:len(cur):len(cur)], missing)
	}
}

// missingVaryNames returns the names of the ", "-separated list want that
// the Vary lines do not hold, in the same form, or "" if none is missing.
func missingVaryNames(lines []string, want string) string {
	if varyHolds(lines, "*") {
		return ""
	}
	missing, all := "", true
	for name := range strings.SplitSeq(want, ", ") {
		switch {
		case varyHolds(lines, name):
			all = false
		case missing == "":
			missing = name
		default:
			missing += ", " + name
		}
	}
	if all {
		return want // no allocation in the usual case
	}
	return missing
}

// varyHolds reports whether the Vary lines hold name, compared
// case-insensitively.
func varyHolds(lines []string, name string) bool {
	for _, line := range lines {
		for elem := range strings.SplitSeq(line, ",") {
			if strings.EqualFold(trimOWS(elem), name) {
				return true
			}
		}
	}
	return false
}
