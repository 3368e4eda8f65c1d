package browsers

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
)

// webDriver is a client of classic WebDriver
// (https://w3c.github.io/webdriver/): JSON over HTTP, every answer an
// object whose "value" holds the result or, with an error status, the
// error.
type webDriver struct {
	base    string // http://127.0.0.1:PORT
	session string // /session/ID, once a session exists
	client  *http.Client
}

// webDriverError is the value of a failed command
// (https://w3c.github.io/webdriver/#errors).
type webDriverError struct {
	Error   string `json:"error"`
	Message string `json:"message"`
}

// do sends a command: method, a path under the session (or, before one
// exists, under the root), a body to encode as JSON (nil for none), and the
// value's destination (nil to ignore it).
func (d *webDriver) do(ctx context.Context, method, path string, body, value any) error {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, d.base+d.session+path, rd)
	if err != nil {
		return err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json; charset=utf-8")
	}
	res, err := d.client.Do(req)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	var answer struct {
		Value json.RawMessage `json:"value"`
	}
	if err := json.Unmarshal(raw, &answer); err != nil {
		return fmt.Errorf("%s %s: %s: the answer is not WebDriver's JSON: %.200q", method, path, res.Status, raw)
	}
	if res.StatusCode != http.StatusOK {
		var e webDriverError
		json.Unmarshal(answer.Value, &e) //nolint:errcheck // an empty error still says the status
		return fmt.Errorf("%s %s: %s: %s: %s", method, path, res.Status, e.Error, strings.TrimSpace(e.Message))
	}
	if value == nil {
		return nil
	}
	return json.Unmarshal(answer.Value, value)
}

// newSession creates a session with these capabilities (always matched)
// and returns the ones the remote end settled on.
func (d *webDriver) newSession(ctx context.Context, caps map[string]any) (map[string]any, error) {
	var v struct {
		SessionID    string         `json:"sessionId"`
		Capabilities map[string]any `json:"capabilities"`
	}
	if err := d.do(ctx, http.MethodPost, "/session", map[string]any{"capabilities": map[string]any{"alwaysMatch": caps}}, &v); err != nil {
		return nil, err
	}
	if v.SessionID == "" {
		return nil, fmt.Errorf("POST /session: no session id in the answer")
	}
	d.session = "/session/" + v.SessionID
	return v.Capabilities, nil
}

// executeAsyncScript is the body of POST /execute/async: it runs the
// wrapped expression (see asJSON) and hands the driver either its JSON
// string or the error it threw, as [json, error].
func executeAsyncScript(expr string) string {
	return "const done = arguments[arguments.length - 1];\n" +
		asJSON(expr) + ".then((json) => done([json, null]), (e) => done([null, String(e)]));"
}

// decodeAsyncResult decodes what executeAsyncScript handed back.
func decodeAsyncResult(v []*string, out any) error {
	if len(v) != 2 {
		return fmt.Errorf("the script returned %d values, want 2", len(v))
	}
	if v[1] != nil {
		return fmt.Errorf("the script threw: %s", *v[1])
	}
	if v[0] == nil {
		return fmt.Errorf("the script returned no value")
	}
	return json.Unmarshal([]byte(*v[0]), out)
}
