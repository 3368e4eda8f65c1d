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

// decision is the policy's answer to one request, and why a request gets no
// CORS headers.
type decision struct {
	kind    requestKind
	refusal refusal
	answer
}

// answer is what the response to a request carries, in a compact form: the
// values that every answer of a policy shares stay in the policy. The
// writer of a request handed to the next handler keeps it until the
// response is committed, without a preflight's fields unless it is one
// (see newCORSWriter).
type answer struct {
	p              *policy
	origin         string // Access-Control-Allow-Origin, "" for none
	method         string // Access-Control-Allow-Methods, "" for none
	allowHeaders   string // Access-Control-Allow-Headers, "" for none
	preflight      bool
	options        bool // an OPTIONS request that is not a preflight
	privateNetwork bool // Access-Control-Allow-Private-Network: true
}

// value returns the value of the owned header i, "" for none.
func (a *answer) value(i owned) string {
	if a.origin == "" {
		return "" // refused, or not CORS under a list of origins
	}
	switch i {
	case ownedAllowOrigin:
		return a.origin
	case ownedAllowCredentials:
		if a.p.credentials {
			return "true"
		}
	case ownedAllowMethods:
		return a.method
	case ownedAllowHeaders:
		return a.allowHeaders
	case ownedAllowPrivateNetwork:
		if a.privateNetwork {
			return "true"
		}
	case ownedExposeHeaders:
		if !a.preflight {
			return a.p.exposeHeaders
		}
	case ownedMaxAge:
		if a.preflight {
			return a.p.maxAge
		}
	}
	return ""
}

// sendable returns how many of the owned headers, in order, value needs to be
// asked about: none for an answer that allows nothing, which sends none.
func (a *answer) sendable() owned {
	if a.origin == "" {
		return 0
	}
	return numOwned
}

// vary returns the names the Vary header must hold, "" for none.
func (a *answer) vary() string {
	switch {
	case a.preflight:
		// Every preflight answer varies with the three request headers it
		// reads, whether it allows them or not.
		return a.p.preflightVary
	case a.options:
		// Whether an OPTIONS request is a preflight depends on its Origin
		// and Access-Control-Request-Method: under any policy, a cache that
		// kept this answer must not hand it to a preflight for the same URL.
		return optionsVary
	case a.p.static():
		// The same answer to every request, CORS or not, whatever its
		// Origin: nothing to vary with.
		return ""
	}
	return headerOrigin
}

// slotsNeeded returns how many header values the answer puts into a
// response: one per owned header it sends, and one for Vary.
func (a *answer) slotsNeeded() int {
	n := 0
	for i := range a.sendable() {
		if a.value(i) != "" {
			n++
		}
	}
	if a.vary() != "" {
		n++
	}
	return n
}

// Response header values are one-element slices of a slots array that
// belongs to one response alone (slotsNeeded long): a slice shared between
// responses could be changed for all of them by a later handler that edits
// a header value in place, as Caddy's header directive does for its
// replacements, or by the access log reading it after another request
// reused it. The k-th owned header the answer sends uses slot k, and Vary
// the one after the last.

// ownedIndex returns the index of the owned header called name, or
// numOwned if name is not one of them. It compares the canonical forms that
// http.Header.Set writes, without hashing.
func ownedIndex(name string) owned {
	if len(name) < len(headerMaxAge) || name[0] != 'A' {
		return numOwned // the shortest owned name is Access-Control-Max-Age
	}
	switch name {
	case headerAllowOrigin:
		return ownedAllowOrigin
	case headerAllowCredentials:
		return ownedAllowCredentials
	case headerAllowMethods:
		return ownedAllowMethods
	case headerAllowHeaders:
		return ownedAllowHeaders
	case headerAllowPrivateNetwork:
		return ownedAllowPrivateNetwork
	case headerExposeHeaders:
		return ownedExposeHeaders
	case headerMaxAge:
		return ownedMaxAge
	}
	return numOwned
}

// set writes the answer's headers into h, using slots for their values. It
// removes nothing: a later handler may still change h, and apply runs when
// the response is committed.
func (a *answer) set(h http.Header, slots []string) {
	k := 0
	for i := range a.sendable() {
		if want := a.value(i); want != "" {
			slots[k] = want
			h[ownedNames[i]] = slots[k : k+1 : k+1]
			k++
		}
	}
	if vary := a.vary(); vary != "" {
		mergeVary(h, h[headerVary], vary, slots[k:k+1:k+1])
	}
}

