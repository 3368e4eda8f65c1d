package cors

import (
	"slices"
	"strconv"
	"strings"
)

// This file holds the facts of the WHATWG Fetch standard that the handler
// and the "caddy cors check" command rely on, in one place: header names,
// safelisted and forbidden methods, safelisted and forbidden header names and
// values, the token and list grammars. The rest of the package asks these
// functions rather than repeating the lists.

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

// methodOverrideHeaders are the request headers that are forbidden when
// their value names a forbidden method, since some servers would run that
// method instead of the one sent.
var methodOverrideHeaders = [...]string{"x-http-method", "x-http-method-override", "x-method-override"}

// isForbiddenRequestHeaderPair reports whether a script may not send the
// request header name with this value: a forbidden name, or a method
// override naming a forbidden method.
// https://fetch.spec.whatwg.org/#forbidden-request-header
func isForbiddenRequestHeaderPair(name, value string) bool {
	if isForbiddenRequestHeader(name) {
		return true
	}
	for _, h := range methodOverrideHeaders {
		if strings.EqualFold(name, h) {
			for m := range strings.SplitSeq(value, ",") {
				if isForbiddenMethod(strings.Trim(m, httpWhitespace)) {
					return true
				}
			}
		}
	}
	return false
}

// headerPair is one header: a request header as a script sets it, or a
// line of a response header.
type headerPair struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// httpWhitespace holds the bytes a header value is trimmed of.
// https://fetch.spec.whatwg.org/#http-whitespace-byte
const httpWhitespace = "\t\n\r "

// normalizeHeaderValue removes the leading and trailing HTTP whitespace of
// a header value, as Headers.set() and append() do.
// https://fetch.spec.whatwg.org/#concept-header-value-normalize
func normalizeHeaderValue(v string) string { return strings.Trim(v, httpWhitespace) }

// isHeaderValue reports whether a normalised value is a header value that
// fetch() accepts: no NUL, CR or LF.
// https://fetch.spec.whatwg.org/#header-value
func isHeaderValue(v string) bool { return !strings.ContainsAny(v, "\x00\r\n") }

// Limits on the values of CORS-safelisted request headers.
// https://fetch.spec.whatwg.org/#cors-safelisted-request-header
// https://fetch.spec.whatwg.org/#cors-unsafe-request-header-names
const (
	maxSafelistedValue      = 128  // bytes in one value
	maxSafelistedValueTotal = 1024 // bytes in the values of all safelisted headers of a request
)

// safelistedRequestHeaderNames are the names of the only request headers
// that can be CORS-safelisted, each with a rule for its value. (Chromium
// safelists its client hints too, such as DPR, Width, Viewport-Width,
// Device-Memory and "Save-Data: on"; the standard does not.)
var safelistedRequestHeaderNames = [...]string{"accept", "accept-language", "content-language", "content-type", "range"}

// isSafelistedRequestHeader reports whether a script may send the header
// without a preflight, judged alone: its name is one of
// safelistedRequestHeaderNames and its value passes that name's rule. The 1024-byte rule over all such headers is
// applied by unsafeRequestHeaderNames.
// https://fetch.spec.whatwg.org/#cors-safelisted-request-header
func isSafelistedRequestHeader(name, value string) bool {
	if len(value) > maxSafelistedValue {
		return false
	}
	switch strings.ToLower(name) {
	case "accept":
		return !hasUnsafeRequestHeaderByte(value)
	case "accept-language", "content-language":
		for i := 0; i < len(value); i++ {
			if !languageChars[value[i]] {
				return false
			}
		}
		return true
	case "content-type":
		if hasUnsafeRequestHeaderByte(value) {
			return false
		}
		essence, ok := mimeEssence(value)
		return ok && (essence == "application/x-www-form-urlencoded" || essence == "multipart/form-data" || essence == "text/plain")
	case "range":
		start, _, ok := parseSingleRange(value)
		// A suffix range ("bytes=-500") needs a preflight.
		return ok && start >= 0
	}
	return false
}

// unsafeRequestHeaderNames returns the names of the headers that make a
// request need a preflight, in the form Access-Control-Request-Headers
// carries them: lower case, without repeats, sorted. The safelisted headers
// all count as unsafe when their values total more than 1024 bytes.
// https://fetch.spec.whatwg.org/#cors-unsafe-request-header-names
func unsafeRequestHeaderNames(headers []headerPair) []string {
	var unsafe, potentially []string
	size := 0
	for _, h := range headers {
		if isSafelistedRequestHeader(h.Name, h.Value) {
			potentially = append(potentially, h.Name)
			size += len(h.Value)
		} else {
			unsafe = append(unsafe, h.Name)
		}
	}
	if size > maxSafelistedValueTotal {
		unsafe = append(unsafe, potentially...)
	}
	return sortedLowercaseSet(unsafe)
}

