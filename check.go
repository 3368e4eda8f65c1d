package cors

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
)

// This file does what a browser does with a cross-origin fetch(): it decides
// whether a preflight is needed, sends it as a browser would, checks its
// answer, sends the actual request, checks that answer, and says which
// response headers the script could read. It is the core of
// "caddy cors check" (command.go), usable from Go without the command line.
//
// It applies the Fetch standard, with simplifications its users are told
// of: it follows no redirect, sends no body, and has cookies only if the
// caller's client has a jar.
// https://fetch.spec.whatwg.org/#main-fetch

// checkInput is a cross-origin request as a page's script makes it with
// fetch(url, {method, headers, credentials}).
type checkInput struct {
	// URL is the absolute http or https URL fetched.
	URL string
	// Origin is the serialized origin of the page, such as
	// "https://app.example.com", or "null" for an opaque origin (a
	// sandboxed iframe, a data: or file: page). Letter case, international
	// names and default ports are normalised as a browser serialises them.
	Origin string
	// Method is the method as the script writes it; fetch() uppercases
	// only DELETE, GET, HEAD, OPTIONS, POST and PUT. Empty means GET.
	Method string
	// Headers are the request headers the script sets, in order. Several
	// with one name are judged one by one, as the standard does, and sent
	// as one line, their values joined with ", ", as browsers do.
	// (Chromium judges the joined value, which can need a preflight where
	// the standard does not.)
	Headers []headerPair
	// Credentials is the credentials mode "include"; false stands for
	// "same-origin" and "omit", which a cross-origin request treats alike.
	Credentials bool
}

// verdict is what the browser decides.
type verdict string

const (
	verdictAllowed verdict = "allowed" // the script reads the response
	verdictBlocked verdict = "blocked" // the script gets a network error
	verdictError   verdict = "error"   // the check could not be made
)

// reasonCode names, in a stable machine-readable form, the rule that
// decided a blocked or failed check.
type reasonCode string

const (
	// The check could not be made (verdict "error").
	reasonInvalidInput reasonCode = "invalid-input" // the request is not one fetch() would send
	reasonNetworkError reasonCode = "network-error" // no response: DNS, connection, TLS, timeout
	reasonRedirect     reasonCode = "redirect"      // the actual response redirects, and the check does not follow it

	// The browser blocks the request (verdict "blocked").
	reasonMixedContent                  reasonCode = "mixed-content"                     // an https page fetching plain http
	reasonPreflightRedirect             reasonCode = "preflight-redirect"                // preflights are never redirected
	reasonPreflightStatus               reasonCode = "preflight-status"                  // the preflight's status is not 200-299
	reasonAllowOriginMissing            reasonCode = "allow-origin-missing"              // no Access-Control-Allow-Origin
	reasonAllowOriginMultiple           reasonCode = "allow-origin-multiple"             // several values or lines
	reasonAllowOriginWildcard           reasonCode = "allow-origin-wildcard-credentials" // "*" with credentials
	reasonAllowOriginMismatch           reasonCode = "allow-origin-mismatch"             // not the origin, byte for byte
	reasonAllowCredentials              reasonCode = "allow-credentials"                 // credentials without "Access-Control-Allow-Credentials: true"
	reasonAllowMethodsMalformed         reasonCode = "allow-methods-malformed"           // not a list of tokens
	reasonAllowHeadersMalformed         reasonCode = "allow-headers-malformed"           // not a list of tokens
	reasonMethodNotAllowed              reasonCode = "method-not-allowed"                // Access-Control-Allow-Methods lacks the method
	reasonAllowMethodsWildcard          reasonCode = "allow-methods-wildcard-credentials"
	reasonHeaderNotAllowed              reasonCode = "header-not-allowed" // Access-Control-Allow-Headers lacks a name
	reasonAllowHeadersWildcard          reasonCode = "allow-headers-wildcard-credentials"
	reasonAuthorizationNotUnderWildcard reasonCode = "authorization-not-covered-by-wildcard"
)

// Steps of a check, as a report names where it stopped.
const (
	stepPreflight = "preflight"
	stepActual    = "actual"
)

