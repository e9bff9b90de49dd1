package testserver

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"regexp"
	"testing"
	"time"

	"github.com/coder/websocket"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

const testTimeout = 5 * time.Second

// start starts a server closed at the end of the test.
func start(t *testing.T, opts ...Option) *Server {
	t.Helper()
	srv, err := Start(opts...)
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() {
		if err := srv.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return srv
}

// rawClient is a hand-written Engine.IO client over coder/websocket.
type rawClient struct {
	t  *testing.T
	ws *websocket.Conn
}

func wsURL(srv *Server) string {
	return srv.URL() + "/socket.io/?EIO=4&transport=websocket"
}

// dial opens a WebSocket to the server's Engine.IO endpoint without reading
// anything.
func dial(t *testing.T, srv *Server) *rawClient {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	ws, _, err := websocket.Dial(ctx, wsURL(srv), &websocket.DialOptions{HTTPClient: noKeepAlive()})
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	ws.SetReadLimit(-1)
	t.Cleanup(func() { _ = ws.CloseNow() })
	return &rawClient{t: t, ws: ws}
}

// connect dials and reads the open packet.
func connect(t *testing.T, srv *Server) (*rawClient, Open) {
	t.Helper()
	c := dial(t, srv)
	return c, c.open()
}

func noKeepAlive() *http.Client {
	return &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
}

func (c *rawClient) open() Open {
	c.t.Helper()
	f := c.read()
	if f.IsBinary || len(f.Text) == 0 || f.Text[0] != '0' {
		c.t.Fatalf("want an open packet, got %s", f)
	}
	var o Open
	if err := json.Unmarshal([]byte(f.Text[1:]), &o); err != nil {
		c.t.Fatalf("open packet %q: %v", f.Text, err)
	}
	return o
}

func (c *rawClient) send(s string) {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	if err := c.ws.Write(ctx, websocket.MessageText, []byte(s)); err != nil {
		c.t.Fatalf("send %q: %v", s, err)
	}
}

func (c *rawClient) sendBinary(b []byte) {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	if err := c.ws.Write(ctx, websocket.MessageBinary, b); err != nil {
		c.t.Fatalf("send binary: %v", err)
	}
}

func (c *rawClient) readErr() (Frame, error) {
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	typ, b, err := c.ws.Read(ctx)
	if err != nil {
		return Frame{}, err
	}
	if typ == websocket.MessageBinary {
		return Frame{Binary: b, IsBinary: true}, nil
	}
	return Frame{Text: string(b)}, nil
}

func (c *rawClient) read() Frame {
	c.t.Helper()
	f, err := c.readErr()
	if err != nil {
		c.t.Fatalf("read: %v", err)
	}
	return f
}

// expect reads one frame and requires it to be the text want.
func (c *rawClient) expect(want string) {
	c.t.Helper()
	if f := c.read(); f.IsBinary || f.Text != want {
		c.t.Fatalf("got %s, want %q", f, want)
	}
}

// expectMatch reads one text frame and requires it to match the regexp.
func (c *rawClient) expectMatch(pattern string) string {
	c.t.Helper()
	f := c.read()
	if f.IsBinary || !regexp.MustCompile(pattern).MatchString(f.Text) {
		c.t.Fatalf("got %s, want a match for %s", f, pattern)
	}
	return f.Text
}

func (c *rawClient) expectBinary(want []byte) {
	c.t.Helper()
	if f := c.read(); !f.IsBinary || !bytes.Equal(f.Binary, want) {
		c.t.Fatalf("got %s %v, want binary %v", f, f.Binary, want)
	}
}

// expectClose reads until the connection ends and requires a close frame with
// code; it returns the reason.
func (c *rawClient) expectClose(code websocket.StatusCode) string {
	c.t.Helper()
	for {
		f, err := c.readErr()
		if err == nil {
			c.t.Logf("skipping %s while waiting for close %v", f, code)
			continue
		}
		var ce websocket.CloseError
		if !errors.As(err, &ce) || ce.Code != code {
			c.t.Fatalf("connection ended with %v, want close status %v", err, code)
		}
		return ce.Reason
	}
}

// connectNS sends a CONNECT for nsp ("/" or "/admin") and checks the reply.
func (c *rawClient) connectNS(nsp string) string {
	c.t.Helper()
	prefix := "40"
	if nsp != "/" {
		prefix += nsp + ","
	}
	c.send(prefix)
	reply := c.expectMatch(`^` + regexp.QuoteMeta(prefix) + `\{"sid":"[A-Za-z0-9_-]{20}"\}$`)
	var v struct{ SID string }
	_ = json.Unmarshal([]byte(reply[len(prefix):]), &v)
	return v.SID
}
