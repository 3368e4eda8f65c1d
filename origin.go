package cors

import (
	"errors"
	"fmt"
	"net/netip"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	"golang.org/x/net/idna"
)

// Browsers serialise an origin as scheme://host[:port]: scheme and host in
// lower case, an international host in punycode, no default port, and no
// path, query or trailing slash. The configuration is normalised to that form
// once, and a request's Origin is then compared byte for byte, as the CORS
// check itself does: an Origin in another form is not one a browser sends.
// https://fetch.spec.whatwg.org/#origin-header
// https://html.spec.whatwg.org/multipage/browsers.html#ascii-serialisation-of-an-origin

// maxHostPortLen bounds the host and port part of an origin that a pattern or
// a regexp can allow: a DNS name is at most 253 bytes, a trailing dot adds
// one, and ":65535" adds 6.
const maxHostPortLen = 253 + 1 + 6

// originPattern is one entry of allowed_origins other than "*": an exact
// origin, or a pattern that allows the subdomains of a domain ("*." in front
// of the host), any port (":*" after it), or both.
type originPattern struct {
	scheme     string // lower case, without "://"
	host       string // ASCII, lower case; below "*." for a subdomain pattern
	port       string // "" for the scheme's default port, a number, or "*"
	subdomains bool   // one or more whole labels in front of host
}

// String returns the pattern in its normalised form.
func (o originPattern) String() string {
	s := o.scheme + "://"
	if o.subdomains {
		s += "*."
	}
	s += o.host
	if o.port != "" {
		s += ":" + o.port
	}
	return s
}

// isPattern reports whether o allows more than one origin.
func (o originPattern) isPattern() bool { return o.subdomains || o.port == "*" }

// isLoopback reports whether every origin o allows is served from this
// machine: localhost and its subdomains, 127.0.0.0/8 and [::1]. Such origins
// are not exposed to a network attacker even over plain http. A trailing dot
// changes nothing, as in the Secure Contexts standard.
// https://w3c.github.io/webappsec-secure-contexts/#is-origin-trustworthy
func (o originPattern) isLoopback() bool {
	host := strings.TrimSuffix(o.host, ".")
	if host == "localhost" || strings.HasSuffix(host, ".localhost") || host == "[::1]" {
		return true
	}
	if o.subdomains {
		return false
	}
	a, err := netip.ParseAddr(o.host)
	return err == nil && a.Is4() && a.IsLoopback()
}

// errNullOrigin is the refusal of "null" as an allowed origin.
var errNullOrigin = errors.New(`can never be allowed: every sandboxed iframe, data: URL, file: page and ` +
	`cross-origin redirect sends "Origin: null", so allowing it allows anyone; list the real origins of your pages`)

