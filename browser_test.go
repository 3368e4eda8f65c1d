package cors

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"os"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig/httpcaddyfile"
	"github.com/caddyserver/caddy/v2/caddytest"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
)

// The browser suite: headless Chromium loads pages from several origins and
// calls fetch() against a Caddy that runs this module (in this process,
// through caddytest). Each scenario asserts what the script saw and what
// the server saw. Its scenarios are listed in browser_scenarios_test.go.

// chromiumPath is where Debian's chromium package installs the browser.
const chromiumPath = "/usr/bin/chromium"

// The origins pages are served from. Chromium resolves every *.test name to
// 127.0.0.1 (--host-resolver-rules); localhost and 127.0.0.1 are two
// different origins on the same address.
const (
	app         = "https://app.example.test:9443"
	appPort9444 = "https://app.example.test:9444"
	sub         = "https://sub.app.example.test:9443"
	deep        = "https://a.b.example.test:9443"
	apex        = "https://example.test:9443"
	evil        = "https://evil.test:9443"
	lookAlike   = "https://evilexample.test:9443"
	suffixed    = "https://example.test.evil.test:9443"
	localhost   = "http://localhost:9080"
	loopbackIP  = "http://127.0.0.1:9080"
	// sandboxed is a sandboxed iframe (opaque origin, sent as "null") on
	// the app's page.
	sandboxed = "null"
)

// pageOrigins are served by the test Caddy; sandboxed runs inside app.
var pageOrigins = []string{app, appPort9444, sub, deep, apex, evil, lookAlike, suffixed, localhost, loopbackIP}

// apiBase is the API every scenario calls.
const apiBase = "https://api.example.test:9443"

// probeHeaders are the response headers whose readability a scenario checks:
// one safelisted, one exposed by most policies, two never exposed by name.
var probeHeaders = []string{"content-type", "x-request-id", "x-hidden", "server"}

// browserPolicy is a cors directive and the application behind it, served under
// /<name>/ on the API.
type browserPolicy struct {
	cors string // the cors directive as a user writes it (or, to compare, a hand-written header recipe)
	app  string // what answers behind it; appDefault if empty
}

// appDefault answers 200 "ok" with one header most policies expose and one
// they do not; nothing is cached.
const appDefault = `header X-Request-Id 42
header X-Hidden secret
header Cache-Control no-store
respond "ok"`

// fetchCall is one call of fetch() made by a page.
type fetchCall struct {
	method      string      // passed to fetch() as written; "" is GET
	path        string      // appended to the scenario's URL, which ends in "/"
	headers     [][2]string // request headers, in order
	body        string      // request body, if any
	credentials string      // credentials mode; "" is fetch()'s default, same-origin
	cache       string      // cache mode; "" is fetch()'s default
}

func (f fetchCall) String() string {
	var b strings.Builder
	m := f.method
	if m == "" {
		m = "GET"
	}
	fmt.Fprintf(&b, "method %s", m)
	for _, h := range f.headers {
		fmt.Fprintf(&b, ", %s: %s", h[0], h[1])
	}
	if f.body != "" {
		fmt.Fprintf(&b, ", body %q", f.body)
	}
	if f.credentials != "" {
		fmt.Fprintf(&b, ", credentials %s", f.credentials)
	}
	if f.cache != "" {
		fmt.Fprintf(&b, ", cache %s", f.cache)
	}
	return b.String()
}

// scriptSaw is what a script learns from its fetch().
type scriptSaw struct {
	Blocked  bool     `json:"blocked"`  // the promise rejected
	Error    string   `json:"error"`    // its error, when blocked
	Status   int      `json:"status"`   // when not blocked
	Readable []string `json:"readable"` // the probeHeaders the script could read
}

// step is a fetch from one page, run times times (1 if 0); every run must
// be seen as want.
type step struct {
	page  string
	fetch fetchCall
	times int
	want  scriptSaw
}

// serverSaw is what reached Caddy over a whole scenario.
type serverSaw struct {
	preflights      int  // OPTIONS requests carrying Access-Control-Request-Method
	preflightStatus int  // the status the last preflight was answered with; 0 when not checked
	actual          int  // every other request
	cookie          bool // the last actual request carried the cookie the API set
}

