package testserver

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestPollingHandshake(t *testing.T) {
	srv := start(t)
	p := newPollClient(t, srv)
	resp, body, err := p.doErr("GET", "")
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d", resp.StatusCode)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "text/plain; charset=UTF-8" {
		t.Fatalf("Content-Type %q", ct)
	}
	if len(resp.Header.Values("Set-Cookie")) != 0 {
		t.Fatalf("cookie without WithCookie: %q", resp.Header.Values("Set-Cookie"))
	}
	const open = `^0\{"sid":"[A-Za-z0-9_-]{20}","upgrades":\["websocket"\],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000\}$`
	if !regexpMatch(open, body) {
		t.Fatalf("open packet %q", body)
	}
	if n := srv.Connections(); n != 1 {
		t.Fatalf("Connections() = %d, want 1", n)
	}

	p2, o2 := pollConnect(t, srv)
	if p2.sid == "" || strings.Contains(body, o2.SID) {
		t.Fatalf("second session sid %q (first %q)", o2.SID, body)
	}
	ss := srv.Sessions()
	if len(ss) != 2 || ss[1].SID != o2.SID || ss[1].Transport != "polling" || ss[1].Upgraded {
		t.Fatalf("Sessions() = %+v", ss)
	}
}

func TestPollingNamespacesEchoAck(t *testing.T) {
	srv := start(t)
	p, _ := pollConnect(t, srv)
	p.connectNS("/")
	p.connectNS("/admin")

	// Several packets in one body, answered in order.
	p.post(`42["echo",1]`, `42/admin,["echo",2]`, "3")
	p.expect(`42["echo",1]`, `42/admin,["echo",2]`)

	// A binary attachment: b+base64 both ways, in the same body as its packet…
	p.post(`451-["echo","hi",{"_placeholder":true,"num":0}]`, b64([]byte{1, 2, 3}))
	p.expect(`451-["echo","hi",{"_placeholder":true,"num":0}]`, b64([]byte{1, 2, 3}))
	// …or in the next body.
	p.post(`452-/admin,["echo",{"_placeholder":true,"num":1},{"_placeholder":true,"num":0}]`)
	p.post(b64([]byte("first")), b64(nil))
	p.expect(`452-/admin,["echo",{"_placeholder":true,"num":1},{"_placeholder":true,"num":0}]`, b64([]byte("first")), "b")

	// Acks.
	p.post(`4212["ack","a",2]`)
	p.expect(`4312["a",2]`)
	p.post(`451-/admin,7["ack",{"_placeholder":true,"num":0}]`, b64([]byte{0xff, 0}))
	p.expect(`461-/admin,7[{"_placeholder":true,"num":0}]`, b64([]byte{0xff, 0}))

	// Echo with an ack id: echoed, then acknowledged.
	p.post(`427["echo","x"]`)
	p.expect(`42["echo","x"]`, `437[]`)

	want := []string{"40", "40/admin,", `42["echo",1]`, `42/admin,["echo",2]`, "3",
		`451-["echo","hi",{"_placeholder":true,"num":0}]`, "<binary 3 bytes>"}
	if got := srv.Received(); strings.Join(got[:len(want)], "|") != strings.Join(want, "|") {
		t.Fatalf("Received() = %q, want it to start with %q", got, want)
	}
}

func TestPollingHeldUntilEvent(t *testing.T) {
	srv := start(t)
	p, _ := pollConnect(t, srv)
	p.connectNS("/")

	ch := p.getAsync()
	waitGetPending(t, srv, p.sid)
	select {
	case r := <-ch:
		t.Fatalf("GET returned early: %+v", r)
	case <-time.After(100 * time.Millisecond):
	}
	p.post(`42["echo","late"]`)
	if r := p.await(ch); r.err != nil || r.status != 200 || r.body != `42["echo","late"]` {
		t.Fatalf("held GET: %+v", r)
	}
}

func TestPollingSecondGETClosesSession(t *testing.T) {
	srv := start(t)
	p, _ := pollConnect(t, srv)
	ch := p.getAsync()
	waitGetPending(t, srv, p.sid)

	p.expectError("GET", "", http.StatusBadRequest, "")
	if r := p.await(ch); r.err != nil || r.status != 200 || r.body != "1" {
		t.Fatalf("first GET: %+v", r)
	}
	p.expectError("GET", "", http.StatusBadRequest, `{"code":1,"message":"Session ID unknown"}`)
	p.expectError("POST", "40", http.StatusBadRequest, `{"code":1,"message":"Session ID unknown"}`)
	srv.Close()
	if err := srv.Err(); !errors.Is(err, ErrProtocol) || !strings.Contains(err.Error(), "overlapping GET") {
		t.Fatalf("Err() = %v", err)
	}
}

