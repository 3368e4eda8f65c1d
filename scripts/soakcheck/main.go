// Command soakcheck reads the access log that scripts/soak.sh has Caddy
// write, and checks every answer in it against the two policies the soak
// alternates between: each allows one of https://a.example and
// https://b.example, with credentials, the method PUT, the request header
// Content-Type and the exposed header X-Request-Id; neither allows
// https://c.example. It prints what it counted, and exits 1 if an answer
// fits neither policy, is a 5xx, or is another non-2xx than a refused
// preflight's 403.
//
// Usage: go run ./scripts/soakcheck [-control] < access.log
//
// With -control (the soak without the cors handler, where every answer is
// a 200) it exits 1 if any answer is not a 2xx.
package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
)

// entry is the part of a Caddy access log line that the check reads.
type entry struct {
	Request struct {
		Method  string              `json:"method"`
		Headers map[string][]string `json:"headers"`
	} `json:"request"`
	Status      int                 `json:"status"`
	RespHeaders map[string][]string `json:"resp_headers"`
}

// counts is what the check found.
type counts struct {
	answers, mismatches, serverErrors, refusedPreflights, otherNon2xx int
	allowed                                                           map[string]int
	firstMismatch                                                     string
}

func main() {
	control := flag.Bool("control", false, "the server has no cors handler: count statuses only")
	flag.Parse()
	c, err := check(os.Stdin, *control)
	if err != nil {
		fmt.Fprintln(os.Stderr, "soakcheck:", err)
		os.Exit(2)
	}
	fmt.Printf("answers logged %d\n", c.answers)
	if !*control {
		fmt.Printf("answers from neither policy %d\n", c.mismatches)
		if c.firstMismatch != "" {
			fmt.Printf("first answer from neither policy: %s\n", c.firstMismatch)
		}
	}
	fmt.Printf("5xx answers %d\n", c.serverErrors)
	fmt.Printf("403 to refused preflights %d\n", c.refusedPreflights)
	fmt.Printf("other non-2xx answers %d\n", c.otherNon2xx)
	if !*control {
		fmt.Printf("allowed https://a.example %d, https://b.example %d\n", c.allowed["https://a.example"], c.allowed["https://b.example"])
	}
	if c.wrong(*control) > 0 {
		os.Exit(1)
	}
}

// wrong returns how many answers no configuration of the soak gives.
func (c counts) wrong(control bool) int {
	n := c.mismatches + c.serverErrors + c.otherNon2xx
	if control {
		n += c.refusedPreflights // without the handler, nothing refuses
	}
	return n
}

// check reads access log lines from r and counts the answers.
func check(r io.Reader, control bool) (counts, error) {
	c := counts{allowed: make(map[string]int)}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 4<<20)
	for line := 1; sc.Scan(); line++ {
		var e entry
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			return c, fmt.Errorf("line %d: %v", line, err)
		}
		c.answers++
		switch {
		case e.Status >= 500:
			c.serverErrors++
		case e.Status == 403 && e.Request.Method == "OPTIONS":
			c.refusedPreflights++
		case e.Status < 200 || e.Status > 299:
			c.otherNon2xx++
		}
		if control {
			continue
		}
		if why := inconsistency(e); why != "" {
			c.mismatches++
			if c.firstMismatch == "" {
				c.firstMismatch = fmt.Sprintf("line %d: %s %d from %q: %s", line, e.Request.Method, e.Status, e.Request.Headers["Origin"], why)
			}
		} else if acao := e.RespHeaders["Access-Control-Allow-Origin"]; len(acao) == 1 {
			c.allowed[acao[0]]++
		}
	}
	return c, sc.Err()
}

// inconsistency returns why an answer is one that neither policy gives, or
// "" if one of them does.
func inconsistency(e entry) string {
	h := e.RespHeaders
	one := func(name string) string { // the header's one value, "" if absent, "(several)" if repeated
		switch v := h[name]; len(v) {
		case 0:
			return ""
		case 1:
			return v[0]
		default:
			return "(several)"
		}
	}
	if !slices.ContainsFunc(h["Vary"], func(v string) bool { return strings.Contains(v, "Origin") }) {
		return "no Vary: Origin"
	}
	origin := ""
	if o := e.Request.Headers["Origin"]; len(o) == 1 {
		origin = o[0]
	}
	preflight := e.Request.Method == "OPTIONS"
	acao := one("Access-Control-Allow-Origin")
	if acao == "" {
		// Refused: nothing of CORS but Vary.
		for _, name := range []string{"Access-Control-Allow-Credentials", "Access-Control-Allow-Methods",
			"Access-Control-Allow-Headers", "Access-Control-Expose-Headers", "Access-Control-Max-Age"} {
			if len(h[name]) > 0 {
				return "refused, yet " + name + " is set"
			}
		}
		if preflight && e.Status != 403 || !preflight && e.Status != 200 {
			return fmt.Sprintf("refused with status %d", e.Status)
		}
		return ""
	}
	switch {
	case acao != origin:
		return "Access-Control-Allow-Origin " + acao + " is not the request's Origin"
	case origin != "https://a.example" && origin != "https://b.example":
		return "allows " + origin + ", which neither policy does"
	case one("Access-Control-Allow-Credentials") != "true":
		return "allowed without Access-Control-Allow-Credentials: true"
	case preflight && (e.Status != 204 || one("Access-Control-Allow-Methods") != "PUT" ||
		one("Access-Control-Allow-Headers") != "content-type"):
		return fmt.Sprintf("preflight allowed with status %d, methods %q, headers %q",
			e.Status, one("Access-Control-Allow-Methods"), one("Access-Control-Allow-Headers"))
	case !preflight && (e.Status != 200 || one("Access-Control-Expose-Headers") != "X-Request-Id"):
		return fmt.Sprintf("allowed with status %d, exposing %q", e.Status, one("Access-Control-Expose-Headers"))
	}
	return ""
}