// scenario is one policy, one or more fetches, and what both sides see.
type scenario struct {
	name     string
	policy   string // key of browserPolicies
	before   []step // run first, each checked too
	reload   string // if set, the policy's cors directive is replaced by this through /load after before
	step            // the fetch the scenario is about
	server   serverSaw
	chromium string // where Chromium departs from the Fetch standard here, if it does
	// standardBlocks is set where the Fetch standard blocks the fetch that
	// Chromium allows; caddy cors check follows the standard.
	standardBlocks bool
}

// url is where the scenario's fetches go: a path of its own, so that no
// scenario benefits from another's preflight cache, HTTP cache or cookies.
func (s scenario) url(f fetchCall) string {
	return apiBase + "/" + s.policy + "/" + slug(s.name) + "/" + f.path
}

func slug(name string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
			return r
		case r >= 'A' && r <= 'Z':
			return r + 'a' - 'A'
		}
		return '-'
	}, name)
}

// allowedSaw is what a script sees of an allowed request answered status
// whose response exposes the given headers.
func allowedSaw(status int, readable ...string) scriptSaw {
	return scriptSaw{Status: status, Readable: append([]string{"content-type"}, readable...)}
}

// blockedSaw is what a script sees of a blocked request: an error and
// nothing else.
var blockedSaw = scriptSaw{Blocked: true}

// caddyfileFor writes the whole test configuration: every page origin, the
// API with every policy under its own path, and the upstreams.
func caddyfileFor(policies map[string]browserPolicy) string {
	var b strings.Builder
	b.WriteString(testGlobalOptions("local_certs", "auto_https disable_redirects") + "\n")
	b.WriteString(strings.Join(pageOrigins, ", "))
	b.WriteString(` {
	header Content-Type "text/html; charset=utf-8"
	respond "<!doctype html><title>page</title><body></body>"
}

` + apiBase + ` {
	browser_record
`)
	for _, name := range slices.Sorted(maps.Keys(policies)) {
		p := policies[name]
		body := p.app
		if body == "" {
			body = appDefault
		}
		fmt.Fprintf(&b, "\thandle /%s/* {\n%s\n%s\n\t}\n", name, indent(p.cors, "\t\t"), indent(body, "\t\t"))
	}
	b.WriteString(`}

# An upstream that sets CORS headers of its own.
:9086 {
	header Access-Control-Allow-Origin *
	header Access-Control-Allow-Credentials true
	header X-Request-Id 43
	respond "upstream"
}
`)
	return b.String()
}

func indent(s, prefix string) string {
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = prefix + l
	}
	return strings.Join(lines, "\n")
}

// recorded is one request that reached the API, and the answer it got.
type recorded struct {
	method         string
	path           string
	header         http.Header
	status         int
	responseHeader http.Header
}

func (r recorded) isPreflight() bool {
	return r.method == http.MethodOptions && r.header.Get(headerRequestMethod) != ""
}

// serverLog holds every request the API saw, in order.
var serverLog struct {
	sync.Mutex
	requests []recorded
}

// requestsUnder returns the recorded requests whose path starts with prefix.
func requestsUnder(prefix string) []recorded {
	serverLog.Lock()
	defer serverLog.Unlock()
	var out []recorded
	for _, r := range serverLog.requests {
		if strings.HasPrefix(r.path, prefix) {
			out = append(out, r)
		}
	}
	return out
}

// browserRecord is a test-only handler that records each request and the
// answer it got (after every later handler, cors included, has run).
type browserRecord struct{}

func (browserRecord) CaddyModule() caddy.ModuleInfo {
	return caddy.ModuleInfo{
		ID:  "http.handlers.browser_record",
		New: func() caddy.Module { return new(browserRecord) },
	}
}

func (browserRecord) ServeHTTP(w http.ResponseWriter, r *http.Request, next caddyhttp.Handler) error {
	rw := &statusWriter{ResponseWriterWrapper: &caddyhttp.ResponseWriterWrapper{ResponseWriter: w}}
	err := next.ServeHTTP(rw, r)
	status := rw.status
	if herr := (caddyhttp.HandlerError{}); status == 0 && errors.As(err, &herr) {
		status = herr.StatusCode
	}
	serverLog.Lock()
	serverLog.requests = append(serverLog.requests, recorded{
		method: r.Method, path: r.URL.Path, header: r.Header.Clone(),
		status: status, responseHeader: w.Header().Clone(),
	})
	serverLog.Unlock()
	return err
}

