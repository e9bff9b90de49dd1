package interop_test

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/sio-go/sio"
	"github.com/sio-go/sio/internal/testutil"
	"github.com/sio-go/sio/test/nodeserver"
)

func TestReservedEventNames(t *testing.T) {
	t.Parallel()
	srv := startServer(t)
	ctx := testutil.Context(t, testTimeout)
	s := dial(t, ctx, srv.URL())
	for _, name := range []string{"connect", "connect_error", "disconnect", "disconnecting", "newListener", "removeListener"} {
		if err := s.Emit(ctx, name, 1); !errors.Is(err, sio.ErrReservedEvent) {
			t.Errorf("Emit(%q) = %v, want ErrReservedEvent", name, err)
		}
		f, err := s.EmitWithAck(ctx, name)
		if !errors.Is(err, sio.ErrReservedEvent) || f != nil {
			t.Errorf("EmitWithAck(%q) = %v, %v; want nil, ErrReservedEvent", name, f, err)
		}
	}
	// Names that merely resemble reserved ones are fine and reach the server
	// (which acknowledges "ack" only; these just must not break anything).
	for _, name := range []string{"Connect", "connected", "disconnect ", "message"} {
		if err := s.Emit(ctx, name); err != nil {
			t.Errorf("Emit(%q) = %v", name, err)
		}
	}
	// The connection is unharmed.
	echo(t, ctx, s, "ok")
	if inf := info(t, ctx, s); inf.ID != s.ID() {
		t.Errorf("info id %q, want %q", inf.ID, s.ID())
	}
}

// The server's maxHttpBufferSize (1000) is the maxPayload of its handshake:
// a larger message is refused by Emit and the connection stays usable.
// Over polling, an attachment travels as "b" + base64, so the largest one
// that fits is 747 bytes (1 + 4·249 = 997).
//
// A socket.io 3.x server announces no maxPayload, so the client assumes
// engine.io's default, 1e6 bytes. Against 3.x the same checks run at that
// limit, on a server left at its default maxHttpBufferSize (1e6: the largest
// attachment over polling is then 749997 bytes, 1 + 4·249999), and a server
// set below the default shows what the client cannot know: see
// testUnannouncedLimit.
func TestPayloadTooLarge(t *testing.T) {
	t.Parallel()
	limit, maxPollingAtt := 1000, 747
	srv := startServer(t, "--max-http-buffer-size", "1000")
	var unannounced *nodeserver.Server // 3.x: a limit the client cannot know
	if legacy3() {
		limit, maxPollingAtt = 1e6, 749997
		unannounced, srv = srv, startServer(t)
	}
	forTransports(t, func(t *testing.T, tr transportCase) {
		ctx := testutil.Context(t, testTimeout)
		if unannounced != nil {
			testUnannouncedLimit(t, ctx, unannounced, tr)
		}
		s := dial(t, ctx, srv.URL(), tr.opts...)
		engineID := settle(t, ctx, s, tr).EngineID
		maxAtt := limit
		if tr.final == "polling" {
			maxAtt = maxPollingAtt
		}

		// 42["echo","<n × x>"] is n+13 bytes.
		const overhead = len(`42["echo",""]`)
		tooBig := strings.Repeat("x", 2*limit)
		if err := s.Emit(ctx, "echo", tooBig); !errors.Is(err, sio.ErrPayloadTooLarge) {
			t.Fatalf("Emit of %d bytes = %v, want ErrPayloadTooLarge", len(tooBig), err)
		}
		if f, err := s.EmitWithAck(ctx, "ack", tooBig); !errors.Is(err, sio.ErrPayloadTooLarge) || f != nil {
			t.Fatalf("EmitWithAck of %d bytes = %v, %v; want ErrPayloadTooLarge", len(tooBig), f, err)
		}
		if err := s.Emit(ctx, "echo", bytes.Repeat([]byte{7}, 2*limit)); !errors.Is(err, sio.ErrPayloadTooLarge) {
			t.Fatalf("Emit of a %d-byte attachment = %v, want ErrPayloadTooLarge", 2*limit, err)
		}
		if err := s.Emit(ctx, "echo", strings.Repeat("x", limit-overhead+1)); !errors.Is(err, sio.ErrPayloadTooLarge) {
			t.Errorf("Emit of a %d-byte message = %v, want ErrPayloadTooLarge", limit+1, err)
		}
		if err := s.Emit(ctx, "echo", bytes.Repeat([]byte{7}, maxAtt+1)); !errors.Is(err, sio.ErrPayloadTooLarge) {
			t.Errorf("Emit of a %d-byte attachment = %v, want ErrPayloadTooLarge", maxAtt+1, err)
		}

		// Still connected, and the same connection.
		if !s.Connected() {
			t.Fatalf("disconnected after a refused emit: %v", s.Err())
		}
		echo(t, ctx, s, "small")
		// Exactly maxPayload bytes is allowed.
		echo(t, ctx, s, strings.Repeat("y", limit-overhead))
		att := bytes.Repeat([]byte{5}, maxAtt)
		if err := s.Emit(ctx, "echo", att); err != nil {
			t.Fatalf("Emit of a %d-byte attachment: %v", maxAtt, err)
		}
		ev := nextMessage(t, ctx, s, "echo")
		var got []byte
		if err := ev.Args.Decode(&got); err != nil || !bytes.Equal(got, att) {
			t.Fatalf("%d-byte attachment came back as %d bytes, %v", maxAtt, len(got), err)
		}
		if inf := info(t, ctx, s); inf.EngineID != engineID || inf.ID != s.ID() {
			t.Errorf("connection replaced: engine %q, want %q", inf.EngineID, engineID)
		}
	})
}

