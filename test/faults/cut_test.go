package faults_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sio-go/sio"
	"github.com/sio-go/sio/ack"
	"github.com/sio-go/sio/internal/testutil"
)

// cutEmits is the number of concurrent acknowledged emits.
const cutEmits = 64

// outcome is how one acknowledged emit of the cut scenario ended.
type outcome struct {
	emitErr  error // EmitWithAck refused the emit (no future)
	reply    int   // the reply, when err is nil
	err      error // the future's error
	resolved int   // times the future was seen to resolve
}

// The connection is cut while 64 goroutines make acknowledged emits: some
// are answered before the cut, some are in flight when it happens, some are
// made while the socket reconnects. Every future resolves exactly once,
// with its own reply or with the disconnect reason, and none hangs. With
// retries, every emit is answered once the path is back.
func TestCutDuringAckedEmits(t *testing.T) {
	t.Parallel()
	srv := startServer(t)
	for _, cut := range []struct {
		name string
		rst  bool
	}{{"rst", true}, {"fin", false}} {
		for _, retry := range []bool{false, true} {
			name := cut.name
			if retry {
				name += "-retries"
			}
			t.Run(name, func(t *testing.T) {
				t.Parallel()
				forTransports(t, func(t *testing.T, tc transportCase) {
					ctx := testutil.Context(t, 30*time.Second)
					px := startProxy(t, srv)
					var opts []sio.Option
					if retry {
						opts = append(opts, sio.WithRetries(3), sio.WithAckTimeout(500*time.Millisecond))
					}
					s := dial(t, ctx, px, tc, opts...)
					ackEcho(t, ctx, s.Socket, "warm")
					// Spread the emits over the moment of the cut: replies take at
					// least 2×10 ms, the emits start over 32 ms, and the cut comes
					// with the first reply.
					px.Latency(10 * time.Millisecond)
					drained := drainEvents(s.Socket)

					outs := make([]outcome, cutEmits)
					var (
						wg       sync.WaitGroup
						resolved atomic.Int32
						release  = make(chan struct{})
						first    = make(chan struct{}, 1)
					)
					deadline := time.Now().Add(15 * time.Second)
					for i := range cutEmits {
						wg.Add(1)
						go func() {
							defer wg.Done()
							<-release
							time.Sleep(time.Duration(i) * 500 * time.Microsecond)
							f, err := s.EmitWithAck(ctx, "ack", i)
							if err != nil {
								outs[i].emitErr = err
								return
							}
							outs[i] = waitOutcome(ctx, f, deadline)
							if outs[i].resolved > 0 {
								resolved.Add(1)
								select {
								case first <- struct{}{}:
								default:
								}
							}
						}()
					}
					close(release)
					select {
					case <-first:
					case <-time.After(5 * time.Second):
						t.Error("no emit resolved within 5 s before the cut")
					}
					px.Cut(cut.rst)
					wg.Wait()
					px.Pass()

					var replies, failures int
					for i, o := range outs {
						switch {
						case o.emitErr != nil:
							t.Errorf("emit %d: EmitWithAck: %v (the socket reconnects: it should queue the emit)", i, o.emitErr)
						case o.resolved == 0:
							t.Errorf("emit %d: the future did not resolve before the deadline", i)
						case o.resolved > 1:
							t.Errorf("emit %d: the future resolved %d times", i, o.resolved)
						case o.err == nil:
							replies++
							if o.reply != i {
								t.Errorf("emit %d: reply %d, want %d", i, o.reply, i)
							}
						default:
							failures++
							if retry {
								t.Errorf("emit %d: %v; with retries every emit should be answered once the path is back", i, o.err)
							} else if !isDisconnectReason(o.err) {
								t.Errorf("emit %d: error %v, want a disconnect reason", i, o.err)
							}
						}
					}
					t.Logf("%d futures resolved: %d replies, %d disconnect errors", resolved.Load(), replies, failures)
					if n := resolved.Load(); n != cutEmits {
						t.Errorf("%d futures resolved, want %d", n, cutEmits)
					}

					// The socket is back and usable.
					usable(t, ctx, s.Socket)
					s.close()
					if evs := <-drained; evs.disconnects == 0 {
						t.Errorf("no EventDisconnect seen: the cut did not cut")
					}
				})
			})
		}
	}
}