// parseOriginPattern parses and normalises one entry of allowed_origins. Its
// errors say what is wrong and, where it can be known, what to write instead.
func parseOriginPattern(s string) (originPattern, error) {
	var o originPattern
	if s == "" {
		return o, errors.New(`is empty: write an origin such as "https://app.example.com", or "*" for any origin`)
	}
	if strings.EqualFold(s, "null") {
		return o, errNullOrigin
	}
	for i := 0; i < len(s); i++ {
		if s[i] <= ' ' || s[i] == 0x7f {
			return o, errors.New("contains a space or a control character: write one origin per entry")
		}
	}
	scheme, rest, ok := strings.Cut(s, "://")
	if !ok {
		return o, fmt.Errorf(`has no scheme: an origin is scheme://host[:port]; write "https://%s"`, strings.TrimPrefix(s, "//"))
	}
	if scheme == "*" {
		return o, errors.New(`has a wildcard scheme: list each scheme, such as "https://example.com" and "http://example.com"`)
	}
	if !isScheme(scheme) {
		return o, fmt.Errorf("has an invalid scheme %q: a scheme is a letter followed by letters, digits, \"+\", \"-\" or \".\"", scheme)
	}
	o.scheme = strings.ToLower(scheme)
	if o.scheme == "file" {
		return o, errors.New(`is a file: origin, which browsers send as "null": file: pages cannot be allowed; serve the page over http(s)`)
	}
	if i := strings.IndexAny(rest, "/?#\\"); i >= 0 {
		what := "path"
		switch rest[i] {
		case '?':
			what = "query"
		case '#':
			what = "fragment"
		}
		return o, fmt.Errorf("has a %s (%q): an origin is scheme://host[:port] with nothing after it; write %q",
			what, rest[i:], scheme+"://"+rest[:i])
	}
	if i := strings.LastIndexByte(rest, '@'); i >= 0 {
		return o, fmt.Errorf("has user information (%q): browsers never send it in an origin; write %q",
			rest[:i+1], scheme+"://"+rest[i+1:])
	}
	// The wildcard label comes off before the host and port are split, so
	// that what follows it is split as any host is: "*.[::1]" is an IPv6
	// address behind "*.", and "*.[" an IPv6 address without its "]".
	if strings.HasPrefix(rest, "*.") {
		o.subdomains = true
		rest = rest[2:]
	}
	host, port, hasPort, err := splitHostPort(rest)
	if err != nil {
		return o, err
	}
	if hasPort {
		if o.port, err = normalizePort(port, o.scheme); err != nil {
			return o, err
		}
	}
	switch {
	case host == "" && o.subdomains:
		return o, errors.New(`has "*." with no domain after it: write a domain pattern such as "https://*.example.com"`)
	case host == "":
		return o, errors.New("has no host: an origin is scheme://host[:port]")
	case host == "*":
		return o, errors.New(`has a wildcard for the whole host, which would allow any site: ` +
			`write "*" alone to allow any origin, or a domain pattern such as "https://*.example.com"`)
	case strings.Contains(host, "*"):
		return o, errors.New(`has a "*" that is not a whole leading label: "*." may only start the host, ` +
			`as in "https://*.example.com", which allows the subdomains of example.com (not example.com itself)`)
	}
	if o.host, err = normalizeHost(host); err != nil {
		return o, err
	}
	if o.subdomains && (o.host[0] == '[' || endsInNumber(o.host)) {
		return o, errors.New(`has "*." in front of an IP address: IP addresses have no subdomains; write the address without "*."`)
	}
	return o, nil
}

// isScheme reports whether s is a URL scheme: an ASCII letter followed by
// letters, digits, "+", "-" or ".".
// https://url.spec.whatwg.org/#scheme-state
func isScheme(s string) bool {
	if s == "" || !isAlpha(s[0]) {
		return false
	}
	for i := 1; i < len(s); i++ {
		c := s[i]
		if !isAlpha(c) && !isDigit(c) && c != '+' && c != '-' && c != '.' {
			return false
		}
	}
	return true
}

