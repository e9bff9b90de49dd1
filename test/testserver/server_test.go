package testserver

import (
	"context"
	"io"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"
	"go.uber.org/goleak"
)

func TestHandshakeOpenPacket(t *testing.T) {
	t.Run("defaults", func(t *testing.T) {
		srv := start(t)
		if !regexp.MustCompile(`^http://127\.0\.0\.1:\d+$`).MatchString(srv.URL()) {
			t.Fatalf("URL() = %q", srv.URL())
		}
		c := dial(t, srv)
		c.expectMatch(`^0\{"sid":"[A-Za-z0-9_-]{20}","upgrades":\[\],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000\}$`)
		if n := srv.Connections(); n != 1 {
			t.Fatalf("Connections() = %d, want 1", n)
		}
	})
	t.Run("options", func(t *testing.T) {
		srv := start(t, WithPingInterval(1500*time.Millisecond), WithPingTimeout(700*time.Millisecond), WithMaxPayload(5000))
		_, o1 := connect(t, srv)
		_, o2 := connect(t, srv)
		if o1.PingInterval != 1500 || o1.PingTimeout != 700 || o1.MaxPayload != 5000 || len(o1.Upgrades) != 0 {
			t.Fatalf("open packet %+v", o1)
		}
		if o1.SID == o2.SID {
			t.Fatalf("two connections got the same sid %q", o1.SID)
		}
		if n := srv.Connections(); n != 2 {
			t.Fatalf("Connections() = %d, want 2", n)
		}
	})
	t.Run("path", func(t *testing.T) {
		srv := start(t, WithPath("/custom"))
		ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
		defer cancel()
		ws, _, err := websocket.Dial(ctx, srv.URL()+"/custom/?EIO=4&transport=websocket", &websocket.DialOptions{HTTPClient: noKeepAlive()})
		if err != nil {
			t.Fatal(err)
		}
		defer ws.CloseNow()
		if _, b, err := ws.Read(ctx); err != nil || b[0] != '0' {
			t.Fatalf("read %q, %v", b, err)
		}
	})
}

func TestHTTPErrors(t *testing.T) {
	var hooked atomic.Int32
	srv := start(t, WithRequestHook(func(r *http.Request) {
		if r.Header.Get("X-Test") == "yes" {
			hooked.Add(1)
		}
	}))
	upgrade := http.Header{
		"Connection":            {"Upgrade"},
		"Upgrade":               {"websocket"},
		"Sec-Websocket-Version": {"13"},
		"Sec-Websocket-Key":     {"dGhlIHNhbXBsZSBub25jZQ=="},
	}
	tests := []struct {
		name, method, target string
		header               http.Header
		status               int
		body                 string
	}{
		{"other transport", "GET", "/socket.io/?EIO=4&transport=flashsocket", upgrade, 400, `{"code":0,"message":"Transport unknown"}`},
		{"no transport", "GET", "/socket.io/?EIO=4", nil, 400, `{"code":0,"message":"Transport unknown"}`},
		{"polling EIO 3", "GET", "/socket.io/?EIO=3&transport=polling", nil, 400, `{"code":5,"message":"Unsupported protocol version"}`},
		{"polling sid", "GET", "/socket.io/?EIO=4&transport=polling&sid=abc", nil, 400, `{"code":1,"message":"Session ID unknown"}`},
		{"polling POST sid", "POST", "/socket.io/?EIO=4&transport=polling&sid=abc", nil, 400, `{"code":1,"message":"Session ID unknown"}`},
		{"polling POST", "POST", "/socket.io/?EIO=4&transport=polling", nil, 400, `{"code":2,"message":"Bad handshake method"}`},
		{"EIO 3", "GET", "/socket.io/?EIO=3&transport=websocket", upgrade, 400, `{"code":5,"message":"Unsupported protocol version"}`},
		{"no EIO", "GET", "/socket.io/?transport=websocket", upgrade, 400, `{"code":5,"message":"Unsupported protocol version"}`},
		{"EIO 3 no upgrade", "GET", "/socket.io/?EIO=3&transport=websocket", nil, 400, `{"code":5,"message":"Unsupported protocol version"}`},
		{"sid", "GET", "/socket.io/?EIO=4&transport=websocket&sid=abc", upgrade, 400, `{"code":1,"message":"Session ID unknown"}`},
		{"POST", "POST", "/socket.io/?EIO=4&transport=websocket", upgrade, 400, `{"code":2,"message":"Bad handshake method"}`},
		{"no upgrade", "GET", "/socket.io/?EIO=4&transport=websocket", nil, 400, `{"code":3,"message":"Bad request"}`},
		{"other path", "GET", "/other/?EIO=4&transport=websocket", upgrade, 404, ""},
	}
	client := noKeepAlive()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, err := http.NewRequest(tt.method, srv.URL()+tt.target, nil)
			if err != nil {
				t.Fatal(err)
			}
			for k, v := range tt.header {
				req.Header[k] = v
			}
			req.Header.Set("X-Test", "yes")
			resp, err := client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tt.status {
				t.Fatalf("status %d, want %d (body %q)", resp.StatusCode, tt.status, body)
			}
			if tt.body == "" {
				return
			}
			if string(body) != tt.body {
				t.Fatalf("body %q, want %q", body, tt.body)
			}
			if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
				t.Fatalf("Content-Type %q", ct)
			}
		})
	}
	if n := int(hooked.Load()); n != len(tests) {
		t.Fatalf("request hook saw %d requests, want %d", n, len(tests))
	}
	if n := srv.Connections(); n != 0 {
		t.Fatalf("Connections() = %d, want 0", n)
	}

	// A real WebSocket client gets the same answer.
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	_, resp, err := websocket.Dial(ctx, srv.URL()+"/socket.io/?EIO=3&transport=websocket", &websocket.DialOptions{HTTPClient: client})
	if err == nil || resp == nil || resp.StatusCode != 400 {
		t.Fatalf("dial with EIO=3: %v, %v", resp, err)
	}
}