// waitOutcome waits for f until deadline and records how it resolved. The
// future's Done channel is watched by itself, without Wait, so that a
// future that never resolves is seen as such (Wait would resolve it with
// the context's error).
func waitOutcome(ctx context.Context, f *ack.Future[sio.Args], deadline time.Time) outcome {
	var o outcome
	t := time.NewTimer(time.Until(deadline))
	defer t.Stop()
	select {
	case <-f.Done():
	case <-t.C:
		return o
	}
	o.resolved = 1
	args, err, done := f.Result()
	if !done {
		o.resolved = 0
		return o
	}
	// Resolved for good: Wait and Result agree, now and later.
	wargs, werr := f.Wait(ctx)
	if werr != err || wargs.String() != args.String() {
		o.resolved++
		o.err = fmt.Errorf("Wait returned (%s, %v) after Result gave (%s, %v)", wargs.String(), werr, args.String(), err)
		return o
	}
	o.err = err
	if err == nil {
		if e := args.Decode(&o.reply); e != nil {
			o.reply = -1
		}
	}
	return o
}

// eventCounts is what drainEvents saw.
type eventCounts struct {
	connects, disconnects, messages int
}

// drainEvents reads s's events until the channel closes, so that lifecycle
// events never pile up, and then reports the counts.
func drainEvents(s *sio.Socket) <-chan eventCounts {
	out := make(chan eventCounts, 1)
	go func() {
		var c eventCounts
		for ev := range s.Events() {
			switch ev.Type {
			case sio.EventConnect:
				c.connects++
			case sio.EventDisconnect:
				c.disconnects++
			case sio.EventMessage:
				c.messages++
			}
		}
		out <- c
	}()
	return out
}

// Acknowledged emits queued while the socket is disconnected are sent once
// it has joined again; when the new connection is cut while that queue is
// going out, the emits that did not make it are queued again for the next
// connection (with retries, those sent without an answer too): all of them
// are answered in the end. Three rounds: queue 300 emits behind a
// blackhole, let the path pass, cut as soon as the socket has joined.
func TestCutDuringFlush(t *testing.T) {
	t.Parallel()
	const (
		rounds = 3
		queued = 300
	)
	srv := startServer(t)
	forTransports(t, func(t *testing.T, tc transportCase) {
		ctx := testutil.Context(t, 40*time.Second)
		px := startProxy(t, srv)
		s := dial(t, ctx, px, tc, sio.WithRetries(3), sio.WithAckTimeout(3*time.Second),
			sio.WithConnectTimeout(2*time.Second), sio.WithOfflineQueueLimit(10*queued))
		drained := drainEvents(s.Socket)
		for round := range rounds {
			// Blackhole first, so that reconnection attempts hang; then cut
			// until the socket notices (a cut between two polls finds no
			// connection to cut, and the next poll goes into the blackhole).
			px.Blackhole(true)
			waitFor(t, ctx, "the socket to see the cut", func() bool {
				px.Cut(true)
				time.Sleep(20 * time.Millisecond)
				return !s.Connected()
			})
			futures := make([]*ack.Future[sio.Args], queued)
			for i := range futures {
				f, err := s.EmitWithAck(ctx, "ack", round*queued+i)
				if err != nil {
					t.Fatalf("round %d: EmitWithAck %d while disconnected: %v", round, i, err)
				}
				futures[i] = f
			}
			px.Pass()
			waitFor(t, ctx, "the socket to join again", s.Connected)
			px.Cut(true) // while the queue goes out

			var failed []string
			for i, f := range futures {
				reply, err := f.Wait(ctx)
				var got int
				switch {
				case err != nil:
					failed = append(failed, fmt.Sprintf("%d: %v", i, err))
				case reply.Decode(&got) != nil || got != round*queued+i:
					t.Errorf("round %d: emit %d answered %s", round, i, reply.String())
				}
			}
			if len(failed) > 0 {
				t.Errorf("round %d: %d of %d queued acknowledged emits failed (with WithRetries(3) and the path back); the first: %s",
					round, len(failed), queued, failed[0])
			}
		}
		usable(t, ctx, s.Socket)
		s.close()
		<-drained
	})
}

// waitFor polls cond every millisecond until it holds.
func waitFor(t *testing.T, ctx context.Context, what string, cond func() bool) {
	t.Helper()
	for !cond() {
		select {
		case <-ctx.Done():
			t.Fatalf("waiting for %s: %v", what, ctx.Err())
		case <-time.After(time.Millisecond):
		}
	}
}