// checkReport is what a check found: the verdict, why, and each request
// sent with the response headers that decided it.
type checkReport struct {
	URL         string `json:"url"`
	Origin      string `json:"origin"` // as sent in the Origin header
	Method      string `json:"method"` // as sent, after normalisation
	Credentials bool   `json:"credentials"`
	// SameOrigin is set when the URL has the page's origin: CORS does not
	// apply, and the response is always readable.
	SameOrigin bool `json:"same_origin,omitempty"`

	Verdict verdict    `json:"verdict"`
	Step    string     `json:"step,omitempty"`   // "preflight" or "actual": where a block happened
	Reason  reasonCode `json:"reason,omitempty"` // why the verdict is not "allowed"
	Message string     `json:"message,omitempty"`
	Fix     string     `json:"fix,omitempty"` // the response header change that would allow the request
	// Hint is set when the preflight was refused as Caddy's cors handler
	// refuses one: it names the subdirectives that would allow the request.
	Hint *refusalHint `json:"hint,omitempty"`
	// MeantMethod is the method the script probably meant, when it wrote a
	// common method such as PATCH in another letter case, which fetch()
	// sends as written.
	MeantMethod string `json:"meant_method,omitempty"`
	// Notes are remarks that do not change the verdict, such as where
	// browsers depart from the standard.
	Notes []string `json:"notes,omitempty"`

	// PreflightBecause says why a preflight was needed, empty for a simple
	// request.
	PreflightBecause []string   `json:"preflight_because,omitempty"`
	Preflight        *checkStep `json:"preflight,omitempty"`
	Actual           *checkStep `json:"actual,omitempty"`
	// Readable lists the actual response's header names that the script
	// can read with response.headers.get(), in canonical form, sorted.
	Readable []string `json:"readable_headers,omitempty"`
}

// preflights returns the number of preflights sent: 0 or 1.
func (r *checkReport) preflights() int {
	if r.Preflight != nil {
		return 1
	}
	return 0
}

// actualStatus returns the status of the actual response, or 0 if none
// arrived or the request was never sent.
func (r *checkReport) actualStatus() int {
	if r.Actual == nil || r.Actual.Response == nil {
		return 0
	}
	return r.Actual.Response.Status
}

// checkStep is one request and, if it got one, its response.
type checkStep struct {
	Request  stepRequest   `json:"request"`
	Response *stepResponse `json:"response,omitempty"`
}

// stepRequest is a request as sent: its method, URL and the headers that
// CORS reads or the script set.
type stepRequest struct {
	Method  string       `json:"method"`
	URL     string       `json:"url"`
	Headers []headerPair `json:"headers"`
}

// stepResponse is a response's status and the headers that CORS reads:
// Access-Control-*, Vary and Location, in canonical form, sorted by name.
type stepResponse struct {
	Status  int          `json:"status"`
	Headers []headerPair `json:"headers"`
}

// refusalHint says which subdirectives of a cors block would allow a
// preflight that was refused as Caddy's cors handler refuses one: with 403
// and no Access-Control-* header at all. The answer does not say which part
// of the preflight was refused, so the hint lists every part; the handler's
// debug log names the one it refused.
type refusalHint struct {
	// RecognisedBy says how sure the check is that the refusal is the
	// handler's: recognisedByVary or recognisedByStatus.
	RecognisedBy string `json:"recognised_by"`
	// Subdirectives are the lines of a cors block that the request needs,
	// such as "origins https://app.example.com", "methods PATCH" or
	// "headers content-type x-api-key", with the names as the preflight
	// sent them, and "credentials" for a request with credentials. One or
	// more of them is missing.
	Subdirectives []string `json:"subdirectives"`
	// Message is the hint for people, one line per element of the text
	// report, the subdirectives indented by two spaces.
	Message string `json:"message"`
}

// How a refusal by Caddy's cors handler is recognised.
const (
	// recognisedByVary: a 403 without any Access-Control-* header that
	// carries the Vary of every answer of the handler to a preflight.
	recognisedByVary = "status-and-vary"
	// recognisedByStatus: a 403 without any Access-Control-* header, but
	// without that Vary; another server may answer so too.
	recognisedByStatus = "status"
)

// preflightVaryNames are the names of the Vary line that Caddy's cors
// handler puts on every answer to a preflight, allowed or refused.
var preflightVaryNames = [...]string{headerOrigin, headerRequestMethod, headerRequestHeaders}

// commonMethods are registered methods that scripts use and that fetch()
// does not upper-case: written in another case, they are sent so, and are
// most likely a mistake. (The methods fetch() upper-cases are
// normalizedMethods.)
// https://www.iana.org/assignments/http-methods/http-methods.xhtml
var commonMethods = [...]string{"PATCH", "QUERY", "PROPFIND", "PROPPATCH", "MKCOL", "COPY", "MOVE", "LOCK", "UNLOCK", "REPORT", "SEARCH"}

// meantMethod returns the common method that m, sent as written, probably
// stands for, or "" if m is not a common method in another case.
func meantMethod(m string) string {
	u := strings.ToUpper(m)
	if u == m || !slices.Contains(commonMethods[:], u) {
		return ""
	}
	return u
}

// fetchRequest is a checkInput validated and normalised as fetch() does
// before sending anything.
type fetchRequest struct {
	url         *url.URL
	origin      string // serialized, or "null"
	urlOrigin   originPattern
	method      string
	headers     []headerPair // normalised, in order
	credentials bool
}