type statusWriter struct {
	*caddyhttp.ResponseWriterWrapper
	status int
}

func (w *statusWriter) WriteHeader(status int) {
	if w.status == 0 && status >= 200 {
		w.status = status
	}
	w.ResponseWriterWrapper.WriteHeader(status)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriterWrapper.Write(b)
}

func init() {
	caddy.RegisterModule(browserRecord{})
	httpcaddyfile.RegisterHandlerDirective("browser_record", func(h httpcaddyfile.Helper) (caddyhttp.MiddlewareHandler, error) {
		h.Next()
		if h.NextArg() {
			return nil, h.ArgErr()
		}
		return new(browserRecord), nil
	})
	httpcaddyfile.RegisterDirectiveOrder("browser_record", httpcaddyfile.Before, "tracing")
}

// browser is one headless Chromium with one tab, and the CORS errors
// DevTools reported, by URL.
type browser struct {
	ctx context.Context

	mu         sync.Mutex
	urls       map[network.RequestID]string
	corsErrors map[string][]string // URL → Chromium's CORS error reasons
}

// chromiumRequired reports whether a missing Chromium is a failure rather
// than a reason to skip: in CI, the browser is always there.
func chromiumRequired() bool { return os.Getenv("CI") != "" }

// requireChromium skips the test when Chromium is not installed, saying so
// on the output even without -v; in CI, a missing Chromium is a failure.
func requireChromium(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath(chromiumPath); err == nil {
		return
	}
	if chromiumRequired() {
		t.Fatalf("browser: no Chromium at %s, and CI must run the %d browser scenarios (apt-get install chromium)", chromiumPath, len(browserScenarios))
	}
	msg := fmt.Sprintf("browser: skipped, no Chromium at %s (apt-get install chromium to run the %d browser scenarios)", chromiumPath, len(browserScenarios))
	browserSummary = msg
	t.Skip(msg)
}

// startBrowser starts Chromium with one tab, trusting certificate chains
// that hold one of trustedKeys.
func startBrowser(t *testing.T, trustedKeys []string) *browser {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromiumPath),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("host-resolver-rules", "MAP *.test 127.0.0.1"),
		// The pages and the API use certificates from Caddy's local CA,
		// which this throwaway profile does not trust: the browser accepts
		// chains that hold one of these keys as valid, so that pages are
		// secure contexts and keep their cookies, as in production.
		chromedp.Flag("ignore-certificate-errors-spki-list", strings.Join(trustedKeys, ",")),
	)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelCtx := chromedp.NewContext(allocCtx)
	t.Cleanup(func() { cancelCtx(); cancelAlloc() })

	b := &browser{ctx: ctx, urls: map[network.RequestID]string{}, corsErrors: map[string][]string{}}
	err := chromedp.Listen(ctx, func(ev any) {
		b.mu.Lock()
		defer b.mu.Unlock()
		switch ev := ev.(type) {
		case *network.EventRequestWillBeSent:
			b.urls[ev.RequestID] = ev.Request.URL
		case *network.EventLoadingFailed:
			if s := ev.CorsErrorStatus; s != nil {
				reason := s.CorsError.String()
				if s.FailedParameter != "" {
					reason += " (" + s.FailedParameter + ")"
				}
				u := b.urls[ev.RequestID]
				b.corsErrors[u] = append(b.corsErrors[u], reason)
			}
		}
	})
	if err != nil {
		t.Fatalf("starting %s: %v", chromiumPath, err)
	}
	start, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if _, err := chromedp.Call(start, network.Enable, network.EnableParams{}); err != nil {
		t.Fatalf("starting %s: %v", chromiumPath, err)
	}
	return b
}

// awaitCertificate waits until the test Caddy, which issues the
// certificates of its sites in the background once a configuration is
// loaded, completes a TLS handshake for host on port, and returns that
// connection.
func awaitCertificate(t *testing.T, host, port string) *tls.Conn {
	t.Helper()
	for deadline := time.Now().Add(15 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		conn, err := tls.Dial("tcp", "127.0.0.1:"+port, &tls.Config{ServerName: host, InsecureSkipVerify: true}) //nolint:gosec // the test CA
		if err == nil {
			return conn
		}
		if time.Now().After(deadline) {
			t.Fatalf("no certificate for %s:%s: %v", host, port, err)
		}
	}
}

