package browsers

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"
)

// webKit is WebKitGTK's MiniBrowser on a virtual X display, driven through
// classic WebDriver by WebKitWebDriver.
type webKit struct {
	xvfb, driver *process
	wd           *webDriver
}

// startXvfb starts a virtual X display on a free display number, which
// Xvfb writes on the descriptor -displayfd names, and returns the process
// and the display (":N").
func startXvfb(ctx context.Context) (*process, string, error) {
	r, w, err := os.Pipe()
	if err != nil {
		return nil, "", err
	}
	defer r.Close()
	cmd := exec.Command(xvfbPath, "-displayfd", "3", "-nolisten", "tcp", "-screen", "0", "1280x1024x24")
	cmd.ExtraFiles = []*os.File{w} // descriptor 3
	proc, err := startProcess(cmd)
	w.Close()
	if err != nil {
		return nil, "", err
	}
	line := make(chan string, 1)
	go func() {
		s, _ := bufio.NewReader(r).ReadString('\n')
		line <- strings.TrimSpace(s)
	}()
	select {
	case s := <-line:
		if _, err := strconv.Atoi(s); err != nil {
			proc.stop()
			return nil, "", fmt.Errorf("%s gave no display number (%q): %s", xvfbPath, s, proc.out)
		}
		return proc, ":" + s, nil
	case <-ctx.Done():
		proc.stop()
		return nil, "", fmt.Errorf("%s gave no display number: %w; it wrote: %s", xvfbPath, ctx.Err(), proc.out)
	}
}

// freePort returns a TCP port of 127.0.0.1 that was free a moment ago:
// WebKitWebDriver takes a port number, not an open socket.
func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// miniBrowserArgs are the arguments WebKitWebDriver passes to MiniBrowser.
func miniBrowserArgs(proxy string) []string {
	args := []string{
		// WebKitWebDriver 2.50 does not add it itself; without it, the
		// new session never answers.
		"--automation",
		// The default, no-third-party, asks libsoup for each site's base
		// domain, which it knows none of under .test: every test site
		// would be third party to every other, and the API's cookies
		// dropped.
		"--cookies-policy=always",
	}
	if proxy != "" {
		// One --ignore-host per host: MiniBrowser takes them as a list of
		// options, and would read "localhost,127.0.0.1" as one host name.
		args = append(args, "--proxy=http://"+proxy, "--ignore-host=localhost", "--ignore-host=127.0.0.1")
	}
	return args
}

func startWebKit(ctx context.Context, opts Options) (Engine, error) {
	start, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	xvfb, display, err := startXvfb(start)
	if err != nil {
		return nil, fmt.Errorf("starting WebKit: %w", err)
	}
	k := &webKit{xvfb: xvfb}
	fail := func(err error) (Engine, error) {
		k.Close() //nolint:errcheck // reporting err
		return nil, fmt.Errorf("starting WebKit: %w", err)
	}
	port, err := freePort()
	if err != nil {
		return fail(err)
	}
	cmd := exec.Command(webKitWebDriverPath, "--port="+strconv.Itoa(port), "--host=local")
	cmd.Dir = opts.Dir
	cmd.Env = append(os.Environ(), "DISPLAY="+display, "HOME="+opts.Dir,
		"XDG_CACHE_HOME="+opts.Dir+"/cache", "XDG_DATA_HOME="+opts.Dir+"/data", "XDG_CONFIG_HOME="+opts.Dir+"/config")
	if k.driver, err = startProcess(cmd); err != nil {
		return fail(err)
	}
	k.wd = &webDriver{base: "http://127.0.0.1:" + strconv.Itoa(port), client: &http.Client{}}
	for {
		var status struct {
			Ready bool `json:"ready"`
		}
		if err := k.wd.do(start, http.MethodGet, "/status", nil, &status); err == nil && status.Ready {
			break
		}
		if k.driver.exited() {
			return fail(fmt.Errorf("%s exited: %s", webKitWebDriverPath, k.driver.out))
		}
		select {
		case <-start.Done():
			return fail(fmt.Errorf("%s did not answer: %w; it wrote: %s", webKitWebDriverPath, start.Err(), k.driver.out))
		case <-time.After(50 * time.Millisecond):
		}
	}
	caps := map[string]any{
		// The test server's certificates come from a CA MiniBrowser does
		// not know; a page whose certificate error is ignored is still
		// https, so still a secure context with its Secure cookies.
		"acceptInsecureCerts": len(opts.TrustedKeys) > 0,
		"webkitgtk:browserOptions": map[string]any{
			"binary": miniBrowserPath,
			"args":   miniBrowserArgs(opts.Proxy),
		},
	}
	if _, err := k.wd.newSession(start, caps); err != nil {
		return fail(fmt.Errorf("%w; WebKitWebDriver wrote: %s", err, k.driver.out))
	}
	if err := k.wd.do(start, http.MethodPost, "/timeouts", map[string]any{"script": 30000, "pageLoad": 30000}, nil); err != nil {
		return fail(err)
	}
	return k, nil
}

func (k *webKit) Name() string { return WebKit }

func (k *webKit) Navigate(ctx context.Context, url string) error {
	return k.wd.do(ctx, http.MethodPost, "/url", map[string]any{"url": url}, nil)
}

func (k *webKit) Eval(ctx context.Context, expr string, out any) error {
	var v []*string
	if err := k.wd.do(ctx, http.MethodPost, "/execute/async", map[string]any{"script": executeAsyncScript(expr), "args": []any{}}, &v); err != nil {
		return err
	}
	return decodeAsyncResult(v, out)
}

// CORSErrors returns nil: WebKit gives no console messages over classic
// WebDriver.
func (k *webKit) CORSErrors(string) []string { return nil }

func (k *webKit) Close() error {
	if k.wd != nil && k.wd.session != "" {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		k.wd.do(ctx, http.MethodDelete, "", nil, nil) //nolint:errcheck // killed below in any case
		cancel()
	}
	if k.driver != nil {
		k.driver.stop()
	}
	k.xvfb.stop()
	return nil
}
