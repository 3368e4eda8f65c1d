package browsers

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/websocket"
)

func TestBiDiListening(t *testing.T) {
	tests := []struct {
		line, addr string
		ok         bool
	}{
		{line: "WebDriver BiDi listening on ws://127.0.0.1:39125", addr: "ws://127.0.0.1:39125", ok: true},
		{line: "WebDriver BiDi listening on ws://127.0.0.1:39125\r", addr: "ws://127.0.0.1:39125", ok: true},
		{line: "1733240000000\tRemote Agent\tINFO\tWebDriver BiDi listening on ws://[::1]:9222", addr: "ws://[::1]:9222", ok: true},
		{line: "Read port: 39125"},
		{line: "WebDriver BiDi listening on http://127.0.0.1:39125"},
		{line: "WebDriver BiDi listening on ws://127.0.0.1:1 and more"},
		{line: "*** You are running in headless mode."},
	}
	for _, tt := range tests {
		t.Run(tt.line, func(t *testing.T) {
			addr, ok := bidiListening(tt.line)
			if addr != tt.addr || ok != tt.ok {
				t.Errorf("bidiListening(%q) = %q, %v; want %q, %v", tt.line, addr, ok, tt.addr, tt.ok)
			}
		})
	}
}

func TestFirefoxUserJS(t *testing.T) {
	got := userJS(firefoxPrefs("127.0.0.1:8123"))
	for _, want := range []string{
		`user_pref("network.proxy.type", 1);`,
		`user_pref("network.proxy.ssl", "127.0.0.1");`,
		`user_pref("network.proxy.ssl_port", 8123);`,
		`user_pref("network.proxy.no_proxies_on", "localhost, 127.0.0.1");`,
		`user_pref("network.proxy.allow_hijacking_localhost", false);`,
	} {
		if !strings.Contains(got, want+"\n") {
			t.Errorf("user.js lacks %s:\n%s", want, got)
		}
	}
	// network.dns.forceResolve would map names too, but silently turns
	// Firefox's preflight cache off.
	if strings.Contains(got, "forceResolve") {
		t.Errorf("user.js overrides the resolver:\n%s", got)
	}
	lines := strings.Split(strings.TrimSpace(got), "\n")
	if !slices.IsSorted(lines) {
		t.Errorf("user.js is not in a stable order:\n%s", got)
	}
	if strings.Contains(userJS(firefoxPrefs("")), "network.proxy") {
		t.Error("without a proxy, user.js still sets one")
	}
}

func TestMiniBrowserArgs(t *testing.T) {
	got := miniBrowserArgs("127.0.0.1:8123")
	want := []string{"--automation", "--cookies-policy=always", "--proxy=http://127.0.0.1:8123", "--ignore-host=localhost", "--ignore-host=127.0.0.1"}
	if !slices.Equal(got, want) {
		t.Errorf("miniBrowserArgs = %q, want %q", got, want)
	}
}

// fakeBiDi is a BiDi remote end: it answers script.evaluate with the
// expression it got, fails every other method but session.new, and sends
// an event before each answer.
func fakeBiDi(t *testing.T) string {
	srv := httptest.NewServer(websocket.Handler(func(ws *websocket.Conn) {
		for {
			var cmd struct {
				ID     int             `json:"id"`
				Method string          `json:"method"`
				Params json.RawMessage `json:"params"`
			}
			if err := websocket.JSON.Receive(ws, &cmd); err != nil {
				return
			}
			websocket.JSON.Send(ws, map[string]any{"type": "event", "method": "log.entryAdded", "params": map[string]any{"text": "before " + cmd.Method}}) //nolint:errcheck // the test sees it
			switch cmd.Method {
			case "session.new":
				websocket.JSON.Send(ws, map[string]any{"type": "success", "id": cmd.ID, "result": map[string]any{"sessionId": "s1"}}) //nolint:errcheck // the test sees it
			case "script.evaluate":
				var p struct {
					Expression string `json:"expression"`
				}
				json.Unmarshal(cmd.Params, &p) //nolint:errcheck // an empty expression is echoed as empty
				result := map[string]any{"type": "success", "result": map[string]any{"type": "string", "value": p.Expression}}
				websocket.JSON.Send(ws, map[string]any{"type": "success", "id": cmd.ID, "result": result}) //nolint:errcheck // the test sees it
			case "close":
				return
			default:
				websocket.JSON.Send(ws, map[string]any{"type": "error", "id": cmd.ID, "error": "unknown command", "message": cmd.Method + " is not known"}) //nolint:errcheck // the test sees it
			}
		}
	}))
	t.Cleanup(srv.Close)
	return "ws" + strings.TrimPrefix(srv.URL, "http")
}

func TestBiDiConn(t *testing.T) {
	var events []string
	eventSeen := make(chan struct{}, 10)
	c, err := dialBiDi(fakeBiDi(t), func(method string, params json.RawMessage) {
		events = append(events, method+" "+string(params))
		eventSeen <- struct{}{}
	})
	if err != nil {
		t.Fatal(err)
	}
	defer c.close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	var session struct {
		SessionID string `json:"sessionId"`
	}
	if err := c.call(ctx, "session.new", map[string]any{"capabilities": map[string]any{}}, &session); err != nil || session.SessionID != "s1" {
		t.Errorf("session.new: %+v, %v; want session s1", session, err)
	}
	var r bidiEvalResult
	if err := c.call(ctx, "script.evaluate", map[string]any{"expression": `{"a":1}`}, &r); err != nil {
		t.Fatal(err)
	}
	if s, err := r.stringValue(); s != `{"a":1}` || err != nil {
		t.Errorf("script.evaluate: %q, %v", s, err)
	}
	err = c.call(ctx, "browsingContext.fly", nil, nil)
	if want := "browsingContext.fly: unknown command: browsingContext.fly is not known"; err == nil || err.Error() != want {
		t.Errorf("an unknown command gave %v, want %q", err, want)
	}
	for range 3 {
		<-eventSeen
	}
	want := []string{`log.entryAdded {"text":"before session.new"}`, `log.entryAdded {"text":"before script.evaluate"}`, `log.entryAdded {"text":"before browsingContext.fly"}`}
	if !slices.Equal(events, want) {
		t.Errorf("events %q, want %q", events, want)
	}
	// The remote end hangs up: a pending command and every later one fail.
	if err := c.call(ctx, "close", nil, nil); err == nil || !strings.Contains(err.Error(), "BiDi connection closed") {
		t.Errorf("a command the remote end hung up on gave %v, want the connection closed", err)
	}
	if err := c.call(ctx, "session.new", nil, nil); err == nil || !strings.Contains(err.Error(), "BiDi connection closed") {
		t.Errorf("a command after the end gave %v, want the connection closed", err)
	}
}

