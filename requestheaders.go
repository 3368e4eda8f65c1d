package cors

import "strings"

// Limits on Access-Control-Request-Headers. A browser sends one line of
// lower-case names without spaces, one per non-safelisted header a script
// set; requests beyond these limits come from no browser, and are refused
// before the rest is read.
const (
	maxRequestHeadersBytes    = 64 << 10 // in all lines together
	maxRequestHeadersElements = 256      // list elements, empty ones included
)

// checkRequestHeaders checks the names a preflight asks for in
// Access-Control-Request-Headers, and returns the value of
// Access-Control-Allow-Headers that allows them: the requested names, lower
// case, comma-separated.
//
// Besides the one line browsers send, it accepts what intermediaries make of
// it: several lines, optional whitespace, empty elements, any letter case and
// repeated names. It refuses a request over the limits before reading a
// name, then reads each name once, and allocates only when the request is
// not already in the browsers' form.
// https://fetch.spec.whatwg.org/#http-access-control-request-headers
func (p *policy) checkRequestHeaders(lines []string) (string, refusal) {
	if len(lines) == 0 {
		return "", refusal{}
	}
	if len(lines) > maxRequestHeadersElements {
		return "", refusal{refusedTooManyHeaders, headerRequestHeaders}
	}
	size := 0
	for _, line := range lines {
		size += len(line)
	}
	if size > maxRequestHeadersBytes {
		return "", refusal{refusedTooManyHeaders, headerRequestHeaders}
	}
	// A line holds at most one element more than it has bytes, so only
	// longer lines can hold too many.
	if size+len(lines) > maxRequestHeadersElements && tooManyElements(lines) {
		return "", refusal{refusedTooManyHeaders, headerRequestHeaders}
	}
	verbatim := len(lines) == 1 // the one line can be echoed as it is
	for _, line := range lines {
		// One pass over each element: optional whitespace, a token,
		// optional whitespace, then a comma or the end of the line.
		for i := 0; ; i++ {
			start := i
			for i < len(line) && isOWS(line[i]) {
				i++
			}
			nameStart, lower := i, true
			for ; i < len(line) && tokenChars[line[i]]; i++ {
				if 'A' <= line[i] && line[i] <= 'Z' {
					lower = false
				}
			}
			name := line[nameStart:i]
			nameEnd := i
			for i < len(line) && isOWS(line[i]) {
				i++
			}
			if i < len(line) && line[i] != ',' {
				return "", refusal{refusedMalformed, headerRequestHeaders}
			}
			if name == "" || nameStart != start || nameEnd != i || !lower {
				verbatim = false
			}
			if name != "" {
				if r := p.allowsRequestHeader(name, lower); r.reason != allowed {
					return "", r
				}
			}
			if i == len(line) {
				break
			}
		}
	}
	if verbatim {
		return lines[0], refusal{}
	}
	return joinLowerNames(lines), refusal{}
}

// elementCountChunk is how many bytes of a line tooManyElements counts the
// commas of at a time.
const elementCountChunk = 512

// tooManyElements reports whether lines hold more than
// maxRequestHeadersElements list elements, empty ones included. It counts
// commas, which is a vectorised byte search, a chunk at a time, so that a
// long list (one name repeated thousands of times) is refused after
// reading just enough of it, before any name is looked up.
func tooManyElements(lines []string) bool {
	elements := len(lines) // each line holds one element more than commas
	for _, line := range lines {
		for rest := line; rest != ""; {
			chunk := rest[:min(len(rest), elementCountChunk)]
			rest = rest[len(chunk):]
			if elements += strings.Count(chunk, ","); elements > maxRequestHeadersElements {
				return true
			}
		}
	}
	return elements > maxRequestHeadersElements
}

// allowsRequestHeader checks one requested name, a token, which lower says
// is already in lower case.
func (p *policy) allowsRequestHeader(name string, lower bool) refusal {
	if p.anyHeader {
		// "*" covers every name but Authorization, as in browsers.
		// https://fetch.spec.whatwg.org/#cors-non-wildcard-request-header-name
		if !p.authorization && strings.EqualFold(name, nonWildcardRequestHeader) {
			return refusal{refusedAuthorization, name}
		}
		return refusal{}
	}
	if len(name) > p.maxHeaderLen {
		return refusal{refusedHeader, name}
	}
	var ok bool
	switch {
	case p.headerList != nil:
		for _, h := range p.headerList {
			if len(h) == len(name) && (h == name || !lower && strings.EqualFold(h, name)) {
				ok = true
				break
			}
		}
	case lower:
		_, ok = p.headers[name]
	case len(name) <= 64:
		var buf [64]byte
		n := copy(buf[:], name)
		for i := range n {
			buf[i] |= toLowerBit(buf[i])
		}
		_, ok = p.headers[string(buf[:n])] // no allocation for a map lookup
	default:
		_, ok = p.headers[strings.ToLower(name)]
	}
	if !ok {
		return refusal{refusedHeader, name}
	}
	return refusal{}
}

// toLowerBit returns the bit that lowers c if c is an upper-case ASCII
// letter, 0 otherwise.
func toLowerBit(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return 0x20
	}
	return 0
}

// joinLowerNames joins the non-empty elements of lines, trimmed and in lower
// case, with commas: the form browsers send. The lines have been checked.
func joinLowerNames(lines []string) string {
	var b strings.Builder
	for _, line := range lines {
		for elem := range strings.SplitSeq(line, ",") {
			if name := trimOWS(elem); name != "" {
				if b.Len() > 0 {
					b.WriteByte(',')
				}
				for i := 0; i < len(name); i++ {
					b.WriteByte(name[i] | toLowerBit(name[i]))
				}
			}
		}
	}
	return b.String()
}