func isAlpha(c byte) bool { return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' }
func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// splitHostPort splits the part of an origin after "://" into its host and
// its port. An IPv6 host keeps its brackets.
func splitHostPort(hostport string) (host, port string, hasPort bool, err error) {
	if strings.HasPrefix(hostport, "[") {
		end := strings.IndexByte(hostport, ']')
		if end < 0 {
			return "", "", false, errors.New(`has an IPv6 address without its closing "]"`)
		}
		host, rest := hostport[:end+1], hostport[end+1:]
		if rest == "" {
			return host, "", false, nil
		}
		if rest[0] != ':' {
			return "", "", false, fmt.Errorf(`has %q after the IPv6 address, where only ":port" may follow`, rest)
		}
		return host, rest[1:], true, nil
	}
	host, port, hasPort = strings.Cut(hostport, ":")
	if strings.Contains(port, ":") {
		return "", "", false, errors.New(`has several ":": an IPv6 address goes in brackets, as in "http://[::1]:8080"`)
	}
	return host, port, hasPort, nil
}

// normalizePort checks a port of the configuration and returns it in the
// form browsers send: "" for the scheme's default port, the number without
// leading zeros otherwise, or "*" for any port.
func normalizePort(port, scheme string) (string, error) {
	if port == "*" {
		return "*", nil
	}
	if port == "" {
		return "", errors.New(`has an empty port after ":": remove the ":" or write a port number`)
	}
	n, err := strconv.Atoi(port)
	if err != nil || port[0] == '+' || port[0] == '-' || n < 1 || n > 65535 {
		return "", fmt.Errorf(`has an invalid port %q: write a number from 1 to 65535, or "*" for any port`, port)
	}
	p := strconv.Itoa(n)
	if p == defaultPort(scheme) {
		return "", nil
	}
	return p, nil
}

// hostProfile converts international host names to ASCII as the URL standard
// does (UTS #46 non-transitional processing, without the STD3 restrictions,
// so that underscores stay valid).
// https://url.spec.whatwg.org/#concept-domain-to-ascii
var hostProfile = idna.New(
	idna.MapForLookup(),
	idna.BidiRule(),
	idna.Transitional(false),
	idna.StrictDomainName(false),
	idna.CheckHyphens(false),
)

// normalizeHost returns host in the form browsers serialise it: a DNS name
// in lower-case ASCII, an IPv4 address in dotted decimal, an IPv6 address
// compressed in brackets.
//
// A DNS name may end with a dot, the root of the DNS: a page at
// https://example.com./ has the origin "https://example.com.", which
// browsers keep apart from "https://example.com" (another host as far as
// the URL standard goes, with its own cookies and storage). An IPv4 address
// loses its trailing dot, since the URL standard reads "127.0.0.1." as the
// address 127.0.0.1.
// https://url.spec.whatwg.org/#concept-host-parser
func normalizeHost(host string) (string, error) {
	if host[0] == '[' {
		a, err := netip.ParseAddr(host[1 : len(host)-1])
		if err != nil || !a.Is6() || a.Zone() != "" {
			return "", fmt.Errorf("has an invalid IPv6 address %q", host)
		}
		return "[" + serializeIPv6(a.As16()) + "]", nil
	}
	if !utf8.ValidString(host) {
		return "", fmt.Errorf("has a host %q that is not valid UTF-8", host)
	}
	ascii, err := hostProfile.ToASCII(host)
	if err == nil {
		// The ASCII form must be a fixed point, or browsers would not agree on it.
		var again string
		if again, err = hostProfile.ToASCII(ascii); err == nil && again != ascii {
			err = fmt.Errorf("%q is not stable", ascii)
		}
	}
	if err != nil {
		return "", fmt.Errorf("has an invalid international host name %q: %v", host, err)
	}
	if endsInNumber(ascii) {
		a, err := netip.ParseAddr(strings.TrimSuffix(ascii, "."))
		if err != nil || !a.Is4() {
			return "", fmt.Errorf(`has a host %q that browsers read as an IPv4 address: write it in dotted-decimal form, such as "192.0.2.10"`, host)
		}
		return a.String(), nil
	}
	if !isDNSName(ascii) {
		return "", fmt.Errorf("has an invalid host %q: a host name is made of labels of letters, digits, - and _, separated by dots", host)
	}
	return ascii, nil
}

// endsInNumber reports whether the URL standard parses host as an IPv4
// address: its last label, after one trailing dot is set aside, is a
// decimal number, or hexadecimal after "0x".
// https://url.spec.whatwg.org/#ends-in-a-number-checker
func endsInNumber(host string) bool {
	host = strings.TrimSuffix(host, ".")
	last := host[strings.LastIndexByte(host, '.')+1:]
	if last == "" {
		return false
	}
	if len(last) > 2 && (last[:2] == "0x" || last[:2] == "0X") {
		for i := 2; i < len(last); i++ {
			if !isDigit(last[i]) && !('a' <= last[i]|0x20 && last[i]|0x20 <= 'f') {
				return false
			}
		}
		return true
	}
	for i := 0; i < len(last); i++ {
		if !isDigit(last[i]) {
			return false
		}
	}
	return true
}

// isDNSName reports whether host is a lower-case ASCII host name as browsers
// serialise it: at most 253 bytes of non-empty labels of at most 63 bytes,
// made of lower-case letters, digits, "-" and "_", and maybe a trailing dot
// (the empty label of the DNS root), which is not counted.
func isDNSName(host string) bool {
	host = strings.TrimSuffix(host, ".")
	if host == "" || len(host) > 253 {
		return false
	}
	label := 0
	for i := 0; i < len(host); i++ {
		switch c := host[i]; {
		case c == '.':
			if label == 0 {
				return false
			}
			label = 0
		case 'a' <= c && c <= 'z', isDigit(c), c == '-', c == '_':
			label++
			if label > 63 {
				return false
			}
		default:
			return false
		}
	}
	return label > 0
}

// serializeIPv6 writes an IPv6 address as the URL standard does: lower-case
// hexadecimal pieces, the first longest run of two or more zero pieces
// compressed to "::", and never a dotted IPv4 tail (an IPv4-mapped address
// comes out as ::ffff:102:304).
// https://url.spec.whatwg.org/#concept-ipv6-serializer
func serializeIPv6(a [16]byte) string {
	var pieces [8]uint16
	for i := range pieces {
		pieces[i] = uint16(a[2*i])<<8 | uint16(a[2*i+1])
	}
	zeroStart, zeroLen := -1, 1
	for i := 0; i < 8; {
		if pieces[i] != 0 {
			i++
			continue
		}
		j := i
		for j < 8 && pieces[j] == 0 {
			j++
		}
		if j-i > zeroLen {
			zeroStart, zeroLen = i, j-i
		}
		i = j
	}
	var b strings.Builder
	for i := 0; i < 8; i++ {
		if i == zeroStart {
			b.WriteString("::")
			i += zeroLen - 1
			continue
		}
		if i > 0 && i != zeroStart+zeroLen {
			b.WriteByte(':')
		}
		b.WriteString(strconv.FormatUint(uint64(pieces[i]), 16))
	}
	return b.String()
}

// originSet decides whether a request's Origin is allowed by the exact
// origins, patterns and regexps of a policy. Its cost does not grow with the
// number of exact origins or patterns: up to eight of a kind are compared
// one by one, and past that each is found through a map (see smallMap).
type originSet struct {
	exact    stringSet
	schemes  smallMap[*schemePatterns]
	regexps  []*regexp.Regexp
	maxBytes int // no longer Origin can be allowed
}

// schemePatterns holds the patterns of one scheme, keyed so that a lookup
// uses substrings of the request's Origin and allocates nothing.
type schemePatterns struct {
	anyPort           stringSet // host of "scheme://host:*"
	subdomains        stringSet // "domain" or "domain:port" of "scheme://*.domain[:port]"
	subdomainsAnyPort stringSet // domain of "scheme://*.domain:*"
}

// add puts one parsed entry of allowed_origins into the set.
func (s *originSet) add(o originPattern) {
	if !o.isPattern() {
		key := o.String()
		s.exact.put(key, struct{}{})
		s.maxBytes = max(s.maxBytes, len(key))
		return
	}
	sp, _ := s.schemes.get(o.scheme)
	if sp == nil {
		sp = &schemePatterns{}
		s.schemes.put(o.scheme, sp)
	}
	switch {
	case !o.subdomains:
		sp.anyPort.put(o.host, struct{}{})
	case o.port == "*":
		sp.subdomainsAnyPort.put(o.host, struct{}{})
	case o.port == "":
		sp.subdomains.put(o.host, struct{}{})
	default:
		sp.subdomains.put(o.host+":"+o.port, struct{}{})
	}
	s.maxBytes = max(s.maxBytes, len(o.scheme)+len("://")+maxHostPortLen)
}

// addRegexp adds an anchored regexp whose matches all begin with scheme.
func (s *originSet) addRegexp(re *regexp.Regexp, scheme string) {
	s.regexps = append(s.regexps, re)
	s.maxBytes = max(s.maxBytes, len(scheme)+len("://")+maxHostPortLen)
}

// contains reports whether origin, the value of a request's Origin header,
// is allowed. It allocates nothing.
func (s *originSet) contains(origin string) bool {
	if len(origin) > s.maxBytes {
		return false // longer than anything allowed: not worth parsing
	}
	if s.exact.has(origin) {
		return true
	}
	if s.schemes.len() > 0 && s.matchesPattern(origin) {
		return true
	}
	if len(s.regexps) > 0 && !isVisibleASCII(origin) {
		// Exact origins and patterns match only the normalised forms; a
		// regexp such as "[^.]+" could match spaces, CR, LF, NUL or
		// non-ASCII bytes, which no browser sends in an Origin and which
		// must never be echoed into a response header.
		return false
	}
	for _, re := range s.regexps {
		if re.MatchString(origin) {
			return true
		}
	}
	return false
}

// matchesPattern looks origin up among the patterns: its scheme selects a
// set, its host is tried whole (any-port patterns), then each domain under
// one or more of its leading labels (subdomain patterns).
func (s *originSet) matchesPattern(origin string) bool {
	i := strings.Index(origin, "://")
	if i <= 0 {
		return false
	}
	scheme := origin[:i]
	sp, _ := s.schemes.get(scheme)
	if sp == nil {
		return false
	}
	hostStart := i + len("://")
	hostport := origin[hostStart:]
	host, port := hostport, ""
	if strings.HasPrefix(hostport, "[") {
		end := strings.IndexByte(hostport, ']')
		if end < 0 {
			return false
		}
		host = hostport[:end+1]
		if rest := hostport[end+1:]; rest != "" {
			if rest[0] != ':' {
				return false
			}
			port = rest[1:]
		}
	} else if j := strings.IndexByte(hostport, ':'); j >= 0 {
		host, port = hostport[:j], hostport[j+1:]
	}
	if hostport != host && !isSerializedPort(port, scheme) {
		return false
	}
	if sp.anyPort.has(host) {
		return true
	}
	if sp.subdomains.len() == 0 && sp.subdomainsAnyPort.len() == 0 {
		return false
	}
	domains, listed := sp.subdomains.list()
	anyPortDomains, anyPortListed := sp.subdomainsAnyPort.list()
	if listed && anyPortListed {
		// A few patterns: compare each with the end of the host, rather
		// than look up every domain the host is under.
		for _, d := range domains {
			if endsWithDomain(hostport, d) {
				return isDNSName(host)
			}
		}
		for _, d := range anyPortDomains {
			if endsWithDomain(host, d) {
				return isDNSName(host)
			}
		}
		return false
	}
	if !isDNSName(host) {
		return false
	}
	for j := 0; j < len(host); j++ {
		if host[j] != '.' {
			continue
		}
		if sp.subdomains.has(origin[hostStart+j+1:]) {
			return true
		}
		if sp.subdomainsAnyPort.has(host[j+1:]) {
			return true
		}
	}
	return false
}

// endsWithDomain reports whether name is domain with one or more characters
// and a dot in front of it.
func endsWithDomain(name, domain string) bool {
	n := len(name) - len(domain) - 1
	return n > 0 && name[n] == '.' && name[n+1:] == domain
}

// isSerializedPort reports whether port is a port as browsers serialise it:
// a decimal number from 1 to 65535 without leading zeros, and not the
// scheme's default port (which a serialised origin omits).
func isSerializedPort(port, scheme string) bool {
	if port == "" || len(port) > 5 || port[0] == '0' {
		return false
	}
	n := 0
	for i := 0; i < len(port); i++ {
		if !isDigit(port[i]) {
			return false
		}
		n = n*10 + int(port[i]-'0')
	}
	return n <= 65535 && port != defaultPort(scheme)
}

// isVisibleASCII reports whether s is made of visible ASCII characters only,
// the bytes of every serialised origin.
func isVisibleASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] <= ' ' || s[i] >= 0x7f {
			return false
		}
	}
	return true
}
