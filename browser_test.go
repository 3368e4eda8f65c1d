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
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig/httpcaddyfile"
	"github.com/caddyserver/caddy/v2/caddytest"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"

	"github.com/caddy-cors/cors/internal/browsers"
)

// The browser suite: headless Chromium, Firefox and WebKit (each one that
// is installed) load pages from several origins and call fetch() against a
// Caddy that runs this module (in this process, through caddytest). Each
// scenario asserts what the script saw and what the server saw. Its
// scenarios are listed in browser_scenarios_test.go; the engines are driven
// by internal/browsers.

// The origins pages are served from. Every engine reaches the *.test names
// on 127.0.0.1 through a proxy in the test process (browsers.Proxy), while
// localhost and 127.0.0.1, two different origins on the same address, go
// direct.
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
	// script, if set, runs instead of the fetch, which still describes
	// the request to caddy cors check.
	script stepScript
	times  int
	want   scriptSaw
}

// stepScript is a step that is not a fetch() call.
type stepScript struct {
	name string // what it does, for the README
	// js is a JavaScript function that runs on the step's page, is
	// called with the scenario's URL, and returns (or resolves to) what
	// the script saw, in scriptSaw's JSON form.
	js string
}

// serverSaw is what reached Caddy over a whole scenario.
type serverSaw struct {
	preflights      int  // OPTIONS requests carrying Access-Control-Request-Method
	preflightStatus int  // the status the last preflight was answered with; 0 when not checked
	actual          int  // every other request
	cookie          bool // the last actual request carried the cookie the API set
}

// scenario is one policy, one or more fetches, and what both sides see.
//
// want and server are what the Fetch standard makes every engine see. A
// verdict (blocked or read, and which headers) is the same in every engine:
// one that differs is a finding, never an expectation. Where an engine
// legitimately differs in what the server sees (a cache the standard leaves
// to it, a cap on its lifetime), engines says so.
type scenario struct {
	name   string
	policy string // key of browserPolicies
	before []step // run first, each checked too
	reload string // if set, the policy's cors directive is replaced by this through /load after before
	step          // the fetch the scenario is about
	server serverSaw
	// browsers says where every engine departs from the Fetch standard
	// here, if they do.
	browsers string
	// standardBlocks is set where the Fetch standard blocks the fetch that
	// the engines allow; caddy cors check follows the standard.
	standardBlocks bool
	// engines holds, by engine name, where one engine's server side
	// differs from the standard's.
	engines map[string]departure
}

// departure is how one engine departs, in a scenario, from what the
// standard makes the server see, and why that is not a verdict.
type departure struct {
	server serverSaw // what the server sees with this engine
	why    string
}

// serverFor is what the server sees of s when engine runs it.
func (s scenario) serverFor(engine string) serverSaw {
	if d, ok := s.engines[engine]; ok {
		return d.server
	}
	return s.server
}

// path is the scenario's own path on the API, per engine, so that no
// scenario benefits from another's preflight cache, HTTP cache or cookies,
// and the server's log tells engines apart.
func (s scenario) path(engine string) string {
	return "/" + s.policy + "/" + engine + "/" + slug(s.name) + "/"
}