// errInput is a request that fetch() would refuse to make.
type errInput struct{ msg string }

func (e *errInput) Error() string { return e.msg }

func inputErrorf(format string, args ...any) error {
	return &errInput{fmt.Sprintf(format, args...)}
}

// prepare validates and normalises in as fetch() does, and refuses what it
// would refuse, or what a script cannot send.
func (in checkInput) prepare() (*fetchRequest, error) {
	r := &fetchRequest{credentials: in.Credentials}
	u, err := url.Parse(in.URL)
	if err != nil {
		return nil, inputErrorf("URL %q does not parse: %v", in.URL, err)
	}
	if u.Scheme != "http" && u.Scheme != "https" || u.Host == "" {
		return nil, inputErrorf("URL %q is not an absolute http or https URL: write it as https://api.example.com/path", in.URL)
	}
	if u.User != nil {
		return nil, inputErrorf("URL %q holds a user name or password, which fetch() refuses: send an Authorization header instead", in.URL)
	}
	u.Fragment, u.RawFragment = "", "" // never sent
	r.url = u
	if r.urlOrigin, err = parseOriginPattern(u.Scheme + "://" + u.Host); err != nil {
		return nil, inputErrorf("URL %q: the host %v", in.URL, err)
	}

	switch {
	case in.Origin == "":
		return nil, inputErrorf(`no origin: give the origin of the page that makes the request, such as "https://app.example.com", or "null"`)
	case strings.EqualFold(in.Origin, "null"):
		r.origin = "null"
	default:
		o, err := parseOriginPattern(in.Origin)
		switch {
		case err != nil:
			return nil, inputErrorf("origin %q %v", in.Origin, err)
		case o.isPattern():
			return nil, inputErrorf("origin %q is a pattern: a page has one origin, such as %q", in.Origin, o.scheme+"://app."+o.host)
		}
		r.origin = o.String()
	}

	r.method = in.Method
	if r.method == "" {
		r.method = http.MethodGet
	}
	if !isToken(r.method) {
		return nil, inputErrorf("method %q is not a method name: a method is %s", in.Method, tokenSyntax)
	}
	if isForbiddenMethod(r.method) {
		return nil, inputErrorf("method %q is forbidden: fetch() refuses CONNECT, TRACE and TRACK", in.Method)
	}
	r.method = normalizeMethod(r.method)

	for _, h := range in.Headers {
		value := normalizeHeaderValue(h.Value)
		switch {
		case !isToken(h.Name):
			return nil, inputErrorf("header name %q is not a header name: a header name is %s", h.Name, tokenSyntax)
		case !isHeaderValue(value):
			return nil, inputErrorf("header %s: its value holds a NUL, CR or LF byte, which fetch() refuses", h.Name)
		case isForbiddenRequestHeaderPair(h.Name, value):
			return nil, inputErrorf("header %s is forbidden: browsers never let scripts set it (the browser sets it, or drops it)", h.Name)
		}
		r.headers = append(r.headers, headerPair{http.CanonicalHeaderKey(h.Name), value})
	}
	return r, nil
}

// combinedHeaders returns the headers as a browser sends them: one line per
// name, in order of first use, the values of a repeated name joined with
// ", ".
// https://fetch.spec.whatwg.org/#concept-header-list-combine
func combinedHeaders(headers []headerPair) []headerPair {
	var lines []headerPair
	for _, h := range headers {
		i := slices.IndexFunc(lines, func(l headerPair) bool { return l.Name == h.Name })
		if i < 0 {
			lines = append(lines, h)
		} else {
			lines[i].Value += ", " + h.Value
		}
	}
	return lines
}

// sameOrigin reports whether the URL has the page's origin.
func (r *fetchRequest) sameOrigin() bool { return r.origin == r.urlOrigin.String() }

// mixedContent reports whether a secure page would be refused the URL as
// mixed content before any CORS rule applies: plain http to a host other
// than this machine.
// https://w3c.github.io/webappsec-mixed-content/#should-block-fetch
func (r *fetchRequest) mixedContent() bool {
	return strings.HasPrefix(r.origin, "https://") && r.url.Scheme == "http" && !r.urlOrigin.isLoopback()
}