func TestPollingMaxPayload(t *testing.T) {
	srv := start(t, WithMaxPayload(100))
	p, o := pollConnect(t, srv)
	if o.MaxPayload != 100 {
		t.Fatalf("open packet %+v", o)
	}
	p.connectNS("/")
	// Exactly 100 bytes, separators included.
	body := []string{`42["echo","` + strings.Repeat("a", 36) + `"]`, `42["echo","` + strings.Repeat("b", 37) + `"]`}
	if n := len(strings.Join(body, "\x1e")); n != 100 {
		t.Fatalf("body of %d bytes", n)
	}
	p.post(body...)
	p.expect(body...)

	ch := p.getAsync()
	waitGetPending(t, srv, p.sid)
	p.expectError("POST", `42["echo","`+strings.Repeat("a", 100)+`"]`, http.StatusRequestEntityTooLarge, "")
	if r := p.await(ch); r.err != nil || r.body != "1" {
		t.Fatalf("pending GET: %+v", r)
	}
	p.expectError("GET", "", http.StatusBadRequest, `{"code":1,"message":"Session ID unknown"}`)

	// Far over the limit, with a known Content-Length.
	p2, _ := pollConnect(t, srv)
	p2.expectError("POST", strings.Repeat("4", 100_000), http.StatusRequestEntityTooLarge, "")
	p2.expectError("GET", "", http.StatusBadRequest, `{"code":1,"message":"Session ID unknown"}`)

	srv.Close()
	if err := srv.Err(); !errors.Is(err, ErrMessageTooBig) || strings.Count(err.Error(), ErrMessageTooBig.Error()) != 2 {
		t.Fatalf("Err() = %v", err)
	}
}

func TestPollingUnknownSID(t *testing.T) {
	srv := start(t)
	p := newPollClient(t, srv)
	p.sid = "nope"
	p.expectError("GET", "", http.StatusBadRequest, `{"code":1,"message":"Session ID unknown"}`)
	p.expectError("POST", "40", http.StatusBadRequest, `{"code":1,"message":"Session ID unknown"}`)
}

func TestPollingMalformedBody(t *testing.T) {
	bodies := []string{"", "x", `42["echo"]` + "\x1e", "b!!!", `42["echo","first"]` + "\x1e7"}
	srv := start(t)
	for _, body := range bodies {
		p, _ := pollConnect(t, srv)
		ch := p.getAsync()
		waitGetPending(t, srv, p.sid)
		p.expectError("POST", body, http.StatusBadRequest, `{"code":3,"message":"Bad request"}`)
		if r := p.await(ch); r.err != nil || r.body != "1" {
			t.Fatalf("body %q: pending GET %+v", body, r)
		}
		p.expectError("GET", "", http.StatusBadRequest, `{"code":1,"message":"Session ID unknown"}`)
	}
	// A binary body is refused in EIO 4 too.
	p, _ := pollConnect(t, srv)
	req, _ := http.NewRequest("POST", p.target(), strings.NewReader("4hi"))
	req.Header.Set("Content-Type", "application/octet-stream")
	resp, err := p.hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("binary body: status %d", resp.StatusCode)
	}
	p.expectError("GET", "", http.StatusBadRequest, `{"code":1,"message":"Session ID unknown"}`)

	srv.Close()
	if err := srv.Err(); strings.Count(err.Error(), ErrProtocol.Error()) != len(bodies)+1 {
		t.Fatalf("Err() = %v", err)
	}
	if got := strings.Join(srv.Received(), "|"); !strings.Contains(got, `42["echo","first"]`) {
		t.Fatalf("the packet before the malformed one was not received: %q", got)
	}
}