// sortedLowercaseSet lowers the names, drops repeats and sorts them.
// https://fetch.spec.whatwg.org/#convert-header-names-to-a-sorted-lowercase-set
func sortedLowercaseSet(names []string) []string {
	set := make([]string, len(names))
	for i, n := range names {
		set[i] = strings.ToLower(n)
	}
	slices.Sort(set)
	return slices.Compact(set)
}

// hasUnsafeRequestHeaderByte reports whether v holds a byte that keeps
// Accept and Content-Type from being safelisted: a control character other
// than tab, DEL, or one of "():<>?@[\]{}.
// https://fetch.spec.whatwg.org/#cors-unsafe-request-header-byte
func hasUnsafeRequestHeaderByte(v string) bool {
	for i := 0; i < len(v); i++ {
		c := v[i]
		if c < 0x20 && c != '\t' || c == 0x7f || strings.IndexByte(`"():<>?@[\]{}`, c) >= 0 {
			return true
		}
	}
	return false
}

// languageChars marks the bytes allowed in a safelisted Accept-Language or
// Content-Language value: letters, digits, space and *,-.;=.
var languageChars = alphanumericAnd(" *,-.;=")

// mimeEssence parses a MIME type as the MIME Sniffing standard does and
// returns its essence, "type/subtype" in lower case. Parameters never make
// the parse fail, so they are not read.
// https://mimesniff.spec.whatwg.org/#parse-a-mime-type
func mimeEssence(v string) (string, bool) {
	v = strings.Trim(v, httpWhitespace)
	typ, rest, ok := strings.Cut(v, "/")
	if !ok || !isToken(typ) {
		return "", false
	}
	subtype, _, _ := strings.Cut(rest, ";")
	subtype = strings.TrimRight(subtype, httpWhitespace)
	if !isToken(subtype) {
		return "", false
	}
	return strings.ToLower(typ) + "/" + strings.ToLower(subtype), true
}

// parseSingleRange parses a Range value of one byte range, without
// whitespace, as fetch() does to decide whether it is safelisted: "bytes=N-"
// gives end -1, "bytes=-N" (a suffix) gives start -1; a list, another unit
// or an inverted range fail.
// https://fetch.spec.whatwg.org/#simple-range-header-value
func parseSingleRange(v string) (start, end int64, ok bool) {
	spec, found := strings.CutPrefix(v, "bytes=")
	if !found {
		return 0, 0, false
	}
	first, last, found := strings.Cut(spec, "-")
	if !found || first == "" && last == "" {
		return 0, 0, false
	}
	start, end = -1, -1
	for _, part := range []struct {
		digits string
		n      *int64
	}{{first, &start}, {last, &end}} {
		if part.digits == "" {
			continue
		}
		for i := 0; i < len(part.digits); i++ {
			if !isDigit(part.digits[i]) {
				return 0, 0, false
			}
		}
		n, err := strconv.ParseInt(part.digits, 10, 64)
		if err != nil {
			return 0, 0, false // beyond any resource
		}
		*part.n = n
	}
	if start >= 0 && end >= 0 && start > end {
		return 0, 0, false
	}
	return start, end, true
}

// safelistedResponseHeaders are the response headers that scripts can read
// on a CORS response without Access-Control-Expose-Headers, in canonical
// form.
// https://fetch.spec.whatwg.org/#cors-safelisted-response-header-name
var safelistedResponseHeaders = [...]string{
	"Cache-Control", "Content-Language", "Content-Length", "Content-Type", "Expires", "Last-Modified", "Pragma",
}

// isSafelistedResponseHeader reports whether scripts can always read the
// response header name, in any letter case.
func isSafelistedResponseHeader(name string) bool {
	for _, h := range safelistedResponseHeaders {
		if strings.EqualFold(name, h) {
			return true
		}
	}
	return false
}

// parseHeaderList parses the lines of a header whose value is a
// comma-separated list of tokens, such as Access-Control-Allow-Methods: it
// returns the tokens in order, skipping optional whitespace and empty
// elements, and fails if any element is not a token. Absent lines give an
// empty list.
// https://fetch.spec.whatwg.org/#extract-header-list-values
// https://www.rfc-editor.org/rfc/rfc9110#section-5.6.1
func parseHeaderList(lines []string) ([]string, bool) {
	var items []string
	for _, line := range lines {
		for elem := range strings.SplitSeq(line, ",") {
			item := trimOWS(elem)
			if item == "" {
				continue
			}
			if !isToken(item) {
				return nil, false
			}
			items = append(items, item)
		}
	}
	return items, true
}