// checkCORS makes the request of in as a browser would and reports what the
// browser decides. It never follows redirects. The preflight carries no
// cookies; the actual request carries client.Jar's cookies only when
// in.Credentials is set. client nil means http.DefaultClient; its
// CheckRedirect is not used. ctx bounds the whole check.
func checkCORS(ctx context.Context, client *http.Client, in checkInput) checkReport {
	rep := checkReport{URL: in.URL, Origin: in.Origin, Method: in.Method, Credentials: in.Credentials}
	req, err := in.prepare()
	if err != nil {
		rep.fail(reasonInvalidInput, err.Error(), "")
		return rep
	}
	rep.URL, rep.Origin, rep.Method = req.url.String(), req.origin, req.method
	if m := meantMethod(req.method); m != "" {
		rep.MeantMethod = m
		rep.Notes = append(rep.Notes, fmt.Sprintf("the method %q is sent as written, since fetch() upper-cases only DELETE, GET, HEAD, OPTIONS, POST and PUT; "+
			"methods are case-sensitive, and servers, Caddy's cors handler included, compare them so: did you mean %s?", req.method, m))
	}
	if req.mixedContent() {
		rep.block("", reasonMixedContent, "an https page may not fetch plain http: the browser blocks it as mixed content before sending it",
			"serve the API over https and fetch "+strings.Replace(rep.URL, "http://", "https://", 1))
		return rep
	}
	if client == nil {
		client = http.DefaultClient
	}
	c := &checker{client: client, req: req, rep: &rep}
	if req.sameOrigin() {
		rep.SameOrigin = true
		c.sameOrigin(ctx)
		return rep
	}
	if c.preflightBecause(); len(rep.PreflightBecause) > 0 && !c.preflight(ctx) {
		return rep
	}
	c.actual(ctx)
	return rep
}

// checker carries one check through its steps.
type checker struct {
	client *http.Client
	req    *fetchRequest
	rep    *checkReport
	unsafe []string // the CORS-unsafe request-header names
}

func (r *checkReport) fail(reason reasonCode, msg, fix string) {
	r.Verdict, r.Reason, r.Message, r.Fix = verdictError, reason, msg, fix
}

func (r *checkReport) block(step string, reason reasonCode, msg, fix string) {
	r.Verdict, r.Step, r.Reason, r.Message, r.Fix = verdictBlocked, step, reason, msg, fix
}

// preflightBecause lists why the request needs a preflight, if it does.
// https://fetch.spec.whatwg.org/#main-fetch (the CORS-preflight flag)
func (c *checker) preflightBecause() {
	r := c.req
	var why []string
	if !isSafelistedMethod(r.method) {
		why = append(why, fmt.Sprintf("the method %s is not CORS-safelisted (GET, HEAD, POST)", r.method))
	}
	c.unsafe = unsafeRequestHeaderNames(r.headers)
	total := 0
	for _, h := range r.headers {
		if isSafelistedRequestHeader(h.Name, h.Value) {
			total += len(h.Value)
		}
	}
	explained := make(map[string]bool)
	for _, h := range r.headers {
		lower := strings.ToLower(h.Name)
		if _, found := slices.BinarySearch(c.unsafe, lower); !found || explained[lower] {
			continue
		}
		explained[lower] = true
		why = append(why, fmt.Sprintf("the header %s %s", h.Name, unsafeBecause(h, total)))
	}
	c.rep.PreflightBecause = why
}

// unsafeBecause says why the header is not CORS-safelisted; total is the
// size of the safelisted values of the request.
func unsafeBecause(h headerPair, total int) string {
	name := strings.ToLower(h.Name)
	switch {
	case !slices.Contains(safelistedRequestHeaderNames[:], name):
		return "is not CORS-safelisted (only Accept, Accept-Language, Content-Language, Content-Type and Range can be)"
	case len(h.Value) > maxSafelistedValue:
		return fmt.Sprintf("has a value of %d bytes, over the %d of a safelisted header", len(h.Value), maxSafelistedValue)
	case isSafelistedRequestHeader(h.Name, h.Value):
		return fmt.Sprintf("would be safelisted, but the safelisted headers' values total %d bytes, over %d", total, maxSafelistedValueTotal)
	case (name == "accept" || name == "content-type") && hasUnsafeRequestHeaderByte(h.Value):
		return fmt.Sprintf(`is %q, which holds a byte that is not safelisted ("():<>?@[\]{} or a control character)`, h.Value)
	case name == "content-type":
		return fmt.Sprintf("is %q: only the MIME types application/x-www-form-urlencoded, multipart/form-data and text/plain are safelisted", h.Value)
	case name == "range":
		return fmt.Sprintf("is %q: only one byte range, bytes=N- or bytes=N-M, is safelisted", h.Value)
	}
	return fmt.Sprintf("is %q: only letters, digits, space and *,-.;= are safelisted", h.Value)
}