// certificateKeys waits until every HTTPS site of the test configuration
// has its certificate (Caddy's local CA issues them in the background after
// a load), and returns the SPKI fingerprints (base64 of SHA-256) of the
// certificates they present: their leaves and the intermediate of Caddy's
// local CA, which signed them all.
func certificateKeys(t *testing.T) []string {
	t.Helper()
	var keys []string
	for _, site := range append([]string{apiBase}, pageOrigins...) {
		host, port, ok := strings.Cut(strings.TrimPrefix(site, "https://"), ":")
		if !ok || !strings.HasPrefix(site, "https://") {
			continue
		}
		conn := awaitCertificate(t, host, port)
		for _, c := range conn.ConnectionState().PeerCertificates {
			sum := sha256.Sum256(c.RawSubjectPublicKeyInfo)
			if k := base64.StdEncoding.EncodeToString(sum[:]); !slices.Contains(keys, k) {
				keys = append(keys, k)
			}
		}
		conn.Close()
	}
	return keys
}

// corsErrorsFor returns the CORS errors Chromium reported for URLs that
// start with prefix.
func (b *browser) corsErrorsFor(prefix string) []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []string
	for u, reasons := range b.corsErrors {
		if strings.HasPrefix(u, prefix) {
			for _, r := range reasons {
				out = append(out, u+": "+r)
			}
		}
	}
	slices.Sort(out)
	return out
}

// fetchScript is the function each page runs: fetch, then report what a
// script can see. Run in a sandboxed iframe, it posts its result to the
// parent page.
const fetchScript = `async (url, init, probe) => {
	try {
		const res = await fetch(url, init);
		await res.arrayBuffer();
		return {blocked: false, status: res.status, readable: probe.filter((n) => res.headers.has(n))};
	} catch (e) {
		return {blocked: true, error: String(e), readable: []};
	}
}`

// run calls fetch from page (an origin, or sandboxed for an opaque origin
// inside the app's page) and returns what the script saw.
func (b *browser) run(page, url string, f fetchCall) (scriptSaw, error) {
	init := map[string]any{"mode": "cors"}
	if f.method != "" {
		init["method"] = f.method
	}
	if f.headers != nil {
		init["headers"] = f.headers
	}
	if f.body != "" {
		init["body"] = f.body
	}
	if f.credentials != "" {
		init["credentials"] = f.credentials
	}
	if f.cache != "" {
		init["cache"] = f.cache
	}
	args, err := json.Marshal([]any{url, init, probeHeaders})
	if err != nil {
		return scriptSaw{}, err
	}
	call := fmt.Sprintf("(%s)(...%s)", fetchScript, args)
	pageURL := page + "/"
	if page == sandboxed {
		pageURL = app + "/"
		// A sandboxed iframe without allow-same-origin has an opaque
		// origin, serialised as "null".
		inner, _ := json.Marshal("<script>(" + call + ").then((r) => parent.postMessage(r, '*'))</script>")
		call = fmt.Sprintf(`new Promise((resolve) => {
			const frame = document.createElement('iframe');
			frame.sandbox = 'allow-scripts';
			window.addEventListener('message', (e) => { if (e.source === frame.contentWindow) resolve(e.data); });
			frame.srcdoc = %s;
			document.body.appendChild(frame);
		})`, inner)
	}
	ctx, cancel := context.WithTimeout(b.ctx, 20*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, chromedp.Navigate(pageURL)); err != nil {
		return scriptSaw{}, err
	}
	return chromedp.Run(ctx, chromedp.Evaluate[scriptSaw](call, chromedp.EvalAwaitPromise))
}

// browserSummary is the line TestMain prints last, after every test (go test
// shows a passing package's output only in its local-directory mode, and
// -v); TestBrowser sets it.
var browserSummary string

// TestMain holds Caddy's logs back while the tests run and shows them if a
// test failed (caddylogs_test.go), and prints browserSummary last.
func TestMain(m *testing.M) {
	if os.Getenv(logKeeperEnv) != "" {
		runLogKeeper()
	}
	release := holdCaddyLogs()
	code := m.Run()
	release(code != 0)
	if browserSummary != "" {
		fmt.Println(browserSummary)
	}
	os.Exit(code)
}

