package faults_test

import (
	"bytes"
	"context"
	"errors"
	"runtime"
	"runtime/pprof"
	"testing"
	"time"

	"github.com/sio-go/sio"
	"github.com/sio-go/sio/internal/testutil"
)

const (
	flapFor   = 10 * time.Second
	flapEvery = 300 * time.Millisecond
	// goroutineMargin is how many more goroutines than before the test may
	// remain once everything is closed (runtime and testing housekeeping).
	goroutineMargin = 2
)

// The path is cut every 300 ms for 10 s, with resets and closes in turn,
// while a goroutine emits without pause, with and without acknowledgement.
// Nothing panics or deadlocks (every wait is bounded), every acknowledgement
// resolves, the socket is usable once the flapping stops, and once it is
// closed the goroutines are back to their number before the test.
//
// Not parallel: it counts the process's goroutines.
func TestFlapping(t *testing.T) {
	srv := startServer(t)
	for _, tc := range transportCases {
		t.Run(tc.name, func(t *testing.T) {
			ctx := testutil.Context(t, 60*time.Second)
			before := runtime.NumGoroutine()

			px := startProxy(t, srv)
			s := dial(t, ctx, px, tc)
			drained := drainEvents(s.Socket)

			stop := make(chan struct{})
			statsc := make(chan emitStats, 1)
			go func() { statsc <- emitLoop(ctx, s.Socket, stop) }()

			cuts := 0
			for end := time.Now().Add(flapFor); time.Now().Before(end); cuts++ {
				time.Sleep(flapEvery)
				px.Cut(cuts%2 == 0)
			}
			close(stop)
			var st emitStats
			within(t, 15*time.Second, "the emitting goroutine to stop", func() { st = <-statsc })
			t.Logf("%d cuts; %d emits (%d refused: %v); %d acked emits: %d answered, %d failed with a disconnect reason, %d refused, %v",
				cuts, st.emits, st.emitErrs, st.emitErrKinds, st.acks, st.answered, st.ackFailed, st.ackRefused, st.ackOther)
			if st.unresolved > 0 {
				t.Errorf("%d acknowledgements did not resolve within %v", st.unresolved, ackBound)
			}
			if st.wrongReply > 0 {
				t.Errorf("%d acknowledgements carried another emit's reply", st.wrongReply)
			}
			if err := s.Err(); err != nil {
				t.Fatalf("the socket ended: %v", err)
			}
			if st.answered == 0 {
				t.Error("no acknowledged emit was answered during the flapping")
			}

			// The flapping is over: the socket is usable.
			time.Sleep(500 * time.Millisecond) // for the last cut to be noticed
			usable(t, ctx, s.Socket)

			within(t, 10*time.Second, "Socket.Close", s.close)
			within(t, 10*time.Second, "Proxy.Close", func() { px.Close() })
			var evs eventCounts
			within(t, 5*time.Second, "Events to close", func() { evs = <-drained })
			t.Logf("events: %d connects, %d disconnects, %d messages", evs.connects, evs.disconnects, evs.messages)
			if evs.connects < cuts/4 {
				t.Errorf("%d reconnections for %d cuts", evs.connects, cuts)
			}

			after := runtime.NumGoroutine()
			for deadline := time.Now().Add(5 * time.Second); after > before+goroutineMargin && time.Now().Before(deadline); {
				time.Sleep(50 * time.Millisecond)
				after = runtime.NumGoroutine()
			}
			t.Logf("goroutines: %d before, %d after", before, after)
			if after > before+goroutineMargin {
				t.Errorf("%d goroutines after closing everything, %d before:\n%s", after, before, goroutines())
			}
		})
	}
}

// ackBound bounds the wait for one acknowledgement during the flapping: a
// reply, or the disconnect reason, comes well before.
const ackBound = 5 * time.Second

// emitStats is what emitLoop did.
type emitStats struct {
	emits, emitErrs                       int
	emitErrKinds                          map[string]int
	acks, answered, ackFailed, ackRefused int
	unresolved, wrongReply                int
	ackOther                              []error
}

// emitLoop emits "echo" events and acknowledged "ack" events in turn,
// without pause, until stop is closed.
func emitLoop(ctx context.Context, s *sio.Socket, stop <-chan struct{}) emitStats {
	st := emitStats{emitErrKinds: map[string]int{}}
	for i := 0; ; i++ {
		select {
		case <-stop:
			return st
		default:
		}
		if i%4 != 3 {
			st.emits++
			if err := s.Emit(ctx, "echo", i); err != nil {
				st.emitErrs++
				st.emitErrKinds[errKind(err)]++
				time.Sleep(time.Millisecond)
			}
			continue
		}
		st.acks++
		f, err := s.EmitWithAck(ctx, "ack", i)
		if err != nil {
			st.ackRefused++
			continue
		}
		select {
		case <-f.Done():
		case <-time.After(ackBound):
			st.unresolved++
			continue
		}
		reply, err, _ := f.Result()
		var got int
		switch {
		case err == nil && reply.Decode(&got) == nil && got == i:
			st.answered++
		case err == nil:
			st.wrongReply++
		case isDisconnectReason(err):
			st.ackFailed++
		default:
			if len(st.ackOther) < 5 {
				st.ackOther = append(st.ackOther, err)
			}
		}
	}
}

// errKind names the error an emit failed with.
func errKind(err error) string {
	for _, k := range []struct {
		err  error
		name string
	}{{sio.ErrClosed, "ErrClosed"}, {sio.ErrQueueFull, "ErrQueueFull"}, {context.DeadlineExceeded, "deadline"}} {
		if errors.Is(err, k.err) {
			return k.name
		}
	}
	return err.Error()
}

// within runs f and fails the test, with every goroutine's stack, when it
// does not return within d (a deadlock).
func within(t *testing.T, d time.Duration, what string, f func()) {
	t.Helper()
	done := make(chan struct{})
	go func() {
		defer close(done)
		f()
	}()
	select {
	case <-done:
	case <-time.After(d):
		t.Fatalf("waited %v for %s: deadlock?\n%s", d, what, goroutines())
	}
}

// goroutines returns the stacks of every goroutine.
func goroutines() string {
	var b bytes.Buffer
	pprof.Lookup("goroutine").WriteTo(&b, 1)
	return b.String()
}