// preflight sends the preflight and checks its answer; it reports whether
// the browser would go on to the actual request.
// https://fetch.spec.whatwg.org/#cors-preflight-fetch
func (c *checker) preflight(ctx context.Context) bool {
	r := c.req
	headers := []headerPair{{"Accept", "*/*"}, {headerOrigin, r.origin}, {headerRequestMethod, r.method}}
	if len(c.unsafe) > 0 {
		headers = append(headers, headerPair{headerRequestHeaders, strings.Join(c.unsafe, ",")})
	}
	step, resp := c.send(ctx, http.MethodOptions, headers, false)
	c.rep.Preflight = step
	if resp == nil {
		return false
	}
	if loc := resp.Header.Get("Location"); isRedirect(resp.StatusCode) && loc != "" {
		c.rep.block(stepPreflight, reasonPreflightRedirect,
			fmt.Sprintf("the preflight was answered with a redirect (%d to %s): browsers never follow a preflight's redirect", resp.StatusCode, loc),
			"answer OPTIONS at this URL itself, or make the page fetch the final URL "+loc)
		return false
	}
	if !c.corsCheck(stepPreflight, resp.Header) {
		c.hintRefusal(resp)
		return false
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		c.rep.block(stepPreflight, reasonPreflightStatus,
			fmt.Sprintf("the preflight was answered with status %d: browsers require an ok status, 200 to 299", resp.StatusCode),
			"answer the OPTIONS preflight with 204 or 200, before any authentication or routing that refuses it (a preflight never carries credentials)")
		return false
	}
	methods, ok := parseHeaderList(resp.Header.Values(headerAllowMethods))
	if !ok {
		c.rep.block(stepPreflight, reasonAllowMethodsMalformed,
			fmt.Sprintf("%s %q is not a comma-separated list of method names, so browsers reject the preflight", headerAllowMethods, strings.Join(resp.Header.Values(headerAllowMethods), ", ")),
			fmt.Sprintf("send %s: %s", headerAllowMethods, r.method))
		return false
	}
	names, ok := parseHeaderList(resp.Header.Values(headerAllowHeaders))
	if !ok {
		c.rep.block(stepPreflight, reasonAllowHeadersMalformed,
			fmt.Sprintf("%s %q is not a comma-separated list of header names, so browsers reject the preflight", headerAllowHeaders, strings.Join(resp.Header.Values(headerAllowHeaders), ", ")),
			fmt.Sprintf("send %s: %s", headerAllowHeaders, strings.Join(c.unsafe, ", ")))
		return false
	}
	return c.checkMethod(methods) && c.checkHeaders(names)
}

// checkMethod checks the method against Access-Control-Allow-Methods:
// listed case-sensitively, safelisted, or "*" without credentials.
func (c *checker) checkMethod(methods []string) bool {
	r := c.req
	wildcard := slices.Contains(methods, "*")
	if slices.Contains(methods, r.method) || isSafelistedMethod(r.method) || wildcard && !r.credentials {
		return true
	}
	fix := fmt.Sprintf("add %s to %s", r.method, headerAllowMethods)
	if wildcard {
		c.rep.block(stepPreflight, reasonAllowMethodsWildcard,
			fmt.Sprintf(`%s is "*", which is a wildcard only without credentials; with credentials it is a method named "*", not %s`, headerAllowMethods, r.method), fix)
		return false
	}
	msg := fmt.Sprintf("%s lacks %q", headerAllowMethods, r.method)
	if i := slices.IndexFunc(methods, func(m string) bool { return strings.EqualFold(m, r.method) }); i >= 0 {
		msg += fmt.Sprintf(": it lists %q, and methods are case-sensitive (fetch() sends %q as written)", methods[i], r.method)
	}
	c.rep.block(stepPreflight, reasonMethodNotAllowed, msg, fix)
	return false
}

// checkHeaders checks the unsafe request-header names against
// Access-Control-Allow-Headers: listed in any case, or "*" without
// credentials, which never covers Authorization.
func (c *checker) checkHeaders(names []string) bool {
	r := c.req
	wildcard := slices.Contains(names, "*")
	listed := func(name string) bool {
		return slices.ContainsFunc(names, func(n string) bool { return strings.EqualFold(n, name) })
	}
	var missing []string
	authorization := false
	for _, name := range c.unsafe {
		if listed(name) {
			continue
		}
		if name == nonWildcardRequestHeader && wildcard && !r.credentials {
			authorization = true
			continue
		}
		if !wildcard || r.credentials {
			missing = append(missing, name)
		}
	}
	if len(missing) > 0 {
		quoted := make([]string, len(missing))
		for i, m := range missing {
			quoted[i] = fmt.Sprintf("%q", m)
		}
		fix := fmt.Sprintf("add %s to %s", strings.Join(missing, ", "), headerAllowHeaders)
		if wildcard {
			c.rep.block(stepPreflight, reasonAllowHeadersWildcard,
				fmt.Sprintf(`%s is "*", which is a wildcard only without credentials; with credentials it is a header named "*", and it lacks %s`,
					headerAllowHeaders, strings.Join(quoted, ", ")), fix+" by name")
			return false
		}
		c.rep.block(stepPreflight, reasonHeaderNotAllowed, fmt.Sprintf("%s lacks %s", headerAllowHeaders, strings.Join(quoted, ", ")), fix)
		return false
	}
	if authorization {
		c.rep.block(stepPreflight, reasonAuthorizationNotUnderWildcard,
			fmt.Sprintf(`%s is "*", which never covers Authorization: the Fetch standard requires it by name`, headerAllowHeaders),
			fmt.Sprintf("add authorization to %s by name", headerAllowHeaders))
		c.rep.Notes = append(c.rep.Notes, `all three major engines (seen in Chromium 156, Firefox 153 and WebKitGTK 2.50) still let "*" cover Authorization, `+
			"against the standard (Chromium with a deprecation warning), so this request works in them for now; "+
			"this check follows the standard, which whatwg/fetch#1919 discusses changing")
		return false
	}
	return true
}