// TestBrowser runs every scenario in headless Chromium and prints a
// one-line summary.
func TestBrowser(t *testing.T) {
	if testing.Short() {
		t.Skip("browser scenarios need Chromium and the test Caddy")
	}
	requireChromium(t)
	// The configuration is loaded in a subtest of its own: caddytest dumps
	// the whole running configuration when the test that loaded it fails,
	// which would bury a scenario's report.
	if !t.Run("load", func(t *testing.T) {
		caddytest.NewTester(t).InitServer(caddyfileFor(browserPolicies), "caddyfile")
	}) {
		t.FailNow()
	}
	b := startBrowser(t, certificateKeys(t))

	agree := 0
	for _, s := range browserScenarios {
		if t.Run(slug(s.name), func(t *testing.T) { runScenario(t, b, s) }) {
			agree++
		}
	}
	browserSummary = fmt.Sprintf("browser: %d scenarios, %d agree", len(browserScenarios), agree)
}

// runScenario runs the steps of s and checks both sides; a failure prints
// everything a reader needs to see why.
func runScenario(t *testing.T, b *browser, s scenario) {
	var problems []string
	var last scriptSaw // what the browser saw of the scenario's own fetch
	check := func(st step) {
		times := max(st.times, 1)
		for i := range times {
			saw, err := b.run(st.page, s.url(st.fetch), st.fetch)
			if err != nil {
				problems = append(problems, fmt.Sprintf("fetch from %s: %v", st.page, err))
				return
			}
			last = saw
			if !sawEqual(saw, st.want) {
				problems = append(problems, fmt.Sprintf("page %s, %s (run %d of %d):\n\t\tscript saw  %s\n\t\twant        %s",
					st.page, st.fetch, i+1, times, sawString(saw), sawString(st.want)))
			}
		}
	}
	for _, st := range s.before {
		check(st)
	}
	if s.reload != "" {
		changed := maps.Clone(browserPolicies)
		p := changed[s.policy]
		p.cors = s.reload
		changed[s.policy] = p
		if err := loadCaddyfile(caddyfileFor(changed)); err != nil {
			t.Fatalf("loading the changed policy: %v", err)
		}
		defer func() {
			if err := loadCaddyfile(caddyfileFor(browserPolicies)); err != nil {
				t.Fatalf("restoring the browserPolicies: %v", err)
			}
		}()
	}
	check(s.step)

	prefix := "/" + s.policy + "/" + slug(s.name)
	requests := requestsUnder(prefix)
	got := serverSaw{}
	for _, r := range requests {
		if r.isPreflight() {
			got.preflights++
			got.preflightStatus = r.status
			if r.header.Get("Cookie") != "" {
				problems = append(problems, "a preflight carried cookies: browsers never send credentials with a preflight")
			}
			continue
		}
		got.actual++
		got.cookie = r.header.Get("Cookie") != ""
	}
	want := s.server
	if want.preflightStatus == 0 {
		got.preflightStatus = 0
	}
	if got != want {
		problems = append(problems, fmt.Sprintf("server saw %+v\n\t\twant       %+v", got, want))
	}
	// Last, as its requests are not the browser's: caddy cors check must
	// decide the scenario's own fetch as the browser did.
	if p := crossCheck(s, last); p != "" {
		problems = append(problems, p)
	}
	if len(problems) == 0 {
		return
	}

	var report strings.Builder
	fmt.Fprintf(&report, "scenario %q disagrees:\n", s.name)
	for _, p := range problems {
		fmt.Fprintf(&report, "\t%s\n", p)
	}
	cors := browserPolicies[s.policy].cors
	if s.reload != "" {
		cors += "\n(then, through /load)\n" + s.reload
	}
	fmt.Fprintf(&report, "policy (under /%s/):\n%s\n", s.policy, indent(cors, "\t"))
	if s.chromium != "" {
		fmt.Fprintf(&report, "Chromium: %s\n", s.chromium)
	}
	fmt.Fprintf(&report, "requests the server saw:\n")
	for _, r := range requests {
		fmt.Fprintf(&report, "\t%s %s\n\t\trequest:  %s\n\t\tanswered: %d %s\n", r.method, r.path,
			headerLine(r.header), r.status, headerLine(r.responseHeader))
	}
	// DevTools reports a failed load slightly after the script sees it.
	time.Sleep(100 * time.Millisecond)
	if errs := b.corsErrorsFor(apiBase + prefix); len(errs) > 0 {
		fmt.Fprintf(&report, "Chromium's CORS errors:\n\t%s\n", strings.Join(errs, "\n\t"))
	} else {
		fmt.Fprintf(&report, "Chromium reported no CORS error\n")
	}
	t.Error(report.String())
}