// isForbiddenResponseHeader reports whether scripts can never read the
// response header name, whatever Access-Control-Expose-Headers says.
// https://fetch.spec.whatwg.org/#forbidden-response-header-name
func isForbiddenResponseHeader(name string) bool {
	return strings.EqualFold(name, "Set-Cookie") || strings.EqualFold(name, "Set-Cookie2")
}

// isCORSResponseHeader reports whether name, in any letter case, is a
// response header of the CORS protocol, which the server sends and the
// browser reads to decide whether a script may read the response: the
// headers the handler owns.
// https://fetch.spec.whatwg.org/#http-responses
// https://wicg.github.io/private-network-access/#headers
func isCORSResponseHeader(name string) bool {
	for _, h := range ownedNames {
		if strings.EqualFold(name, h) {
			return true
		}
	}
	return false
}

// requestOnlyHeaders are the headers that only requests carry, in lower
// case: a response never has them, so exposing one gives scripts nothing
// to read. Names starting with "sec-fetch-" (Fetch Metadata) or "sec-ch-"
// (client hints) are request-only too; other "sec-" and "proxy-" names are
// not all (Sec-WebSocket-Accept and Proxy-Authenticate are response
// headers). Upgrade and Accept-Encoding are left out: a 101 carries the
// one, a 415 may carry the other.
var requestOnlyHeaders = map[string]struct{}{
	// RFC 9110: the request header fields of sections 7.2 (Host), 7.6.2
	// (Max-Forwards), 10.1 (request context), 11.6.2 and 11.7.2
	// (credentials), 12.5 (content negotiation), 13.1 (preconditions) and
	// 14.2 (Range).
	// https://www.rfc-editor.org/rfc/rfc9110#section-10.1
	"accept":              {},
	"accept-charset":      {},
	"accept-language":     {},
	"authorization":       {},
	"expect":              {},
	"from":                {},
	"host":                {},
	"if-match":            {},
	"if-modified-since":   {},
	"if-none-match":       {},
	"if-range":            {},
	"if-unmodified-since": {},
	"max-forwards":        {},
	"proxy-authorization": {},
	"range":               {},
	"referer":             {},
	"te":                  {},
	"user-agent":          {},
	// RFC 6265, section 5.4.
	// https://www.rfc-editor.org/rfc/rfc6265#section-5.4
	"cookie": {},
	// The Fetch standard's request headers, and the preflight's (and
	// Private Network Access's).
	// https://fetch.spec.whatwg.org/#http-requests
	"origin":                                 {},
	"access-control-request-headers":         {},
	"access-control-request-method":          {},
	"access-control-request-private-network": {},
	// https://w3c.github.io/webappsec-upgrade-insecure-requests/
	"upgrade-insecure-requests": {},
}

// isRequestOnlyHeader reports whether only requests carry the header name,
// in any letter case.
func isRequestOnlyHeader(name string) bool {
	name = strings.ToLower(name)
	if _, ok := requestOnlyHeaders[name]; ok {
		return true
	}
	// https://w3c.github.io/webappsec-fetch-metadata/
	// https://www.rfc-editor.org/rfc/rfc8942
	return strings.HasPrefix(name, "sec-fetch-") || strings.HasPrefix(name, "sec-ch-")
}

// nonWildcardRequestHeader is the one request header that a "*" in
// Access-Control-Allow-Headers never covers; it must be listed by name.
// https://fetch.spec.whatwg.org/#cors-non-wildcard-request-header-name
const nonWildcardRequestHeader = "authorization"

// tokenChars marks the bytes of an RFC 9110 token, the syntax of methods and
// header names: letters, digits and !#$%&'*+-.^_`|~.
// https://www.rfc-editor.org/rfc/rfc9110#section-5.6.2
var tokenChars = alphanumericAnd("!#$%&'*+-.^_`|~")

// alphanumericAnd returns the set of ASCII letters, digits and the bytes of
// extra.
func alphanumericAnd(extra string) (t [256]bool) {
	for c := '0'; c <= '9'; c++ {
		t[c] = true
	}
	for c := 'a'; c <= 'z'; c++ {
		t[c] = true
		t[c-'a'+'A'] = true
	}
	for i := 0; i < len(extra); i++ {
		t[extra[i]] = true
	}
	return t
}

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
