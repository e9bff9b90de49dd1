package testserver

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
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

// pollClient is a hand-written Engine.IO client over HTTP long-polling, with
// plain net/http and hand-written bodies.
type pollClient struct {
	t   *testing.T
	srv *Server
	hc  *http.Client
	url string // the endpoint, with EIO and transport; sid is added once known
	sid string
}

func newPollClient(t *testing.T, srv *Server) *pollClient {
	return &pollClient{t: t, srv: srv, hc: noKeepAlive(), url: srv.URL() + "/socket.io/?EIO=4&transport=polling"}
}

// pollConnect handshakes over polling and returns the open packet.
func pollConnect(t *testing.T, srv *Server) (*pollClient, Open) {
	t.Helper()
	p := newPollClient(t, srv)
	status, body := p.do("GET", "")
	if status != http.StatusOK || !strings.HasPrefix(body, "0") {
		t.Fatalf("handshake: %d %q", status, body)
	}
	var o Open
	if err := json.Unmarshal([]byte(body[1:]), &o); err != nil {
		t.Fatalf("open packet %q: %v", body, err)
	}
	p.sid = o.SID
	return p, o
}

func (p *pollClient) target() string {
	if p.sid == "" {
		return p.url
	}
	return p.url + "&sid=" + url.QueryEscape(p.sid)
}

// doErr sends one request and returns the response and its body.
func (p *pollClient) doErr(method, body string) (*http.Response, string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	var rd io.Reader
	if method == "POST" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, p.target(), rd)
	if err != nil {
		return nil, "", err
	}
	if method == "POST" {
		req.Header.Set("Content-Type", "text/plain;charset=UTF-8")
	}
	resp, err := p.hc.Do(req)
	if err != nil {
		return nil, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp, string(b), err
}

// do sends one request and returns the status and body.
func (p *pollClient) do(method, body string) (int, string) {
	p.t.Helper()
	resp, b, err := p.doErr(method, body)
	if err != nil {
		p.t.Fatalf("%s: %v", method, err)
	}
	return resp.StatusCode, b
}

// post sends packets in one body and requires "ok".
func (p *pollClient) post(pkts ...string) {
	p.t.Helper()
	if status, body := p.do("POST", strings.Join(pkts, "\x1e")); status != http.StatusOK || body != "ok" {
		p.t.Fatalf("POST %q: %d %q", pkts, status, body)
	}
}

// get long-polls once and returns the packets.
func (p *pollClient) get() []string {
	p.t.Helper()
	status, body := p.do("GET", "")
	if status != http.StatusOK {
		p.t.Fatalf("GET: %d %q", status, body)
	}
	return strings.Split(body, "\x1e")
}

// expect long-polls until it has len(want) packets, and requires them.
func (p *pollClient) expect(want ...string) {
	p.t.Helper()
	var got []string
	for len(got) < len(want) {
		got = append(got, p.get()...)
	}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		p.t.Fatalf("got %q, want %q", got, want)
	}
}

// expectMatch long-polls one packet and requires it to match the regexp.
func (p *pollClient) expectMatch(pattern string) string {
	p.t.Helper()
	got := p.get()
	if len(got) != 1 || !regexp.MustCompile(pattern).MatchString(got[0]) {
		p.t.Fatalf("got %q, want one packet matching %s", got, pattern)
	}
	return got[0]
}

// expectError requires an HTTP error with status and, when body is not
// empty, that body.
func (p *pollClient) expectError(method, body string, status int, want string) {
	p.t.Helper()
	got, b := p.do(method, body)
	if got != status || (want != "" && b != want) {
		p.t.Fatalf("%s: %d %q, want %d %q", method, got, b, status, want)
	}
}

type pollResult struct {
	status int
	body   string
	err    error
}

// getAsync starts a long-poll; the result arrives on the channel, which the
// test must receive from.
func (p *pollClient) getAsync() <-chan pollResult {
	ch := make(chan pollResult, 1)
	go func() {
		resp, b, err := p.doErr("GET", "")
		if err != nil {
			ch <- pollResult{err: err}
			return
		}
		ch <- pollResult{status: resp.StatusCode, body: b}
	}()
	return ch
}

func (p *pollClient) await(ch <-chan pollResult) pollResult {
	p.t.Helper()
	select {
	case r := <-ch:
		return r
	case <-time.After(testTimeout):
		p.t.Fatal("long-poll did not return")
		return pollResult{}
	}
}

// connectNS sends a CONNECT for nsp over polling and checks the reply.
func (p *pollClient) connectNS(nsp string) {
	p.t.Helper()
	prefix := "40"
	if nsp != "/" {
		prefix += nsp + ","
	}
	p.post(prefix)
	p.expectMatch(`^` + regexp.QuoteMeta(prefix) + `\{"sid":"[A-Za-z0-9_-]{20}"\}$`)
}

// polling returns the polling transport of the session sid; nil when there
// is none.
func polling(srv *Server, sid string) *pollTransport {
	c := srv.lookup(sid)
	if c == nil {
		return nil
	}
	p, _ := c.transport().(*pollTransport)
	return p
}

// waitFor polls cond on the polling transport of sid until it holds.
func waitFor(t *testing.T, srv *Server, sid, what string, cond func(p *pollTransport) bool) {
	t.Helper()
	deadline := time.Now().Add(testTimeout)
	for time.Now().Before(deadline) {
		if p := polling(srv, sid); p != nil {
			p.mu.Lock()
			ok := cond(p)
			p.mu.Unlock()
			if ok {
				return
			}
		}
		time.Sleep(time.Millisecond)
	}
	t.Fatalf("timed out waiting for %s", what)
}

// waitGetPending waits until a GET of session sid is held by the server.
func waitGetPending(t *testing.T, srv *Server, sid string) {
	t.Helper()
	waitFor(t, srv, sid, "a pending GET", func(p *pollTransport) bool { return p.getting })
}

// waitQueued waits until n packets are queued for session sid.
func waitQueued(t *testing.T, srv *Server, sid string, n int) {
	t.Helper()
	waitFor(t, srv, sid, fmt.Sprintf("%d queued packets", n), func(p *pollTransport) bool { return len(p.outq) == n })
}

func b64(b []byte) string { return "b" + base64.StdEncoding.EncodeToString(b) }

func regexpMatch(pattern, s string) bool { return regexp.MustCompile(pattern).MatchString(s) }

// parseOpen parses an open packet "0{...}".
func parseOpen(t *testing.T, body string) Open {
	t.Helper()
	var o Open
	if !strings.HasPrefix(body, "0") || json.Unmarshal([]byte(body[1:]), &o) != nil {
		t.Fatalf("not an open packet: %q", body)
	}
	return o
}

// readAll reads and closes a response body.
func readAll(t *testing.T, resp *http.Response) string {
	t.Helper()
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// dialWS dials a WebSocket with hc and no read limit.
func dialWS(ctx context.Context, target string, hc *http.Client) (*websocket.Conn, *http.Response, error) {
	ws, resp, err := websocket.Dial(ctx, target, &websocket.DialOptions{HTTPClient: hc})
	if err == nil {
		ws.SetReadLimit(-1)
	}
	return ws, resp, err
}
