package cors

import "strings"

// This file holds the facts of the WHATWG Fetch standard that the handler
// relies on, in one place: header names, safelisted and forbidden methods,
// forbidden header names and the token grammar. The rest of the package asks
// these functions rather than repeating the lists.

// Header names, in canonical form so that map accesses skip
// http.CanonicalHeaderKey.
const (
	headerOrigin = "Origin"
	headerVary   = "Vary"

	headerRequestMethod         = "Access-Control-Request-Method"
	headerRequestHeaders        = "Access-Control-Request-Headers"
	headerRequestPrivateNetwork = "Access-Control-Request-Private-Network"

	headerAllowOrigin         = "Access-Control-Allow-Origin"
	headerAllowCredentials    = "Access-Control-Allow-Credentials"
	headerAllowMethods        = "Access-Control-Allow-Methods"
	headerAllowHeaders        = "Access-Control-Allow-Headers"
	headerAllowPrivateNetwork = "Access-Control-Allow-Private-Network"
	headerExposeHeaders       = "Access-Control-Expose-Headers"
	headerMaxAge              = "Access-Control-Max-Age"
)

// isSafelistedMethod reports whether m is a CORS-safelisted method, which a
// browser sends without a preflight and never needs in
// Access-Control-Allow-Methods. Methods are case-sensitive.
// https://fetch.spec.whatwg.org/#cors-safelisted-method
func isSafelistedMethod(m string) bool {
	return m == "GET" || m == "HEAD" || m == "POST"
}

// isForbiddenMethod reports whether m is a method that fetch() refuses to
// send, in any letter case.
// https://fetch.spec.whatwg.org/#forbidden-method
func isForbiddenMethod(m string) bool {
	return strings.EqualFold(m, "CONNECT") || strings.EqualFold(m, "TRACE") || strings.EqualFold(m, "TRACK")
}

// normalizedMethods are the methods that fetch() uppercases when a script
// writes them in another case; every other method goes out as written.
// https://fetch.spec.whatwg.org/#concept-method-normalize
var normalizedMethods = [...]string{"DELETE", "GET", "HEAD", "OPTIONS", "POST", "PUT"}

// normalizeMethod returns the method a browser sends for m: the uppercase
// form of the methods fetch() normalises, m itself otherwise.
func normalizeMethod(m string) string {
	for _, n := range normalizedMethods {
		if strings.EqualFold(m, n) {
			return n
		}
	}
	return m
}

// forbiddenRequestHeaders are the request headers that scripts cannot set: a
// browser drops them silently, so they never appear in
// Access-Control-Request-Headers. Names starting with "proxy-" or "sec-" are
// forbidden too.
// https://fetch.spec.whatwg.org/#forbidden-request-header
var forbiddenRequestHeaders = map[string]struct{}{
	"accept-charset":                 {},
	"accept-encoding":                {},
	"access-control-request-headers": {},
	"access-control-request-method":  {},
	"connection":                     {},
	"content-length":                 {},
	"cookie":                         {},
	"cookie2":                        {},
	"date":                           {},
	"dnt":                            {},
	"expect":                         {},
	"host":                           {},
	"keep-alive":                     {},
	"origin":                         {},
	"referer":                        {},
	"set-cookie":                     {},
	"te":                             {},
	"trailer":                        {},
	"transfer-encoding":              {},
	"upgrade":                        {},
	"via":                            {},
}

// isForbiddenRequestHeader reports whether scripts are never allowed to send
// the request header name, in any letter case.
func isForbiddenRequestHeader(name string) bool {
	name = strings.ToLower(name)
	if _, ok := forbiddenRequestHeaders[name]; ok {
		return true
	}
	return strings.HasPrefix(name, "proxy-") || strings.HasPrefix(name, "sec-")
}

// isForbiddenResponseHeader reports whether scripts can never read the
// response header name, whatever Access-Control-Expose-Headers says.
// https://fetch.spec.whatwg.org/#forbidden-response-header-name
func isForbiddenResponseHeader(name string) bool {
	return strings.EqualFold(name, "Set-Cookie") || strings.EqualFold(name, "Set-Cookie2")
}

// nonWildcardRequestHeader is the one request header that a "*" in
// Access-Control-Allow-Headers never covers; it must be listed by name.
// https://fetch.spec.whatwg.org/#cors-non-wildcard-request-header-name
const nonWildcardRequestHeader = "authorization"

// tokenChars marks the bytes of an RFC 9110 token, the syntax of methods and
// header names: letters, digits and !#$%&'*+-.^_`|~.
// https://www.rfc-editor.org/rfc/rfc9110#section-5.6.2
var tokenChars = func() (t [256]bool) {
	for c := '0'; c <= '9'; c++ {
		t[c] = true
	}
	for c := 'a'; c <= 'z'; c++ {
		t[c] = true
		t[c-'a'+'A'] = true
	}
	for _, c := range "!#$%&'*+-.^_`|~" {
		t[c] = true
	}
	return t
}()

// isToken reports whether s is a non-empty RFC 9110 token.
func isToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !tokenChars[s[i]] {
			return false
		}
	}
	return true
}

// isOWS reports whether c is optional whitespace (space or horizontal tab)
// in an HTTP list.
func isOWS(c byte) bool { return c == ' ' || c == '\t' }

// trimOWS removes the optional whitespace around a list element.
func trimOWS(s string) string {
	for s != "" && isOWS(s[0]) {
		s = s[1:]
	}
	for s != "" && isOWS(s[len(s)-1]) {
		s = s[:len(s)-1]
	}
	return s
}

// defaultPort returns the default port of the special URL schemes, which a
// serialised origin never carries, or "" for other schemes.
// https://url.spec.whatwg.org/#default-port
func defaultPort(scheme string) string {
	switch scheme {
	case "http", "ws":
		return "80"
	case "https", "wss":
		return "443"
	case "ftp":
		return "21"
	}
	return ""
}
