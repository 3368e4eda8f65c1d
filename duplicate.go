package cors

import (
	"errors"
	"fmt"
	"net/http"
	"reflect"
	"sync/atomic"
	"unsafe"

	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
	"github.com/caddyserver/caddy/v2/caddyconfig/httpcaddyfile"
	"go.uber.org/zap"
)

// A request is decided by the first cors handler it passes through: that
// handler answers its preflight, or puts its answer back into the response
// when the response is committed, after every handler inside it. A second
// cors handler that sees the same requests decides nothing, and a user who
// wrote it expects it to. A Caddyfile that holds two cors directives with
// the same matcher in one block is refused when it is adapted; any other
// configuration (JSON, or cors handlers in nested routes) is told once, in
// the log, when a request reaches a second cors handler.

// directivesKey is the key of the cors directives seen so far in
// httpcaddyfile.Helper.State, which lives as long as one adaptation.
const directivesKey = "cors.directives"

// blockKey identifies one block of a Caddyfile: a site block, or a block
// nested in it such as handle or route, by the identity of Caddy's values
// for it. They are pointers, not addresses held as integers: the adapter
// drops a block's values once it is parsed, and the garbage collector could
// give their memory to a later block, which would then look like the same
// block. As keys of the State's map, they stay alive for the adaptation.
type blockKey struct {
	site  unsafe.Pointer // the site block's segments
	block unsafe.Pointer // the block's BlockState map
}

// noteDirective records the cors directive whose name is the token
// directive, with the given matcher token ("" for none), and refuses it if
// a cors directive of the same block has the same matcher: Caddy sorts
// directives of the same name by their matchers, so the one that comes
// first decides every request the other would see.
func noteDirective(h httpcaddyfile.Helper, directive caddyfile.Token, matcher string) error {
	block, ok := blockOf(h)
	if !ok || h.State == nil {
		return nil
	}
	seen, _ := h.State[directivesKey].(map[blockKey]map[string]caddyfile.Token)
	if seen == nil {
		seen = make(map[blockKey]map[string]caddyfile.Token)
		h.State[directivesKey] = seen
	}
	if matcher == "*" {
		matcher = "" // the match-all matcher is the same as none
	}
	inBlock := seen[block]
	if first, dup := inBlock[matcher]; dup {
		return deadDirective(first, directive, matcher)
	}
	if inBlock == nil {
		inBlock = make(map[string]caddyfile.Token)
		seen[block] = inBlock
	}
	inBlock[matcher] = directive
	return nil
}

// deadDirective describes a cors directive that another one, first, makes
// dead, at the line of the dead one.
func deadDirective(first, dead caddyfile.Token, matcher string) error {
	which := "no matcher"
	if matcher != "" {
		which = fmt.Sprintf("the matcher %q", matcher)
	}
	why := fmt.Sprintf("like the cors at %s:%d, it has %s", first.File, first.Line, which)
	if first.File == dead.File && first.Line == dead.Line {
		why = fmt.Sprintf("it is imported twice into this block, with %s", which)
	}
	at := caddyfile.NewDispenser([]caddyfile.Token{dead})
	at.Next()
	return at.WrapErr(errors.New("cors: this cors would decide nothing: " + why + ", and the first of two cors with the same " +
		"matcher decides every request; write one cors per matcher, with all its origins " +
		"(cors https://app.example.com https://admin.example.com), or put each cors in its own handle block"))
}

// blockOf identifies the block a directive is in. Sibling directives share
// their block's BlockState map, and each nested block gets a map of its own;
// but every site block is given the adaptation's State as its BlockState,
// so a site is told apart by its segments. Caddy's Helper does not expose
// its site block, so they are read through reflection; should that field
// change, blockOf reports false and the check is skipped (the log warning
// of a second cors handler still tells the user).
func blockOf(h httpcaddyfile.Helper) (blockKey, bool) {
	parent := reflect.ValueOf(h).FieldByName("parentBlock")
	if !parent.IsValid() || parent.Kind() != reflect.Struct {
		return blockKey{}, false
	}
	segments := parent.FieldByName("Segments")
	if !segments.IsValid() || segments.Kind() != reflect.Slice || segments.Len() == 0 || h.BlockState == nil {
		return blockKey{}, false
	}
	return blockKey{site: segments.UnsafePointer(), block: reflect.ValueOf(h.BlockState).UnsafePointer()}, true
}

// maxUnwrap bounds the walk down a chain of response writer wrappers.
const maxUnwrap = 16

// decidedBy returns the writer of the cors handler that already decided
// the request whose response is written to w, or nil if none did. It
// unwraps w as http.ResponseController does, and allocates nothing.
func decidedBy(w http.ResponseWriter) *corsWriter {
	for range maxUnwrap {
		switch ww := w.(type) {
		case *corsWriter:
			return ww
		case interface{ Unwrap() http.ResponseWriter }:
			w = ww.Unwrap()
		default:
			return nil
		}
	}
	return nil
}

// secondHandler logs, once per handler, that a request another cors handler
// already decided has reached this one, which leaves the request alone.
type secondHandler struct {
	logged atomic.Bool
}

func (s *secondHandler) warn(logger *zap.Logger, r *http.Request, this, first *policy) {
	if !s.logged.CompareAndSwap(false, true) {
		return
	}
	logger.Warn("a request that another cors handler already decided reached this one, which decides nothing for it: "+
		"only the first cors handler a request passes through decides; give each cors handler its own requests "+
		"(one cors handler per route matcher), or put them in separate routes that never both match",
		zap.String("this_handler", this.summary),
		zap.String("first_handler", first.summary),
		zap.String("host", r.Host),
		zap.String("path", r.URL.Path),
	)
}