// actual sends the actual request and checks its answer.
func (c *checker) actual(ctx context.Context) {
	r := c.req
	step, resp := c.send(ctx, r.method, c.actualHeaders(true), r.credentials)
	c.rep.Actual = step
	if resp == nil || !c.corsCheck(stepActual, resp.Header) {
		return
	}
	if c.redirected(resp) {
		return
	}
	c.rep.Verdict = verdictAllowed
	c.rep.Readable = readableHeaders(resp.Header, r.credentials)
	if acao := resp.Header.Get(headerAllowOrigin); acao != "*" && !varyHolds(resp.Header.Values(headerVary), headerOrigin) {
		c.rep.Notes = append(c.rep.Notes, fmt.Sprintf("the response's %s depends on the origin, but its Vary lacks Origin: "+
			"a shared cache could serve it to pages of other origins; add \"Vary: Origin\"", headerAllowOrigin))
	}
}

// sameOrigin sends a request that CORS does not govern: any answer is
// readable.
func (c *checker) sameOrigin(ctx context.Context) {
	r := c.req
	// A same-origin request carries Origin only when its method is not GET
	// or HEAD. https://fetch.spec.whatwg.org/#origin-header
	withOrigin := r.method != http.MethodGet && r.method != http.MethodHead
	step, resp := c.send(ctx, r.method, c.actualHeaders(withOrigin), true)
	c.rep.Actual = step
	if resp == nil || c.redirected(resp) {
		return
	}
	c.rep.Verdict = verdictAllowed
	c.rep.Notes = append(c.rep.Notes, "the URL has the page's origin: CORS does not apply, and the script reads every response header but Set-Cookie")
	for name := range resp.Header {
		if !isForbiddenResponseHeader(name) {
			c.rep.Readable = append(c.rep.Readable, name)
		}
	}
	slices.Sort(c.rep.Readable)
}

// actualHeaders returns the headers of the actual request: Origin, the
// default Accept, and the script's headers.
func (c *checker) actualHeaders(withOrigin bool) []headerPair {
	var hs []headerPair
	if withOrigin {
		hs = append(hs, headerPair{headerOrigin, c.req.origin})
	}
	// fetch() sends "Accept: */*" unless the script set one.
	// https://fetch.spec.whatwg.org/#fetching (step 12)
	if !slices.ContainsFunc(c.req.headers, func(h headerPair) bool { return strings.EqualFold(h.Name, "Accept") }) {
		hs = append(hs, headerPair{"Accept", "*/*"})
	}
	return append(hs, combinedHeaders(c.req.headers)...)
}

// redirected reports, for a response that passed the CORS check, a redirect
// the check does not follow.
func (c *checker) redirected(resp *http.Response) bool {
	loc := resp.Header.Get("Location")
	if !isRedirect(resp.StatusCode) || loc == "" {
		return false
	}
	target, err := c.req.url.Parse(loc)
	if err != nil {
		c.rep.fail(reasonRedirect, fmt.Sprintf("the response redirects (%d) to %q, which is not a URL: browsers fail the request", resp.StatusCode, loc), "")
		return true
	}
	origin := c.req.origin
	if o, err := parseOriginPattern(target.Scheme + "://" + target.Host); err != nil || o != c.req.urlOrigin && !c.rep.SameOrigin {
		// A redirect to another origin makes the Origin "null" from then on.
		// https://fetch.spec.whatwg.org/#http-redirect-fetch
		origin = "null"
	}
	c.rep.fail(reasonRedirect, fmt.Sprintf("the response redirects (%d) to %s, which a browser would follow; this check stops here", resp.StatusCode, target),
		fmt.Sprintf("check the target: caddy cors check %s --origin %s", target, origin))
	return true
}

// isRedirect reports whether status is one a browser follows.
// https://fetch.spec.whatwg.org/#redirect-status
func isRedirect(status int) bool {
	switch status {
	case 301, 302, 303, 307, 308:
		return true
	}
	return false
}

