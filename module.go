// Package cors is a Caddy HTTP handler that answers the CORS protocol of
// the WHATWG Fetch standard: it decides which cross-origin requests
// browsers may read, answers their preflights, and refuses insecure or
// malformed policies when the configuration loads.
//
// https://fetch.spec.whatwg.org/#http-cors-protocol
package cors

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

func init() {
	caddy.RegisterModule(Handler{})
}

// Interface guards.
var (
	_ caddy.Provisioner           = (*Handler)(nil)
	_ caddy.Validator             = (*Handler)(nil)
	_ caddyhttp.MiddlewareHandler = (*Handler)(nil)
	_ caddyfile.Unmarshaler       = (*Handler)(nil)
)

// Handler answers the CORS protocol for the routes it is in front of. It
// answers preflight requests itself (unless options_passthrough is set) and
// adds the CORS headers to every other response, which the next handlers
// produce.
//
// It owns the CORS response headers: whatever a later handler writes into
// Access-Control-Allow-*, Access-Control-Expose-Headers or
// Access-Control-Max-Age (an upstream behind reverse_proxy that sets its
// own, say) is replaced by the handler's decision, so a response never
// carries two Access-Control-Allow-Origin values. It merges "Origin" into
// the Vary header of every response whose CORS headers depend on the
// request's Origin.
//
// An insecure or malformed policy is refused when the configuration loads,
// with one message per problem.
//
// What it decides about each CORS request is counted in
// caddy_cors_requests_total when Caddy's HTTP metrics are on, written into
// the request's access log entry as cors_result and cors_reason, and held
// in the placeholders {http.cors.result} ("allowed" or "refused") and
// {http.cors.reason} (origin, method, header, authorization, malformed or
// too_large; empty when allowed) for the handlers after it.
type Handler struct {
	// The origins whose pages may read responses. Each is "*" (any origin;
	// not with allow_credentials), an exact origin such as
	// "https://app.example.com", "http://localhost:8080" or
	// "capacitor://localhost", or a pattern: "https://*.example.com" allows
	// the subdomains of example.com at any depth (never example.com itself),
	// "http://localhost:*" allows any port, the default one included, and
	// the two combine ("https://*.example.com:*").
	//
	// Origins are normalised as browsers send them (lower case, punycode for
	// international names, no default port) and a request's Origin must
	// then match byte for byte. A host may end with a dot, as the host of a
	// page at https://example.com./ does: "https://example.com." is
	// another origin than "https://example.com", and each allows only
	// itself. "null" can never be listed: any sandboxed page can send it.
	//
	// A pattern over a top-level domain or another public suffix where
	// anyone can register a name ("https://*.com", "https://*.co.uk") is
	// refused; one over a privately run suffix ("https://*.github.io") is
	// logged as a warning, and refused with allow_credentials (see
	// allow_public_suffix_wildcards).
	//
	// Global placeholders such as {env.CORS_ORIGINS} or {file.origins.txt}
	// are expanded when the configuration loads; a value that held a
	// placeholder may expand to several origins separated by spaces or
	// commas.
	AllowedOrigins []string `json:"allowed_origins,omitempty"`

	// Regular expressions (Go syntax) that allow the origins they match.
	// Each is matched against the whole Origin, as if written between ^ and
	// $, and must begin with a fixed lower-case scheme and "://", so that
	// "^https://pr-[0-9]+\.preview\.example\.com$" is accepted and
	// "https?://…" is refused (write one regexp per scheme). A value that
	// is exactly one global placeholder, such as {env.ORIGIN_REGEXP}, is
	// expanded when the configuration loads.
	AllowedOriginRegexps []string `json:"allowed_origin_regexps,omitempty"`

	// The methods a preflight may ask for, compared case-sensitively, or
	// ["*"] for any method. GET, HEAD and POST are always allowed. A
	// successful preflight answers with the requested method, so "*" works
	// with allow_credentials too.
	AllowedMethods []string `json:"allowed_methods,omitempty"`

	// The request headers a preflight may ask for, compared
	// case-insensitively, or ["*"] for any header except Authorization,
	// which, as in the Fetch standard, must be listed by name: ["*",
	// "Authorization"] allows every header. A successful preflight answers
	// with the requested names, so "*" works with allow_credentials too.
	// List Content-Type to allow requests with a JSON body.
	AllowedHeaders []string `json:"allowed_headers,omitempty"`

	// The response headers that scripts may read besides the always readable
	// Cache-Control, Content-Language, Content-Length, Content-Type, Expires,
	// Last-Modified and Pragma, or ["*"] for all of them (not with
	// allow_credentials). Set-Cookie can never be read by scripts.
	ExposedHeaders []string `json:"exposed_headers,omitempty"`

	// Let browsers send cookies and HTTP authentication with cross-origin
	// requests, and let scripts read the responses to them. Refused
	// together with "*" in allowed_origins or exposed_headers.
	AllowCredentials bool `json:"allow_credentials,omitempty"`

	// How long browsers may cache a successful preflight, in whole seconds
	// from 0 to 24h (Chromium caps it at 2h). Absent, the answer carries no
	// Access-Control-Max-Age and browsers cache it for 5 seconds; 0 forbids
	// caching.
	//
	// In JSON, a string with a unit, such as "10m" or "600s", or an integer
	// number of nanoseconds, such as 600000000000 (what caddy adapt writes).
	// A bare number of seconds, 600 or "600", is refused with what to write.
	MaxAge *MaxAge `json:"max_age,omitempty"`

	// The status of a successful preflight answer, from 200 to 299. Default:
	// 204.
	PreflightStatus int `json:"preflight_status,omitempty"`

	// Hand preflights to the next handler instead of answering them. An
	// allowed preflight arrives with its CORS headers already set and the
	// next handler decides the status; a refused one arrives without any.
	OptionsPassthrough bool `json:"options_passthrough,omitempty"`

	// Answer a preflight that carries
	// "Access-Control-Request-Private-Network: true" with
	// "Access-Control-Allow-Private-Network: true" when it is otherwise
	// allowed. Only browsers that implement Private Network Access ask
	// public pages for it before they reach a private address: Chromium
	// about 98 to 141, and Electron and WebViews built on it. Chromium 142
	// and later enforce Local Network Access instead, for which the server
	// sends nothing: the page must be a secure context and get the user's
	// permission (a prompt); fetch() takes targetAddressSpace "local" or
	// "loopback" where mixed content would block the request, and an
	// iframe needs allow="local-network" ("local-network-access" in
	// Chromium 142 to 144). The actual request still needs CORS headers.
	// https://wicg.github.io/local-network-access/
	AllowPrivateNetwork bool `json:"allow_private_network,omitempty"`

	// Allow plain-http origins together with allow_credentials. They are
	// refused by default, since a network attacker who injects a script into
	// such a page could read the responses. localhost, *.localhost,
	// 127.0.0.0/8 and [::1] never need this.
	AllowInsecureOrigins bool `json:"allow_insecure_origins,omitempty"`

	// Allow, together with allow_credentials, patterns over a privately run
	// public suffix where anyone can publish a page (the private section of
	// the Public Suffix List: "https://*.github.io",
	// "https://*.herokuapp.com") and over a private network's domain that no
	// public registry serves, where the network's machines may name
	// themselves ("https://*.internal", "https://*.lan",
	// "https://*.home.arpa"). Both are refused with credentials by default;
	// without credentials, the first are logged as a warning, which this
	// silences. Patterns over a top-level domain or another ICANN public
	// suffix ("https://*.com", "https://*.co.uk") are refused whatever this
	// says: write "*" for any site (not with credentials), or list the
	// sites you trust.
	AllowPublicSuffixWildcards bool `json:"allow_public_suffix_wildcards,omitempty"`

	// Refuse, with 403, the requests that can change state (any method but
	// GET, HEAD and OPTIONS, and WebSocket handshakes) when a browser sends
	// them from an origin that allowed_origins and allowed_origin_regexps
	// do not allow: a cross-site form POST, a no-cors fetch() POST, a
	// WebSocket opened by another site's page. CORS alone does not stop
	// these: browsers send them with the user's cookies and only hide the
	// answer (cross-site request forgery, cross-site WebSocket hijacking).
	// A refused request gets a short plain-text body and no
	// Access-Control-* header, and never reaches the next handler; the
	// others are answered as without this option.
	//
	// The algorithm is that of Go's net/http.CrossOriginProtection: a
	// request passes with Sec-Fetch-Site "same-origin" or "none", or an
	// allowed Origin; else it is refused if it has Sec-Fetch-Site; without
	// it (plain http, old browsers, Chromium's WebSocket handshakes), it
	// passes without Origin (not a browser) or with an Origin that names
	// the request's Host, and is refused otherwise. A WebSocket over HTTP/2
	// (an extended CONNECT) is checked like a write, but Firefox sends it
	// without Origin or Sec-Fetch-Site through an HTTP proxy, so it passes
	// there: Caddy offers it only with GODEBUG=http2xconnect=1, without
	// which Firefox uses HTTP/1.1 and is checked. Refused together with "*" in allowed_origins, which
	// would trust every origin.
	//
	// It does not authenticate anything, nor stop requests that other
	// clients than browsers send, nor cross-origin GET requests: keep GET
	// free of side effects. A page served with "Referrer-Policy:
	// no-referrer" sends "Origin: null" on its form POSTs (and, in Firefox
	// and WebKit, on a fetch() with referrerPolicy "no-referrer"), so they
	// are refused even from an allowed origin: keep the default
	// strict-origin-when-cross-origin on pages that submit forms to the
	// protected routes. Routes that must accept cross-site writes
	// (webhooks) are left out with matchers, in a route (a Caddyfile
	// handle block) before the one that holds this handler.
	// https://w3c.github.io/webappsec-fetch-metadata/#sec-fetch-site-header
	// https://fetch.spec.whatwg.org/#origin-header
	CrossOriginProtection bool `json:"cross_origin_protection,omitempty"`

	// A policy to try out beside this one: it never changes a response,
	// but every CORS request that it would allow where this policy
	// refuses, or refuse where this one allows, is counted in
	// caddy_cors_shadow_disagreements_total and logged (at most one line a
	// second, by the logger http.handlers.cors.shadow). See ShadowPolicy.
	Shadow *ShadowPolicy `json:"shadow,omitempty"`

	policy  *policy
	err     error // the problems found by Provision, which Validate reports
	logger  *zap.Logger
	matcher string         // the Caddyfile matcher token in front of the origins, if any
	second  *secondHandler // set once this handler has logged that another cors handler came first

	shadow   *shadow   // the compiled Shadow, if any
	counters *counters // nil unless Caddy's HTTP metrics are on
	// accessLogs is set when the server the handler is in writes access
	// logs, which then carry the decision.
	accessLogs bool
}

