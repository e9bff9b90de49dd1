package sio_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sio-go/sio"
	"github.com/sio-go/sio/test/testserver"
)

// A server that accepts every handshake and breaks every session at its
// first packet does not defeat the backoff: a connection that fails before
// it has been up for one ping interval does not start the policy again, so
// the attempts of one outage go on counting (1, 2, 3, …) and their delays
// grow, instead of a hot loop of first attempts.
func TestBackoffNotResetByShortLivedConnections(t *testing.T) {
	var sessions atomic.Int32
	srv := startServer(t, testserver.WithTransports("websocket"), testserver.WithHandler(func(ctx context.Context, c *testserver.Conn) error {
		sessions.Add(1)
		if err := c.SendOpen(testserver.Open{PingInterval: 10000, PingTimeout: 5000, MaxPayload: 1e6}); err != nil {
			return err
		}
		if c.Seq() == 1 { // the first session lets Dial join
			if _, err := c.Expect(ctx, "40"); err != nil {
				return err
			}
			if err := c.SendText(ctx, `40{"sid":"first"}`); err != nil {
				return err
			}
		}
		if _, err := c.Read(ctx); err != nil {
			return nil
		}
		return c.Cut()
	}))
	s := dial(t, srv.URL(), sio.WithTransports(sio.WebSocket),
		sio.WithReconnect(sio.Backoff{Min: 20 * time.Millisecond, Max: 5 * time.Second}))
	if err := s.Emit(testCtx(t), "break"); err != nil {
		t.Fatal(err)
	}
	var delays []time.Duration
	timeout := time.After(20 * time.Second)
	for len(delays) < 6 {
		select {
		case ev := <-s.Manager().Events():
			if ev.Type != sio.ReconnectAttempt {
				continue
			}
			if want := len(delays) + 1; ev.Attempt != want {
				t.Fatalf("reconnect attempt numbered %d, want %d: the backoff started again after a connection that failed at once", ev.Attempt, want)
			}
			delays = append(delays, ev.Delay)
		case <-timeout:
			t.Fatalf("only %d reconnection attempts in 20 s", len(delays))
		}
	}
	for i := 1; i < len(delays); i++ {
		if delays[i] <= delays[i-1] {
			t.Fatalf("delays %v do not grow", delays)
		}
	}
	if n := sessions.Load(); n > 8 {
		t.Fatalf("%d sessions for 6 attempts", n)
	}
}
