package cors

import (
	"io"
	"net/http"

	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
)

// corsWriter is the response writer the next handlers get: it puts the
// answer back into the response headers when they commit them, so that
// what they wrote into the CORS headers in the meantime is replaced.
//
// It is the one allocation of a request the next handler sees, so it holds
// no more than that request needs: the answer's fields, without a
// preflight's, and room for the values of its headers, which lives in the
// same allocation (see newCORSWriter).
type corsWriter struct {
	caddyhttp.ResponseWriterWrapper
	p      *policy
	origin string           // answer.origin
	pre    *preflightAnswer // a preflight's method and headers; nil for any other request
	slots  []string         // room for the values of the answer's headers, one each
	flags  answerFlags
	// committed records that the final response header was written.
	committed bool
	// touched records that a handler behind this one reached the response
	// headers, through Header or Unwrap, the only ways to them from this
	// writer. Until one does, they hold what answer.set put there, and
	// committing them has nothing to put back. It stays set: a handler may
	// keep the header map it was given and change it after an interim
	// response.
	touched bool
}

// answerFlags are the answer's booleans.
type answerFlags struct {
	preflight, options, privateNetwork bool
}

// preflightAnswer is what a preflight's answer holds that no other answer
// does.
type preflightAnswer struct {
	method, allowHeaders string
}

// newCORSWriter allocates the writer of a request that goes on to the next
// handler, with room for the values of a's headers: one for Vary alone when
// a allows nothing (a request without Origin, a refused origin), four for
// an allowed actual request (Access-Control-Allow-Origin, -Allow-
// Credentials, -Expose-Headers and Vary), and one for every header a
// preflight's answer may hold when a preflight is handed on.
func newCORSWriter(a *answer) *corsWriter {
	var cw *corsWriter
	switch {
	case a.preflight:
		w := &struct {
			corsWriter
			pre   preflightAnswer
			slots [numOwned + 1]string
		}{}
		w.pre = preflightAnswer{a.method, a.allowHeaders}
		w.corsWriter.pre, w.corsWriter.slots = &w.pre, w.slots[:]
		cw = &w.corsWriter
	case a.origin == "":
		w := &struct {
			corsWriter
			slots [1]string
		}{}
		w.corsWriter.slots = w.slots[:]
		cw = &w.corsWriter
	default:
		w := &struct {
			corsWriter
			slots [4]string
		}{}
		w.corsWriter.slots = w.slots[:]
		cw = &w.corsWriter
	}
	cw.p, cw.origin, cw.flags = a.p, a.origin, answerFlags{a.preflight, a.options, a.privateNetwork}
	return cw
}

// answer returns the answer the writer puts back.
func (w *corsWriter) answer() answer {
	a := answer{
		p: w.p, origin: w.origin,
		preflight: w.flags.preflight, options: w.flags.options, privateNetwork: w.flags.privateNetwork,
	}
	if w.pre != nil {
		a.method, a.allowHeaders = w.pre.method, w.pre.allowHeaders
	}
	return a
}

// Header returns the response headers, which the next handlers may change:
// the answer is applied again when they are committed.
func (w *corsWriter) Header() http.Header {
	w.touched = true
	return w.ResponseWriter.Header()
}

// Unwrap returns the wrapped writer, for http.ResponseController; whoever
// calls it can reach the response headers without Header.
func (w *corsWriter) Unwrap() http.ResponseWriter {
	w.touched = true
	return w.ResponseWriter
}

// WriteHeader applies the answer, then writes the header.
func (w *corsWriter) WriteHeader(status int) {
	if !w.committed {
		w.commitHeader()
		// 1xx responses other than 101 Switching Protocols are interim:
		// the final header is still to come.
		w.committed = status >= 200 || status == http.StatusSwitchingProtocols
	}
	w.ResponseWriter.WriteHeader(status)
}

// commit applies the answer before the headers go out implicitly.
func (w *corsWriter) commit() {
	if !w.committed {
		w.commitHeader()
		w.committed = true
	}
}

// commitHeader puts the answer back into the response headers if a handler
// behind this one could have changed them.
func (w *corsWriter) commitHeader() {
	if w.touched {
		a := w.answer()
		a.apply(w.ResponseWriter.Header(), w.slots)
	}
}

// Write writes body bytes, committing a 200 header first if none was written.
func (w *corsWriter) Write(b []byte) (int, error) {
	w.commit()
	return w.ResponseWriter.Write(b)
}

// ReadFrom copies the body from r; the wrapped writer may commit the header
// without calling WriteHeader.
func (w *corsWriter) ReadFrom(r io.Reader) (int64, error) {
	w.commit()
	return w.ResponseWriterWrapper.ReadFrom(r)
}

// FlushError flushes the response, committing the header first;
// http.ResponseController calls it.
func (w *corsWriter) FlushError() error {
	w.commit()
	return http.NewResponseController(w.ResponseWriter).Flush()
}

// Flush flushes the response, for handlers that assert http.Flusher.
func (w *corsWriter) Flush() {
	_ = w.FlushError()
}