// testUnannouncedLimit: a socket.io 3.x server whose maxHttpBufferSize
// (1000) is below the default does not say so, so Emit lets a 2000-byte
// message through; the server drops the connection on it (WebSocket: closes
// it; polling: cuts the POST) without delivering it, and the socket joins
// again on a new connection.
func testUnannouncedLimit(t *testing.T, ctx context.Context, srv *nodeserver.Server, tr transportCase) {
	t.Helper()
	s := dial(t, ctx, srv.URL(), tr.with(fastReconnect(0))...)
	engineID := settle(t, ctx, s, tr).EngineID
	if err := s.Emit(ctx, "echo", strings.Repeat("x", 2000)); err != nil {
		t.Fatalf("Emit of 2000 bytes to a server announcing no maxPayload = %v, want it sent", err)
	}
	ev := testutil.NextEvent(t, ctx, s)
	if ev.Type != sio.EventDisconnect || !(errors.Is(ev.Err, sio.ErrTransportError) || errors.Is(ev.Err, sio.ErrTransportClose)) {
		t.Fatalf("after a message over the unannounced limit: got %s, want EventDisconnect(transport error or close)", testutil.Describe(ev))
	}
	if ev := testutil.NextEvent(t, ctx, s); ev.Type != sio.EventConnect {
		t.Fatalf("after the disconnect: got %s, want EventConnect", testutil.Describe(ev))
	}
	echo(t, ctx, s, "after") // the oversized echo never came back
	if inf := info(t, ctx, s); inf.EngineID == engineID {
		t.Errorf("still on engine %q after the server dropped it", engineID)
	}
	s.Close()
}

// Over polling, a burst of messages that together exceed maxPayload is
// split across POSTs (one oversized body would be refused with HTTP 413 and
// the session closed).
//
// Against socket.io 3.x, which announces no maxPayload, the client splits at
// the default it assumes, 1e6: a server left at that default, and a burst of
// 300 × 10 kB.
func TestPollingSplitsBatches(t *testing.T) {
	t.Parallel()
	size, args := 200, []string{"--max-http-buffer-size", "1000"}
	if legacy3() {
		size, args = 10_000, nil
	}
	srv := startServer(t, args...)
	ctx := testutil.Context(t, testTimeout)
	s := dial(t, ctx, srv.URL()+"/chat", sio.WithTransports(sio.Polling))
	engineID := info(t, ctx, s).EngineID
	const n = 300
	payload := strings.Repeat("p", size)
	errc := make(chan error, 1)
	go func() {
		for i := range n {
			if err := s.Emit(ctx, "echo", i, payload); err != nil {
				errc <- err
				return
			}
		}
		errc <- nil
	}()
	for i := range n {
		ev := nextMessage(t, ctx, s, "echo")
		var got int
		var p string
		if err := ev.Args.Decode(&got, &p); err != nil || got != i || p != payload {
			t.Fatalf("echo %d = %d (%d bytes), %v", i, got, len(p), err)
		}
	}
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
	if inf := info(t, ctx, s); inf.EngineID != engineID || inf.Transport != "polling" {
		t.Errorf("engine %q over %s, want %q over polling", inf.EngineID, inf.Transport, engineID)
	}
}

