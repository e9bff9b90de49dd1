// Package testutil holds the helpers that the module's test packages
// share: a context bounded by the test, the next event of a socket, an
// event described for a failure message, and a self-signed certificate for
// TLS peers. It is for tests only.
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