func TestRequestHookSeesQueryAndCookies(t *testing.T) {
	var mu sync.Mutex
	var got *http.Request
	srv := start(t, WithRequestHook(func(r *http.Request) {
		mu.Lock()
		got = r.Clone(context.Background())
		mu.Unlock()
	}))
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	h := http.Header{"Cookie": {"io=abc"}, "Authorization": {"Bearer t"}}
	ws, _, err := websocket.Dial(ctx, wsURL(srv)+"&token=x", &websocket.DialOptions{HTTPClient: noKeepAlive(), HTTPHeader: h})
	if err != nil {
		t.Fatal(err)
	}
	defer ws.CloseNow()
	mu.Lock()
	defer mu.Unlock()
	if got == nil || got.URL.Query().Get("token") != "x" || got.Header.Get("Authorization") != "Bearer t" {
		t.Fatalf("hook saw %+v", got)
	}
	if ck, err := got.Cookie("io"); err != nil || ck.Value != "abc" {
		t.Fatalf("cookie: %v, %v", ck, err)
	}
}

func TestReceived(t *testing.T) {
	srv := start(t)
	c, _ := connect(t, srv)
	c.connectNS("/")
	c.send(`451-["echo",{"_placeholder":true,"num":0}]`)
	c.sendBinary([]byte{1, 2, 3})
	c.expect(`451-["echo",{"_placeholder":true,"num":0}]`)
	c.expectBinary([]byte{1, 2, 3})
	want := []string{"40", `451-["echo",{"_placeholder":true,"num":0}]`, "<binary 3 bytes>"}
	if got := srv.Received(); strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("Received() = %q, want %q", got, want)
	}
}

func TestCloseIsIdempotent(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())

	srv, err := Start()
	if err != nil {
		t.Fatal(err)
	}
	reading, _ := connect(t, srv)
	reading.connectNS("/")
	idle, _ := connect(t, srv) // reads no more: its close handshake cannot finish

	done := make(chan string, 1)
	go func() {
		_, err := reading.readErr()
		done <- websocket.CloseStatus(err).String()
	}()

	begin := time.Now()
	var wg sync.WaitGroup
	errs := make([]error, 3)
	for i := range errs {
		wg.Go(func() { errs[i] = srv.Close() })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("Close #%d: %v", i, err)
		}
	}
	if err := srv.Close(); err != nil {
		t.Fatalf("Close again: %v", err)
	}
	if d := time.Since(begin); d > 3*time.Second {
		t.Fatalf("Close took %v", d)
	}
	if got := <-done; got != websocket.StatusGoingAway.String() {
		t.Fatalf("reading client saw %s, want StatusGoingAway", got)
	}
	_ = idle.ws.CloseNow()
	_ = reading.ws.CloseNow()

	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	if _, _, err := websocket.Dial(ctx, wsURL(srv), &websocket.DialOptions{HTTPClient: noKeepAlive()}); err == nil {
		t.Fatal("dial after Close succeeded")
	}
	if srv.Connections() != 2 {
		t.Fatalf("Connections() = %d, want 2", srv.Connections())
	}
}

func TestStartRejectsBadOptions(t *testing.T) {
	for _, opt := range []Option{WithPingInterval(0), WithPingTimeout(-1), WithMaxPayload(0)} {
		if srv, err := Start(opt); err == nil {
			srv.Close()
			t.Fatal("Start accepted a bad option")
		}
	}
}
