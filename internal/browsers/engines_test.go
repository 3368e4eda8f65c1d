package browsers

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// TestEngines starts every installed engine against a TLS server on
// 127.0.0.1 reached through the Proxy under a .test name, and checks what
// the runner relies on: the page loads, is a secure context, keeps a Secure
// cookie, and Eval returns JSON values and reports exceptions.
func TestEngines(t *testing.T) {
	if testing.Short() {
		t.Skip("starts browsers")
	}
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		if r.URL.Path == "/set" {
			w.Header().Set("Set-Cookie", "k=v; Path=/; Secure; SameSite=None")
		}
		fmt.Fprint(w, "<!doctype html><title>t</title>")
	}))
	srv.StartTLS()
	t.Cleanup(srv.Close)
	sum := sha256.Sum256(srv.Certificate().RawSubjectPublicKeyInfo)
	_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())
	proxy, err := StartProxy("test")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { proxy.Close() })
	page := "https://page.example.test:" + port
	plain := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		fmt.Fprint(w, "<!doctype html><title>direct</title>")
	}))
	t.Cleanup(plain.Close)
	_, plainPort, _ := net.SplitHostPort(plain.Listener.Addr().String())

	for _, name := range Names {
		t.Run(name, func(t *testing.T) {
			if m := Missing(name); len(m) > 0 {
				t.Skipf("%s missing", strings.Join(m, ", "))
			}
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			e, err := Start(ctx, name, Options{Dir: t.TempDir(), Proxy: proxy.Addr, TrustedKeys: []string{base64.StdEncoding.EncodeToString(sum[:])}})
			if err != nil {
				t.Fatal(err)
			}
			defer e.Close()
			if err := e.Navigate(ctx, page+"/set"); err != nil {
				t.Fatal(err)
			}
			var got struct {
				Origin string `json:"origin"`
				Secure bool   `json:"secure"`
				Cookie string `json:"cookie"`
				Sum    int    `json:"sum"`
			}
			if err := e.Eval(ctx, `new Promise((r) => setTimeout(() => r({origin: location.origin, secure: window.isSecureContext, cookie: document.cookie, sum: 1 + 2}), 10))`, &got); err != nil {
				t.Fatal(err)
			}
			if got.Origin != page || !got.Secure || got.Cookie != "k=v" || got.Sum != 3 {
				t.Errorf("the page saw %+v; want origin %s, a secure context, cookie k=v, sum 3", got, page)
			}
			// localhost and 127.0.0.1 go direct, not through the proxy,
			// which would refuse them.
			for _, host := range []string{"localhost", "127.0.0.1"} {
				u := "http://" + host + ":" + plainPort
				var title string
				if err := RunAt(ctx, e, u+"/", "document.title", &title); err != nil {
					t.Fatal(err)
				}
				if title != "direct" {
					t.Errorf("%s/ has the title %q, want %q: it did not come from the server", u, title, "direct")
				}
			}
			for _, r := range proxy.Refused() {
				if strings.HasPrefix(r, "localhost:") || strings.HasPrefix(r, "127.0.0.1:") {
					t.Errorf("the proxy was asked for %s: localhost and 127.0.0.1 must go direct", r)
				}
			}
			err = e.Eval(ctx, `Promise.reject(new Error("no luck"))`, &got)
			if err == nil || !strings.Contains(err.Error(), "no luck") {
				t.Errorf("a rejected promise gave %v, want an error saying no luck", err)
			}
		})
	}
}