// MaxAge is the type of Handler.MaxAge: a caddy.Duration whose JSON
// decoding names the field and says what to write when it refuses a value.
// Like caddy.Duration, it reads a string with a unit ("10m", "600s", "1d")
// or an integer number of nanoseconds, and it is written as nanoseconds,
// so that caddy adapt writes it as before.
//
// Access-Control-Max-Age counts whole seconds, so a JSON number from 1 to
// 999999999, less than a second as nanoseconds, was meant as seconds, and
// so was a string without a unit, such as "600": both are refused with the
// string to write instead, as are negative numbers.
// https://fetch.spec.whatwg.org/#http-access-control-max-age
type MaxAge caddy.Duration

// UnmarshalJSON reads a duration as caddy.Duration does, refusing with
// the field's name what it cannot read, what was meant as seconds, and
// negative numbers.
func (m *MaxAge) UnmarshalJSON(b []byte) error {
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		d, err := parseMaxAge(s, true)
		if err != nil {
			return fmt.Errorf("%s: %w", fieldMaxAge, err)
		}
		*m = MaxAge(d)
		return nil
	}
	n, err := strconv.ParseInt(string(b), 10, 64)
	switch {
	case err != nil:
		return fmt.Errorf("%s: %s is not a duration: %s", fieldMaxAge, b, maxAgeFix(true))
	case n < 0:
		return fmt.Errorf("%s: %d %s", fieldMaxAge, n, negativeMaxAge(true))
	case n > 0 && n < int64(time.Second):
		return fmt.Errorf("%s: %d is read as %s: %s; %s", fieldMaxAge, n, plural(n, "nanosecond"), jsonDurationForms, unitlessMaxAge(n, true))
	}
	*m = MaxAge(n)
	return nil
}

