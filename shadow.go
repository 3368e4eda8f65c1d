package cors

import (
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"go.uber.org/zap"
)

// ShadowPolicy is a CORS policy that is evaluated beside the handler's own
// on every CORS request, and never answers one: it tells, in metrics and
// in the log, which requests it would decide otherwise, so that a policy
// can be tightened (or loosened) after watching what the change would do.
//
// It holds only the fields that decide whether a request is allowed.
// Those that shape an allowed answer (exposed_headers, max_age,
// preflight_status, options_passthrough) cannot be written in it, since
// only allowed against refused is compared; nor can a shadow of its own.
// It is checked with the same rules as the handler's policy when the
// configuration loads, its problems and warnings named "shadow: …".
//
// A disagreement is a request that one policy allows and the other
// refuses. Two refusals for different reasons agree, and so do two
// answers that allow a request with different headers (another
// Access-Control-Allow-Headers, or Access-Control-Allow-Private-Network).
//
// Under the handler's cross_origin_protection, the shadow policy's origins
// are also those the protection trusts in the shadow's decision: a shadow
// that lists fewer origins shows the writes it would refuse, with the
// reason cross_origin.
type ShadowPolicy struct {
	// The origins the shadow policy allows, as in the handler's
	// allowed_origins.
	AllowedOrigins []string `json:"allowed_origins,omitempty"`

	// Regular expressions of the origins the shadow policy allows, as in
	// the handler's allowed_origin_regexps.
	AllowedOriginRegexps []string `json:"allowed_origin_regexps,omitempty"`

	// The methods a preflight may ask for, as in the handler's
	// allowed_methods.
	AllowedMethods []string `json:"allowed_methods,omitempty"`

	// The request headers a preflight may ask for, as in the handler's
	// allowed_headers.
	AllowedHeaders []string `json:"allowed_headers,omitempty"`

	// As the handler's allow_credentials: it decides which origins may be
	// listed.
	AllowCredentials bool `json:"allow_credentials,omitempty"`

	// As the handler's allow_private_network. It changes an allowed
	// preflight's answer, not whether it is allowed, so it never makes a
	// disagreement.
	AllowPrivateNetwork bool `json:"allow_private_network,omitempty"`

	// As the handler's allow_insecure_origins.
	AllowInsecureOrigins bool `json:"allow_insecure_origins,omitempty"`

	// As the handler's allow_public_suffix_wildcards.
	AllowPublicSuffixWildcards bool `json:"allow_public_suffix_wildcards,omitempty"`
}

// handler returns a handler with the shadow policy's fields, for the
// expansion and checks of the handler's own. The shadow of an enforced
// handler with cross_origin_protection decides with the protection too,
// trusting its own origins.
func (s *ShadowPolicy) handler(enforced *Handler) *Handler {
	return &Handler{
		CrossOriginProtection:      enforced.CrossOriginProtection,
		AllowedOrigins:             s.AllowedOrigins,
		AllowedOriginRegexps:       s.AllowedOriginRegexps,
		AllowedMethods:             s.AllowedMethods,
		AllowedHeaders:             s.AllowedHeaders,
		AllowCredentials:           s.AllowCredentials,
		AllowPrivateNetwork:        s.AllowPrivateNetwork,
		AllowInsecureOrigins:       s.AllowInsecureOrigins,
		AllowPublicSuffixWildcards: s.AllowPublicSuffixWildcards,
	}
}

// shadow is a handler's compiled shadow policy and the rate limit of its
// log lines.
type shadow struct {
	policy *policy
	lines  lineLimiter
}

// compare decides r, which the handler decided d, under the shadow policy,
// and counts and logs a disagreement. It allocates nothing unless it
// writes a log line.
func (s *shadow) compare(h *Handler, r *http.Request, d *decision) {
	var sd decision
	s.policy.decideRequest(r, &sd)
	today, theirs := d.refusal.reason, sd.refusal.reason
	if (today == allowed) == (theirs == allowed) {
		return
	}
	change, reason, refused := wouldRefuse, theirs, sd.refusal.value
	if theirs == allowed {
		change, reason, refused = wouldAllow, today, d.refusal.value
	}
	if h.counters != nil {
		h.counters.shadow[d.kind][change][reason].Inc()
	}
	dropped, ok := s.lines.take()
	if !ok {
		return
	}
	msg := "the shadow policy would refuse a request that the policy allows"
	if change == wouldAllow {
		msg = "the shadow policy would allow a request that the policy refuses"
	}
	// A preflight asks for the method of the request to come.
	method := r.Method
	if d.kind == preflight {
		method = strings.Join(r.Header[headerRequestMethod], ", ")
	}
	fields := []zap.Field{
		zap.String("kind", kindWords[d.kind]),
		zap.String("change", changeWords[change]),
		zap.String("reason", reason.word()),
		zap.String("refused", refused),
		zap.String("origin", strings.Join(r.Header[headerOrigin], ", ")),
		zap.String("method", method),
	}
	if d.kind == preflight {
		fields = append(fields, zap.String("request_headers", strings.Join(r.Header[headerRequestHeaders], ", ")))
	}
	fields = append(fields,
		zap.String("host", r.Host),
		zap.String("path", r.URL.Path),
		zap.Uint64("dropped", dropped),
	)
	h.logger.Named("shadow").Info(msg, fields...)
}

// lineLimiter lets through at most one log line a second: a disagreement
// after a quiet second is always logged, and a flood of them writes one
// line a second, which says how many were not logged since the line
// before. It is safe for concurrent use and allocates nothing.
type lineLimiter struct {
	now     func() time.Duration // the time on a monotonic clock; nil: sinceStart, unless a test sets it
	last    atomic.Int64         // when the last line was let through, by now; 0 before the first
	dropped atomic.Uint64        // disagreements not logged since then
}

// lineInterval is the least time between two log lines.
const lineInterval = time.Second

// processStart is when the process started, for sinceStart.
var processStart = time.Now()

// sinceStart reads the monotonic clock, which a change of the system's
// clock does not move, so that setting the clock back cannot silence the
// log lines.
func sinceStart() time.Duration { return time.Since(processStart) }

// take reports whether a line may be written now, and how many were
// dropped since the last one.
func (l *lineLimiter) take() (dropped uint64, ok bool) {
	now := sinceStart
	if l.now != nil {
		now = l.now
	}
	t := int64(now())
	last := l.last.Load()
	if last != 0 && t-last < int64(lineInterval) || !l.last.CompareAndSwap(last, t) {
		l.dropped.Add(1)
		return 0, false
	}
	return l.dropped.Swap(0), true
}
