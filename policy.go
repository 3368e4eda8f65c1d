package cors

import "net/http"

// policy is a compiled CORS policy: it decides, for each request, which CORS
// response headers the handler sends. It is immutable once compiled, so one
// policy serves any number of concurrent requests, and it knows nothing of
// Caddy.
type policy struct {
	origins     originSet
	anyOrigin   bool // "*" in allowed_origins (never with credentials)
	credentials bool

	anyMethod bool
	methods   stringSet // case-sensitive

	anyHeader     bool
	headers       map[string]struct{} // lower case
	headerList    []string            // the same names, if there are at most maxHeaderList
	maxHeaderLen  int                 // longest name in headers
	authorization bool                // "authorization" is listed by name

	exposeHeaders   string // value of Access-Control-Expose-Headers, or ""
	maxAge          string // value of Access-Control-Max-Age, or ""
	preflightStatus int
	passthrough     bool
	privateNetwork  bool
	crossOrigin     bool   // cross_origin_protection: refuse state-changing requests from other origins
	preflightVary   string // the Vary names of every preflight answer
	summary         string // the origins it allows, to name it in logs
}

// static reports whether the policy answers every request alike, whatever
// its Origin: any origin without credentials. Such answers carry
// "Access-Control-Allow-Origin: *" on every response and need no
// "Vary: Origin".
// https://fetch.spec.whatwg.org/#cors-protocol-and-http-caches
func (p *policy) static() bool { return p.anyOrigin && !p.credentials }

// requestKind is what the CORS protocol makes of a request.
type requestKind uint8

const (
	// notCORS: no Origin header.
	notCORS requestKind = iota
	// actual: a request with an Origin header that is not a preflight; the
	// next handler answers it, with CORS headers if the origin is allowed.
	actual
	// preflight: OPTIONS with Origin and a non-empty
	// Access-Control-Request-Method, asking whether the actual request may
	// be sent.
	// https://fetch.spec.whatwg.org/#cors-preflight-request
	preflight
)

// optionsVary are the Vary names of an OPTIONS request that is not a
// preflight: the request headers that would have made it one.
const optionsVary = headerOrigin + ", " + headerRequestMethod

// kindOf classifies a request, and returns its Origin lines and, for a
// preflight, its Access-Control-Request-Method lines. A plain OPTIONS
// request, without Access-Control-Request-Method, is an ordinary request
// (WebDAV, API discovery) and is not answered as a preflight.
func kindOf(method string, h http.Header) (kind requestKind, origins, requestMethods []string) {
	origins, ok := h[headerOrigin]
	if !ok {
		return notCORS, nil, nil
	}
	if method == http.MethodOptions {
		requestMethods = h[headerRequestMethod]
		for _, m := range requestMethods {
			if m != "" {
				return preflight, origins, requestMethods
			}
		}
	}
	return actual, origins, nil
}

// refusalReason says which part of a request the policy did not allow.
type refusalReason uint8

const (
	allowed refusalReason = iota
	refusedOrigin
	refusedMethod
	refusedHeader
	refusedAuthorization
	refusedMalformed
	refusedTooManyHeaders
	// refusedCrossOrigin: cross_origin_protection refused a request that
	// can change state, from an origin the policy does not allow.
	refusedCrossOrigin

	// numRefusalReasons counts the reasons above; it sizes the tables of
	// words and counters indexed by reason.
	numRefusalReasons
)

// reasonWords are the words that name each refusal reason in metrics, in
// access logs and in the {http.cors.reason} placeholder: short, stable and
// never chosen by a client. A new reason needs only its word here.
var reasonWords = [numRefusalReasons]string{
	allowed:               "",
	refusedOrigin:         "origin",
	refusedMethod:         "method",
	refusedHeader:         "header",
	refusedAuthorization:  "authorization",
	refusedMalformed:      "malformed",
	refusedTooManyHeaders: "too_large",
	refusedCrossOrigin:    "cross_origin",
}

// word returns the word that names the reason in metrics, access logs and
// placeholders: "" when the request is allowed.
func (r refusalReason) word() string { return reasonWords[r] }

// result returns "allowed" or "refused".
func (r refusalReason) result() string {
	if r == allowed {
		return "allowed"
	}
	return "refused"
}

// refusal tells why a request gets no CORS headers; value is the offending
// part of the request (a substring of it: building one would allocate).
type refusal struct {
	reason refusalReason
	value  string
}