// parseMaxAge reads a max_age written as text, a Caddyfile argument or a
// JSON string: a Caddy duration. A number without a unit, most likely meant
// as seconds (the unit of Access-Control-Max-Age), is refused with what to
// write instead, in JSON or else in a Caddyfile; so is a negative one.
func parseMaxAge(s string, inJSON bool) (time.Duration, error) {
	d, err := caddy.ParseDuration(s)
	if err == nil {
		return d, nil
	}
	shown := s
	if inJSON {
		shown = quote(s)
	}
	n, nerr := strconv.ParseInt(s, 10, 64)
	switch {
	case nerr != nil:
		return 0, fmt.Errorf("%s is not a duration (%v): %s", shown, err, maxAgeFix(inJSON))
	case n < 0:
		return 0, fmt.Errorf("%s %s", shown, negativeMaxAge(inJSON))
	case inJSON:
		return 0, fmt.Errorf("%s has no unit: %s; %s", shown, jsonDurationForms, unitlessMaxAge(n, true))
	}
	return 0, fmt.Errorf("%s has no unit: %s", shown, unitlessMaxAge(n, false))
}

// CaddyModule returns the Caddy module information.
func (Handler) CaddyModule() caddy.ModuleInfo {
	return caddy.ModuleInfo{
		ID:  "http.handlers.cors",
		New: func() caddy.Module { return new(Handler) },
	}
}

