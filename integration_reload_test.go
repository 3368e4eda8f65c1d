package cors

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddytest"
)

// reloadPort is where the servers of reloadPolicy listen: a port of this
// test's own, so that no server of an earlier test can still be accepting
// there when it starts.
const reloadPort = "9123"

// reloadPolicy is a configuration whose cors handler allows one origin with
// credentials, behind a deferred header replacement that edits
// Access-Control-Expose-Headers in place when the response is written, as
// a user's header directive may. Its listener is counted in openListeners.
func reloadPolicy(origin string) string {
	return `{
	"admin": {"listen": "localhost:2999"},
	"apps": {"http": {"servers": {"srv0": {"listen": [":` + reloadPort + `"], "listener_wrappers": [{"wrapper": "cors_test_count"}],
		"routes": [{"handle": [
		{"handler": "headers", "response": {"deferred": true,
			"replace": {"Access-Control-Expose-Headers": [{"search": "X-Request-Id", "replace": "X-Trace-Id"}]}}},
		{"handler": "cors", "allowed_origins": ["` + origin + `"], "allow_credentials": true,
			"allowed_methods": ["PUT"], "exposed_headers": ["X-Request-Id"]},
		{"handler": "static_response", "body": "ok"}
	]}]}}}}
}`
}

// reloadCheck sends one request from origin and checks that the answer is
// that of a policy allowing origin or of one refusing it, never anything
// else; it reports which.
func reloadCheck(client *http.Client, method, origin string) (allowed bool, err error) {
	req, _ := http.NewRequest(method, "http://localhost:"+reloadPort+"/things", nil)
	req.Header.Set("Origin", origin)
	if method == http.MethodOptions {
		req.Header.Set("Access-Control-Request-Method", "PUT")
	}
	res, err := client.Do(req)
	if err != nil {
		return false, err
	}
	_, _ = io.Copy(io.Discard, res.Body)
	res.Body.Close()
	got := corsHeaders(res.Header)
	allowedHeaders := map[string]string{"Access-Control-Allow-Origin": origin, "Access-Control-Allow-Credentials": "true",
		"Access-Control-Expose-Headers": "X-Trace-Id", "Vary": "Origin"}
	refusedHeaders := map[string]string{"Vary": "Origin"}
	allowedStatus, refusedStatus := 200, 200
	if method == http.MethodOptions {
		allowedHeaders = map[string]string{"Access-Control-Allow-Origin": origin, "Access-Control-Allow-Credentials": "true",
			"Access-Control-Allow-Methods": "PUT", "Vary": preflightVary}
		refusedHeaders = map[string]string{"Vary": preflightVary}
		allowedStatus, refusedStatus = 204, 403
	}
	switch {
	case res.StatusCode == allowedStatus && mapsEqual(got, allowedHeaders):
		return true, nil
	case res.StatusCode == refusedStatus && mapsEqual(got, refusedHeaders):
		return false, nil
	}
	return false, fmt.Errorf("%s from %s: %d %v, from neither policy", method, origin, res.StatusCode, got)
}

// openListeners counts the listeners that servers of reloadPolicy hold
// open, through the listener wrapper cors_test_count.
var openListeners atomic.Int64

func init() { caddy.RegisterModule(listenerCounter{}) }

// listenerCounter is the listener wrapper caddy.listeners.cors_test_count:
// it counts the listeners of the servers that use it in openListeners.
type listenerCounter struct{}

// CaddyModule returns the Caddy module information.
func (listenerCounter) CaddyModule() caddy.ModuleInfo {
	return caddy.ModuleInfo{ID: "caddy.listeners.cors_test_count", New: func() caddy.Module { return new(listenerCounter) }}
}

// WrapListener counts ln open.
func (listenerCounter) WrapListener(ln net.Listener) net.Listener {
	openListeners.Add(1)
	return &countedListener{Listener: ln}
}

// countedListener is a listener counted in openListeners until it closes.
type countedListener struct {
	net.Listener
	closed atomic.Bool
}

// Close closes the listener, then counts it closed: from then on, no new
// connection can reach its server.
func (l *countedListener) Close() error {
	err := l.Listener.Close()
	if l.closed.CompareAndSwap(false, true) {
		openListeners.Add(-1)
	}
	return err
}

// awaitOneServer waits until a single server of reloadPolicy accepts
// connections. Caddy answers /load once the new configuration's servers
// listen, and stops the replaced ones in the background, without waiting
// for them to close their listeners (caddyhttp.App.Stop).
func awaitOneServer(t *testing.T) {
	t.Helper()
	const patience = 10 * time.Second
	for deadline := time.Now().Add(patience); openListeners.Load() > 1; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%d servers still accept connections on port %s %v after /load answered; the replaced one never closed its listener",
				openListeners.Load(), reloadPort, patience)
		}
	}
}

