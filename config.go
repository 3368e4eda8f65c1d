package cors

import (
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"

	"golang.org/x/net/publicsuffix"
)

// config is a CORS policy as the user wrote it, free of Caddy's types, with
// the fields of Handler. Compiling it checks every value and reports every
// problem at once.
type config struct {
	AllowedOrigins             []string
	AllowedOriginRegexps       []string
	AllowedMethods             []string
	AllowedHeaders             []string
	ExposedHeaders             []string
	AllowCredentials           bool
	MaxAge                     *time.Duration // nil: no Access-Control-Max-Age
	PreflightStatus            int            // 0: the default
	OptionsPassthrough         bool
	AllowPrivateNetwork        bool
	AllowInsecureOrigins       bool
	AllowPublicSuffixWildcards bool
	CrossOriginProtection      bool
}

// JSON names of the fields, as problems name them.
const (
	fieldOrigins       = "allowed_origins"
	fieldOriginRegexps = "allowed_origin_regexps"
	fieldMethods       = "allowed_methods"
	fieldHeaders       = "allowed_headers"
	fieldExposed       = "exposed_headers"
	fieldMaxAge        = "max_age"
	fieldStatus        = "preflight_status"
)

const (
	// defaultPreflightStatus answers a successful preflight: no content.
	defaultPreflightStatus = http.StatusNoContent

	// maxMaxAge is the longest preflight cache lifetime any browser honours
	// (Firefox; Chromium stops at two hours).
	// https://fetch.spec.whatwg.org/#http-access-control-max-age
	maxMaxAge = 24 * time.Hour
)

// tokenSyntax describes the syntax of method and header names.
const tokenSyntax = "a token of letters, digits and !#$%&'*+-.^_`|~"

// problem is one reason a configuration is refused, or one warning about a
// value that is allowed but probably not meant.
type problem struct {
	field string // JSON name of the field
	index int    // position of the value in a list field, or -1
	value string // the offending value, as written
	from  string // the placeholder value expanded to, if any
	msg   string // what is wrong and what to write instead
	// shadow marks a problem of the shadow policy, which is described
	// after "shadow: ".
	shadow bool
}

// describe writes the problem after the name of its field.
func (p problem) describe(field string) string {
	s := field + ": "
	if p.shadow {
		s = "shadow: " + s
	}
	if p.index >= 0 {
		s += quote(p.value) + " "
		if p.from != "" && p.from != p.value {
			s += "(from " + quote(p.from) + ") "
		}
	}
	return s + p.msg
}

// quote puts a configured value between double quotes, escaping it only if
// it holds a quote or an unprintable character, so that a regexp reads as
// it was written.
func quote(s string) string {
	for _, r := range s {
		if r == '"' || !strconv.IsPrint(r) {
			return strconv.Quote(s)
		}
	}
	return `"` + s + `"`
}

// policyError lists every problem of a refused configuration.
type policyError struct {
	problems []problem
}

func (e *policyError) Error() string {
	lines := make([]string, len(e.problems))
	for i, p := range e.problems {
		lines[i] = p.describe(p.field)
	}
	return joinProblems(lines)
}