// corsCheck applies the CORS check to a response's headers, records a
// block if it fails, and reports whether it passed.
// https://fetch.spec.whatwg.org/#concept-cors-check
func (c *checker) corsCheck(step string, h http.Header) bool {
	r := c.req
	where := "the " + step + " response"
	lines := h.Values(headerAllowOrigin)
	allow := strings.Join(lines, ", ") // how a browser reads several lines
	expect := r.origin
	switch {
	case r.origin == "null" && !r.credentials:
		expect = `* (sending "null" would allow every sandboxed page and data: URL)`
	case r.origin == "null":
		expect += ", but mind that any sandboxed page or data: URL can send Origin: null"
	case !r.credentials:
		expect += ` (or "*", since the request carries no credentials)`
	}
	switch {
	case len(lines) == 0:
		msg, fix := where+" has no "+headerAllowOrigin, fmt.Sprintf("send %s: %s", headerAllowOrigin, expect)
		if step == stepPreflight && !hasHeaderWithPrefix(h, "Access-Control-Allow-") {
			msg += ", nor any Access-Control-Allow-* header: the server does not answer preflights at this URL, " +
				"or it refused this one (its origin, method or headers)"
			fix = "answer the preflight with " + c.preflightAnswer()
		}
		c.rep.block(step, reasonAllowOriginMissing, msg, fix)
		return false
	case allow == "*" && !r.credentials:
		return true
	case allow == "*":
		c.rep.block(step, reasonAllowOriginWildcard, fmt.Sprintf(`%s is "*", which browsers refuse for a request with credentials`, headerAllowOrigin),
			fmt.Sprintf("send %s: %s and %s: true", headerAllowOrigin, r.origin, headerAllowCredentials))
		return false
	case allow == r.origin:
	case len(lines) > 1 || strings.Contains(allow, ","):
		c.rep.block(step, reasonAllowOriginMultiple, fmt.Sprintf("%s holds several values (%q): it must be exactly one origin", headerAllowOrigin, allow),
			fmt.Sprintf("send one %s: %s (a proxy or framework may add a second one)", headerAllowOrigin, expect))
		return false
	default:
		c.rep.block(step, reasonAllowOriginMismatch, fmt.Sprintf("%s is %q, not the origin %q: they must match byte for byte", headerAllowOrigin, allow, r.origin),
			fmt.Sprintf("send %s: %s", headerAllowOrigin, expect))
		return false
	}
	if !r.credentials {
		return true
	}
	if cred := strings.Join(h.Values(headerAllowCredentials), ", "); cred != "true" {
		what := "has no " + headerAllowCredentials
		if len(h.Values(headerAllowCredentials)) > 0 {
			what = fmt.Sprintf("has %s %q, not exactly \"true\"", headerAllowCredentials, cred)
		}
		c.rep.block(step, reasonAllowCredentials, where+" "+what+", which a request with credentials needs",
			fmt.Sprintf("send %s: true", headerAllowCredentials))
		return false
	}
	return true
}

// preflightAnswer lists the headers of a preflight answer that allows the
// request.
func (c *checker) preflightAnswer() string {
	r := c.req
	hs := []string{headerAllowOrigin + ": " + r.origin}
	if r.credentials {
		hs = append(hs, headerAllowCredentials+": true")
	}
	if !isSafelistedMethod(r.method) {
		hs = append(hs, headerAllowMethods+": "+r.method)
	}
	if len(c.unsafe) > 0 {
		hs = append(hs, headerAllowHeaders+": "+strings.Join(c.unsafe, ", "))
	}
	return strings.Join(hs, "; ")
}