// apply makes the response headers h carry exactly the answer's CORS
// headers, and merges its Vary names in, using slots for their values.
// Applying it again is cheap and allocates nothing when h is already right.
//
// It reads h in one pass rather than looking each owned name up: a lookup
// hashes the name, and a response rarely has many more headers than there
// are owned names.
func (a *answer) apply(h http.Header, slots []string) {
	var right [numOwned]bool // the owned headers that already carry their value
	wantVary := a.vary()
	var vary []string
	for name, cur := range h {
		i := ownedIndex(name)
		switch {
		case i < numOwned:
			if want := a.value(i); want == "" {
				delete(h, name) // allowed while ranging over h
			} else {
				right[i] = len(cur) == 1 && cur[0] == want
			}
		case name == headerVary:
			vary = cur
		}
	}
	k := 0
	for i := range a.sendable() {
		if want := a.value(i); want != "" {
			if !right[i] {
				slots[k] = want
				h[ownedNames[i]] = slots[k : k+1 : k+1]
			}
			k++
		}
	}
	if wantVary != "" {
		mergeVary(h, vary, wantVary, slots[k:k+1:k+1])
	}
}

// mergeVary makes h's Vary lines, cur, hold the names of the ", "-separated
// list names, keeping the names already there, with every name once across
// all lines (compared case-insensitively, as caches compare them); slot is
// a one-element slice for a new line. "Vary: *" already covers every name,
// so a response that holds it carries it alone. A later handler may have
// added its own line after the handler merged its names (reverse_proxy
// copies an upstream's "Vary: Accept-Encoding, Origin" with Add): such a
// response is rewritten as one line, which allocates; one that is already
// right costs no allocation.
// https://fetch.spec.whatwg.org/#cors-protocol-and-http-caches
// https://www.rfc-editor.org/rfc/rfc9110#section-12.5.5
func mergeVary(h http.Header, cur []string, names string, slot []string) {
	if len(cur) == 0 {
		slot[0] = names
		h[headerVary] = slot
		return
	}
	if len(cur) == 1 && cur[0] == names {
		return // the usual case once the answer is set
	}
	count, star, repeated := inspectVary(cur)
	switch {
	case star && count == 1:
	case star:
		slot[0] = "*"
		h[headerVary] = slot
	case repeated:
		slot[0] = joinVary(cur, names)
		h[headerVary] = slot
	default:
		if missing := missingVaryNames(cur, names); missing != "" {
			// The full slice expression makes append copy rather than
			// write into an array that may not be this response's.
			h[headerVary] = append(cur[:len(cur):len(cur)], missing)
		}
	}
}

// maxInspectedVary is how many Vary names inspectVary compares with each
// other; a response with more is rewritten by joinVary, which uses a map.
const maxInspectedVary = 32

// inspectVary counts the names of the Vary lines, and reports whether one
// of them is "*" and whether one repeats another (or there are too many to
// tell without allocating). It allocates nothing.
func inspectVary(lines []string) (count int, star, repeated bool) {
	var names [maxInspectedVary]string
	for _, line := range lines {
		for elem := range strings.SplitSeq(line, ",") {
			name := trimOWS(elem)
			if name == "" {
				continue
			}
			star = star || name == "*"
			if count == len(names) {
				return count + 1, star, true
			}
			for _, prev := range names[:count] {
				if strings.EqualFold(prev, name) {
					repeated = true
				}
			}
			names[count] = name
			count++
		}
	}
	return count, star, repeated
}

// joinVary writes the names of the Vary lines, then those of the
// ", "-separated list names that they lack, as one line in which each name
// appears once, in the spelling and order of its first appearance.
func joinVary(lines []string, names string) string {
	seen := make(map[string]bool)
	var b strings.Builder
	add := func(name string) {
		if key := strings.ToLower(name); name != "" && !seen[key] {
			seen[key] = true
			if b.Len() > 0 {
				b.WriteString(", ")
			}
			b.WriteString(name)
		}
	}
	for _, line := range lines {
		for elem := range strings.SplitSeq(line, ",") {
			add(trimOWS(elem))
		}
	}
	for name := range strings.SplitSeq(names, ", ") {
		add(name)
	}
	return b.String()
}

// missingVaryNames returns the names of the ", "-separated list want that
// the Vary lines do not hold, in the same form, or "" if none is missing.
func missingVaryNames(lines []string, want string) string {
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