// headerLine prints the headers that matter to CORS (and cookies) on one line.
func headerLine(h http.Header) string {
	var parts []string
	for _, name := range slices.Sorted(maps.Keys(h)) {
		l := strings.ToLower(name)
		if strings.HasPrefix(l, "access-control-") || l == "origin" || l == "vary" || l == "cookie" || l == "set-cookie" || l == "authorization" || strings.HasPrefix(l, "x-") {
			parts = append(parts, name+": "+strings.Join(h[name], ", "))
		}
	}
	if len(parts) == 0 {
		return "(no CORS headers)"
	}
	return strings.Join(parts, " | ")
}

// checkClient is the HTTP client of the cross-check: it reaches every .test
// name on 127.0.0.1, as the browser does, and accepts the certificates of
// Caddy's local CA, which the check has no reason to judge.
var checkClient = &http.Client{Transport: &http.Transport{
	DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
		if host, port, err := net.SplitHostPort(addr); err == nil && strings.HasSuffix(host, ".test") {
			addr = net.JoinHostPort("127.0.0.1", port)
		}
		return (&net.Dialer{}).DialContext(ctx, network, addr)
	},
	TLSClientConfig: &tls.Config{InsecureSkipVerify: true},
}}

// crossCheck runs caddy cors check's decision on the scenario's own fetch
// and compares it with what Chromium decided (saw): the same verdict and,
// for an allowed request, the same readable headers. Where the scenario
// says the standard blocks what Chromium allows, the check must follow the
// standard. It returns the disagreement, or "".
func crossCheck(s scenario, saw scriptSaw) string {
	in := checkInput{URL: s.url(s.fetch), Origin: s.page, Method: s.fetch.method, Credentials: s.fetch.credentials == include}
	for _, h := range s.fetch.headers {
		in.Headers = append(in.Headers, headerPair{Name: h[0], Value: h[1]})
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	report := checkCORS(ctx, checkClient, in)

	wantBlocked := saw.Blocked || s.standardBlocks
	var readable []string
	for _, h := range report.Readable {
		if l := strings.ToLower(h); slices.Contains(probeHeaders, l) {
			readable = append(readable, l)
		}
	}
	switch {
	case report.Verdict == verdictError:
		return fmt.Sprintf("caddy cors check could not check: %s %s", report.Reason, report.Message)
	case (report.Verdict == verdictBlocked) != wantBlocked:
		return fmt.Sprintf("caddy cors check says %s (%s: %s), the browser %s", report.Verdict, report.Reason, report.Message, sawString(saw))
	case !wantBlocked && !slices.Equal(readable, sortedCopy(saw.Readable)):
		return fmt.Sprintf("caddy cors check says a script reads %v, the browser read %v", readable, sortedCopy(saw.Readable))
	}
	return ""
}

func sawEqual(a, b scriptSaw) bool {
	if a.Blocked || b.Blocked {
		return a.Blocked == b.Blocked
	}
	return a.Status == b.Status && slices.Equal(sortedCopy(a.Readable), sortedCopy(b.Readable))
}

func sortedCopy(s []string) []string {
	s = slices.Clone(s)
	slices.Sort(s)
	return s
}

func sawString(s scriptSaw) string {
	if s.Blocked {
		if s.Error != "" {
			return "blocked (" + s.Error + ")"
		}
		return "blocked"
	}
	return fmt.Sprintf("status %d, readable %v", s.Status, sortedCopy(s.Readable))
}

// loadCaddyfile replaces the running configuration through the admin API.
func loadCaddyfile(cfg string) error {
	res, err := http.Post("http://localhost:2999/load", "text/caddyfile", strings.NewReader(cfg))
	if err != nil {
		return err
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		body, _ := io.ReadAll(res.Body)
		return fmt.Errorf("%s: %s", res.Status, body)
	}
	return nil
}