// joinProblems writes one problem as it is, several as one numbered line:
//
//	2 problems in the CORS policy: (1) …; (2) …
//
// One line, because Caddy prints the error after its own context on one
// line in a terminal, and escapes newlines and tabs in a JSON log line or
// in the {"error": …} answer of POST /load; numbers, because a problem's
// text may hold semicolons of its own.
func joinProblems(lines []string) string {
	if len(lines) == 1 {
		return lines[0]
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%d problems in the CORS policy:", len(lines))
	for i, l := range lines {
		if i > 0 {
			b.WriteByte(';')
		}
		fmt.Fprintf(&b, " (%d) %s", i+1, l)
	}
	return b.String()
}

// compileOptions tunes compile for the Caddyfile adapter, which runs before
// placeholders can be expanded.
type compileOptions struct {
	// skipPlaceholders leaves unchecked the values that hold a placeholder,
	// counting them as present; Provision checks them once expanded.
	skipPlaceholders bool
	// shadow compiles a shadow policy, whose problems and warnings are
	// marked as its own.
	shadow bool
}

// compiler gathers problems and warnings while a config is compiled.
type compiler struct {
	opts     compileOptions
	problems []problem
	warnings []problem
}

func (c *compiler) refuse(field string, index int, value, format string, args ...any) {
	c.problems = append(c.problems, problem{field: field, index: index, value: value, msg: fmt.Sprintf(format, args...), shadow: c.opts.shadow})
}

// warn records a warning about a value, which names its field and the
// value as a problem does.
func (c *compiler) warn(field string, index int, value, format string, args ...any) {
	c.warnings = append(c.warnings, problem{field: field, index: index, value: value, msg: fmt.Sprintf(format, args...), shadow: c.opts.shadow})
}

// deferred reports whether value holds a placeholder that is left for
// Provision to expand and check.
func (c *compiler) deferred(value string) bool {
	return c.opts.skipPlaceholders && hasPlaceholder(value)
}

// hasPlaceholder reports whether s holds a Caddy placeholder such as
// {env.ORIGIN}.
func hasPlaceholder(s string) bool {
	i := strings.IndexByte(s, '{')
	return i >= 0 && strings.IndexByte(s[i:], '}') > 0
}

// compile checks cfg and builds the policy that decides requests. It
// returns warnings for what is allowed but probably not meant, and a
// *policyError naming every problem when cfg is refused.
func compile(cfg config, opts compileOptions) (*policy, []problem, error) {
	c := &compiler{opts: opts}
	p := &policy{
		credentials:     cfg.AllowCredentials,
		passthrough:     cfg.OptionsPassthrough,
		privateNetwork:  cfg.AllowPrivateNetwork,
		crossOrigin:     cfg.CrossOriginProtection,
		preflightStatus: defaultPreflightStatus,
	}
	c.origins(cfg, p)
	c.regexps(cfg, p)
	if !p.anyOrigin && len(cfg.AllowedOrigins) == 0 && len(cfg.AllowedOriginRegexps) == 0 {
		outcome := `the handler would do nothing: list the origins of your pages, such as "https://app.example.com" (Caddyfile: cors https://app.example.com)`
		anyOrigin := `, or allow any origin with "*" (Caddyfile: origins *)`
		if opts.shadow {
			outcome = `the shadow policy would refuse every CORS request: list the origins it would allow, ` +
				`such as "https://app.example.com" (Caddyfile: origins https://app.example.com inside shadow)`
			anyOrigin = `, or any origin with "*"`
		}
		if cfg.CrossOriginProtection {
			anyOrigin = "" // refused with the protection
		}
		c.refuse(fieldOrigins, -1, "", "no origin is allowed, so %s%s", outcome, anyOrigin)
	}
	c.methods(cfg, p)
	c.headers(cfg, p)
	c.exposed(cfg, p)
	if d := cfg.MaxAge; d != nil {
		switch {
		case *d < 0:
			c.refuse(fieldMaxAge, -1, "", "%s %s", formatDuration(*d), negativeMaxAge(false))
		case *d > maxMaxAge:
			c.refuse(fieldMaxAge, -1, "", "%s is %s: write 2h or less", formatDuration(*d), tooLongMaxAge)
		case *d%time.Second != 0:
			c.refuse(fieldMaxAge, -1, "", "%s is not a whole number of seconds, the unit of Access-Control-Max-Age: write %s",
				formatDuration(*d), formatDuration(d.Truncate(time.Second)))
		default:
			p.maxAge = strconv.FormatInt(int64(*d/time.Second), 10)
		}
	}
	if s := cfg.PreflightStatus; s != 0 {
		if s < 200 || s > 299 {
			c.refuse(fieldStatus, -1, "", "%d is not a success: browsers accept a preflight only with a status from 200 to 299; write 204 (the default) or 200", s)
		} else {
			p.preflightStatus = s
		}
	}
	p.preflightVary = headerOrigin + ", " + headerRequestMethod + ", " + headerRequestHeaders
	if p.privateNetwork {
		p.preflightVary += ", " + headerRequestPrivateNetwork
	}
	if len(c.problems) > 0 {
		return nil, c.warnings, &policyError{problems: c.problems}
	}
	return p, c.warnings, nil
}

// jsonDurationForms says how JSON writes a duration.
const jsonDurationForms = "a JSON duration is an integer number of nanoseconds or a string with a unit"

// maxAgeFix says how to write a max_age, in JSON or else in a Caddyfile.
func maxAgeFix(inJSON bool) string {
	if inJSON {
		return `write a string with a unit, such as "10m", "2h" or "0s", or an integer number of nanoseconds`
	}
	return "write a duration with a unit, such as 10m, 2h or 0s"
}

// tooLongMaxAge says why a max_age over maxMaxAge is refused.
const tooLongMaxAge = "longer than any browser caches a preflight (Firefox: 24h, Chromium: 2h)"

// negativeMaxAge says, after a negative max_age, why it is refused and what
// to write, in JSON or else in a Caddyfile.
func negativeMaxAge(inJSON bool) string {
	return "is negative, and negative values are refused: write 0 to forbid caching preflights, or a duration such as " +
		durationText("10m", inJSON)
}

// unitlessMaxAge says what to write instead of a max_age of n written
// without a unit, which was most likely meant as seconds (the unit of
// Access-Control-Max-Age), in JSON or else in a Caddyfile: "600s" and,
// when a larger unit divides it exactly, "10m".
func unitlessMaxAge(n int64, inJSON bool) string {
	if n > int64(maxMaxAge/time.Second) {
		return fmt.Sprintf("%d seconds would be %s: write %s or less", n, tooLongMaxAge, durationText("2h", inJSON))
	}
	seconds := durationText(strconv.FormatInt(n, 10)+"s", inJSON)
	var short string
	switch {
	case n >= 3600 && n%3600 == 0:
		short = strconv.FormatInt(n/3600, 10) + "h"
	case n >= 60 && n%60 == 0:
		short = strconv.FormatInt(n/60, 10) + "m"
	default:
		return fmt.Sprintf("for %s, write %s", plural(n, "second"), seconds)
	}
	return fmt.Sprintf("for %s, write %s or %s", plural(n, "second"), seconds, durationText(short, inJSON))
}

// durationText writes a suggested duration as a Caddyfile takes it, or as a
// JSON string.
func durationText(s string, inJSON bool) string {
	if inJSON {
		return `"` + s + `"`
	}
	return s
}

// plural writes n and the unit, in the plural unless n is 1.
func plural(n int64, unit string) string {
	if n == 1 {
		return "1 " + unit
	}
	return strconv.FormatInt(n, 10) + " " + unit + "s"
}

// formatDuration writes d as time.Duration.String does, without its zero
// minutes and seconds: "10m" and "25h", not "10m0s" and "25h0m0s".
func formatDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

// origins compiles allowed_origins.
func (c *compiler) origins(cfg config, p *policy) {
	seen := make(map[string]string)
	star := -1
	for i, s := range cfg.AllowedOrigins {
		if s == "*" {
			if cfg.AllowCredentials {
				c.refuse(fieldOrigins, i, s, `cannot be combined with credentials: browsers refuse "*" on a credentialed request, `+
					`and answering any origin with credentials lets every site read your users' data; list the origins that may send credentials`)
			}
			if cfg.CrossOriginProtection {
				c.refuse(fieldOrigins, i, s, `cannot be combined with cross_origin_protection: it trusts every origin, so the protection `+
					`would refuse nothing; list the origins of your pages, such as "https://app.example.com"`)
			}
			p.anyOrigin = true
			if star < 0 {
				star = i
			}
			continue
		}
		if c.deferred(s) {
			continue
		}
		o, err := parseOriginPattern(s)
		if err != nil {
			c.refuse(fieldOrigins, i, s, "%v", err)
			continue
		}
		key := o.String()
		if first, dup := seen[key]; dup {
			c.warn(fieldOrigins, i, s, "repeats %q: it is listed once", first)
			continue
		}
		seen[key] = s
		c.sharedDomainPattern(i, s, o, cfg)
		if cfg.AllowCredentials {
			c.credentialedOrigin(i, s, o, cfg)
		}
		p.origins.add(o)
	}
	if p.anyOrigin && len(seen) > 0 {
		c.warn(fieldOrigins, star, "*", "is listed with other origins, which it already allows")
	}
}

// credentialedOrigin refuses origins that are unsafe to trust with
// credentials, unless the configuration opts out.
func (c *compiler) credentialedOrigin(i int, s string, o originPattern, cfg config) {
	if o.scheme == "http" && !o.isLoopback() && !cfg.AllowInsecureOrigins {
		secure := originPattern{scheme: "https", host: o.host, subdomains: o.subdomains}
		if o.port == "*" {
			secure.port = "*"
		}
		c.refuse(fieldOrigins, i, s, "is not a secure origin: with credentials, a network attacker who injects a script into "+
			"that plain-http page can read your users' responses; serve the page over https and write %q, "+
			"or set allow_insecure_origins if you accept that risk", secure.String())
	}
}

// sharedDomainPattern checks a subdomain pattern over a domain where others
// than its owner name sites. A top-level domain or another ICANN public
// suffix (*.com, *.co.uk) is refused, whatever the opt-outs say. A suffix of
// the Public Suffix List's private section (*.github.io) is refused with
// credentials and logged as a warning without; a private network's domain
// (*.internal) is refused with credentials. allow_public_suffix_wildcards
// lets both through.
func (c *compiler) sharedDomainPattern(i int, s string, o originPattern, cfg config) {
	if !o.subdomains || o.isLoopback() {
		return
	}
	domain := strings.TrimSuffix(o.host, ".") // the DNS root changes nothing
	yours := originPattern{scheme: o.scheme, host: "yours." + o.host, port: o.port}.String()
	switch kind := classifyDomain(domain); {
	case kind == icannSuffix:
		what := "a top-level domain"
		if strings.Contains(domain, ".") {
			what = "a public suffix"
		}
		if !cfg.AllowCredentials {
			c.refuse(fieldOrigins, i, s, `allows every site under %q, %s where anyone can register a name: `+
				`write "*" if you mean any site, or list the sites you trust, such as %q`, domain, what, yours)
			return
		}
		c.refuse(fieldOrigins, i, s, `allows every site under %q, %s where anyone can register a name, and with credentials `+
			`any of them could read your users' data: list the sites you trust, such as %q `+
			`("*" is refused with credentials too, and allow_public_suffix_wildcards does not cover %s)`, domain, what, yours, what)
	case cfg.AllowPublicSuffixWildcards:
		// The user accepts the rest.
	case kind == privateSuffix && !cfg.AllowCredentials:
		c.warn(fieldOrigins, i, s, "allows every site under %q, a public suffix where anyone can publish a page, so every such page "+
			"can read the responses: list the sites you trust, such as %q, or set allow_public_suffix_wildcards to silence this warning",
			domain, yours)
	case kind == privateSuffix:
		c.refuse(fieldOrigins, i, s, "allows every site under %q, a public suffix where anyone can publish a page, so with credentials "+
			"every such page could read your users' data: list the sites you trust, such as %q, "+
			"or set allow_public_suffix_wildcards if you accept that risk", domain, yours)
	case kind == privateNetwork && cfg.AllowCredentials:
		c.refuse(fieldOrigins, i, s, "allows every site under %q, a private network's domain that no public registry serves, "+
			"where any machine on that network may be able to name itself: with credentials, list the sites you trust, such as %q, "+
			"or set allow_public_suffix_wildcards if you control every name under it", domain, yours)
	}
}

// domainKind says who can name sites under a domain.
type domainKind int

const (
	registrable    domainKind = iota // its owner: a registered domain, or a name below one
	icannSuffix                      // anyone, from a public registry: com, co.uk, the names under *.ck
	privateSuffix                    // anyone, from a company: github.io, herokuapp.com
	privateNetwork                   // a private network: test, corp, internal, lan, home.arpa
)

// suffixProbe is a label that no rule of the Public Suffix List names: a
// domain whose child with this label is a public suffix has a wildcard
// rule below it.
const suffixProbe = "cors-probe"

// classifyDomain says who can name sites under domain, a lower-case ASCII
// host name without a trailing dot, by the Public Suffix List.
//
// A name that the list does not know (test, corp, internal, lan, local)
// comes back from publicsuffix.PublicSuffix as its own suffix, ICANN's or
// not, by the list's default rule: it is a top-level domain that no public
// registry serves, as private networks use (the list's ICANN section
// follows the root zone). So is home.arpa, which the list holds in its
// ICANN section but which RFC 8375 reserves for home networks. Some
// top-level domains (ck, er, kh, ...) have only a wildcard rule below them
// ("*.ck"), so that the default rule answers for the domain itself: the
// suffix of a child tells them apart.
// https://github.com/publicsuffix/list/wiki/Format#algorithm
func classifyDomain(domain string) domainKind {
	if domain == "home.arpa" {
		return privateNetwork
	}
	child := suffixProbe + "." + domain
	if suffix, icann := publicsuffix.PublicSuffix(child); suffix == child {
		if icann {
			return icannSuffix
		}
		return privateSuffix
	}
	suffix, icann := publicsuffix.PublicSuffix(domain)
	switch {
	case suffix != domain:
		return registrable
	case icann:
		return icannSuffix
	case strings.Contains(domain, "."):
		return privateSuffix
	default:
		return privateNetwork
	}
}

// regexps compiles allowed_origin_regexps.
func (c *compiler) regexps(cfg config, p *policy) {
	for i, expr := range cfg.AllowedOriginRegexps {
		if c.opts.skipPlaceholders && isWholePlaceholder(expr) {
			continue
		}
		re, err := regexp.Compile(expr)
		if err != nil {
			c.refuse(fieldOriginRegexps, i, expr, "does not compile: %v", err)
			continue
		}
		prefix, _ := re.LiteralPrefix()
		scheme, _, ok := strings.Cut(prefix, "://")
		if !ok || !isScheme(scheme) || scheme != strings.ToLower(scheme) {
			c.refuse(fieldOriginRegexps, i, expr, `does not begin with a fixed lower-case scheme and "://", so it could match other schemes `+
				`than you meant: write one regexp per scheme, such as "^https://[a-z0-9-]+\.example\.com$"`)
			continue
		}
		if cfg.AllowCredentials && scheme == "http" && !cfg.AllowInsecureOrigins {
			c.refuse(fieldOriginRegexps, i, expr, `matches plain-http origins, which are not secure with credentials: match "https://" `+
				`instead, use an origin pattern such as "http://localhost:*" for local development, or set allow_insecure_origins`)
			continue
		}
		// Anchoring makes the regexp match the whole Origin, never a part of
		// it such as the "https://example.com" in "https://example.com.evil".
		anchored := regexp.MustCompile(`^(?:` + expr + `)$`)
		if canary := scheme + "://" + canaryHost; anchored.MatchString(canary) {
			if cfg.AllowCredentials {
				c.refuse(fieldOriginRegexps, i, expr, "matches the origins of any site, such as %q: with credentials, every site could read "+
					`your users' data; match your own domain only, such as "^https://[a-z0-9-]+\.example\.com$"`, canary)
				continue
			}
			c.warn(fieldOriginRegexps, i, expr, "matches the origins of any site, such as %q", canary)
		}
		p.origins.addRegexp(anchored, scheme)
	}
}

// canaryHost stands for a site nobody configured: a regexp that matches it
// matches the origins of any site.
const canaryHost = "attacker.invalid"

// isWholePlaceholder reports whether s is one placeholder and nothing else,
// the only form expanded in a regexp (whose braces are otherwise repetition
// counts such as {2,3}).
func isWholePlaceholder(s string) bool {
	return len(s) > 2 && s[0] == '{' && s[len(s)-1] == '}' && strings.Count(s, "{") == 1 && strings.Count(s, "}") == 1
}

// methods compiles allowed_methods.
func (c *compiler) methods(cfg config, p *policy) {
	for i, m := range cfg.AllowedMethods {
		switch {
		case m == "*":
			p.anyMethod = true
		case c.deferred(m):
		case !isToken(m):
			c.refuse(fieldMethods, i, m, "is not a method name: a method is %s", tokenSyntax)
		case isForbiddenMethod(m):
			c.refuse(fieldMethods, i, m, "is a method that browsers never send (fetch() refuses CONNECT, TRACE and TRACK): remove it")
		case normalizeMethod(m) != m:
			c.refuse(fieldMethods, i, m, "never reaches the server in this case: fetch() sends it as %q, and methods are case-sensitive; write %q",
				normalizeMethod(m), normalizeMethod(m))
		default:
			if u := strings.ToUpper(m); u != m {
				c.warn(fieldMethods, i, m, "is case-sensitive and allows only fetch() calls that write it so; write %q to allow %s", u, u)
			}
			p.methods.put(m, struct{}{})
		}
	}
}

// headers compiles allowed_headers.
func (c *compiler) headers(cfg config, p *policy) {
	for i, h := range cfg.AllowedHeaders {
		switch {
		case h == "*":
			p.anyHeader = true
		case c.deferred(h):
		case !isToken(h):
			c.refuse(fieldHeaders, i, h, "is not a header name: a header name is %s", tokenSyntax)
		case isForbiddenRequestHeader(h):
			c.refuse(fieldHeaders, i, h, "is a header that browsers never let scripts send, so no preflight asks for it: remove it")
		default:
			lower := strings.ToLower(h)
			if p.headers == nil {
				p.headers = make(map[string]struct{})
			}
			if _, dup := p.headers[lower]; !dup {
				p.headers[lower] = struct{}{}
				p.headerList = append(p.headerList, lower)
				if isCORSResponseHeader(h) {
					c.warn(fieldHeaders, i, h, "is a response header, which the server sends: a script that sets it as a request header "+
						"is mistaken, and it never makes a response readable; remove it from the script and from the allowed headers")
				}
			}
			p.maxHeaderLen = max(p.maxHeaderLen, len(lower))
		}
	}
	if len(p.headerList) > maxHeaderList {
		p.headerList = nil
	}
	_, p.authorization = p.headers[nonWildcardRequestHeader]
}

// exposed compiles exposed_headers.
func (c *compiler) exposed(cfg config, p *policy) {
	var names []string
	seen := make(map[string]bool)
	all := false
	for i, h := range cfg.ExposedHeaders {
		switch {
		case h == "*":
			if cfg.AllowCredentials {
				c.refuse(fieldExposed, i, h, `means "all headers" only without credentials; with credentials browsers read it as a header named "*": `+
					`list the headers scripts may read`)
			}
			all = true
		case c.deferred(h):
		case !isToken(h):
			c.refuse(fieldExposed, i, h, "is not a header name: a header name is %s", tokenSyntax)
		case isForbiddenResponseHeader(h):
			c.refuse(fieldExposed, i, h, "can never be read by scripts, whatever Access-Control-Expose-Headers says: remove it")
		case !seen[strings.ToLower(h)]:
			seen[strings.ToLower(h)] = true
			switch {
			case isSafelistedResponseHeader(h):
				c.warn(fieldExposed, i, h, "is one that scripts can always read: listing it changes nothing")
			case isCORSResponseHeader(h):
				c.warn(fieldExposed, i, h, "is a CORS response header, which the browser reads itself: a script that gets the response "+
					"at all was allowed, and the header tells it nothing more; remove it, and see the CORS headers "+
					"in the browser's network panel or with caddy cors check")
			case isRequestOnlyHeader(h) && isForbiddenRequestHeader(h):
				c.warn(fieldExposed, i, h, "is a request header, which the browser sets and responses do not carry, "+
					"so scripts have nothing to read: remove it")
			case isRequestOnlyHeader(h):
				// Some token APIs do send Authorization in responses, hence
				// "normally".
				c.warn(fieldExposed, i, h, "is a request header, which responses do not normally carry, so scripts have nothing to read: "+
					"to let scripts send it, list it in the allowed headers instead, and remove it from the exposed headers "+
					"unless your responses carry it too")
			}
			names = append(names, h)
		}
	}
	if all {
		p.exposeHeaders = "*"
	} else {
		p.exposeHeaders = strings.Join(names, ", ")
	}
}
