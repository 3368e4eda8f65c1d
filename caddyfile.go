package cors

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
	"github.com/caddyserver/caddy/v2/caddyconfig/httpcaddyfile"
)

func init() {
	// The directive is registered as a plain directive rather than with
	// RegisterHandlerDirective so that its parser sees the matcher token
	// before it is taken off: "cors *" and "cors /api/*" are matchers
	// without origins, a mistake whose message should say so, and two
	// cors directives with the same matcher in one block are found by
	// comparing the tokens.
	httpcaddyfile.RegisterDirective("cors", parseDirective)
	// Preflights carry no credentials and must not be redirected, so cors
	// runs before redir, rewrite, method, basic_auth, forward_auth and every
	// handler that responds. It runs before header too: the header
	// directive's deferred operations run when the handlers inside it
	// commit the response, so a header directive inside cors cannot
	// override, delete or duplicate the CORS headers and the Vary names
	// that the handler puts back at that moment.
	httpcaddyfile.RegisterDirectiveOrder("cors", httpcaddyfile.Before, "header")
}

// parseDirective sets up a cors handler from a directive, as
// RegisterHandlerDirective would, and refuses a cors that another cors of
// the same block makes dead.
func parseDirective(h httpcaddyfile.Helper) ([]httpcaddyfile.ConfigValue, error) {
	if !h.Next() {
		return nil, h.ArgErr()
	}
	directive := h.Token()
	var matcher caddyfile.Token // the matcher token, if the first argument is one
	if h.NextArg() {
		if isMatcherToken(h.Val()) {
			matcher = h.Token()
		}
		h.Prev()
	}
	matcherSet, err := h.ExtractMatcherSet()
	if err != nil {
		return nil, err
	}
	handler := &Handler{matcher: matcher.Text}
	if err := handler.UnmarshalCaddyfile(h.Dispenser); err != nil {
		return nil, err
	}
	if err := noteDirective(h, directive, matcher.Text); err != nil {
		return nil, err
	}
	return h.NewRoute(matcherSet, handler), nil
}

// isMatcherToken reports whether Caddy reads the first argument of a
// handler directive as a matcher: "*" (every request), a path, or the name
// of a named matcher.
func isMatcherToken(arg string) bool {
	return arg == "*" || strings.HasPrefix(arg, "/") || strings.HasPrefix(arg, "@")
}

// subdirectives maps the fields that problems name to their Caddyfile
// subdirectives.
var subdirectives = map[string]string{
	fieldOrigins:       "origins",
	fieldOriginRegexps: "origin_regexp",
	fieldMethods:       "methods",
	fieldHeaders:       "headers",
	fieldExposed:       "expose",
	fieldMaxAge:        "max_age",
	fieldStatus:        "preflight_status",
}

