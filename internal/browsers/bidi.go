package browsers

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"

	"golang.org/x/net/websocket"
)

// bidiConn is a WebDriver BiDi client (https://w3c.github.io/webdriver-bidi/)
// over one WebSocket: commands carry an id that their result or error
// repeats; events carry a method and no id.
type bidiConn struct {
	ws *websocket.Conn

	mu      sync.Mutex
	nextID  int
	pending map[int]chan bidiMessage
	onEvent func(method string, params json.RawMessage)
	err     error // why the connection ended, once it has
}

// bidiMessage is any message the remote end sends.
type bidiMessage struct {
	Type    string          `json:"type"` // "success", "error" or "event"
	ID      *int            `json:"id"`
	Result  json.RawMessage `json:"result"`
	Error   string          `json:"error"`
	Message string          `json:"message"`
	Method  string          `json:"method"`
	Params  json.RawMessage `json:"params"`
}

// bidiCommand is a command as sent.
type bidiCommand struct {
	ID     int    `json:"id"`
	Method string `json:"method"`
	Params any    `json:"params"`
}

// bidiOrigin is the Origin the client sends.
const bidiOrigin = "http://127.0.0.1"

// dialBiDi connects to a BiDi endpoint (ws://host:port/session) and calls
// onEvent, from the reading goroutine, for every event.
func dialBiDi(url string, onEvent func(method string, params json.RawMessage)) (*bidiConn, error) {
	// x/net/websocket always sends an Origin, which Firefox refuses
	// unless it was told to allow it (see bidiOrigin).
	cfg, err := websocket.NewConfig(url, bidiOrigin)
	if err != nil {
		return nil, err
	}
	ws, err := websocket.DialConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("connecting to %s: %w", url, err)
	}
	c := &bidiConn{ws: ws, pending: map[int]chan bidiMessage{}, onEvent: onEvent}
	go c.read()
	return c, nil
}

// read dispatches every message until the connection ends.
func (c *bidiConn) read() {
	for {
		var raw []byte
		if err := websocket.Message.Receive(c.ws, &raw); err != nil {
			c.mu.Lock()
			c.err = fmt.Errorf("BiDi connection closed: %w", err)
			for id, ch := range c.pending {
				close(ch)
				delete(c.pending, id)
			}
			c.mu.Unlock()
			return
		}
		var m bidiMessage
		if err := json.Unmarshal(raw, &m); err != nil {
			continue
		}
		if m.ID == nil {
			if m.Type == "event" && c.onEvent != nil {
				c.onEvent(m.Method, m.Params)
			}
			continue
		}
		c.mu.Lock()
		ch := c.pending[*m.ID]
		delete(c.pending, *m.ID)
		c.mu.Unlock()
		if ch != nil {
			ch <- m
		}
	}
}

// call sends a command and decodes its result into result (if not nil).
func (c *bidiConn) call(ctx context.Context, method string, params, result any) error {
	if params == nil {
		params = struct{}{}
	}
	c.mu.Lock()
	if c.err != nil {
		c.mu.Unlock()
		return c.err
	}
	c.nextID++
	id := c.nextID
	ch := make(chan bidiMessage, 1)
	c.pending[id] = ch
	c.mu.Unlock()

	b, err := json.Marshal(bidiCommand{ID: id, Method: method, Params: params})
	if err == nil {
		err = websocket.Message.Send(c.ws, string(b))
	}
	if err != nil {
		c.mu.Lock()
		delete(c.pending, id)
		c.mu.Unlock()
		return fmt.Errorf("%s: %w", method, err)
	}
	select {
	case m, ok := <-ch:
		if !ok {
			c.mu.Lock()
			defer c.mu.Unlock()
			return fmt.Errorf("%s: %w", method, c.err)
		}
		if m.Type == "error" {
			return fmt.Errorf("%s: %s: %s", method, m.Error, m.Message)
		}
		if result == nil {
			return nil
		}
		return json.Unmarshal(m.Result, result)
	case <-ctx.Done():
		c.mu.Lock()
		delete(c.pending, id)
		c.mu.Unlock()
		return fmt.Errorf("%s: %w", method, ctx.Err())
	}
}

func (c *bidiConn) close() error {
	if c.ws == nil {
		return errors.New("not connected")
	}
	return c.ws.Close()
}

// bidiEvalResult is the result of script.evaluate and script.callFunction
// (https://w3c.github.io/webdriver-bidi/#type-script-EvaluateResult).
type bidiEvalResult struct {
	Type   string `json:"type"` // "success" or "exception"
	Result struct {
		Type  string          `json:"type"`
		Value json.RawMessage `json:"value"`
	} `json:"result"`
	ExceptionDetails struct {
		Text string `json:"text"`
	} `json:"exceptionDetails"`
}

// stringValue returns the string the script evaluated to, or an error for
// an exception or a value of another type.
func (r bidiEvalResult) stringValue() (string, error) {
	if r.Type == "exception" {
		return "", fmt.Errorf("the script threw: %s", r.ExceptionDetails.Text)
	}
	if r.Result.Type != "string" {
		return "", fmt.Errorf("the script returned a value of type %q, not a string", r.Result.Type)
	}
	var s string
	err := json.Unmarshal(r.Result.Value, &s)
	return s, err
}
