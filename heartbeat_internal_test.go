package sio

import (
	"context"
	"errors"
	"testing"
	"testing/synctest"
	"time"

	"github.com/sio-go/sio/packet"
	"golang.org/x/sync/errgroup"
)

// heartbeatConn is the part of an engineConn its heartbeat uses, and its
// fail, which ends the heartbeat.
func heartbeatConn(eio int, interval, timeout time.Duration) (*engineConn, context.CancelCauseFunc) {
	ctx, cancel := context.WithCancelCause(context.Background())
	c := &engineConn{
		eio:     eio,
		open:    packet.Open{PingInterval: interval, PingTimeout: timeout},
		started: time.Now(),
		ctx:     ctx,
		cancel:  cancel,
	}
	c.out = make(chan outgoing, writeQueueLen)
	if eio == 3 { // as startEngine makes them
		c.pinged = make(chan struct{}, 1)
	} else {
		c.beat = time.NewTimer(interval + timeout)
	}
	return c, c.fail
}

// Engine.IO v4: pings every pingInterval keep the connection alive however
// long, through the heartbeat's hand-overs; after the last one, it is dead
// exactly pingInterval + pingTimeout later.
func TestHeartbeatV4(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c, cancel := heartbeatConn(4, 25*time.Second, 20*time.Second)
		defer cancel(nil)
		// Run as startEngine runs it, so that it can hand over; the
		// count of one more keeps the last one out from ending a
		// connection that has no transport.
		c.g = new(errgroup.Group)
		c.running.Store(2)
		c.spawn((*engineConn).heartbeat)
		defer c.g.Wait()
		for range 20 {
			time.Sleep(25 * time.Second)
			c.heard()
		}
		synctest.Wait()
		if err := context.Cause(c.ctx); err != nil {
			t.Fatalf("ended while pinged every interval: %v", err)
		}
		last := time.Now()
		<-c.ctx.Done()
		if err := context.Cause(c.ctx); !errors.Is(err, ErrPingTimeout) {
			t.Fatalf("err = %v, want ErrPingTimeout", err)
		}
		if d := time.Since(last); d != 45*time.Second {
			t.Fatalf("dead %v after the last ping, want 45s", d)
		}
	})
}

// Engine.IO v3: the client asks for a ping pingInterval after the previous
// pong, and the connection is dead when a pong does not come within
// pingTimeout of the ping.
func TestHeartbeatV3(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c, cancel := heartbeatConn(3, 25*time.Second, 5*time.Second)
		defer cancel(nil)
		done := make(chan error, 1)
		go func() { done <- c.heartbeat() }()
		// The heartbeat asks the writer for a ping.
		ping := func() {
			if item := <-c.out; item.op != opWake || c.due.Swap(0) != duePing {
				t.Fatalf("the writer got %v with due %b, want a wake with a ping due", item.op, c.due.Load())
			}
		}
		prev := time.Now()
		for range 10 {
			ping()
			if d := time.Since(prev); d != 25*time.Second {
				t.Fatalf("ping %v after the previous pong, want 25s", d)
			}
			time.Sleep(time.Second) // the round trip
			c.heard()
			prev = time.Now()
		}
		ping()
		pinged := time.Now()
		err := <-done
		if !errors.Is(err, ErrPingTimeout) {
			t.Fatalf("err = %v, want ErrPingTimeout", err)
		}
		if d := time.Since(pinged); d != 5*time.Second {
			t.Fatalf("dead %v after the unanswered ping, want 5s", d)
		}
	})
}

// A heartbeat ends quietly with its connection.
func TestHeartbeatEndsWithConnection(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		for _, eio := range []int{3, 4} {
			c, cancel := heartbeatConn(eio, 25*time.Second, 20*time.Second)
			done := make(chan error, 1)
			go func() { done <- c.heartbeat() }()
			time.Sleep(10 * time.Second)
			cancel(errClientClose)
			if err := <-done; err != nil {
				t.Fatalf("v%d: err = %v after the connection ended", eio, err)
			}
		}
	})
}