// UnmarshalCaddyfile sets up the handler from Caddyfile tokens:
//
//	cors [<matcher>] [<origin>...] {
//		origins       <origin>...
//		origin_regexp <regexp>...
//		methods       <method>... | *
//		headers       <header>... | *
//		expose        <header>... | *
//		credentials   [true|false]
//		max_age       <duration>
//		preflight_status <code>
//		passthrough
//		private_network
//		allow_insecure_origins
//		allow_public_suffix_wildcards
//		cross_origin_protection
//		shadow {
//			origins       <origin>...
//			origin_regexp <regexp>...
//			methods       <method>... | *
//			headers       <header>... | *
//			credentials   [true|false]
//			private_network
//			allow_insecure_origins
//			allow_public_suffix_wildcards
//		}
//	}
//
// The list subdirectives may be repeated and add up; the others take the
// last value given. A first argument of "*", or one that starts with "/" or
// "@", is a matcher, so "any origin" is written "origins *".
//
// The policy is checked here too, so that "caddy adapt" refuses what
// "caddy run" would; values holding placeholders are checked once expanded,
// when the configuration loads.
func (h *Handler) UnmarshalCaddyfile(d *caddyfile.Dispenser) error {
	d.Next() // the directive's name
	directive := d.Token()
	where := make(map[string][]caddyfile.Token) // field → the token of each value
	args := func(field string, dst *[]string) error { return listArgs(d, where, field, dst) }
	flag := func(dst *bool) error { return flagArg(d, dst) }
	var shadowWhere map[string][]caddyfile.Token // the same, for the shadow policy
	var shadowToken caddyfile.Token

	// Arguments on the directive line are origins.
	for d.NextArg() {
		h.AllowedOrigins = append(h.AllowedOrigins, d.Val())
		where[fieldOrigins] = append(where[fieldOrigins], d.Token())
	}
	for nesting := d.Nesting(); d.NextBlock(nesting); {
		var err error
		switch sub := d.Val(); sub {
		case "origins":
			err = args(fieldOrigins, &h.AllowedOrigins)
		case "origin_regexp":
			err = args(fieldOriginRegexps, &h.AllowedOriginRegexps)
		case "methods":
			err = args(fieldMethods, &h.AllowedMethods)
		case "headers":
			err = args(fieldHeaders, &h.AllowedHeaders)
		case "expose":
			err = args(fieldExposed, &h.ExposedHeaders)
		case "credentials":
			err = credentialsArg(d, &h.AllowCredentials)
		case "max_age":
			var s string
			if !d.AllArgs(&s) {
				return d.ArgErr()
			}
			dur, err := parseMaxAge(s, false)
			if err != nil {
				return d.Errf("max_age: %v", err)
			}
			maxAge := MaxAge(dur)
			h.MaxAge = &maxAge
			where[fieldMaxAge] = []caddyfile.Token{d.Token()}
		case "preflight_status":
			var s string
			if !d.AllArgs(&s) {
				return d.ArgErr()
			}
			code, err := strconv.Atoi(s)
			if err != nil {
				return d.Errf("preflight_status %q is not a status code: write 204 (the default) or 200", s)
			}
			if code == 0 {
				// In JSON, 0 stands for the default; written here, it is a mistake.
				return d.Errf("preflight_status 0 is not a success: write 204 (the default) or 200")
			}
			h.PreflightStatus = code
			where[fieldStatus] = []caddyfile.Token{d.Token()}
		case "passthrough":
			err = flag(&h.OptionsPassthrough)
		case "private_network":
			err = flag(&h.AllowPrivateNetwork)
		case "allow_insecure_origins":
			err = flag(&h.AllowInsecureOrigins)
		case "allow_public_suffix_wildcards":
			err = flag(&h.AllowPublicSuffixWildcards)
		case "cross_origin_protection":
			err = flag(&h.CrossOriginProtection)
		case "shadow":
			if h.Shadow != nil {
				return d.Errf("shadow is given twice: write one shadow block")
			}
			shadowToken = d.Token()
			shadowWhere = make(map[string][]caddyfile.Token)
			h.Shadow, err = unmarshalShadow(d, shadowWhere)
		default:
			return d.Errf("unknown cors subdirective %q: %s", sub, suggestSubdirective(sub))
		}
		if err != nil {
			return err
		}
	}

	cfg, _ := h.expandedConfig(nil)
	_, _, err := compile(cfg, compileOptions{skipPlaceholders: true})
	var problems []problem
	var perr *policyError
	if errors.As(err, &perr) {
		problems = perr.problems
	} else if err != nil {
		return err
	}
	if h.Shadow != nil {
		cfg, _ := h.Shadow.handler(h).expandedConfig(nil)
		_, _, err := compile(cfg, compileOptions{skipPlaceholders: true, shadow: true})
		if errors.As(err, &perr) {
			problems = append(problems, perr.problems...)
		} else if err != nil {
			return err
		}
	}
	if len(problems) == 0 {
		return nil
	}
	lines := make([]string, len(problems))
	for i, p := range problems {
		// Report each problem at the line of its value, or of its
		// subdirective, or else of the directive (or of shadow).
		tok, toks := directive, where[p.field]
		if p.shadow {
			tok, toks = shadowToken, shadowWhere[p.field]
		}
		if p.index >= 0 && p.index < len(toks) {
			tok = toks[p.index]
		} else if len(toks) == 1 && p.index < 0 {
			tok = toks[0]
		}
		at := caddyfile.NewDispenser([]caddyfile.Token{tok})
		at.Next()
		name := subdirectives[p.field]
		if p.index < 0 && p.field == fieldOrigins && !p.shadow {
			name = "cors"
			if h.matcher != "" {
				p.msg = matcherWithoutOrigins(h.matcher, h.AllowCredentials)
			}
		}
		lines[i] = at.WrapErr(errors.New(p.describe(name))).Error()
	}
	return errors.New(joinProblems(lines))
}

