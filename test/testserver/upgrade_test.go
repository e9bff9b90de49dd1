package testserver

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"go.uber.org/goleak"
)

// dialUpgrade opens the WebSocket of an upgrade of polling session p.
func dialUpgrade(t *testing.T, p *pollClient) *rawClient {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	ws, _, err := dialWS(ctx, wsURL(p.srv)+"&sid="+p.sid, noKeepAlive())
	if err != nil {
		t.Fatalf("dial upgrade: %v", err)
	}
	t.Cleanup(func() { _ = ws.CloseNow() })
	return &rawClient{t: t, ws: ws}
}

func TestUpgrade(t *testing.T) {
	srv := start(t)
	alice, o := pollConnect(t, srv)
	if !slices.Equal(o.Upgrades, []string{"websocket"}) {
		t.Fatalf("open packet %+v", o)
	}
	alice.connectNS("/")
	alice.connectNS("/chat")
	bob, _ := connect(t, srv)
	bob.connectNS("/chat")

	// The client polls while it probes.
	pending := alice.getAsync()
	waitGetPending(t, srv, alice.sid)
	ws := dialUpgrade(t, alice)
	ws.send("2probe")
	ws.expect("3probe")
	if r := alice.await(pending); r.err != nil || r.body != "6" {
		t.Fatalf("pending GET after the probe: %+v", r)
	}
	// Until the upgrade, further GETs get noops too (after up to 100ms).
	begin := time.Now()
	alice.expect("6")
	if d := time.Since(begin); d > time.Second {
		t.Fatalf("noop after %v", d)
	}

	// Packets for alice queued during the switch: her own stream (her POST
	// still goes over polling), then a broadcast from bob.
	alice.post(`42["stream",3]`)
	waitQueued(t, srv, alice.sid, 4)
	bob.send(`42/chat,["chat","hi"]`)
	bob.expect(`42/chat,["chat","hi"]`)
	waitQueued(t, srv, alice.sid, 5)

	ws.send("5")
	for _, want := range []string{`42["tick",0]`, `42["tick",1]`, `42["tick",2]`, `42["stream-done",3]`, `42/chat,["chat","hi"]`} {
		ws.expect(want)
	}
	ws.send(`451-["echo",{"_placeholder":true,"num":0}]`)
	ws.sendBinary([]byte{7})
	ws.expect(`451-["echo",{"_placeholder":true,"num":0}]`)
	ws.expectBinary([]byte{7})
	bob.send(`42/chat,["chat","after"]`)
	ws.expect(`42/chat,["chat","after"]`)

	// Polling is over for the session; another upgrade is refused.
	alice.expectError("GET", "", http.StatusBadRequest, `{"code":3,"message":"Bad request"}`)
	alice.expectError("POST", "40", http.StatusBadRequest, `{"code":3,"message":"Bad request"}`)
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	if _, resp, err := dialWS(ctx, wsURL(srv)+"&sid="+alice.sid, noKeepAlive()); err == nil || resp == nil || resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("second upgrade: %v", err)
	}

	ss := srv.Sessions()
	if len(ss) != 2 || ss[0].SID != alice.sid || ss[0].Transport != "websocket" || !ss[0].Upgraded ||
		ss[1].Transport != "websocket" || ss[1].Upgraded {
		t.Fatalf("Sessions() = %+v", ss)
	}
	if n := srv.Connections(); n != 2 {
		t.Fatalf("Connections() = %d, want 2", n)
	}
	got := strings.Join(srv.Received(), "|")
	if !strings.Contains(got, `42["stream",3]|`) || !strings.Contains(got, "2probe|") || !strings.Contains(got, `|5|451-["echo"`) {
		t.Fatalf("Received() = %q", got)
	}

	// The session closes on its WebSocket.
	ws.send(`42["close-transport"]`)
	ws.expectClose(websocket.StatusNormalClosure)
	_ = bob.ws.CloseNow()
	srv.Close()
	if err := srv.Err(); err != nil {
		t.Fatalf("Err() = %v", err)
	}
}

