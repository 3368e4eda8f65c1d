package browsers

import (
	"context"
	"encoding/json"
	"fmt"
)

// RunAt is one step of a browser scenario: it loads page in e, then
// evaluates expr there (an expression, awaited if it is a promise, whose
// value survives JSON.stringify) and decodes its value into out.
//
// A step is any script: a fetch(), an XMLHttpRequest, a form posted into
// an iframe, a WebSocket; whatever it learns, it returns as one JSON value.
func RunAt(ctx context.Context, e Engine, page, expr string, out any) error {
	if err := e.Navigate(ctx, page); err != nil {
		return fmt.Errorf("%s: loading %s: %w", e.Name(), page, err)
	}
	if err := e.Eval(ctx, expr, out); err != nil {
		return fmt.Errorf("%s: on %s: %w", e.Name(), page, err)
	}
	return nil
}

// InSandboxedFrame returns an expression that evaluates expr inside a new
// sandboxed iframe of the current page (allow-scripts without
// allow-same-origin: an opaque origin, which requests serialise as
// "null") and resolves to its value, passed back by postMessage.
func InSandboxedFrame(expr string) string {
	inner, _ := json.Marshal("<script>Promise.resolve(" + expr + ").then((r) => parent.postMessage(r, '*'), (e) => parent.postMessage({sandboxError: String(e)}, '*'))</script>")
	return fmt.Sprintf(`new Promise((resolve, reject) => {
	const frame = document.createElement('iframe');
	frame.sandbox = 'allow-scripts';
	window.addEventListener('message', (e) => {
		if (e.source !== frame.contentWindow) return;
		if (e.data && e.data.sandboxError !== undefined) reject(new Error(e.data.sandboxError));
		else resolve(e.data);
	});
	frame.srcdoc = %s;
	document.body.appendChild(frame);
})`, inner)
}