func TestPollingClose(t *testing.T) {
	t.Run("client close packet", func(t *testing.T) {
		srv := start(t)
		p, _ := pollConnect(t, srv)
		p.connectNS("/")
		ch := p.getAsync()
		waitGetPending(t, srv, p.sid)
		p.post("1")
		if r := p.await(ch); r.err != nil || r.body != "6" {
			t.Fatalf("pending GET: %+v", r)
		}
		p.expectError("GET", "", http.StatusBadRequest, `{"code":1,"message":"Session ID unknown"}`)
		srv.Close()
		if err := srv.Err(); err != nil {
			t.Fatalf("Err() = %v", err)
		}
	})
	t.Run("close-transport", func(t *testing.T) {
		srv := start(t)
		p, _ := pollConnect(t, srv)
		p.connectNS("/")
		p.post(`42["echo","bye"]`, `42["close-transport"]`)
		p.expect(`42["echo","bye"]`, "1")
		p.expectError("GET", "", http.StatusBadRequest, `{"code":1,"message":"Session ID unknown"}`)
	})
	t.Run("protocol error", func(t *testing.T) {
		srv := start(t)
		p, _ := pollConnect(t, srv)
		p.post("2") // a client ping
		p.expect("1")
		srv.Close()
		if !errors.Is(srv.Err(), ErrProtocol) {
			t.Fatalf("Err() = %v", srv.Err())
		}
	})
	t.Run("server close answers the pending GET", func(t *testing.T) {
		srv := start(t)
		p, _ := pollConnect(t, srv)
		ch := p.getAsync()
		waitGetPending(t, srv, p.sid)
		if err := srv.Close(); err != nil {
			t.Fatal(err)
		}
		if r := p.await(ch); r.err != nil || r.body != "1" {
			t.Fatalf("pending GET: %+v", r)
		}
	})
}

func TestPollingHeartbeat(t *testing.T) {
	t.Run("pongs", func(t *testing.T) {
		srv := start(t, WithPingInterval(30*time.Millisecond), WithPingTimeout(2*time.Second))
		p, _ := pollConnect(t, srv)
		for range 3 {
			p.expect("2")
			p.post("3")
		}
	})
	t.Run("no pong", func(t *testing.T) {
		srv := start(t, WithPingInterval(30*time.Millisecond), WithPingTimeout(100*time.Millisecond))
		p, _ := pollConnect(t, srv)
		p.expect("2")
		p.expect("1")
		srv.Close()
		if !errors.Is(srv.Err(), ErrPingTimeout) {
			t.Fatalf("Err() = %v", srv.Err())
		}
	})
}

func TestWithTransports(t *testing.T) {
	refused := `{"code":0,"message":"Transport unknown"}`
	t.Run("websocket only", func(t *testing.T) {
		srv := start(t, WithTransports("websocket"))
		newPollClient(t, srv).expectError("GET", "", http.StatusBadRequest, refused)
		_, o := connect(t, srv)
		if o.Upgrades == nil || len(o.Upgrades) != 0 {
			t.Fatalf("open packet %+v", o)
		}
	})
	t.Run("polling only", func(t *testing.T) {
		srv := start(t, WithTransports("polling"))
		p, o := pollConnect(t, srv)
		if o.Upgrades == nil || len(o.Upgrades) != 0 {
			t.Fatalf("open packet %+v", o)
		}
		// A WebSocket, with or without a sid, is refused.
		for _, target := range []string{wsURL(srv), wsURL(srv) + "&sid=" + p.sid} {
			req, _ := http.NewRequest("GET", target, nil)
			req.Header = http.Header{
				"Connection":            {"Upgrade"},
				"Upgrade":               {"websocket"},
				"Sec-Websocket-Version": {"13"},
				"Sec-Websocket-Key":     {"dGhlIHNhbXBsZSBub25jZQ=="},
			}
			resp, err := noKeepAlive().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			b := readAll(t, resp)
			if resp.StatusCode != http.StatusBadRequest || b != refused {
				t.Fatalf("%s: %d %q", target, resp.StatusCode, b)
			}
		}
		p.connectNS("/")
	})
	t.Run("bad options", func(t *testing.T) {
		for _, opt := range []Option{WithTransports(), WithTransports("polling", "flashsocket")} {
			if srv, err := Start(opt); err == nil {
				srv.Close()
				t.Fatal("Start accepted a bad transport list")
			}
		}
	})
}