// listArgs appends the arguments of a list subdirective to dst, and the
// token of each to where[field].
func listArgs(d *caddyfile.Dispenser, where map[string][]caddyfile.Token, field string, dst *[]string) error {
	n := 0
	for ; d.NextArg(); n++ {
		*dst = append(*dst, d.Val())
		where[field] = append(where[field], d.Token())
	}
	if n == 0 {
		return d.ArgErr()
	}
	return nil
}

// flagArg sets a subdirective that takes no argument.
func flagArg(d *caddyfile.Dispenser, dst *bool) error {
	if d.NextArg() {
		return d.ArgErr()
	}
	*dst = true
	return nil
}

// credentialsArg reads credentials, which takes true, false or nothing.
func credentialsArg(d *caddyfile.Dispenser, dst *bool) error {
	*dst = true
	if d.NextArg() {
		var err error
		*dst, err = strconv.ParseBool(d.Val())
		if err != nil || d.NextArg() {
			return d.Errf("credentials takes true, false or nothing (true), not %q", d.Val())
		}
	}
	return nil
}

// shadowSubdirectiveNames are the subdirectives of a shadow block, in the
// order of the docs.
var shadowSubdirectiveNames = []string{
	"origins", "origin_regexp", "methods", "headers", "credentials", "private_network",
	"allow_insecure_origins", "allow_public_suffix_wildcards",
}

// unmarshalShadow reads the block of a shadow subdirective:
//
//	shadow {
//		origins       <origin>...
//		origin_regexp <regexp>...
//		methods       <method>... | *
//		headers       <header>... | *
//		credentials   [true|false]
//		private_network
//		allow_insecure_origins
//		allow_public_suffix_wildcards
//	}
//
// The subdirectives that shape an allowed answer rather than decide
// whether a request is allowed are refused with why.
func unmarshalShadow(d *caddyfile.Dispenser, where map[string][]caddyfile.Token) (*ShadowPolicy, error) {
	if d.NextArg() {
		return nil, d.Errf("shadow takes a block of its policy, not %q: write shadow { origins … }", d.Val())
	}
	s := new(ShadowPolicy)
	for nesting := d.Nesting(); d.NextBlock(nesting); {
		var err error
		switch sub := d.Val(); sub {
		case "origins":
			err = listArgs(d, where, fieldOrigins, &s.AllowedOrigins)
		case "origin_regexp":
			err = listArgs(d, where, fieldOriginRegexps, &s.AllowedOriginRegexps)
		case "methods":
			err = listArgs(d, where, fieldMethods, &s.AllowedMethods)
		case "headers":
			err = listArgs(d, where, fieldHeaders, &s.AllowedHeaders)
		case "credentials":
			err = credentialsArg(d, &s.AllowCredentials)
		case "private_network":
			err = flagArg(d, &s.AllowPrivateNetwork)
		case "allow_insecure_origins":
			err = flagArg(d, &s.AllowInsecureOrigins)
		case "allow_public_suffix_wildcards":
			err = flagArg(d, &s.AllowPublicSuffixWildcards)
		case "expose", "max_age", "preflight_status", "passthrough":
			return nil, d.Errf("shadow: %s cannot be set in a shadow policy: a shadow policy is only compared with the policy on "+
				"whether it would allow each request, and %s does not change that; set it on the cors policy itself", sub, sub)
		case "shadow":
			return nil, d.Errf("shadow: a shadow policy cannot have a shadow of its own: write one shadow block, in the cors block")
		default:
			return nil, d.Errf("unknown shadow subdirective %q: shadow takes %s and %s", sub,
				strings.Join(shadowSubdirectiveNames[:len(shadowSubdirectiveNames)-1], ", "), shadowSubdirectiveNames[len(shadowSubdirectiveNames)-1])
		}
		if err != nil {
			return nil, err
		}
	}
	return s, nil
}