// String describes the refusal for logs.
func (r refusal) String() string {
	switch r.reason {
	case allowed:
		return "allowed"
	case refusedOrigin:
		return "origin not allowed"
	case refusedMethod:
		return "method not allowed"
	case refusedHeader:
		return "request header not allowed"
	case refusedAuthorization:
		return `request header not allowed: "*" does not cover Authorization, which must be listed by name`
	case refusedMalformed:
		return "malformed CORS request header"
	case refusedTooManyHeaders:
		return "Access-Control-Request-Headers too large"
	case refusedCrossOrigin:
		return "cross-origin request refused by cross_origin_protection"
	}
	return "unknown"
}

// decideRequest decides r: under cross_origin_protection, a request that
// the protection refuses is refused with refusedCrossOrigin and gets no
// CORS answer; every other request is decided by the CORS protocol. It is
// the one place where a request is decided, for the policy and for a
// shadow policy alike.
func (p *policy) decideRequest(r *http.Request, d *decision) {
	if p.crossOrigin {
		if rf := p.checkCrossOrigin(r); rf.reason != allowed {
			d.kind, d.refusal = actual, rf
			return
		}
	}
	p.decide(r.Method, r.Header, d)
}

// decide fills d with the CORS protocol's answer to a request of the given
// method and headers.
func (p *policy) decide(method string, req http.Header, d *decision) {
	var origins, requestMethods []string
	d.kind, origins, requestMethods = kindOf(method, req)
	d.p = p
	if d.kind == preflight {
		d.preflight = true
		d.refusal = p.decidePreflight(origins, requestMethods, req, d)
		return
	}
	// A plain OPTIONS answer varies with what would have made it a
	// preflight (see answer.vary).
	d.options = method == http.MethodOptions
	if p.static() {
		// The same answer to every request, CORS or not.
		d.origin = "*"
		return
	}
	if d.kind == notCORS {
		return
	}
	d.origin, d.refusal = p.allowOrigin(origins)
}

// allowOrigin returns the Access-Control-Allow-Origin of a request with the
// given Origin lines: "*" under a static policy, the request's own Origin
// when it is allowed.
func (p *policy) allowOrigin(origins []string) (string, refusal) {
	if p.static() {
		return "*", refusal{}
	}
	if len(origins) != 1 {
		// Browsers send one Origin line; several cannot be echoed.
		return "", refusal{refusedMalformed, headerOrigin}
	}
	if !p.origins.contains(origins[0]) {
		return "", refusal{refusedOrigin, origins[0]}
	}
	return origins[0], refusal{}
}

// decidePreflight checks the origin, the method and the request headers a
// preflight asks for, and fills d with the full answer only if all pass: a
// refused preflight gets no Access-Control-* header at all.
// https://fetch.spec.whatwg.org/#cors-preflight-fetch
func (p *policy) decidePreflight(origins, requestMethods []string, req http.Header, d *decision) refusal {
	origin, r := p.allowOrigin(origins)
	if r.reason != allowed {
		return r
	}
	if len(requestMethods) != 1 || !isToken(requestMethods[0]) {
		return refusal{refusedMalformed, headerRequestMethod}
	}
	method := requestMethods[0]
	if !p.allowsMethod(method) {
		return refusal{refusedMethod, method}
	}
	allowHeaders, r := p.checkRequestHeaders(req[headerRequestHeaders])
	if r.reason != allowed {
		return r
	}
	d.origin = origin
	// Echoing the requested method and headers, rather than a list or "*",
	// answers credentialed requests too (for which "*" is a literal name)
	// and reveals nothing of the rest of the policy.
	d.method = method
	d.allowHeaders = allowHeaders
	d.privateNetwork = p.privateNetwork && hasValue(req[headerRequestPrivateNetwork], "true")
	return refusal{}
}

// allowsMethod reports whether a preflight may ask for method, compared
// case-sensitively as browsers do. The safelisted methods are always
// allowed.
func (p *policy) allowsMethod(method string) bool {
	if p.anyMethod || isSafelistedMethod(method) {
		return true
	}
	return p.methods.has(method)
}

// maxHeaderList is how many allowed header names are compared one by one
// rather than looked up in a map, for the reason smallMap does (the names
// are compared case-insensitively, which smallMap does not do).
const maxHeaderList = maxListed

func hasValue(values []string, v string) bool {
	return len(values) == 1 && values[0] == v
}
