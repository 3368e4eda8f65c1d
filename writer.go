package cors

import (
	"io"
	"net/http"
	"unsafe"

	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
)

// corsWriter is the response writer the next handlers get: it puts the
// answer back into the response headers when they commit them, so that
// what they wrote into the CORS headers in the meantime is replaced.
//
// It is the one allocation of a request the next handler sees, so it holds
// no more than that request's answer needs. It is the head of one of three
// types, which its form names: the rest of the allocation holds the
// answer's fields that its form needs and room for the values of its
// headers (see newCORSWriter and tail).
type corsWriter struct {
	caddyhttp.ResponseWriterWrapper
	p     *policy
	flags answerFlags
	form  writerForm
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

// writerForm names the type a corsWriter is the head of.
type writerForm uint8

const (
	// formAllowsNothing: a request without Origin, or from a refused
	// origin, whose answer sends no owned header, only Vary.
	formAllowsNothing writerForm = iota
	// formActual: an allowed actual request.
	formActual
	// formPreflight: an allowed preflight handed on (options_passthrough).
	formPreflight
)

// The three types a corsWriter heads, one per form. Each holds room for
// one value per owned header its answer can send, and one for Vary.
type (
	allowsNothingWriter struct {
		corsWriter
		slots [1]string
	}
	actualWriter struct {
		corsWriter
		origin string
		// Access-Control-Allow-Origin, -Allow-Credentials,
		// -Expose-Headers and Vary.
		slots [4]string
	}
	preflightWriter struct {
		corsWriter
		origin, method, allowHeaders string
		slots                        [numOwned + 1]string
	}
)

// newCORSWriter allocates the writer of a request that goes on to the next
// handler, in the form a's answer needs, and returns it with the room for
// the values of a's headers.
func newCORSWriter(a *answer) (*corsWriter, []string) {
	var (
		cw    *corsWriter
		slots []string
	)
	switch {
	case a.origin == "":
		w := &allowsNothingWriter{corsWriter: corsWriter{form: formAllowsNothing}}
		cw, slots = &w.corsWriter, w.slots[:]
	case a.preflight:
		w := &preflightWriter{corsWriter: corsWriter{form: formPreflight}, origin: a.origin, method: a.method, allowHeaders: a.allowHeaders}
		cw, slots = &w.corsWriter, w.slots[:]
	default:
		w := &actualWriter{corsWriter: corsWriter{form: formActual}, origin: a.origin}
		cw, slots = &w.corsWriter, w.slots[:]
	}
	cw.p, cw.flags = a.p, answerFlags{a.preflight, a.options, a.privateNetwork}
	return cw, slots
}

// tail returns the answer the writer puts back, and the room for the
// values of its headers, from the type w heads. A corsWriter is made only
// by newCORSWriter, as the first field of the type its form names, so that
// type starts at w's address and the conversion stays inside w's
// allocation (which the race detector's pointer checks verify).
func (w *corsWriter) tail() (answer, []string) {
	a := answer{
		p:         w.p,
		preflight: w.flags.preflight, options: w.flags.options, privateNetwork: w.flags.privateNetwork,
	}
	switch w.form {
	case formActual:
		t := (*actualWriter)(unsafe.Pointer(w))
		a.origin = t.origin
		return a, t.slots[:]
	case formPreflight:
		t := (*preflightWriter)(unsafe.Pointer(w))
		a.origin, a.method, a.allowHeaders = t.origin, t.method, t.allowHeaders
		return a, t.slots[:]
	}
	return a, (*allowsNothingWriter)(unsafe.Pointer(w)).slots[:]
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
		a, slots := w.tail()
		a.apply(w.ResponseWriter.Header(), slots)
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
