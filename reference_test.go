package cors

import (
	"net/url"
	"regexp"
	"strconv"
	"strings"
)

// This file holds deliberately simple readings of the rules the handler
// implements with care for speed: they split, trim, parse with net/url and
// compare, allocating freely. The fuzz targets check the handler against
// them, so they share no code with it beyond the parsed origin patterns.

var (
	// refToken is the RFC 9110 token syntax of methods and header names.
	refToken = regexp.MustCompile("^[!#$%&'*+\\-.^_`|~0-9A-Za-z]+$")
	// refLabel is one label of a host name as browsers serialise it.
	refLabel = regexp.MustCompile(`^[a-z0-9_-]{1,63}$`)
	// refPort is a port as browsers serialise it: no sign, no leading zero.
	refPort = regexp.MustCompile(`^[1-9][0-9]{0,4}$`)
)

// refDefaultPorts are the ports a serialised origin leaves out.
var refDefaultPorts = map[string]string{"http": "80", "ws": "80", "https": "443", "wss": "443", "ftp": "21"}

// refOrigin is a request's Origin taken apart by net/url.
type refOrigin struct {
	scheme, host, port string // host keeps the brackets of an IPv6 address
}

// refParseOrigin takes an Origin header value apart, and reports whether it
// is in the form browsers serialise: scheme://host[:port] in lower case,
// with nothing else, and no default or malformed port.
func refParseOrigin(origin string) (refOrigin, bool) {
	u, err := url.Parse(origin)
	if err != nil || u.Opaque != "" || u.User != nil || u.Path != "" || u.RawQuery != "" || u.Fragment != "" || u.ForceQuery {
		return refOrigin{}, false
	}
	// url.Parse lower-cases the scheme and decodes %-escapes in the host:
	// rebuilding the origin catches both, and anything it dropped.
	if origin != u.Scheme+"://"+u.Host {
		return refOrigin{}, false
	}
	o := refOrigin{scheme: u.Scheme, host: u.Host, port: u.Port()}
	if o.port != "" {
		o.host = strings.TrimSuffix(u.Host, ":"+o.port)
		n, _ := strconv.Atoi(o.port)
		if !refPort.MatchString(o.port) || n > 65535 || o.port == refDefaultPorts[o.scheme] {
			return refOrigin{}, false
		}
	}
	if o.host == "" || o.host != strings.ToLower(o.host) {
		return refOrigin{}, false
	}
	return o, true
}

// refMatches reports whether the Origin o is allowed by the pattern p.
func refMatches(p originPattern, o refOrigin) bool {
	if o.scheme != p.scheme {
		return false
	}
	if p.port != "*" && o.port != p.port {
		return false
	}
	if !p.subdomains {
		return o.host == p.host
	}
	sub, ok := strings.CutSuffix(o.host, "."+p.host)
	if !ok || len(strings.TrimSuffix(o.host, ".")) > 253 { // a trailing dot is the DNS root, not counted
		return false
	}
	for _, label := range strings.Split(sub, ".") {
		if !refLabel.MatchString(label) {
			return false
		}
	}
	return true
}

// refAllowsOrigin reports whether any of the patterns allows origin.
func refAllowsOrigin(patterns []originPattern, origin string) bool {
	o, ok := refParseOrigin(origin)
	if !ok {
		return false
	}
	for _, p := range patterns {
		if refMatches(p, o) {
			return true
		}
	}
	return false
}

// refRequestHeaders reads Access-Control-Request-Headers lines against a
// list of allowed header names as configured ("*" for any but
// Authorization): it splits, trims, lower-cases and looks up. It returns
// whether the names are allowed, and the value that allows them.
func refRequestHeaders(allowed, lines []string) (string, bool) {
	set := make(map[string]bool)
	for _, a := range allowed {
		set[strings.ToLower(a)] = true
	}
	var names []string
	elements, size := 0, 0
	ok := true
	for _, line := range lines {
		size += len(line)
		for _, elem := range strings.Split(line, ",") {
			elements++
			name := strings.Trim(elem, " \t")
			if name == "" {
				continue
			}
			lower := strings.ToLower(name)
			switch {
			case !refToken.MatchString(name):
				ok = false
			case set[lower]:
			case set["*"] && lower != "authorization":
			default:
				ok = false
			}
			names = append(names, lower)
		}
	}
	if elements > maxRequestHeadersElements || size > maxRequestHeadersBytes {
		ok = false
	}
	return strings.Join(names, ","), ok
}