// cutByShutdown reports whether err is a connection closed or reset before
// any answer, as a server that Caddy is replacing cuts it. On Unix systems
// each configuration's server listens on a socket of its own
// (SO_REUSEPORT), and the kernel spreads new connections over the old
// socket and the new one until the old one closes: a connection can be
// queued on the old socket when it closes, and the kernel resets it, or be
// accepted by the old server after its shutdown began, and net/http closes
// it unanswered once it has read the request.
func cutByShutdown(err error) bool {
	return errors.Is(err, io.EOF) || errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE)
}

// load posts config to the admin API's /load and fails t unless Caddy
// answers 200. Caddy replaces its admin server too at every load and stops
// the old one in the background, so a /load can be cut like any request
// to a replaced server (cutByShutdown). Sending it again is exact: a cut
// request was never handled, and Caddy ignores a /load of the
// configuration it already runs.
func load(t *testing.T, config string) {
	t.Helper()
	for attempt := 1; ; attempt++ {
		res, err := http.Post("http://localhost:2999/load", "application/json", strings.NewReader(config))
		if err != nil && cutByShutdown(err) && attempt < 3 {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != http.StatusOK {
			t.Fatalf("/load answered %d: %s", res.StatusCode, body)
		}
		return
	}
}

// TestIntegrationReloadUnderLoad sends requests from many goroutines while
// the configuration is replaced through the admin API's /load, alternating
// two policies: every answer comes whole from one of them, and once the
// replaced server has stopped accepting, the new policy decides every
// request on a new connection. The handler is run under the race detector
// in CI, with old and new handlers serving side by side while a reload
// lasts.
//
// Caddy reloads gracefully: /load answers once the new server listens,
// while the old one may still accept connections for a moment and finishes
// those it has (caddyhttp.App.Stop does not wait for its shutdown). So a
// request on a connection made just after /load answered, or on a
// connection kept alive from before, can still be answered by the old
// policy, or be cut unanswered by the old server (cutByShutdown). The
// checks after each /load therefore wait for the old server to close its
// listener and send each request on a new connection; the concurrent
// requests accept a cut only while a reload was on.
func TestIntegrationReloadUnderLoad(t *testing.T) {
	origins := [2]string{"https://a.example", "https://b.example"}
	tester := caddytest.NewTester(t)
	tester.InitServer(reloadPolicy(origins[0]), "json")
	awaitOneServer(t)

	const workers, reloads = 8, 12
	var (
		stop        = make(chan struct{})
		wg          sync.WaitGroup
		stopWorkers = sync.OnceFunc(func() { close(stop); wg.Wait() })
		// reloading is odd from the moment a /load is sent until the
		// server it replaces has closed its listener.
		reloading atomic.Int64
		answers   atomic.Int64
		cuts      atomic.Int64
		failures  atomic.Int64
		firstFail atomic.Value
	)
	for g := range workers {
		wg.Go(func() {
			client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 2}}
			defer client.CloseIdleConnections()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				// Go's Transport sends a GET or OPTIONS again by itself
				// when a connection it kept alive was closed under it;
				// what reaches here was cut on a new connection.
				during := reloading.Load()
				_, err := reloadCheck(client, []string{"GET", "OPTIONS"}[(g+i)%2], origins[i%2])
				switch {
				case err == nil:
					answers.Add(1)
				case cutByShutdown(err) && (during%2 == 1 || reloading.Load() != during):
					cuts.Add(1)
				default:
					failures.Add(1)
					firstFail.CompareAndSwap(nil, err.Error())
				}
			}
		})
	}

	defer stopWorkers() // if t.Fatal ends the test early

	probe := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	for i := 1; i <= reloads; i++ {
		current, other := origins[i%2], origins[(i+1)%2]
		reloading.Add(1)
		load(t, reloadPolicy(current))
		awaitOneServer(t)
		reloading.Add(1)
		// Once /load has answered and the replaced server has stopped
		// accepting, the new policy decides every new request.
		for _, method := range []string{"GET", "OPTIONS"} {
			if allowed, err := reloadCheck(probe, method, current); err != nil || !allowed {
				t.Errorf("after loading the policy of %s, %s from it: allowed %v, %v", current, method, allowed, err)
			}
			if allowed, err := reloadCheck(probe, method, other); err != nil || allowed {
				t.Errorf("after loading the policy of %s, %s from %s: allowed %v, %v", current, method, other, allowed, err)
			}
		}
	}
	stopWorkers()
	t.Logf("%d answers during %d reloads, %d requests cut by a server being replaced, %d failures",
		answers.Load(), reloads, cuts.Load(), failures.Load())
	if n := failures.Load(); n > 0 {
		t.Errorf("%d requests failed during reloads; the first: %v", n, firstFail.Load())
	}
	if answers.Load() < workers {
		t.Errorf("only %d answers during the reloads", answers.Load())
	}
}
