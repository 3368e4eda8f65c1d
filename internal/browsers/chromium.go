package browsers

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
)

// chromium is headless Chromium with one tab, driven through the Chrome
// DevTools Protocol by chromedp, and the CORS errors DevTools reported.
type chromium struct {
	ctx    context.Context
	cancel func()

	mu         sync.Mutex
	urls       map[network.RequestID]string
	corsErrors map[string][]string // URL → Chromium's CORS error reasons
}

func startChromium(ctx context.Context, opts Options) (Engine, error) {
	flags := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromiumPath),
		chromedp.UserDataDir(opts.Dir),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-component-update", true),
	)
	if opts.Proxy != "" {
		// Chromium sends localhost and loopback addresses direct whatever
		// the proxy (its implicit "<-loopback>" bypass rule).
		flags = append(flags, chromedp.ProxyServer("http://"+opts.Proxy))
	}
	if len(opts.TrustedKeys) > 0 {
		// Chains that hold one of these keys count as valid, so that pages
		// are secure contexts and keep their cookies, as in production.
		flags = append(flags, chromedp.Flag("ignore-certificate-errors-spki-list", strings.Join(opts.TrustedKeys, ",")))
	}
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), flags...)
	tabCtx, cancelTab := chromedp.NewContext(allocCtx)
	c := &chromium{
		ctx:    tabCtx,
		cancel: func() { cancelTab(); cancelAlloc() },
		urls:   map[network.RequestID]string{}, corsErrors: map[string][]string{},
	}
	err := chromedp.Listen(tabCtx, func(ev any) {
		c.mu.Lock()
		defer c.mu.Unlock()
		switch ev := ev.(type) {
		case *network.EventRequestWillBeSent:
			c.urls[ev.RequestID] = ev.Request.URL
		case *network.EventLoadingFailed:
			if s := ev.CorsErrorStatus; s != nil {
				reason := s.CorsError.String()
				if s.FailedParameter != "" {
					reason += " (" + s.FailedParameter + ")"
				}
				u := c.urls[ev.RequestID]
				c.corsErrors[u] = append(c.corsErrors[u], reason)
			}
		}
	})
	if err != nil {
		c.cancel()
		return nil, fmt.Errorf("starting %s: %w", chromiumPath, err)
	}
	start, cancel := context.WithTimeout(tabCtx, 30*time.Second)
	defer cancel()
	stop := context.AfterFunc(ctx, cancel)
	defer stop()
	if _, err := chromedp.Call(start, network.Enable, network.EnableParams{}); err != nil {
		c.cancel()
		return nil, fmt.Errorf("starting %s: %w", chromiumPath, err)
	}
	return c, nil
}

func (c *chromium) Name() string { return Chromium }

// within runs fn under ctx's deadline, in the tab's context.
func (c *chromium) within(ctx context.Context, fn func(context.Context) error) error {
	tctx, cancel := context.WithCancel(c.ctx)
	defer cancel()
	if d, ok := ctx.Deadline(); ok {
		var cancelD func()
		tctx, cancelD = context.WithDeadline(tctx, d)
		defer cancelD()
	}
	stop := context.AfterFunc(ctx, cancel)
	defer stop()
	return fn(tctx)
}

func (c *chromium) Navigate(ctx context.Context, url string) error {
	return c.within(ctx, func(ctx context.Context) error { return chromedp.Do(ctx, chromedp.Navigate(url)) })
}

func (c *chromium) Eval(ctx context.Context, expr string, out any) error {
	return c.within(ctx, func(ctx context.Context) error {
		s, err := chromedp.Run(ctx, chromedp.Evaluate[string](asJSON(expr), chromedp.EvalAwaitPromise))
		if err != nil {
			return err
		}
		return json.Unmarshal([]byte(s), out)
	})
}

func (c *chromium) CORSErrors(prefix string) []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []string
	for u, reasons := range c.corsErrors {
		if strings.HasPrefix(u, prefix) {
			for _, r := range reasons {
				out = append(out, u+": "+r)
			}
		}
	}
	slices.Sort(out)
	return out
}

func (c *chromium) Close() error {
	c.cancel()
	return nil
}