func TestWithCookie(t *testing.T) {
	srv := start(t, WithCookie(&http.Cookie{Name: "io", Path: "/", HttpOnly: true, SameSite: http.SameSiteLaxMode}))
	p := newPollClient(t, srv)
	resp, body, err := p.doErr("GET", "")
	if err != nil {
		t.Fatal(err)
	}
	o := parseOpen(t, body)
	if got := resp.Header.Get("Set-Cookie"); got != "io="+o.SID+"; Path=/; HttpOnly; SameSite=Lax" {
		t.Fatalf("Set-Cookie %q (sid %s)", got, o.SID)
	}
	p.sid = o.SID
	p.post("40")
	resp, _, err = p.doErr("GET", "")
	if err != nil || len(resp.Header.Values("Set-Cookie")) != 0 {
		t.Fatalf("later GET: %v, cookies %q", err, resp.Header.Values("Set-Cookie"))
	}

	// On the WebSocket's 101, with a fixed value.
	srv2 := start(t, WithCookie(&http.Cookie{Name: "lb", Value: "node-1"}))
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	ws, resp, err := dialWS(ctx, wsURL(srv2), noKeepAlive())
	if err != nil {
		t.Fatal(err)
	}
	defer ws.CloseNow()
	if got := resp.Header.Get("Set-Cookie"); got != "lb=node-1" {
		t.Fatalf("Set-Cookie %q", got)
	}
}

func TestSessionsInfo(t *testing.T) {
	srv := start(t)
	p := newPollClient(t, srv)
	p.url += "&token=abc"
	req, _ := http.NewRequest("GET", p.url, nil)
	req.Header.Set("Authorization", "Bearer t")
	req.AddCookie(&http.Cookie{Name: "session", Value: "s1"})
	resp, err := p.hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	o := parseOpen(t, readAll(t, resp))
	connect(t, srv)

	ss := srv.Sessions()
	if len(ss) != 2 {
		t.Fatalf("Sessions() = %+v", ss)
	}
	s := ss[0]
	if s.SID != o.SID || s.Transport != "polling" || s.Upgraded || s.Query.Get("token") != "abc" ||
		s.Query.Get("transport") != "polling" || s.Header.Get("Authorization") != "Bearer t" ||
		len(s.Cookies) != 1 || s.Cookies[0].Name != "session" || s.Cookies[0].Value != "s1" {
		t.Fatalf("polling session %+v", s)
	}
	if ss[1].Transport != "websocket" || ss[1].Upgraded || len(ss[1].SID) != 20 {
		t.Fatalf("WebSocket session %+v", ss[1])
	}
}

func TestScriptOverPolling(t *testing.T) {
	transports := make(chan string, 1)
	srv := start(t, WithHandler(func(ctx context.Context, c *Conn) error {
		transports <- c.Transport()
		return Script(
			SendOpen(Open{SID: "scripted"}),
			Expect("40"),
			Send(`40{"sid":"x"}`),
			SendBinary([]byte{1}),
			Expect("42"),
		)(ctx, c)
	}))
	p, o := pollConnect(t, srv)
	if o.SID != "scripted" || len(o.Upgrades) != 1 || o.Upgrades[0] != "websocket" {
		t.Fatalf("open packet %+v", o)
	}
	if tr := <-transports; tr != "polling" {
		t.Fatalf("Transport() = %q", tr)
	}
	p.post("3", "40") // pongs are skipped by Expect
	p.expect(`40{"sid":"x"}`, "bAQ==")
	p.post(`42["a"]`)
	p.expect("1") // the handler returned
	p.expectError("GET", "", http.StatusBadRequest, `{"code":1,"message":"Session ID unknown"}`)
	srv.Close()
	if err := srv.Err(); err != nil {
		t.Fatalf("Err() = %v", err)
	}
}

func TestScriptCutOverPolling(t *testing.T) {
	srv := start(t, WithHandler(Script(SendOpen(Open{}), Expect("40"), Cut())))
	p, _ := pollConnect(t, srv)
	ch := p.getAsync()
	waitGetPending(t, srv, p.sid)
	p.post("40")
	if r := p.await(ch); r.err == nil {
		t.Fatalf("pending GET after Cut: %+v", r)
	}
	p.expectError("GET", "", http.StatusBadRequest, `{"code":1,"message":"Session ID unknown"}`)
}

// The handshake response carries the open packet alone, as the official
// server's; what a script sends next waits for the next GET.
func TestPollingHandshakeAlone(t *testing.T) {
	srv := start(t, WithHandler(func(ctx context.Context, c *Conn) error {
		// Both queued at once, before the handshake GET can take the first.
		open := `0{"sid":"s1","upgrades":[],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}`
		c.noteOpen(open[1:])
		if err := c.write(ctx, []Frame{{Text: open}, {Text: `40{"sid":"early"}`}}); err != nil {
			return err
		}
		_, err := c.Expect(ctx, "41")
		return err
	}))
	p, _ := pollConnect(t, srv) // fails unless the body is one open packet
	p.expect(`40{"sid":"early"}`)
	p.post("41")
	p.expect("1")
}
