package cors

import (
	"net/http"
	"strconv"
	"strings"
)

// Cross-origin protection (cross_origin_protection) refuses the requests
// that a page of an untrusted origin makes a browser send with the user's
// cookies: a cross-site form POST, a no-cors fetch() with another method
// than GET or HEAD, a WebSocket handshake. CORS cannot stop them: it only
// decides what a page may read, and these requests change state before
// anyone reads anything (cross-site request forgery, cross-site WebSocket
// hijacking).
//
// The algorithm is that of Go's net/http.CrossOriginProtection, with the
// policy's allowed origins as the trusted ones, extended to WebSocket
// handshakes, which are GET requests:
//
//  1. GET, HEAD and OPTIONS pass, except a WebSocket handshake (GET with
//     "Upgrade: websocket"). CONNECT is not safe: an extended CONNECT that
//     opens a WebSocket over HTTP/2 (RFC 8441) is checked.
//  2. Sec-Fetch-Site "same-origin" or "none" (the user typed the URL or
//     followed a bookmark) passes.
//  3. An Origin the policy allows passes.
//  4. Any other request with Sec-Fetch-Site is refused.
//  5. Without Sec-Fetch-Site, a request without Origin passes (browsers
//     send Origin with every request but GET and HEAD, and with every
//     WebSocket handshake: this is a client that no page drives), one
//     whose Origin names the request's Host passes, and any other is
//     refused.
//
// Browsers send Sec-Fetch-Site only to secure origins (https), so over
// plain http, and on Chromium's WebSocket handshakes, which carry no
// Sec-Fetch-* header at all, rule 5 decides. Through an HTTP proxy,
// Firefox 153 sends its extended CONNECT with neither Sec-Fetch-Site nor
// Origin (directly, it sends both): rule 5 lets it pass, as it would any
// client that is not a browser.
// https://w3c.github.io/webappsec-fetch-metadata/#sec-fetch-site-header
// https://fetch.spec.whatwg.org/#origin-header
// https://www.rfc-editor.org/rfc/rfc6455#section-10.2

const (
	headerSecFetchSite = "Sec-Fetch-Site"
	headerUpgrade      = "Upgrade"
)

// crossOriginRefusedBody is the body of a refused request. A variable, so
// that writing it does not copy it.
var crossOriginRefusedBody = []byte("403 Forbidden: cross-origin request refused by the cors handler's cross_origin_protection\n")

// crossOriginRefusedLength is the Content-Length of a refused request.
var crossOriginRefusedLength = strconv.Itoa(len(crossOriginRefusedBody))

// checkCrossOrigin applies cross-origin protection to r: it returns
// allowed, or refusedCrossOrigin with the request's Origin (the first, if
// it has several; "" if none). It allocates nothing, and a GET, HEAD or
// OPTIONS request without Upgrade costs one comparison of its method.
func (p *policy) checkCrossOrigin(r *http.Request) refusal {
	switch r.Method {
	case http.MethodGet:
		if !isWebSocketUpgrade(r.Header[headerUpgrade]) {
			return refusal{}
		}
	case http.MethodHead, http.MethodOptions:
		// Safe, even with an Upgrade header: a HEAD or OPTIONS request is
		// no WebSocket handshake (RFC 6455 section 4.1 requires GET).
		return refusal{}
	}
	var site string
	if v := r.Header[headerSecFetchSite]; len(v) > 0 {
		site = v[0]
	}
	if site == "same-origin" || site == "none" {
		return refusal{}
	}
	var origin string
	origins := r.Header[headerOrigin]
	if len(origins) > 0 {
		origin = origins[0]
	}
	if site == "" {
		// An old browser, a page served over plain http, a Chromium
		// WebSocket handshake, or no browser at all. These two rules come
		// before the policy's origins, which would let the same requests
		// pass, because they cost less.
		switch {
		case origin == "" && len(origins) <= 1:
			// No browser sends such a request without Origin: a client
			// that no page drives. An empty Origin counts as none, as in
			// Go's CrossOriginProtection.
			return refusal{}
		case len(origins) == 1 && originNamesHost(origin, r.Host):
			return refusal{}
		}
	}
	if len(origins) == 1 && p.origins.contains(origin) {
		return refusal{}
	}
	return refusal{refusedCrossOrigin, origin}
}

// isWebSocketUpgrade reports whether the Upgrade lines, comma-separated
// lists of protocols, ask for WebSocket: a "websocket" token in any letter
// case, with or without a version ("websocket/13"), as servers compare it.
// https://www.rfc-editor.org/rfc/rfc9110#section-7.8
func isWebSocketUpgrade(lines []string) bool {
	for _, line := range lines {
		if strings.EqualFold(line, "websocket") {
			return true // what browsers send
		}
		for elem := range strings.SplitSeq(line, ",") {
			name, _, _ := strings.Cut(trimOWS(elem), "/")
			if strings.EqualFold(name, "websocket") {
				return true
			}
		}
	}
	return false
}

// originNamesHost reports whether origin, scheme://host[:port], has the
// host and port of host, a request's Host. As in Go's
// CrossOriginProtection, the scheme is not compared: Host does not carry
// it (HSTS keeps browsers off plain http).
func originNamesHost(origin, host string) bool {
	_, hostport, ok := strings.Cut(origin, "://")
	return ok && hostport != "" && strings.EqualFold(hostport, host)
}

// refuseCrossOrigin answers a request that cross-origin protection
// refused: 403 with a short plain-text body, and no CORS header, so that
// the page cannot read even that.
func refuseCrossOrigin(w http.ResponseWriter) {
	h := w.Header()
	for _, name := range ownedNames {
		delete(h, name)
	}
	// The one allocation: the values of this response's headers, which
	// must not be shared with other responses (see answer.set).
	values := [...]string{"text/plain; charset=utf-8", "nosniff", crossOriginRefusedLength}
	slots := values[:]
	h["Content-Type"] = slots[0:1:1]
	h["X-Content-Type-Options"] = slots[1:2:2]
	h["Content-Length"] = slots[2:3:3]
	w.WriteHeader(http.StatusForbidden)
	_, _ = w.Write(crossOriginRefusedBody)
}