func TestBiDiEvalResult(t *testing.T) {
	tests := []struct {
		raw, value, err string
	}{
		{raw: `{"type":"success","result":{"type":"string","value":"{\"x\":1}"}}`, value: `{"x":1}`},
		{raw: `{"type":"exception","exceptionDetails":{"text":"Error: no luck"}}`, err: "the script threw: Error: no luck"},
		{raw: `{"type":"success","result":{"type":"undefined"}}`, err: `the script returned a value of type "undefined", not a string`},
	}
	for _, tt := range tests {
		var r bidiEvalResult
		if err := json.Unmarshal([]byte(tt.raw), &r); err != nil {
			t.Fatal(err)
		}
		v, err := r.stringValue()
		gotErr := ""
		if err != nil {
			gotErr = err.Error()
		}
		if v != tt.value || gotErr != tt.err {
			t.Errorf("%s: %q, %q; want %q, %q", tt.raw, v, gotErr, tt.value, tt.err)
		}
	}
}

func TestWebDriver(t *testing.T) {
	var got []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var body map[string]any
		json.NewDecoder(r.Body).Decode(&body) //nolint:errcheck // an empty body stays nil
		b, _ := json.Marshal(body)
		got = append(got, r.Method+" "+r.URL.Path+" "+string(b))
		w.Header().Set("Content-Type", "application/json")
		switch r.URL.Path {
		case "/session":
			w.Write([]byte(`{"value":{"sessionId":"abc","capabilities":{"acceptInsecureCerts":true}}}`)) //nolint:errcheck // the test sees it
		case "/session/abc/execute/async":
			w.Write([]byte(`{"value":["{\"n\":2}",null]}`)) //nolint:errcheck // the test sees it
		default:
			w.WriteHeader(http.StatusNotFound)
			w.Write([]byte(`{"value":{"error":"unknown command","message":"no such path\n","stacktrace":""}}`)) //nolint:errcheck // the test sees it
		}
	}))
	defer srv.Close()
	ctx := context.Background()
	d := &webDriver{base: srv.URL, client: srv.Client()}
	caps, err := d.newSession(ctx, map[string]any{"acceptInsecureCerts": true})
	if err != nil || caps["acceptInsecureCerts"] != true || d.session != "/session/abc" {
		t.Fatalf("newSession: %v, %v, session %q", caps, err, d.session)
	}
	var v []*string
	if err := d.do(ctx, http.MethodPost, "/execute/async", map[string]any{"script": "x", "args": []any{}}, &v); err != nil {
		t.Fatal(err)
	}
	var out struct{ N int }
	if err := decodeAsyncResult(v, &out); err != nil || out.N != 2 {
		t.Errorf("decodeAsyncResult: %+v, %v", out, err)
	}
	err = d.do(ctx, http.MethodPost, "/url", map[string]any{"url": "https://a.test/"}, nil)
	if want := "POST /url: 404 Not Found: unknown command: no such path"; err == nil || err.Error() != want {
		t.Errorf("a failed command gave %v, want %q", err, want)
	}
	want := []string{
		`POST /session {"capabilities":{"alwaysMatch":{"acceptInsecureCerts":true}}}`,
		`POST /session/abc/execute/async {"args":[],"script":"x"}`,
		`POST /session/abc/url {"url":"https://a.test/"}`,
	}
	if !slices.Equal(got, want) {
		t.Errorf("requests:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestDecodeAsyncResult(t *testing.T) {
	s := func(v string) *string { return &v }
	tests := []struct {
		name string
		v    []*string
		err  string
	}{
		{"value", []*string{s(`[1]`), nil}, ""},
		{"thrown", []*string{nil, s("Error: no luck")}, "the script threw: Error: no luck"},
		{"nothing", []*string{nil, nil}, "the script returned no value"},
		{"not a pair", []*string{s("1")}, "the script returned 1 values, want 2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out any
			err := decodeAsyncResult(tt.v, &out)
			gotErr := ""
			if err != nil {
				gotErr = err.Error()
			}
			if gotErr != tt.err {
				t.Errorf("error %q, want %q", gotErr, tt.err)
			}
		})
	}
}

func TestStartRefusesBadInput(t *testing.T) {
	_, err := Start(context.Background(), "netscape", Options{Dir: t.TempDir()})
	if want := `no engine named "netscape": use one of chromium, firefox, webkit`; err == nil || err.Error() != want {
		t.Errorf("Start(netscape): %v, want %q", err, want)
	}
	_, err = Start(context.Background(), Firefox, Options{})
	if want := "browsers.Options.Dir is empty: give each engine a directory of its own for its profile"; Missing(Firefox) == nil && (err == nil || err.Error() != want) {
		t.Errorf("Start without a directory: %v, want %q", err, want)
	}
}
