package browsers

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
)

// Proxy is an HTTP proxy that tunnels CONNECT requests for names under one
// domain to 127.0.0.1 and refuses everything else.
//
// It is how the test names reach the test server in every engine without
// touching the machine's /etc/hosts: Chromium could map names itself, but
// Firefox stops caching preflights when its resolver is overridden and
// WebKit has no override at all, while all three take a proxy. Through a
// CONNECT tunnel the engine never resolves the name, and the proxy refusing
// every other name keeps the engines' own background traffic off the
// network.
type Proxy struct {
	// Addr is the proxy's address, host:port on 127.0.0.1.
	Addr string

	domain string
	ln     net.Listener
	srv    *http.Server

	mu      sync.Mutex
	refused []string
	tunnels map[net.Conn]bool // both ends of every open tunnel
}

// StartProxy starts a Proxy on a free port of 127.0.0.1 that tunnels to
// 127.0.0.1 the names under domain (for example "test": "a.test:443" goes
// to "127.0.0.1:443").
func StartProxy(domain string) (*Proxy, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	p := &Proxy{Addr: ln.Addr().String(), domain: strings.Trim(domain, "."), ln: ln, tunnels: map[net.Conn]bool{}}
	p.srv = &http.Server{Handler: p}
	go p.srv.Serve(ln) //nolint:errcheck // ends with Close
	return p, nil
}

// Close stops the proxy and the tunnels it holds open.
func (p *Proxy) Close() error {
	err := p.srv.Close()
	p.mu.Lock()
	defer p.mu.Unlock()
	for c := range p.tunnels {
		c.Close()
	}
	return err
}

// track adds c to the open tunnels; untrack closes it and removes it.
func (p *Proxy) track(c net.Conn) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.tunnels[c] = true
}

func (p *Proxy) untrack(c net.Conn) {
	c.Close()
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.tunnels, c)
}

// Refused returns the host:port targets the proxy refused, in order.
func (p *Proxy) Refused() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.refused...)
}

// target returns where a CONNECT to hostport goes, or an error saying why
// the proxy refuses it.
func (p *Proxy) target(hostport string) (string, error) {
	host, port, err := net.SplitHostPort(hostport)
	if err != nil {
		return "", fmt.Errorf("CONNECT target %q is not host:port", hostport)
	}
	host = strings.ToLower(strings.TrimSuffix(host, "."))
	if !strings.HasSuffix(host, "."+p.domain) {
		return "", fmt.Errorf("%q is not under .%s: this proxy only reaches test names on 127.0.0.1", host, p.domain)
	}
	return net.JoinHostPort("127.0.0.1", port), nil
}

// ServeHTTP answers CONNECT for names under the proxy's domain with a
// tunnel to 127.0.0.1, and anything else with 403.
func (p *Proxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodConnect {
		p.refuse(w, r.Host, errors.New("only CONNECT is served: the test sites are HTTPS"))
		return
	}
	to, err := p.target(r.Host)
	if err != nil {
		p.refuse(w, r.Host, err)
		return
	}
	upstream, err := net.Dial("tcp", to)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	hj, ok := w.(http.Hijacker)
	if !ok {
		upstream.Close()
		http.Error(w, "cannot tunnel over this connection", http.StatusInternalServerError)
		return
	}
	client, buf, err := hj.Hijack()
	if err != nil {
		upstream.Close()
		return
	}
	if _, err := client.Write([]byte("HTTP/1.1 200 Connection Established\r\n\r\n")); err != nil {
		client.Close()
		upstream.Close()
		return
	}
	p.track(client)
	p.track(upstream)
	go func() {
		// What the client sent after its CONNECT, already read into buf.
		if n := buf.Reader.Buffered(); n > 0 {
			b, _ := buf.Reader.Peek(n)
			upstream.Write(b) //nolint:errcheck // a failed write ends the copy below
		}
		io.Copy(upstream, client) //nolint:errcheck // either side closing ends the tunnel
		p.untrack(upstream)
	}()
	go func() {
		io.Copy(client, upstream) //nolint:errcheck // either side closing ends the tunnel
		p.untrack(client)
	}()
}

func (p *Proxy) refuse(w http.ResponseWriter, target string, why error) {
	p.mu.Lock()
	p.refused = append(p.refused, target)
	p.mu.Unlock()
	http.Error(w, why.Error(), http.StatusForbidden)
}