// url is where the scenario's fetch f goes when engine runs it.
func (s scenario) url(engine string, f fetchCall) string {
	return apiBase + s.path(engine) + f.path
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

// certificateKeys waits until every HTTPS site among sites has its
// certificate (Caddy's local CA issues them in the background after a
// load), and returns the SPKI fingerprints (base64 of SHA-256) of the
// certificates they present: their leaves and the intermediate of Caddy's
// local CA, which signed them all. Sites over plain http are skipped.
func certificateKeys(t *testing.T, sites ...string) []string {
	t.Helper()
	var keys []string
	for _, site := range sites {
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

// fetchExpression is the JavaScript expression that makes f's fetch() of
// url and reports what the script saw.
func fetchExpression(url string, f fetchCall) (string, error) {
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
		return "", err
	}
	return fmt.Sprintf("(%s)(...%s)", fetchScript, args), nil
}

// runStep runs st in engine e against url: from st.page (an origin, or
// sandboxed for an opaque origin inside the app's page), the step's script
// if it has one, else its fetch; and returns what the script saw.
func runStep(e browsers.Engine, st step, url string) (scriptSaw, error) {
	expr := ""
	if st.script.js != "" {
		arg, _ := json.Marshal(url)
		expr = fmt.Sprintf("(%s)(%s)", st.script.js, arg)
	} else {
		var err error
		if expr, err = fetchExpression(url, st.fetch); err != nil {
			return scriptSaw{}, err
		}
	}
	page := st.page
	if page == sandboxed {
		page = app
		expr = browsers.InSandboxedFrame(expr)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var saw scriptSaw
	err := browsers.RunAt(ctx, e, page+"/", expr, &saw)
	return saw, err
}

// suite counts, per engine, the browser scenarios that ran and agreed, over
// the tests of the suite (TestBrowser and TestBrowserCrossOriginProtection),
// for the one line TestMain prints last, after every test (go test shows a
// passing package's output only in its local-directory mode, and -v).
var suite struct {
	wanted []string // the engines asked for, in order; nil until a test of the suite runs
	tally  map[string]*engineTally
}

// suiteScenarios is how many scenarios the suite has in all.
func suiteScenarios() int { return len(browserScenarios) + len(protectionScenarios) }

// enginesToRun returns the wanted engines that are installed. The others
// are skipped, with the packages that bring them in the summary; in CI, a
// missing engine fails t. It skips t under -short, and when no engine can
// run.
func enginesToRun(t *testing.T) []string {
	t.Helper()
	if testing.Short() {
		t.Skip("browser scenarios need the browsers and the test Caddy")
	}
	if suite.wanted == nil {
		suite.wanted = wantedEngines(t)
		suite.tally = map[string]*engineTally{}
		for _, name := range suite.wanted {
			suite.tally[name] = &engineTally{name: name, skipped: missingEngine(name)}
		}
	}
	var names []string
	for _, name := range suite.wanted {
		switch tally := suite.tally[name]; {
		case tally.skipped == "":
			names = append(names, name)
		case enginesRequired():
			t.Errorf("browser: CI must run the %d browser scenarios in %s: %s", suiteScenarios(), name, tally.skipped)
		}
	}
	if t.Failed() {
		t.FailNow()
	}
	if len(names) == 0 {
		t.Skip(browserSummary())
	}
	return names
}

// runInEngines runs one scenario in each engine as a subtest named after
// the engine, and counts it for the engines that -run does not leave out.
func runInEngines(t *testing.T, engines []browsers.Engine, run func(*testing.T, browsers.Engine)) {
	for _, e := range engines {
		ran := false
		agreed := t.Run(e.Name(), func(t *testing.T) { ran = true; run(t, e) })
		if ran {
			suite.tally[e.Name()].ran++
			if agreed {
				suite.tally[e.Name()].agreed++
			}
		}
	}
}

// browserSummary is the suite's line: how many scenarios each engine ran
// and agreed on, or why it was skipped; "" if no test of the suite ran.
func browserSummary() string {
	if suite.wanted == nil {
		return ""
	}
	parts := make([]string, len(suite.wanted))
	for i, name := range suite.wanted {
		parts[i] = suite.tally[name].String()
	}
	return fmt.Sprintf("browser: %d scenarios; %s", suiteScenarios(), strings.Join(parts, ", "))
}

// TestMain holds Caddy's logs back while the tests run and shows them if a
// test failed (caddylogs_test.go), and prints the browser suite's summary
// last.
func TestMain(m *testing.M) {
	if os.Getenv(logKeeperEnv) != "" {
		runLogKeeper()
	}
	release := holdCaddyLogs()
	code := m.Run()
	release(code != 0)
	if line := browserSummary(); line != "" {
		fmt.Println(line)
	}
	os.Exit(code)
}

// browsersEnv, if set, names the engines to run (comma-separated), for
// example CORS_BROWSERS=firefox; by default every engine runs.
const browsersEnv = "CORS_BROWSERS"

// enginesRequired reports whether a missing engine is a failure rather
// than a reason to skip: in CI, every engine is installed.
func enginesRequired() bool { return os.Getenv("CI") != "" }

// wantedEngines returns the engines to run: those browsersEnv names, or
// all of them.
func wantedEngines(t *testing.T) []string {
	v := os.Getenv(browsersEnv)
	if v == "" {
		return browsers.Names
	}
	var names []string
	for _, n := range strings.Split(v, ",") {
		n = strings.TrimSpace(n)
		if !slices.Contains(browsers.Names, n) {
			t.Fatalf("%s=%q: no engine named %q; the engines are %s", browsersEnv, v, n, strings.Join(browsers.Names, ", "))
		}
		names = append(names, n)
	}
	return names
}

// missingEngine says what an engine lacks and which packages bring it.
func missingEngine(name string) string {
	if m := browsers.Missing(name); len(m) > 0 {
		return fmt.Sprintf("%s skipped, no %s (apt-get install %s)", name, strings.Join(m, ", "), strings.Join(browsers.Packages(name), " "))
	}
	return ""
}

// engineTally counts, for one engine, the scenarios it ran and those it
// agreed on.
type engineTally struct {
	name        string
	skipped     string // why it did not run, if it did not
	ran, agreed int
}

func (e engineTally) String() string {
	switch {
	case e.skipped != "":
		return e.skipped
	case e.ran == suiteScenarios() && e.agreed == e.ran:
		return fmt.Sprintf("%s %d agree", e.name, e.agreed)
	}
	return fmt.Sprintf("%s %d of %d agree", e.name, e.agreed, e.ran)
}

// TestBrowser runs every scenario in every installed engine and prints a
// one-line summary.
func TestBrowser(t *testing.T) {
	names := enginesToRun(t)
	caddytest.NewTester(withoutConfigDump{t}).InitServer(caddyfileFor(browserPolicies), "caddyfile")
	if t.Failed() {
		t.FailNow()
	}
	engines := startEngines(t, names, certificateKeys(t, append([]string{apiBase}, pageOrigins...)...))
	if !t.Run("pages", func(t *testing.T) { checkPages(t, engines) }) {
		t.FailNow()
	}

	for _, s := range browserScenarios {
		t.Run(slug(s.name), func(t *testing.T) {
			runInEngines(t, engines, func(t *testing.T, e browsers.Engine) { runScenario(t, e, s) })
		})
	}
}

// withoutConfigDump is the test as caddytest sees it: caddytest dumps the
// whole running configuration when the test that loaded it fails, which
// would bury a scenario's report (which prints the policy that matters).
// Loading it in a subtest of its own instead would leave it unloaded when
// -run selects scenarios (TestBrowser/<slug>).
type withoutConfigDump struct{ testing.TB }

// Failed tells caddytest's cleanup there is nothing to dump.
func (withoutConfigDump) Failed() bool { return false }

// startEngines starts the named engines side by side, each pointed at a
// proxy that reaches the .test names on 127.0.0.1 and trusting the
// certificates of trustedKeys, and stops them when t ends.
func startEngines(t *testing.T, names []string, trustedKeys []string) []browsers.Engine {
	t.Helper()
	proxy, err := browsers.StartProxy("test")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		proxy.Close()
		if r := slices.Compact(slices.Sorted(slices.Values(proxy.Refused()))); len(r) > 0 {
			t.Logf("the proxy refused the engines' own requests to %s", strings.Join(r, ", "))
		}
	})
	engines := make([]browsers.Engine, len(names))
	errs := make([]error, len(names))
	var wg sync.WaitGroup
	for i, name := range names {
		dir := t.TempDir()
		wg.Go(func() {
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			engines[i], errs[i] = browsers.Start(ctx, name, browsers.Options{Dir: dir, Proxy: proxy.Addr, TrustedKeys: trustedKeys})
		})
	}
	wg.Wait()
	for i, e := range engines {
		if e != nil {
			t.Cleanup(func() { e.Close() })
		} else {
			t.Errorf("browser: %v", errs[i])
		}
	}
	if t.Failed() {
		t.FailNow()
	}
	return engines
}

// checkPages checks that every engine gets every page from the test Caddy,
// at its own origin, and, over HTTPS, as a secure context (which Secure
// cookies and some fetch() rules need) although the engine trusts the
// test CA only through TrustedKeys.
func checkPages(t *testing.T, engines []browsers.Engine) {
	for _, e := range engines {
		for _, page := range pageOrigins {
			var got struct {
				Origin string `json:"origin"`
				Title  string `json:"title"`
				Secure bool   `json:"secure"`
			}
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			err := browsers.RunAt(ctx, e, page+"/", "({origin: location.origin, title: document.title, secure: window.isSecureContext})", &got)
			cancel()
			if err != nil {
				t.Error(err)
				continue
			}
			// localhost and 127.0.0.1 are secure contexts over HTTP too.
			if got.Origin != page || got.Title != "page" || !got.Secure {
				t.Errorf("%s: %s/ is %+v; want origin %s, the title \"page\" the test Caddy serves, a secure context", e.Name(), page, got, page)
			}
		}
	}
}

// runScenario runs the steps of s in engine e and checks both sides; a
// failure prints everything a reader needs to see why.
func runScenario(t *testing.T, e browsers.Engine, s scenario) {
	var problems []string
	var last scriptSaw // what the browser saw of the scenario's own fetch
	check := func(st step) {
		times := max(st.times, 1)
		for i := range times {
			saw, err := runStep(e, st, s.url(e.Name(), st.fetch))
			if err != nil {
				problems = append(problems, fmt.Sprintf("step from %s: %v", st.page, err))
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

	prefix := s.path(e.Name())
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
	want := s.serverFor(e.Name())
	if want.preflightStatus == 0 {
		got.preflightStatus = 0
	}
	if got != want {
		problems = append(problems, fmt.Sprintf("server saw %+v\n\t\twant       %+v", got, want))
	}
	// Last, as its requests are not the browser's: caddy cors check must
	// decide the scenario's own fetch as the browser did.
	if p := crossCheck(s, e.Name(), last); p != "" {
		problems = append(problems, p)
	}
	if len(problems) == 0 {
		return
	}

	var report strings.Builder
	fmt.Fprintf(&report, "scenario %q disagrees in %s:\n", s.name, e.Name())
	for _, p := range problems {
		fmt.Fprintf(&report, "\t%s\n", p)
	}
	cors := browserPolicies[s.policy].cors
	if s.reload != "" {
		cors += "\n(then, through /load)\n" + s.reload
	}
	fmt.Fprintf(&report, "policy (under /%s/):\n%s\n", s.policy, indent(cors, "\t"))
	if s.browsers != "" {
		fmt.Fprintf(&report, "every engine: %s\n", s.browsers)
	}
	if d, ok := s.engines[e.Name()]; ok {
		fmt.Fprintf(&report, "%s: %s\n", e.Name(), d.why)
	}
	fmt.Fprintf(&report, "requests the server saw:\n")
	for _, r := range requests {
		fmt.Fprintf(&report, "\t%s %s\n\t\trequest:  %s\n\t\tanswered: %d %s\n", r.method, r.path,
			headerLine(r.header), r.status, headerLine(r.responseHeader))
	}
	// Engines report a failed load slightly after the script sees it.
	time.Sleep(100 * time.Millisecond)
	if errs := e.CORSErrors(apiBase + prefix); len(errs) > 0 {
		fmt.Fprintf(&report, "%s's CORS errors:\n\t%s\n", e.Name(), strings.Join(errs, "\n\t"))
	} else if e.Name() == browsers.WebKit {
		fmt.Fprintf(&report, "webkit gives no console messages over WebDriver\n")
	} else {
		fmt.Fprintf(&report, "%s reported no CORS error\n", e.Name())
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
// and compares it with what the engine decided (saw): the same verdict and,
// for an allowed request, the same readable headers. Where the scenario
// says the standard blocks what the engines allow, the check must follow
// the standard. It returns the disagreement, or "".
func crossCheck(s scenario, engine string, saw scriptSaw) string {
	in := checkInput{URL: s.url(engine, s.fetch), Origin: s.page, Method: s.fetch.method, Credentials: s.fetch.credentials == include}
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
