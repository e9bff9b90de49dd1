// Package testutil holds the helpers that the test packages of the module
// and of its nested modules (msgpack, webtransport) share: a context bounded
// by the test, the next event of a socket, an event described for a failure
// message, a dial and a call that fail the test on error, the process's CPU
// time, a self-signed certificate for TLS peers, and the echo stream of the
// benchmarks. It is for tests only.
package testutil

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/sio-go/sio"
)

// Context returns a context that ends after d or when the test ends.
func Context(t testing.TB, d time.Duration) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// NextEvent returns the next event of s, failing the test when Events
// closes or ctx ends first.
func NextEvent(t testing.TB, ctx context.Context, s *sio.Socket) sio.Event {
	t.Helper()
	select {
	case ev, ok := <-s.Events():
		if !ok {
			t.Fatalf("Events closed while an event was expected (socket err: %v)", s.Err())
		}
		return ev
	case <-ctx.Done():
		t.Fatalf("no event before the deadline: %v (socket err: %v)", ctx.Err(), s.Err())
	}
	panic("unreachable")
}

// Describe formats an event for failure messages.
func Describe(ev sio.Event) string {
	if ev.Type == sio.EventMessage {
		return fmt.Sprintf("message %q %s (wants ack: %v)", ev.Name, ev.Args.String(), ev.WantsAck())
	}
	return fmt.Sprintf("%v (err: %v)", ev.Type, ev.Err)
}

// NextMessage returns the next event of s and checks that it is an
// EventMessage named name.
func NextMessage(t testing.TB, ctx context.Context, s *sio.Socket, name string) sio.Event {
	t.Helper()
	ev := NextEvent(t, ctx, s)
	if ev.Type != sio.EventMessage || ev.Name != name {
		t.Fatalf("got %s, want message %q", Describe(ev), name)
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