// matcherWithoutOrigins explains a cors directive whose only argument was
// taken as a matcher, which leaves it without origins.
func matcherWithoutOrigins(matcher string, credentials bool) string {
	if matcher != "*" {
		return fmt.Sprintf("no origin is allowed: %q right after cors is a matcher (the requests cors applies to), not an origin; "+
			"write the origins after it, as in \"cors %s https://app.example.com\"", matcher, matcher)
	}
	msg := `no origin is allowed: "*" right after cors is Caddy's match-all matcher (every request), not an origin; `
	if credentials {
		return msg + `and any origin cannot be allowed with credentials ("origins *" is refused with them): browsers refuse ` +
			`"Access-Control-Allow-Origin: *" on a credentialed request, and answering every origin with credentials would let any site ` +
			`read your users' data; list the origins that may send credentials, as in "cors https://app.example.com { credentials }"`
	}
	return msg + `any origin is written "origins *" inside the block, as in "cors { origins * }"`
}

// subdirectiveNames are the cors subdirectives, in the order of the docs.
var subdirectiveNames = []string{
	"origins", "origin_regexp", "methods", "headers", "expose", "credentials", "max_age", "preflight_status",
	"passthrough", "private_network", "allow_insecure_origins", "allow_public_suffix_wildcards", "cross_origin_protection", "shadow",
}

// jsonNames pairs the JSON names of the fields that the Caddyfile names
// otherwise with their subdirectives, since a Caddyfile is often written
// from a JSON config.
var jsonNames = [][2]string{
	{fieldOrigins, "origins"},
	{fieldOriginRegexps, "origin_regexp"},
	{fieldMethods, "methods"},
	{fieldHeaders, "headers"},
	{fieldExposed, "expose"},
	{"allow_credentials", "credentials"},
	{"options_passthrough", "passthrough"},
	{"allow_private_network", "private_network"},
}

// suggestSubdirective says what to write instead of an unknown
// subdirective: the subdirective of a JSON name; else the subdirective
// nearest to it or to its JSON name, when it is at most two edits away
// and these are at most a third of the name (compared case-insensitively,
// a transposition counting as one edit); else every subdirective.
func suggestSubdirective(sub string) string {
	lower := strings.ToLower(sub)
	best, bestDist := "", 3
	consider := func(candidate, name string) {
		if dist := editDistance(lower, candidate); dist < bestDist && dist <= len(candidate)/3 {
			best, bestDist = name, dist
		}
	}
	for _, name := range subdirectiveNames {
		consider(name, name)
	}
	for _, pair := range jsonNames {
		if lower == pair[0] {
			return fmt.Sprintf("%q is the JSON name: write %q", sub, pair[1])
		}
		consider(pair[0], pair[1])
	}
	if best != "" {
		return fmt.Sprintf("did you mean %q?", best)
	}
	return "cors takes " + strings.Join(subdirectiveNames[:len(subdirectiveNames)-1], ", ") +
		" and " + subdirectiveNames[len(subdirectiveNames)-1]
}

// editDistance counts the insertions, deletions, substitutions and
// transpositions of adjacent bytes that turn a into b (the optimal string
// alignment distance).
func editDistance(a, b string) int {
	// prev2, prev and cur are three rows of the usual dynamic-programming
	// table: the distances from a[:i-2], a[:i-1] and a[:i] to each b[:j].
	prev2 := make([]int, len(b)+1)
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				cur[j] = min(cur[j], prev2[j-2]+1)
			}
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[len(b)]
}