// The official client's order: probe, pause polling (no GET pending), "5".
func TestUpgradeWithoutPendingGET(t *testing.T) {
	srv := start(t, WithPingInterval(300*time.Millisecond), WithPingTimeout(2*time.Second))
	p, _ := pollConnect(t, srv)
	p.expect("2")
	p.post("3", "40") // the next ping comes 300ms after this pong
	p.expectMatch(`^40\{"sid":"[A-Za-z0-9_-]{20}"\}$`)
	ws := dialUpgrade(t, p)
	ws.send("2probe")
	ws.expect("3probe")
	ws.send("5")
	ws.send(`42["echo","ws"]`)
	ws.expect(`42["echo","ws"]`)
	// The heartbeat goes on over the WebSocket.
	ws.expect("2")
	ws.send("3")
	ws.expect("2")
}

func TestUpgradeFailedProbe(t *testing.T) {
	srv := start(t)
	p, _ := pollConnect(t, srv)
	p.connectNS("/")

	ws := dialUpgrade(t, p)
	ws.send("2probe")
	ws.expect("3probe")
	ws.send(`42["echo","wrong transport"]`)
	ws.expectClose(websocket.StatusNormalClosure)

	// The session stays on polling; GETs wait again.
	ch := p.getAsync()
	waitGetPending(t, srv, p.sid)
	select {
	case r := <-ch:
		t.Fatalf("GET returned %+v", r)
	case <-time.After(150 * time.Millisecond):
	}
	p.post(`42["echo","still polling"]`)
	if r := p.await(ch); r.body != `42["echo","still polling"]` {
		t.Fatalf("GET: %+v", r)
	}

	// A WebSocket that goes away before "5" does not end the session either.
	ws2 := dialUpgrade(t, p)
	ws2.send("2probe")
	ws2.expect("3probe")
	_ = ws2.ws.CloseNow()
	p.post(`42["echo","again"]`)
	p.expect(`42["echo","again"]`)
	if ss := srv.Sessions(); ss[0].Transport != "polling" || ss[0].Upgraded {
		t.Fatalf("Sessions() = %+v", ss)
	}
	srv.Close()
	if err := srv.Err(); err != nil {
		t.Fatalf("Err() = %v", err)
	}
}

// An upgrade in progress when the server closes ends with it.
func TestUpgradeInterruptedByClose(t *testing.T) {
	srv := start(t)
	p, _ := pollConnect(t, srv)
	ws := dialUpgrade(t, p)
	ws.send("2probe")
	ws.expect("3probe")
	if err := srv.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := ws.readErr(); err == nil {
		t.Fatal("the probe's WebSocket is still open")
	}
}

// A scripted session can be upgraded too: the script does not see the switch.
func TestScriptAcrossUpgrade(t *testing.T) {
	srv := start(t, WithHandler(Script(
		SendOpen(Open{}),
		Expect("40"),
		Send(`40{"sid":"x"}`),
		Expect("42"),
		Send(`42["after"]`),
		SendBinary([]byte{1, 2}),
		Expect("41"),
	)))
	p, _ := pollConnect(t, srv)
	p.post("40")
	p.expect(`40{"sid":"x"}`)
	ws := dialUpgrade(t, p)
	ws.send("2probe")
	ws.expect("3probe")
	ws.send("5")
	ws.send(`42["over ws"]`)
	ws.expect(`42["after"]`)
	ws.expectBinary([]byte{1, 2})
	ws.send("41")
	ws.expectClose(websocket.StatusNormalClosure)
	srv.Close()
	if err := srv.Err(); err != nil {
		t.Fatalf("Err() = %v", err)
	}
}

// Close ends polling sessions, upgrades in progress, upgraded and WebSocket
// sessions at once, and leaves no goroutine behind.
func TestCloseEndsEverySession(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())

	srv, err := Start()
	if err != nil {
		t.Fatal(err)
	}
	polled, _ := pollConnect(t, srv)
	pending := polled.getAsync()
	waitGetPending(t, srv, polled.sid)

	probing, _ := pollConnect(t, srv)
	probe := dialUpgrade(t, probing)
	probe.send("2probe")
	probe.expect("3probe")

	upgraded, _ := pollConnect(t, srv)
	up := dialUpgrade(t, upgraded)
	up.send("2probe")
	up.expect("3probe")
	up.send("5")
	up.send("40")
	up.expectMatch(`^40\{"sid":`)

	ws, _ := connect(t, srv)
	ws.connectNS("/")

	begin := time.Now()
	if err := srv.Close(); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(begin); d > 3*time.Second {
		t.Fatalf("Close took %v", d)
	}
	if r := polled.await(pending); r.err != nil || r.body != "1" {
		t.Fatalf("pending GET: %+v", r)
	}
	for _, c := range []*rawClient{probe, up, ws} {
		if _, err := c.readErr(); err == nil {
			t.Fatal("a WebSocket is still open")
		}
		_ = c.ws.CloseNow()
	}
	if _, _, err := polled.doErr("GET", ""); err == nil {
		t.Fatal("the server still answers")
	}
}

