package cors

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/caddyserver/caddy/v2/caddytest"
)

// reloadPolicy is a configuration whose cors handler allows one origin with
// credentials, behind a deferred header replacement that edits
// Access-Control-Expose-Headers in place when the response is written, as
// a user's header directive may.
func reloadPolicy(origin string) string {
	return `{
	"admin": {"listen": "localhost:2999"},
	"apps": {"http": {"servers": {"srv0": {"listen": [":9080"], "routes": [{"handle": [
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
	req, _ := http.NewRequest(method, "http://localhost:9080/things", nil)
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

// TestIntegrationReloadUnderLoad sends requests from many goroutines while
// the configuration is replaced through the admin API's /load, alternating
// two policies: every answer comes from one of them, whole, and none fails.
// The handler is run under the race detector in CI, with old and new
// handlers serving side by side while a reload lasts.
func TestIntegrationReloadUnderLoad(t *testing.T) {
	origins := [2]string{"https://a.example", "https://b.example"}
	tester := caddytest.NewTester(t)
	tester.InitServer(reloadPolicy(origins[0]), "json")

	const workers, reloads = 8, 12
	var (
		stop      = make(chan struct{})
		wg        sync.WaitGroup
		answers   atomic.Int64
		retries   atomic.Int64
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
				method := []string{"GET", "OPTIONS"}[(g+i)%2]
				_, err := reloadCheck(client, method, origins[i%2])
				// A reload closes the old server's connections, and with
				// them a request that was on its way: like browsers, which
				// retry an idempotent request whose connection was closed,
				// send it again on a new one.
				for attempt := 1; attempt < 3 && errors.As(err, new(*url.Error)); attempt++ {
					retries.Add(1)
					_, err = reloadCheck(client, method, origins[i%2])
				}
				if err != nil {
					failures.Add(1)
					firstFail.CompareAndSwap(nil, err.Error())
					continue
				}
				answers.Add(1)
			}
		})
	}

	probe := &http.Client{}
	for i := 1; i <= reloads; i++ {
		current, other := origins[i%2], origins[(i+1)%2]
		res, err := http.Post("http://localhost:2999/load", "application/json", strings.NewReader(reloadPolicy(current)))
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != http.StatusOK {
			t.Fatalf("/load answered %d: %s", res.StatusCode, body)
		}
		// Once /load has answered, the new policy decides every new request.
		for _, method := range []string{"GET", "OPTIONS"} {
			if allowed, err := reloadCheck(probe, method, current); err != nil || !allowed {
				t.Errorf("after loading the policy of %s, %s from it: allowed %v, %v", current, method, allowed, err)
			}
			if allowed, err := reloadCheck(probe, method, other); err != nil || allowed {
				t.Errorf("after loading the policy of %s, %s from %s: allowed %v, %v", current, method, other, allowed, err)
			}
		}
	}
	close(stop)
	wg.Wait()
	t.Logf("%d answers during %d reloads, %d requests sent again after a closed connection, %d failures",
		answers.Load(), reloads, retries.Load(), failures.Load())
	if n := failures.Load(); n > 0 {
		t.Errorf("%d requests failed during reloads; the first: %v", n, firstFail.Load())
	}
	if answers.Load() < workers {
		t.Errorf("only %d answers during the reloads", answers.Load())
	}
}
