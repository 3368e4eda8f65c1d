package browsers

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"
)

// firefox is headless Firefox driven through WebDriver BiDi, which Firefox
// serves itself (no geckodriver), and the console messages it logged.
type firefox struct {
	proc    *process
	conn    *bidiConn
	context string // the browsing context (tab) every command acts in

	mu      sync.Mutex
	console []string
}

// firefoxPrefs are written to the profile's user.js; the remote agent sets
// the preferences automation needs (no first-run pages, no updates) itself.
func firefoxPrefs(proxy string) map[string]any {
	prefs := map[string]any{
		// Nothing to phone home to, and no prompts.
		"browser.shell.checkDefaultBrowser":          false,
		"datareporting.policy.dataSubmissionEnabled": false,
		"toolkit.telemetry.reportingpolicy.firstRun": false,
		"network.captive-portal-service.enabled":     false,
		"network.connectivity-service.enabled":       false,
	}
	if proxy != "" {
		host, port, _ := strings.Cut(proxy, ":")
		var portNumber int
		fmt.Sscan(port, &portNumber) //nolint:errcheck // 0 leaves the proxy unusable, which the first navigation reports
		// Every request goes to the proxy, HTTPS ones through CONNECT, so
		// that Firefox never resolves a test name itself (see Proxy);
		// localhost and 127.0.0.1 stay direct, as they are by default.
		prefs["network.proxy.type"] = 1
		prefs["network.proxy.ssl"] = host
		prefs["network.proxy.ssl_port"] = portNumber
		prefs["network.proxy.http"] = host
		prefs["network.proxy.http_port"] = portNumber
		prefs["network.proxy.no_proxies_on"] = "localhost, 127.0.0.1"
		prefs["network.proxy.allow_hijacking_localhost"] = false
	}
	return prefs
}

// userJS writes prefs as a user.js file, in a stable order.
func userJS(prefs map[string]any) string {
	var b strings.Builder
	keys := make([]string, 0, len(prefs))
	for k := range prefs {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		v, _ := json.Marshal(prefs[k])
		fmt.Fprintf(&b, "user_pref(%q, %s);\n", k, v)
	}
	return b.String()
}

// bidiListening returns the WebSocket address in the line Firefox prints
// on stderr once its remote agent listens
// ("WebDriver BiDi listening on ws://127.0.0.1:PORT").
func bidiListening(line string) (string, bool) {
	const marker = "WebDriver BiDi listening on "
	_, after, ok := strings.Cut(line, marker)
	if !ok {
		return "", false
	}
	addr := strings.TrimSpace(after)
	if !strings.HasPrefix(addr, "ws://") || strings.ContainsAny(addr, " \t") {
		return "", false
	}
	return addr, true
}

func startFirefox(ctx context.Context, opts Options) (Engine, error) {
	profile := filepath.Join(opts.Dir, "profile")
	if err := os.MkdirAll(profile, 0o700); err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(profile, "user.js"), []byte(userJS(firefoxPrefs(opts.Proxy))), 0o600); err != nil {
		return nil, err
	}
	cmd := exec.Command(firefoxPath, "--headless", "--no-remote",
		"--remote-debugging-port=0", "--remote-allow-origins="+bidiOrigin,
		"--profile", profile, "about:blank")
	cmd.Env = append(os.Environ(), "MOZ_CRASHREPORTER_DISABLE=1")
	// A pipe of our own rather than StderrPipe: the reader below reads
	// until every process that inherited it (content processes too) ends.
	stderr, w, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	cmd.Stderr = w
	proc, err := startProcess(cmd)
	w.Close()
	if err != nil {
		stderr.Close()
		return nil, err
	}
	f := &firefox{proc: proc}
	fail := func(err error) (Engine, error) {
		f.Close() //nolint:errcheck // reporting err
		return nil, fmt.Errorf("starting %s: %w", firefoxPath, err)
	}

	// Read stderr for the address, keep reading it so that Firefox never
	// blocks on a full pipe.
	found := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			proc.out.Write(append(sc.Bytes(), '\n')) //nolint:errcheck // never fails
			if addr, ok := bidiListening(sc.Text()); ok {
				select {
				case found <- addr:
				default:
				}
			}
		}
		io.Copy(io.Discard, stderr) //nolint:errcheck // draining
		stderr.Close()
	}()
	start, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	var addr string
	select {
	case addr = <-found:
	case <-proc.done:
		return fail(fmt.Errorf("it exited before its remote agent listened: %s", proc.out))
	case <-start.Done():
		return fail(fmt.Errorf("its remote agent did not listen: %w; it wrote: %s", start.Err(), proc.out))
	}

	f.conn, err = dialBiDi(strings.TrimSuffix(addr, "/")+"/session", f.event)
	if err != nil {
		return fail(err)
	}
	caps := map[string]any{"alwaysMatch": map[string]any{
		// The test server's certificates come from a CA this profile does
		// not know; a page whose certificate error is overridden is still
		// https, so still a secure context with its Secure cookies.
		"acceptInsecureCerts": len(opts.TrustedKeys) > 0,
	}}
	if err := f.conn.call(start, "session.new", map[string]any{"capabilities": caps}, nil); err != nil {
		return fail(err)
	}
	if err := f.conn.call(start, "session.subscribe", map[string]any{"events": []string{"log.entryAdded"}}, nil); err != nil {
		return fail(err)
	}
	var tree struct {
		Contexts []struct {
			Context string `json:"context"`
		} `json:"contexts"`
	}
	if err := f.conn.call(start, "browsingContext.getTree", map[string]any{"maxDepth": 0}, &tree); err != nil {
		return fail(err)
	}
	if len(tree.Contexts) == 0 {
		return fail(fmt.Errorf("it has no tab"))
	}
	f.context = tree.Contexts[0].Context
	return f, nil
}

// event keeps the text of every log entry.
func (f *firefox) event(method string, params json.RawMessage) {
	if method != "log.entryAdded" {
		return
	}
	var e struct {
		Text string `json:"text"`
	}
	if json.Unmarshal(params, &e) == nil && e.Text != "" {
		f.mu.Lock()
		f.console = append(f.console, e.Text)
		f.mu.Unlock()
	}
}

func (f *firefox) Name() string { return Firefox }

func (f *firefox) Navigate(ctx context.Context, url string) error {
	return f.conn.call(ctx, "browsingContext.navigate", map[string]any{"context": f.context, "url": url, "wait": "complete"}, nil)
}

func (f *firefox) Eval(ctx context.Context, expr string, out any) error {
	var r bidiEvalResult
	err := f.conn.call(ctx, "script.evaluate", map[string]any{
		"expression":      asJSON(expr),
		"target":          map[string]any{"context": f.context},
		"awaitPromise":    true,
		"resultOwnership": "none",
	}, &r)
	if err != nil {
		return err
	}
	s, err := r.stringValue()
	if err != nil {
		return err
	}
	return json.Unmarshal([]byte(s), out)
}

// CORSErrors returns the console messages that name a URL under prefix:
// Firefox logs "Cross-Origin Request Blocked: … at URL. (Reason: …)".
func (f *firefox) CORSErrors(prefix string) []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for _, m := range f.console {
		if strings.Contains(m, prefix) && strings.Contains(m, "Cross-Origin") {
			out = append(out, m)
		}
	}
	return out
}

func (f *firefox) Close() error {
	if f.conn != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		f.conn.call(ctx, "browser.close", nil, nil) //nolint:errcheck // killed below in any case
		cancel()
		f.conn.close() //nolint:errcheck // the process is going
	}
	f.proc.stop()
	return nil
}
