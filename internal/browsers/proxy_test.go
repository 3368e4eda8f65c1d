package browsers

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
)

// echoServer accepts connections on 127.0.0.1 and writes back each line
// it reads, prefixed with "echo ".
func echoServer(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				sc := bufio.NewScanner(c)
				for sc.Scan() {
					io.WriteString(c, "echo "+sc.Text()+"\n") //nolint:errcheck // the test reads it
				}
			}()
		}
	}()
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	return port
}

// connect sends CONNECT target to the proxy, then, if the proxy agrees,
// a line through the tunnel; it returns the proxy's status line and body,
// and what came back through the tunnel.
func connect(t *testing.T, proxy, target string) (status, body, echoed string) {
	t.Helper()
	c, err := net.Dial("tcp", proxy)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	// The line after the CONNECT is sent at once, as a client that does
	// not wait for the answer would: it must reach the target too.
	if _, err := io.WriteString(c, "CONNECT "+target+" HTTP/1.1\r\nHost: "+target+"\r\n\r\nhello\n"); err != nil {
		t.Fatal(err)
	}
	rd := bufio.NewReader(c)
	res, err := http.ReadResponse(rd, &http.Request{Method: http.MethodConnect})
	if err != nil {
		t.Fatal(err)
	}
	if res.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(res.Body)
		return res.Status, strings.TrimSpace(string(b)), ""
	}
	line, err := rd.ReadString('\n')
	if err != nil {
		t.Fatal(err)
	}
	return res.Status, "", strings.TrimSpace(line)
}

func TestProxy(t *testing.T) {
	port := echoServer(t)
	p, err := StartProxy("test")
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()

	tests := []struct {
		target, status, body, echoed string
	}{
		{target: "api.example.test:" + port, status: "200 Connection Established", echoed: "echo hello"},
		{target: "API.Example.TEST.:" + port, status: "200 Connection Established", echoed: "echo hello"},
		{target: "example.com:" + port, status: "403 Forbidden",
			body: `"example.com" is not under .test: this proxy only reaches test names on 127.0.0.1`},
		{target: "test:" + port, status: "403 Forbidden",
			body: `"test" is not under .test: this proxy only reaches test names on 127.0.0.1`},
		{target: "evil.test.example.com:" + port, status: "403 Forbidden",
			body: `"evil.test.example.com" is not under .test: this proxy only reaches test names on 127.0.0.1`},
		{target: "api.example.test", status: "403 Forbidden", body: `CONNECT target "api.example.test" is not host:port`},
	}
	for _, tt := range tests {
		t.Run(tt.target, func(t *testing.T) {
			status, body, echoed := connect(t, p.Addr, tt.target)
			if status != tt.status || body != tt.body || echoed != tt.echoed {
				t.Errorf("CONNECT %s: %q, %q, tunnel %q; want %q, %q, tunnel %q", tt.target, status, body, echoed, tt.status, tt.body, tt.echoed)
			}
		})
	}

	// A plain request through the proxy is refused: the test sites are
	// HTTPS, and nothing else is reached.
	res, err := (&http.Client{Transport: &http.Transport{Proxy: http.ProxyURL(mustParseURL(t, "http://"+p.Addr))}}).Get("http://api.example.test:" + port + "/")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if want := "only CONNECT is served: the test sites are HTTPS"; res.StatusCode != http.StatusForbidden || strings.TrimSpace(string(b)) != want {
		t.Errorf("GET through the proxy: %s %q; want 403 %q", res.Status, b, want)
	}

	want := []string{"example.com:" + port, "test:" + port, "evil.test.example.com:" + port, "api.example.test", "api.example.test:" + port}
	if got := p.Refused(); !slices.Equal(got, want) {
		t.Errorf("Refused() = %q, want %q", got, want)
	}
}

func mustParseURL(t *testing.T, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}