// Provision expands global placeholders and compiles the policy. Problems
// are kept for Validate, which reports them all at once.
func (h *Handler) Provision(ctx caddy.Context) error {
	h.logger = ctx.Logger()
	h.second = new(secondHandler)
	repl := caddy.NewReplacer()
	p, problems := h.compilePolicy(repl, false)
	var shadowPolicy *policy
	if h.Shadow != nil {
		sh := h.Shadow.handler(h)
		sh.logger = h.logger
		var shadowProblems []problem
		shadowPolicy, shadowProblems = sh.compilePolicy(repl, true)
		problems = append(problems, shadowProblems...)
	}
	if len(problems) > 0 {
		h.err = &policyError{problems: problems}
		return nil
	}
	h.policy = p
	if shadowPolicy != nil {
		h.shadow = &shadow{policy: shadowPolicy}
	}
	h.accessLogs = serverWritesAccessLogs(ctx)
	return h.provisionMetrics(ctx)
}

// compilePolicy expands the global placeholders of the handler's
// configuration with repl and compiles it. It logs the warnings, and
// returns the problems that refuse it, each naming the placeholder its
// value came from, and marked as the shadow policy's if shadow is set.
func (h *Handler) compilePolicy(repl *caddy.Replacer, shadow bool) (*policy, []problem) {
	cfg, expanded := h.expandedConfig(repl)
	p, warnings, err := compile(cfg, compileOptions{shadow: shadow})
	h.logWarnings(warnings, expanded)
	var problems []problem
	if err != nil {
		problems = err.(*policyError).problems
		for i, pb := range problems {
			if pb.index >= 0 && pb.index < len(expanded.from[pb.field]) {
				problems[i].from = expanded.from[pb.field][pb.index]
			}
		}
	}
	for i := range expanded.problems {
		expanded.problems[i].shadow = shadow
	}
	problems = append(expanded.problems, problems...)
	if len(problems) > 0 {
		return nil, problems
	}
	p.summary = summarize(cfg)
	return p, nil
}

// summarize names a policy in logs by the origins it allows.
func summarize(cfg config) string {
	s := "origins: " + strings.Join(cfg.AllowedOrigins, " ")
	if len(cfg.AllowedOriginRegexps) > 0 {
		s += "; origin regexps: " + strings.Join(cfg.AllowedOriginRegexps, " ")
	}
	return s
}

// logWarnings logs each warning of the policy, its message naming the field
// and the value as a problem's does, and the two again as fields of the
// log entry.
func (h *Handler) logWarnings(warnings []problem, expanded expansion) {
	for _, w := range warnings {
		fields := []zap.Field{zap.String("field", w.field)}
		if w.index >= 0 {
			if from := expanded.from[w.field]; w.index < len(from) {
				w.from = from[w.index]
			}
			fields = append(fields, zap.String("value", w.value))
		}
		h.logger.Warn(w.describe(w.field), fields...)
	}
}

// Validate reports every problem of the policy.
func (h *Handler) Validate() error {
	return h.err
}

// expansion records what placeholder expansion did: where each expanded
// value came from, and the placeholders that could not be expanded.
type expansion struct {
	from     map[string][]string // field → the raw value each value came from, "" if it held no placeholder
	problems []problem
}

