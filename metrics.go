package cors

import (
	"errors"
	"fmt"
	"sync"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	"github.com/prometheus/client_golang/prometheus"
)

// The handler counts what it decides in two Prometheus counters:
//
//	caddy_cors_requests_total{kind, result, reason}
//	caddy_cors_shadow_disagreements_total{kind, change, reason}
//
// Their labels take a few fixed words (reasonWords, kindWords,
// changeWords), never a value the client chose, such as the Origin or the
// path: the number of series is fixed, whatever the traffic.
//
// They are counted only when Caddy's HTTP metrics are on (the "metrics"
// global option of a Caddyfile, or "metrics": {} in the http app), as
// Caddy's own caddy_http_* metrics are, and are then served with them by
// the admin API's /metrics and by the metrics handler. The handler learns
// it when it is provisioned, from the http app it belongs to, which Caddy
// makes available to its modules while it provisions them; the deprecated
// per-server "metrics" field turns them on too.
//
// The counters are shared by every cors handler of the process and
// outlive configuration reloads, as counters should: a reload does not
// reset them. Each configuration has a registry of its own, in which they
// are registered when its first cors handler with metrics is provisioned;
// later handlers of the same configuration find them there already.

// numKinds sizes the tables indexed by requestKind.
const numKinds = preflight + 1

// kindWords name the kinds of CORS requests in metrics; requests without
// an Origin are not counted.
var kindWords = [numKinds]string{actual: "actual", preflight: "preflight"}

// shadowChange says how the shadow policy's decision differs from the
// enforced policy's.
type shadowChange uint8

const (
	// wouldRefuse: the shadow policy refuses what the policy allows.
	wouldRefuse shadowChange = iota
	// wouldAllow: the shadow policy allows what the policy refuses.
	wouldAllow
	numChanges
)

// changeWords name the changes in metrics and logs.
var changeWords = [numChanges]string{wouldRefuse: "would_refuse", wouldAllow: "would_allow"}

// counters are the counters of every label combination, resolved once, so
// that counting a request is an atomic add: no label lookup, no
// allocation.
type counters struct {
	// requests by kind and reason: the reason says the result.
	requests [numKinds][numRefusalReasons]prometheus.Counter
	// shadow disagreements by kind, change and reason: the shadow's
	// reason for would_refuse, the policy's for would_allow.
	shadow [numKinds][numChanges][numRefusalReasons]prometheus.Counter
}

// metrics holds the process's counters, made when the first handler with
// metrics is provisioned.
var metrics struct {
	once       sync.Once
	requests   *prometheus.CounterVec
	shadow     *prometheus.CounterVec
	collectors counters
}

// makeCounters makes the counters and resolves every combination of their
// labels, so that each series is exported from the start, at 0.
func makeCounters() {
	metrics.requests = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: "caddy",
		Subsystem: "cors",
		Name:      "requests_total",
		Help:      "CORS requests (those with an Origin header) decided by the cors handler, by kind (preflight or actual), result (allowed or refused) and reason of a refusal.",
	}, []string{"kind", "result", "reason"})
	metrics.shadow = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: "caddy",
		Subsystem: "cors",
		Name:      "shadow_disagreements_total",
		Help:      "CORS requests that the shadow policy would decide otherwise, by kind, change (would_refuse or would_allow) and the refusal reason of the policy that refuses.",
	}, []string{"kind", "change", "reason"})
	for _, kind := range []requestKind{actual, preflight} {
		for reason := range numRefusalReasons {
			metrics.collectors.requests[kind][reason] = metrics.requests.WithLabelValues(kindWords[kind], reason.result(), reason.word())
			if reason == allowed {
				continue
			}
			for change := range numChanges {
				metrics.collectors.shadow[kind][change][reason] = metrics.shadow.WithLabelValues(kindWords[kind], changeWords[change], reason.word())
			}
		}
	}
}

// registerMetrics registers the counters in a configuration's registry,
// unless they are there already, and returns them.
func registerMetrics(registry prometheus.Registerer) (*counters, error) {
	metrics.once.Do(makeCounters)
	for _, c := range []*prometheus.CounterVec{metrics.requests, metrics.shadow} {
		err := registry.Register(c)
		var already prometheus.AlreadyRegisteredError
		if errors.As(err, &already) && already.ExistingCollector == c {
			continue // another cors handler of the same configuration
		}
		if err != nil {
			return nil, fmt.Errorf("registering the cors metrics: %v", err)
		}
	}
	return &metrics.collectors, nil
}

// httpMetricsOn reports whether Caddy's HTTP metrics are on for the
// configuration the handler is provisioned in.
func httpMetricsOn(ctx caddy.Context) bool {
	if ctx.Context == nil {
		return false
	}
	// The http app provisions its servers' routes, and so this handler,
	// with the server in the context, after it has set up its own Metrics.
	// Caddy keeps a reference to an app module while it is provisioned,
	// for its modules to find; outside a server (a handler provisioned by
	// another app), asking for the http app could load it early instead.
	srv, ok := ctx.Value(caddyhttp.ServerCtxKey).(*caddyhttp.Server)
	if !ok {
		return false
	}
	if srv.Metrics != nil {
		return true // deprecated per-server metrics, which turn on the app's
	}
	app, err := ctx.AppIfConfigured("http")
	if err != nil {
		return false
	}
	httpApp, ok := app.(*caddyhttp.App)
	return ok && httpApp.Metrics != nil
}

// provisionMetrics sets up the handler's counters when Caddy's HTTP
// metrics are on; h.counters stays nil otherwise, and counting costs a nil
// check.
func (h *Handler) provisionMetrics(ctx caddy.Context) error {
	if !httpMetricsOn(ctx) {
		return nil
	}
	registry := ctx.GetMetricsRegistry()
	if registry == nil {
		return nil
	}
	c, err := registerMetrics(registry)
	if err != nil {
		return err
	}
	h.counters = c
	return nil
}
