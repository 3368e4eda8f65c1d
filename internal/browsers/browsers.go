// Package browsers starts real browser engines and drives one page in each:
// Chromium through the Chrome DevTools Protocol, Firefox through WebDriver
// BiDi, and WebKitGTK's MiniBrowser through classic WebDriver. The tests of
// the cors module use it to run the same browser scenarios in all three.
//
// An engine offers what a scenario needs and no more: load a page, evaluate
// an async JavaScript expression there and decode its JSON value, and, where
// the engine reports them, the CORS errors it logged:
//
//	proxy, err := browsers.StartProxy("test") // *.test → 127.0.0.1
//	...
//	defer proxy.Close()
//	e, err := browsers.Start(ctx, browsers.Firefox, browsers.Options{
//		Dir: t.TempDir(), Proxy: proxy.Addr, TrustedKeys: keys})
//	...
//	defer e.Close()
//	var got struct{ Status int }
//	err = browsers.RunAt(ctx, e, "https://app.example.test:9443/",
//		`fetch("https://api.example.test:9443/").then((r) => ({Status: r.status}))`, &got)
package browsers

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
)

// The engines, by the names Start takes.
const (
	Chromium = "chromium"
	Firefox  = "firefox"
	WebKit   = "webkit"
)

// Names lists every engine Start knows, in the order the suite runs them.
var Names = []string{Chromium, Firefox, WebKit}

// Where Debian's packages install what each engine needs.
const (
	chromiumPath        = "/usr/bin/chromium"
	firefoxPath         = "/usr/bin/firefox-esr"
	webKitWebDriverPath = "/usr/bin/WebKitWebDriver"
	miniBrowserPath     = "/usr/lib/x86_64-linux-gnu/webkit2gtk-4.1/MiniBrowser"
	xvfbPath            = "/usr/bin/Xvfb"
)

// requirements lists, per engine, the programs it needs and the Debian
// packages that bring them.
var requirements = map[string]struct {
	programs []string
	packages []string
}{
	Chromium: {[]string{chromiumPath}, []string{"chromium"}},
	Firefox:  {[]string{firefoxPath}, []string{"firefox-esr"}},
	WebKit:   {[]string{webKitWebDriverPath, miniBrowserPath, xvfbPath}, []string{"webkit2gtk-driver", "libwebkit2gtk-4.1-0", "xvfb"}},
}

// Packages returns the Debian packages that install engine.
func Packages(engine string) []string { return requirements[engine].packages }

// Missing returns the programs engine (one of Names) needs that are not
// installed, or nil when it can run here.
func Missing(engine string) []string {
	var missing []string
	for _, p := range requirements[engine].programs {
		if _, err := exec.LookPath(p); err != nil {
			missing = append(missing, p)
		}
	}
	return missing
}

// Options are what every engine is started with.
type Options struct {
	// Dir is an empty directory the engine may use for its profile; the
	// caller removes it.
	Dir string
	// Proxy is the address (host:port) of an HTTP proxy that the engine
	// sends every request to, except those to localhost and 127.0.0.1,
	// which go direct. See Proxy, which maps test names to loopback.
	Proxy string
	// TrustedKeys are the SPKI fingerprints (base64 of SHA-256) of the
	// certificates to accept although no root the engine knows signed
	// them. Chromium accepts exactly these; Firefox and WebKit have no
	// such list and accept every certificate when TrustedKeys is not
	// empty (acceptInsecureCerts), which keeps pages secure contexts.
	TrustedKeys []string
}

// Engine is one running browser with one page.
//
// A scenario navigates to a page of the origin it acts from, then evaluates
// a script there; nothing else is needed to drive fetch(), forms, frames or
// WebSockets. An Engine is not safe for concurrent use.
type Engine interface {
	// Name is the name Start was given: Chromium, Firefox or WebKit.
	Name() string
	// Navigate loads url in the page and returns once its load event has
	// fired.
	Navigate(ctx context.Context, url string) error
	// Eval evaluates the JavaScript expression expr in the page, awaits its
	// value if it is a promise, and decodes that value (which must survive
	// JSON.stringify) into out with encoding/json. A thrown exception or a
	// rejected promise is an error.
	Eval(ctx context.Context, expr string, out any) error
	// CORSErrors returns the CORS errors the engine reported for requests
	// to URLs that start with prefix, in its own words, or nil. WebKit
	// reports none over WebDriver.
	CORSErrors(prefix string) []string
	// Close ends the browser and every process it started.
	Close() error
}

// Start starts the engine named name (one of Names) with one blank page.
func Start(ctx context.Context, name string, opts Options) (Engine, error) {
	if _, ok := requirements[name]; !ok {
		return nil, fmt.Errorf("no engine named %q: use one of %s", name, strings.Join(Names, ", "))
	}
	if missing := Missing(name); len(missing) > 0 {
		return nil, fmt.Errorf("%s cannot run here: %s missing (apt-get install %s)", name, strings.Join(missing, ", "), strings.Join(Packages(name), " "))
	}
	if opts.Dir == "" {
		return nil, errors.New("browsers.Options.Dir is empty: give each engine a directory of its own for its profile")
	}
	if err := os.MkdirAll(opts.Dir, 0o700); err != nil {
		return nil, err
	}
	switch name {
	case Chromium:
		return startChromium(ctx, opts)
	case Firefox:
		return startFirefox(ctx, opts)
	default:
		return startWebKit(ctx, opts)
	}
}

// asJSON wraps expr so that the page returns its awaited value as a JSON
// string: each protocol has its own encoding of values, a string is the
// one they share.
func asJSON(expr string) string {
	return "(async () => JSON.stringify((await (" + expr + ")) ?? null))()"
}