// waitUpgraded waits until session c is on its WebSocket.
func waitUpgraded(ctx context.Context, c *Conn) error {
	for c.Transport() != transportWebSocket {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Millisecond):
		}
	}
	return nil
}

// Packets that arrived over polling and were not read yet when the session
// moved to the WebSocket are read first, then those of the WebSocket: the
// handler may not have started reading (as when the client sends its CONNECT
// and upgrades right after the handshake), or be busy with a packet.
func TestUpgradeKeepsUnreadPolledPackets(t *testing.T) {
	for before := range 3 { // packets the handler reads before the switch
		t.Run(fmt.Sprintf("%d read before the switch", before), func(t *testing.T) {
			srv := start(t, WithHandler(func(ctx context.Context, c *Conn) error {
				if err := c.SendOpen(Open{}); err != nil {
					return err
				}
				var got []string
				for i := range 3 {
					if i == before {
						if err := waitUpgraded(ctx, c); err != nil {
							return err
						}
					}
					f, err := c.Expect(ctx, "4")
					if err != nil {
						return err
					}
					got = append(got, f.Text)
				}
				b, _ := json.Marshal(append([]string{"got"}, got...))
				return c.SendText(ctx, "42"+string(b))
			}))
			p, _ := pollConnect(t, srv)
			p.post("40")
			p.post(`42["polled"]`)
			ws := dialUpgrade(t, p)
			ws.send("2probe")
			ws.expect("3probe")
			ws.send("5")
			ws.send(`42["ws"]`)
			ws.expect(`42["got","40","42[\"polled\"]","42[\"ws\"]"]`)
			ws.expectClose(websocket.StatusNormalClosure)
			srv.Close()
			if err := srv.Err(); err != nil {
				t.Fatalf("Err() = %v", err)
			}
		})
	}
}

// The JS client's order, as fast as possible, against the default behaviour:
// right after the handshake it polls, POSTs a CONNECT and probes; once the
// probe is answered and its GET has returned, it sends "5". The CONNECT reply
// arrives once: in that GET, or over the WebSocket after the switch.
func TestUpgradeRacingConnect(t *testing.T) {
	n := 300
	if testing.Short() {
		n = 30
	}
	srv := start(t)
	for i := range n {
		p, _ := pollConnect(t, srv)
		pending := p.getAsync()
		posted := make(chan error, 1)
		go func() {
			resp, body, err := p.doErr("POST", "40")
			if err == nil && (resp.StatusCode != http.StatusOK || body != "ok") {
				err = fmt.Errorf("POST: %d %q", resp.StatusCode, body)
			}
			posted <- err
		}()
		ws := dialUpgrade(t, p)
		ws.send("2probe")
		ws.expect("3probe")
		if err := <-posted; err != nil {
			t.Fatalf("%d: %v", i, err)
		}
		r := p.await(pending)
		if r.err != nil || r.status != http.StatusOK {
			t.Fatalf("%d: GET: %+v", i, r)
		}
		ws.send("5")
		switch {
		case regexpMatch(`^40\{"sid":"[A-Za-z0-9_-]{20}"\}$`, r.body):
		case r.body == "6":
			f, err := ws.readErr()
			if err != nil || f.IsBinary || !regexpMatch(`^40\{"sid":"[A-Za-z0-9_-]{20}"\}$`, f.Text) {
				t.Fatalf("%d: no CONNECT reply: got %s, %v (server received ...%q)", i, f, err, tail(srv.Received(), 8))
			}
		default:
			t.Fatalf("%d: GET: %q", i, r.body)
		}
		ws.send(`42["echo",1]`)
		ws.expect(`42["echo",1]`)
		_ = ws.ws.CloseNow()
	}
	srv.Close()
	if err := srv.Err(); err != nil {
		t.Fatalf("Err() = %v", err)
	}
}

// tail returns the last n elements of s, or s.
func tail(s []string, n int) []string { return s[max(0, len(s)-n):] }