// Multi-byte characters count as their UTF-8 bytes, as the server counts.
// Against socket.io 3.x the limit is the 1e6 the client assumes, on a server
// left at that default.
func TestPayloadTooLargeUTF8(t *testing.T) {
	t.Parallel()
	limit, args := 1000, []string{"--max-http-buffer-size", "1000"}
	if legacy3() {
		limit, args = 1e6, nil
	}
	srv := startServer(t, args...)
	ctx := testutil.Context(t, testTimeout)
	s := dial(t, ctx, srv.URL()+"/admin")
	// 42/admin,["echo","…"]: 21 bytes of overhead; "é" is 2 bytes.
	const overhead = len(`42/admin,["echo",""]`)
	over := strings.Repeat("é", (limit-overhead)/2+1)
	if err := s.Emit(ctx, "echo", over); !errors.Is(err, sio.ErrPayloadTooLarge) {
		t.Fatalf("Emit of %d bytes = %v, want ErrPayloadTooLarge", len(over)+overhead, err)
	}
	fits := strings.Repeat("é", (limit-overhead)/2)
	echo(t, ctx, s, fits)
}

// WithMaxMessageSize bounds one frame from the server: a larger one ends
// the connection with an error, but many small frames that arrive together
// (over polling, in one response body) are fine, whatever their total.
func TestMaxMessageSizeIsPerFrame(t *testing.T) {
	t.Parallel()
	srv := startServer(t)
	forTransports(t, func(t *testing.T, tr transportCase) {
		t.Run("burst of small frames", func(t *testing.T) {
			ctx := testutil.Context(t, testTimeout)
			s := dial(t, ctx, srv.URL(), tr.with(sio.WithoutReconnect(), sio.WithMaxMessageSize(1000))...)
			settle(t, ctx, s, tr)
			// 200 frames of about 20 bytes, sent by the server in one go.
			if err := s.Emit(ctx, "stream", 200, 0); err != nil {
				t.Fatal(err)
			}
			readStream(t, s, 200, 0, 5*time.Second)
			echo(t, ctx, s, "still connected")
		})
		t.Run("one large frame", func(t *testing.T) {
			ctx := testutil.Context(t, testTimeout)
			s := dial(t, ctx, srv.URL(), tr.with(sio.WithoutReconnect(), sio.WithMaxMessageSize(1000))...)
			settle(t, ctx, s, tr)
			fut, err := s.EmitWithAck(ctx, "binary", 5000)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := fut.Wait(ctx); err == nil {
				t.Fatalf("a 5000-byte attachment got through a 1000-byte limit")
			}
			ev := testutil.NextEvent(t, ctx, s)
			if ev.Type != sio.EventDisconnect || !(errors.Is(ev.Err, sio.ErrTransportError) || errors.Is(ev.Err, sio.ErrParse)) {
				t.Fatalf("got %s, want EventDisconnect(transport or parse error)", testutil.Describe(ev))
			}
			expectClosed(t, ctx, s)
		})
	})
}

// A 2 MiB payload over polling to a server whose maxHttpBufferSize is 1e6:
// one packet cannot be split across POSTs, so Emit refuses it clearly (it is
// never silently dropped), and the connection goes on; 2 MiB in many small
// events is split across POSTs and all of it arrives.
func TestPollingTwoMiB(t *testing.T) {
	t.Parallel()
	srv := startServer(t, "--max-http-buffer-size", "1000000", "--transports", "polling")
	ctx := testutil.Context(t, testTimeout)
	s := dial(t, ctx, srv.URL(), sio.WithTransports(sio.Polling), sio.WithoutReconnect())
	big := bytes.Repeat([]byte{1}, 2<<20)
	if err := s.Emit(ctx, "echo", big); !errors.Is(err, sio.ErrPayloadTooLarge) {
		t.Fatalf("Emit of 2 MiB = %v, want ErrPayloadTooLarge", err)
	}
	chunk := strings.Repeat("y", 16<<10)
	const n = (2 << 20) / (16 << 10)
	for i := range n {
		if err := s.Emit(ctx, "echo", i, chunk); err != nil {
			t.Fatal(err)
		}
	}
	for i := range n {
		ev := nextMessage(t, ctx, s, "echo")
		var got int
		var text string
		if err := ev.Args.Decode(&got, &text); err != nil || got != i || text != chunk {
			t.Fatalf("chunk %d arrived as %d (%d bytes, %v)", i, got, len(text), err)
		}
	}
}
