// Package siotest holds the helpers that tests of several modules share
// (the nested modules' interop tests): reading a socket's events and
// making a call with an acknowledgement, failing the test on a timeout.
package siotest

import (
	"context"
	"testing"
	"time"

	"github.com/sio-go/sio"
)

// NextEvent returns the next event of s, failing the test when Events
// closes or ctx ends first.
func NextEvent(t testing.TB, ctx context.Context, s *sio.Socket) sio.Event {
	t.Helper()
	select {
	case ev, ok := <-s.Events():
		if !ok {
			t.Fatalf("Events closed (socket err: %v)", s.Err())
		}
		return ev
	case <-ctx.Done():
		t.Fatalf("no event before the deadline (socket err: %v)", s.Err())
	}
	panic("unreachable")
}

// NextMessage returns the next event of s and checks that it is an
// EventMessage named name.
func NextMessage(t testing.TB, ctx context.Context, s *sio.Socket, name string) sio.Event {
	t.Helper()
	ev := NextEvent(t, ctx, s)
	if ev.Type != sio.EventMessage || ev.Name != name {
		t.Fatalf("got %v %q %s (err %v), want message %q", ev.Type, ev.Name, ev.Args.String(), ev.Err, name)
	}
	return ev
}

// Call emits event with args, asks for an ack and waits for it.
func Call(t testing.TB, ctx context.Context, s *sio.Socket, event string, args ...any) sio.Args {
	t.Helper()
	f, err := s.EmitWithAck(ctx, event, args...)
	if err != nil {
		t.Fatalf("EmitWithAck(%q): %v", event, err)
	}
	reply, err := f.Wait(ctx)
	if err != nil {
		t.Fatalf("ack of %q: %v", event, err)
	}
	return reply
}

// Dial opens a socket (closed when the test ends) and checks that its first
// event is EventConnect.
func Dial(t testing.TB, ctx context.Context, url string, opts ...sio.Option) *sio.Socket {
	t.Helper()
	s, err := sio.Dial(ctx, url, opts...)
	if err != nil {
		t.Fatalf("Dial(%q): %v", url, err)
	}
	t.Cleanup(func() { s.Close() })
	if ev := NextEvent(t, ctx, s); ev.Type != sio.EventConnect {
		t.Fatalf("first event %v (%v), want EventConnect", ev.Type, ev.Err)
	}
	return s
}

// Context returns a context that ends after d or with the test.
func Context(t testing.TB, d time.Duration) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}
