package testutil

import (
	"context"
	"fmt"

	"github.com/sio-go/sio"
)

// EchoStream emits n "echo" events with args from one goroutine while the
// caller's reads the n echoes, as the stream benchmarks do against a server
// that echoes each event back. It returns the first error: an emit that
// failed, an event other than an echo, or ctx's.
func EchoStream(ctx context.Context, s *sio.Socket, n int, args ...any) error {
	errc := make(chan error, 1)
	go func() {
		for range n {
			if err := s.Emit(ctx, "echo", args...); err != nil {
				errc <- err
				return
			}
		}
		errc <- nil
	}()
	for got := 0; got < n; {
		select {
		case ev := <-s.Events():
			if ev.Type != sio.EventMessage || ev.Name != "echo" {
				return fmt.Errorf("unexpected event %v %q %v", ev.Type, ev.Name, ev.Err)
			}
			got++
		case err := <-errc:
			if err != nil {
				return err
			}
			errc = nil // all sent: keep reading
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	if errc != nil {
		return <-errc
	}
	return nil
}
