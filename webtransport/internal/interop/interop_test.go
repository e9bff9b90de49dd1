package interop

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/sio-go/sio"
	"github.com/sio-go/sio/internal/testutil"
	"github.com/sio-go/sio/test/nodeserver"
	"github.com/sio-go/sio/webtransport"
)

const testTimeout = 30 * time.Second

// Over WebTransport against zishang520's server: connect, echo, acks both
// ways, binary, a second namespace on the same session.
func TestWebTransport(t *testing.T) {
	srv := startGoServer(t, true)
	ctx := testutil.Context(t, testTimeout)
	enable := webtransport.Enable(&tls.Config{RootCAs: srv.roots})
	s := testutil.Dial(t, ctx, srv.url, enable, sio.WithoutReconnect())
	srv.awaitJoined(t, "/")
	m := s.Manager()
	if tr := m.Transport(); tr != sio.WebTransport {
		t.Fatalf("Manager.Transport() = %v, want WebTransport", tr)
	}
	var name string
	if err := testutil.Call(t, ctx, s, "transport").Decode(&name); err != nil || name != "webtransport" {
		t.Fatalf("server's transport: %q, %v", name, err)
	}

	// An event out and back, with nested binary.
	blob := bytes.Repeat([]byte{1, 2, 3, 250}, 50_000) // 200 kB: several QUIC packets
	type doc struct {
		Text string `json:"text"`
		Data []byte `json:"data"`
	}
	if err := s.Emit(ctx, "echo", "hello", 42, doc{Text: "é", Data: []byte{9, 8}}, blob); err != nil {
		t.Fatal(err)
	}
	ev := testutil.NextMessage(t, ctx, s, "echo")
	var (
		str  string
		n    int
		d    doc
		back []byte
	)
	if err := ev.Args.Decode(&str, &n, &d, &back); err != nil {
		t.Fatalf("Decode: %v", err)
	}
	if str != "hello" || n != 42 || d.Text != "é" || !bytes.Equal(d.Data, []byte{9, 8}) || !bytes.Equal(back, blob) {
		t.Errorf("echo: %q %d %+v %d bytes", str, n, d, len(back))
	}

	// A large text message each way.
	long := strings.Repeat("abc", 30_000)
	if err := s.Emit(ctx, "echo", long); err != nil {
		t.Fatal(err)
	}
	if err := testutil.NextMessage(t, ctx, s, "echo").Args.Decode(&str); err != nil || str != long {
		t.Errorf("long text: %d bytes, %v", len(str), err)
	}

	// An ack from the server.
	var a, b string
	if err := testutil.Call(t, ctx, s, "ack", "x", "y").Decode(&a, &b); err != nil || a != "x" || b != "y" {
		t.Errorf("ack: %q %q %v", a, b, err)
	}
	var bin []byte
	if err := testutil.Call(t, ctx, s, "ack", []byte{7, 7}).Decode(&bin); err != nil || !bytes.Equal(bin, []byte{7, 7}) {
		t.Errorf("binary ack: %v %v", bin, err)
	}

	// An ack to the server.
	if err := s.Emit(ctx, "ask", 5); err != nil {
		t.Fatal(err)
	}
	q := testutil.NextMessage(t, ctx, s, "question")
	if !q.WantsAck() {
		t.Fatal("question wants no ack")
	}
	if err := q.Ack(ctx, "reply", []byte{1}); err != nil {
		t.Fatal(err)
	}
	ans := testutil.NextMessage(t, ctx, s, "answer")
	if err := ans.Args.Decode(&str, &bin); err != nil || str != "reply" || !bytes.Equal(bin, []byte{1}) {
		t.Errorf("answer: %s %v", ans.Args.String(), err)
	}

	// A second namespace shares the session.
	admin, err := m.Socket(ctx, "/admin")
	if err != nil {
		t.Fatal(err)
	}
	if ev := testutil.NextEvent(t, ctx, admin); ev.Type != sio.EventConnect {
		t.Fatalf("admin: %v", ev.Type)
	}
	srv.awaitJoined(t, "/admin")
	if err := testutil.Call(t, ctx, admin, "transport").Decode(&name); err != nil || name != "webtransport" {
		t.Errorf("admin's transport: %q, %v", name, err)
	}

	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil { // idempotent
		t.Fatal(err)
	}
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
}

// The server offers no WebTransport (nothing listens on UDP): the client
// goes on to polling and WebSocket, against zishang520's server and
// against the Node server.
func TestWebTransportFallback(t *testing.T) {
	t.Run("go server", func(t *testing.T) {
		srv := startGoServer(t, false)
		ctx := testutil.Context(t, testTimeout)
		s := testutil.Dial(t, ctx, srv.url, webtransport.Enable(nil), sio.WithTransports(sio.WebTransport, sio.WebSocket), sio.WithoutReconnect())
		srv.awaitJoined(t, "/")
		var name string
		if err := testutil.Call(t, ctx, s, "transport").Decode(&name); err != nil || name != "websocket" {
			t.Errorf("transport %q, %v; want websocket", name, err)
		}
		if tr := s.Manager().Transport(); tr != sio.WebSocket {
			t.Errorf("Manager.Transport() = %v", tr)
		}
	})
	t.Run("node server", func(t *testing.T) {
		srv := nodeserver.Start(t)
		ctx := testutil.Context(t, testTimeout)
		s := testutil.Dial(t, ctx, srv.URL(), webtransport.Enable(nil), sio.WithoutReconnect())
		var info struct {
			Transport string `json:"transport"`
		}
		if err := testutil.Call(t, ctx, s, "info").Decode(&info); err != nil {
			t.Fatal(err)
		}
		// Polling first after WebTransport failed, then the upgrade.
		if info.Transport != "polling" && info.Transport != "websocket" {
			t.Errorf("transport %q", info.Transport)
		}
	})
	t.Run("cancelled", func(t *testing.T) {
		srv := startGoServer(t, false)
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		defer cancel()
		start := time.Now()
		_, err := sio.Dial(ctx, srv.url, webtransport.Enable(nil), sio.WithTransports(sio.WebTransport), sio.WithoutReconnect())
		if !errors.Is(err, context.DeadlineExceeded) || time.Since(start) > 3*time.Second {
			t.Fatalf("Dial with a 200 ms context: %v after %v, want the deadline at once", err, time.Since(start))
		}
	})
	t.Run("only webtransport", func(t *testing.T) {
		srv := startGoServer(t, false)
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_, err := sio.Dial(ctx, srv.url, webtransport.Enable(nil), sio.WithTransports(sio.WebTransport), sio.WithoutReconnect())
		if err == nil || errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("Dial: %v, want the WebTransport failure before the deadline", err)
		}
	})
}