// expandedConfig returns the handler's configuration with its global
// placeholders expanded by repl, or as written if repl is nil.
func (h *Handler) expandedConfig(repl *caddy.Replacer) (config, expansion) {
	x := expansion{from: make(map[string][]string)}
	cfg := config{
		AllowedOrigins:             x.expand(repl, fieldOrigins, h.AllowedOrigins, false),
		AllowedOriginRegexps:       x.expand(repl, fieldOriginRegexps, h.AllowedOriginRegexps, true),
		AllowedMethods:             x.expand(repl, fieldMethods, h.AllowedMethods, false),
		AllowedHeaders:             x.expand(repl, fieldHeaders, h.AllowedHeaders, false),
		ExposedHeaders:             x.expand(repl, fieldExposed, h.ExposedHeaders, false),
		AllowCredentials:           h.AllowCredentials,
		PreflightStatus:            h.PreflightStatus,
		OptionsPassthrough:         h.OptionsPassthrough,
		AllowPrivateNetwork:        h.AllowPrivateNetwork,
		AllowInsecureOrigins:       h.AllowInsecureOrigins,
		AllowPublicSuffixWildcards: h.AllowPublicSuffixWildcards,
		CrossOriginProtection:      h.CrossOriginProtection,
	}
	if h.MaxAge != nil {
		d := time.Duration(*h.MaxAge)
		cfg.MaxAge = &d
	}
	return cfg, x
}

// expand replaces the global placeholders of a list field. A value that held
// a placeholder is split on spaces and commas, so that one variable can hold
// several values. In regexps, where braces also count repetitions, only a
// value that is one whole placeholder is expanded, and never split.
func (x *expansion) expand(repl *caddy.Replacer, field string, values []string, regexps bool) []string {
	out := make([]string, 0, len(values))
	var from []string
	for i, v := range values {
		if repl == nil || regexps && !isWholePlaceholder(v) || !regexps && !hasPlaceholder(v) {
			out = append(out, v)
			from = append(from, "")
			continue
		}
		s, err := repl.ReplaceOrErr(v, true, true)
		if err != nil {
			x.problems = append(x.problems, problem{field: field, index: i, value: v, msg: err.Error()})
			continue
		}
		parts := []string{s}
		if !regexps {
			parts = strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' || r == '\t' || r == '\n' || r == '\r' })
		}
		for _, part := range parts {
			out = append(out, part)
			from = append(from, v)
		}
	}
	x.from[field] = from
	return out
}

// ServeHTTP applies the policy to a request: it answers preflights, and
// sets the CORS headers of every other response before handing the request
// to the next handler.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request, next caddyhttp.Handler) error {
	if first := decidedBy(w); first != nil {
		// Another cors handler decided this request and will put its
		// answer back when the response is committed.
		h.second.warn(h.logger, r, h.policy, first.p)
		return next.ServeHTTP(w, r)
	}
	var d decision
	h.policy.decideRequest(r, &d)
	if d.refusal.reason != allowed {
		h.logRefusal(r, &d)
	}
	h.observe(r, &d)

	if d.refusal.reason == refusedCrossOrigin {
		refuseCrossOrigin(w)
		return nil
	}

	if d.kind == preflight && !h.policy.passthrough {
		// The one allocation: the values of this response's headers.
		d.apply(w.Header(), make([]string, d.slotsNeeded()))
		if d.refusal.reason != allowed {
			w.WriteHeader(http.StatusForbidden)
		} else {
			w.WriteHeader(h.policy.preflightStatus)
		}
		return nil
	}

	// The one allocation: the response writer wrapper, which holds the
	// answer and the values of the headers.
	cw, slots := newCORSWriter(&d.answer)
	// The next handlers see the CORS headers, and so does the error path,
	// where Caddy writes the error response on its own writer with the
	// same header map.
	d.set(w.Header(), slots)
	// The answer is applied again when the next handlers commit the
	// response, and otherwise when they are done (an error response or an
	// empty 200), even if they panic: whatever they wrote into the CORS
	// headers is replaced.
	defer cw.commit()
	cw.ResponseWriterWrapper.ResponseWriter = w
	return next.ServeHTTP(cw, r)
}

// logRefusal writes a debug log line saying which part of a request the
// policy did not allow. It costs nothing when debug logging is off.
func (h *Handler) logRefusal(r *http.Request, d *decision) {
	msg := "cross-origin request not allowed"
	switch {
	case d.refusal.reason == refusedCrossOrigin:
		msg = "cross-origin request refused with 403"
	case d.kind == preflight:
		msg = "preflight refused"
	}
	if ce := h.logger.Check(zapcore.DebugLevel, msg); ce != nil {
		ce.Write(
			zap.Strings("origin", r.Header[headerOrigin]),
			zap.String("reason", d.refusal.String()),
			zap.String("refused", d.refusal.value),
		)
	}
}