// hintRefusal adds the hint of a preflight refused as Caddy's cors handler
// refuses one: with 403 and no Access-Control-* header at all, under any
// policy. Its refusals also carry its Vary, which makes the guess surer.
// (Under passthrough the next handler chooses the status: not recognised.)
func (c *checker) hintRefusal(resp *http.Response) {
	r := c.req
	if resp.StatusCode != http.StatusForbidden || hasHeaderWithPrefix(resp.Header, "Access-Control-") {
		return
	}
	var subs []string
	switch {
	case r.origin != "null":
		subs = append(subs, "origins "+r.origin)
	case !r.credentials:
		subs = append(subs, "origins *") // null can never be listed
	default:
		return // no cors block allows Origin null with credentials
	}
	if !isSafelistedMethod(r.method) {
		subs = append(subs, "methods "+r.method)
	}
	if len(c.unsafe) > 0 {
		subs = append(subs, "headers "+strings.Join(c.unsafe, " "))
	}
	if r.credentials {
		subs = append(subs, "credentials")
	}

	var lines []string
	if m := c.rep.MeantMethod; m != "" {
		lines = append(lines, fmt.Sprintf("Did you mean %s? The script sends %q as written (see the note), and \"methods %s\" does not allow it: write %s in the script.",
			m, r.method, m, m))
	}
	vary := strings.Join(preflightVaryNames[:], ", ")
	hint := &refusalHint{RecognisedBy: recognisedByVary, Subdirectives: subs}
	its := "Its"
	if slices.ContainsFunc(preflightVaryNames[:], func(name string) bool { return !varyHolds(resp.Header.Values(headerVary), name) }) {
		hint.RecognisedBy, its = recognisedByStatus, "If it is, its"
		lines = append(lines, fmt.Sprintf("A 403 without any Access-Control-* header is how Caddy's cors handler refuses a preflight; "+
			"without its Vary: %s, this may be another server.", vary))
	} else {
		lines = append(lines, fmt.Sprintf("A 403 without any Access-Control-* header, with Vary: %s, is how Caddy's cors handler refuses a preflight.", vary))
	}
	lines = append(lines, its+" cors block needs these subdirectives to allow the request as sent, and lacks one or more of them (the answer does not say which):")
	for _, s := range subs {
		lines = append(lines, "  "+s)
	}
	lines = append(lines, `The handler's debug log names the refused part: with the global option debug, its line "preflight refused" `+
		"(logger http.handlers.cors) gives it in the fields reason and refused.")
	hint.Message = strings.Join(lines, "\n")
	c.rep.Hint = hint
}

// hasHeaderWithPrefix reports whether h holds a header whose canonical name
// starts with prefix.
func hasHeaderWithPrefix(h http.Header, prefix string) bool {
	for name := range h {
		if strings.HasPrefix(name, prefix) {
			return true
		}
	}
	return false
}

// maxBodyRead bounds how much of a response body is read before the
// connection is closed: enough to reuse it for the next request.
const maxBodyRead = 64 << 10

// send makes one request and returns its step, and the response with its
// body closed; on a network error it records the failure and returns a nil
// response. Cookies go only with credentials.
func (c *checker) send(ctx context.Context, method string, headers []headerPair, credentials bool) (*checkStep, *http.Response) {
	r := c.req
	step := &checkStep{Request: stepRequest{Method: method, URL: r.url.String(), Headers: headers}}
	req, err := http.NewRequestWithContext(ctx, method, r.url.String(), nil)
	if err != nil {
		c.rep.fail(reasonInvalidInput, err.Error(), "")
		return step, nil
	}
	for _, h := range headers {
		req.Header.Add(h.Name, h.Value)
	}
	// Browsers ask for compressed bodies. Asking here also keeps Go's
	// transport from decompressing the body itself and removing
	// Content-Encoding and Content-Length, which a script could read.
	req.Header.Set("Accept-Encoding", "gzip, deflate, br")
	client := *c.client
	client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	if !credentials {
		client.Jar = nil
	}
	resp, err := client.Do(req)
	if err != nil {
		var urlErr *url.Error
		if errors.As(err, &urlErr) {
			err = urlErr.Err
		}
		c.rep.fail(reasonNetworkError, fmt.Sprintf("%s %s: %v", method, r.url, err), "")
		return step, nil
	}
	_, _ = io.CopyN(io.Discard, resp.Body, maxBodyRead)
	resp.Body.Close()
	step.Response = &stepResponse{Status: resp.StatusCode, Headers: corsResponseHeaders(resp.Header)}
	return step, resp
}

// corsResponseHeaders returns the response headers that CORS reads, and
// Location, in canonical form sorted by name, one pair per line.
func corsResponseHeaders(h http.Header) []headerPair {
	names := make([]string, 0, len(h))
	for name := range h {
		if strings.HasPrefix(name, "Access-Control-") || name == headerVary || name == "Location" {
			names = append(names, name)
		}
	}
	slices.Sort(names)
	var pairs []headerPair
	for _, name := range names {
		for _, v := range h[name] {
			pairs = append(pairs, headerPair{name, v})
		}
	}
	return pairs
}

// readableHeaders returns the names of the response headers a script can
// read from a CORS response: the safelisted ones and those listed in
// Access-Control-Expose-Headers, or all with "*" and no credentials; never
// Set-Cookie.
// https://fetch.spec.whatwg.org/#concept-filtered-response-cors
func readableHeaders(h http.Header, credentials bool) []string {
	exposed, ok := parseHeaderList(h.Values(headerExposeHeaders))
	if !ok {
		exposed = nil // a malformed list exposes nothing
	}
	all := !credentials && slices.Contains(exposed, "*")
	var names []string
	for name := range h {
		switch {
		case isForbiddenResponseHeader(name):
		case all, isSafelistedResponseHeader(name),
			slices.ContainsFunc(exposed, func(e string) bool { return strings.EqualFold(e, name) }):
			names = append(names, name)
		}
	}
	slices.Sort(names)
	return names
}
