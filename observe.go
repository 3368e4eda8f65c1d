package cors

import (
	"net/http"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

// What the handler decided is visible outside it in four ways, all of
// which name a refusal with the same word (refusalReason.word): the
// metrics (metrics.go), two fields of the access log entry, two
// placeholders, and the shadow policy's log lines (shadow.go).

// The placeholders that hold the decision, for the handlers that run after
// cors (header, respond) and those around it (log_append): "allowed" or
// "refused", and the reason of a refusal. Both are empty for a request
// without an Origin header.
const (
	placeholderResult = "http.cors.result"
	placeholderReason = "http.cors.reason"
)

// placeholders answer the two placeholders, one function per reason and a
// last one, noCORS, for requests without an Origin header. They are made
// once with their values boxed, so that handing one to a request's
// replacer allocates nothing: Replacer.Set would put the values into the
// replacer's map, whose first entry allocates it, while Replacer.Map
// appends to a slice that Caddy's HTTP server leaves room in.
var placeholders = func() (fns [numRefusalReasons + 1]caddy.ReplacerFunc) {
	answer := func(result, reason string) caddy.ReplacerFunc {
		var boxedResult, boxedReason any = result, reason
		return func(key string) (any, bool) {
			switch key {
			case placeholderResult:
				return boxedResult, true
			case placeholderReason:
				return boxedReason, true
			}
			return nil, false
		}
	}
	for r := range numRefusalReasons {
		fns[r] = answer(r.result(), r.word())
	}
	fns[noCORS] = answer("", "")
	return fns
}()

// noCORS indexes placeholders for a request without an Origin header.
const noCORS = numRefusalReasons

// accessLogFields adds cors_result and, for a refusal, cors_reason to an
// access log entry. One inline field carries both, so that adding them
// grows the request's list of extra fields once.
type accessLogFields refusalReason

// MarshalLogObject writes the fields.
func (f accessLogFields) MarshalLogObject(enc zapcore.ObjectEncoder) error {
	r := refusalReason(f)
	enc.AddString("cors_result", r.result())
	if r != allowed {
		enc.AddString("cors_reason", r.word())
	}
	return nil
}

// observe makes the decision d on request r visible: it hands the
// placeholders to the request's replacer, counts the request, adds the
// fields of its access log entry, and compares the shadow policy's
// decision. It allocates only for the access log, when the server writes
// one, and for a log line of the shadow policy.
func (h *Handler) observe(r *http.Request, d *decision) {
	ctx := r.Context()
	if repl, ok := ctx.Value(caddy.ReplacerCtxKey).(*caddy.Replacer); ok {
		i := noCORS
		if d.kind != notCORS {
			i = d.refusal.reason
		}
		repl.Map(placeholders[i])
	}
	if d.kind == notCORS {
		return
	}
	if h.counters != nil {
		h.counters.requests[d.kind][d.refusal.reason].Inc()
	}
	// Every request Caddy serves carries a list of extra access log
	// fields, whether or not it is logged, and adding a field allocates:
	// only where the server writes access logs.
	if h.accessLogs {
		if extra, ok := ctx.Value(caddyhttp.ExtraLogFieldsCtxKey).(*caddyhttp.ExtraLogFields); ok {
			extra.Add(zap.Inline(accessLogFields(d.refusal.reason)))
		}
	}
	if h.shadow != nil {
		h.shadow.compare(h, r, d)
	}
}

// serverWritesAccessLogs reports whether the handler is provisioned in an
// http server that writes access logs. The server's log configuration is
// set before its routes, and so the handler, are provisioned.
func serverWritesAccessLogs(ctx caddy.Context) bool {
	if ctx.Context == nil {
		return false
	}
	srv, ok := ctx.Value(caddyhttp.ServerCtxKey).(*caddyhttp.Server)
	return ok && srv.Logs != nil
}
