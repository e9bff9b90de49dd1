package sio_test

import (
	"encoding/json"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/sio-go/sio"
	"github.com/sio-go/sio/ack"
	"github.com/sio-go/sio/test/testserver"
)

// Closing a Manager and its sockets races emits, acknowledged emits and
// their waits, Events readers, and reconnections (the server drops the
// transport again and again), from many goroutines, twenty times over, half
// of them with resends (WithRetries, WithAckTimeout). Every future resolves
// (with its reply, a disconnect reason or ErrAckTimeout), every
// Events channel closes, every call returns, emits after Close fail with
// ErrClosed, and no goroutine is left behind (goleak, in TestMain).
func TestCloseRacesReconnect(t *testing.T) {
	srv := startServer(t)
	backoff := sio.WithReconnect(sio.Backoff{Min: time.Millisecond, Max: 5 * time.Millisecond})
	for round := range 20 {
		ctx := testCtx(t)
		opts := []sio.Option{backoff}
		if round%2 == 1 {
			opts = append(opts, sio.WithRetries(2), sio.WithAckTimeout(20*time.Millisecond))
		}
		m, err := sio.NewManager(srv.URL(), opts...)
		if err != nil {
			t.Fatal(err)
		}
		var socks []*sio.Socket
		for _, nsp := range []string{"/", "/admin"} {
			s, err := m.Socket(ctx, nsp)
			if err != nil {
				t.Fatal(err)
			}
			socks = append(socks, s)
		}

		var (
			mu      sync.Mutex
			futures []*ack.Future[sio.Args]
			wg      sync.WaitGroup // every goroutine of the round
		)
		// loop runs op until it reports the socket closed.
		loop := func(op func() error) {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					if err := op(); errors.Is(err, sio.ErrClosed) {
						return
					}
					time.Sleep(100 * time.Microsecond)
				}
			}()
		}
		for i, s := range socks {
			loop(func() error { return s.Emit(ctx, "echo", i) })
			loop(func() error {
				f, err := s.EmitWithAck(ctx, "ack", i)
				if err == nil {
					mu.Lock()
					futures = append(futures, f)
					mu.Unlock()
					wg.Add(1)
					go func() { defer wg.Done(); f.Wait(ctx) }()
				}
				return err
			})
			wg.Add(1)
			go func() {
				defer wg.Done()
				for range s.Events() {
				}
			}()
		}
		// The server drops the transport: the Manager reconnects.
		loop(func() error { return socks[0].Emit(ctx, "close-transport") })

		time.Sleep(time.Duration(round%5) * 10 * time.Millisecond)
		var closers sync.WaitGroup
		for _, c := range []func() error{m.Close, socks[0].Close, socks[1].Close, m.Close} {
			closers.Add(1)
			go func() { defer closers.Done(); c() }()
		}
		closers.Wait()

		done := make(chan struct{})
		go func() { wg.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Fatalf("round %d: a goroutine is stuck after Close (an Events channel not closed, or a Wait not resolved)", round)
		}
		for _, f := range futures {
			_, err, ok := f.Result()
			switch {
			case !ok:
				t.Fatalf("round %d: a future is unresolved after Close", round)
			case err != nil && !isDisconnectReason(err) && !errors.Is(err, sio.ErrAckTimeout):
				t.Fatalf("round %d: a future failed with %v, which is no disconnect reason", round, err)
			}
		}
		for _, s := range socks {
			if err := s.Emit(ctx, "echo"); !errors.Is(err, sio.ErrClosed) {
				t.Fatalf("round %d: Emit after Close = %v, want ErrClosed", round, err)
			}
		}
		t.Logf("round %d: %d acknowledged emits", round, len(futures))
	}
}

// isDisconnectReason reports whether err matches one of the reasons a
// socket disconnects for.
func isDisconnectReason(err error) bool {
	for _, reason := range []error{sio.ErrClientDisconnect, sio.ErrServerDisconnect, sio.ErrTransportClose, sio.ErrTransportError, sio.ErrPingTimeout, sio.ErrParse} {
		if errors.Is(err, reason) {
			return true
		}
	}
	return false
}

// The socket options given to NewManager are the defaults of its sockets;
// options given to Manager.Socket override them.
func TestManagerSocketDefaults(t *testing.T) {
	srv := startServer(t, testserver.WithAuth(func(nsp string, auth json.RawMessage) error {
		if string(auth) != `{"token":"ok"}` {
			return &testserver.RefuseError{Message: "not authorized"}
		}
		return nil
	}))
	m, err := sio.NewManager(srv.URL(), sio.WithAuth(map[string]string{"token": "ok"}))
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	ctx := testCtx(t)
	if _, err := m.Socket(ctx, "/"); err != nil {
		t.Fatalf("socket with the Manager's auth: %v", err)
	}
	_, err = m.Socket(ctx, "/admin", sio.WithAuth(map[string]string{"token": "bad"}))
	var ce *sio.ConnectError
	if !errors.As(err, &ce) {
		t.Fatalf("socket overriding the auth: %v, want a *ConnectError", err)
	}
}
