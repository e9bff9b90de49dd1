package testserver

import (
	"context"
	"errors"
	"testing"
	"testing/synctest"
	"time"
)

// fakePeer records the pings of heartbeat in a synctest bubble.
type fakePeer struct {
	pong, activity chan struct{}
	pings          []time.Duration // since the start
	start          time.Time
}

func newFakePeer() *fakePeer {
	return &fakePeer{pong: make(chan struct{}, 1), activity: make(chan struct{}, 1), start: time.Now()}
}

func (p *fakePeer) ping(context.Context) error {
	p.pings = append(p.pings, time.Since(p.start))
	return nil
}

func (p *fakePeer) run(ctx context.Context, done chan<- error) {
	done <- heartbeat(ctx, 100*time.Millisecond, 50*time.Millisecond, p.pong, p.activity, p.ping)
}

func TestHeartbeatTiming(t *testing.T) {
	t.Run("pongs", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			p := newFakePeer()
			done := make(chan error, 1)
			go p.run(ctx, done)
			for range 3 {
				time.Sleep(110 * time.Millisecond) // 10ms after the ping
				p.pong <- struct{}{}
				synctest.Wait()
			}
			cancel()
			if err := <-done; err != nil {
				t.Fatalf("heartbeat: %v", err)
			}
			// Each ping comes pingInterval after the previous pong.
			want := []time.Duration{100 * time.Millisecond, 210 * time.Millisecond, 320 * time.Millisecond}
			if len(p.pings) != len(want) {
				t.Fatalf("pings at %v, want %v", p.pings, want)
			}
			for i := range want {
				if p.pings[i] != want[i] {
					t.Fatalf("pings at %v, want %v", p.pings, want)
				}
			}
		})
	})
	t.Run("timeout", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			p := newFakePeer()
			done := make(chan error, 1)
			go p.run(context.Background(), done)
			err := <-done
			if !errors.Is(err, ErrPingTimeout) || time.Since(p.start) != 150*time.Millisecond {
				t.Fatalf("heartbeat: %v after %v", err, time.Since(p.start))
			}
		})
	})
	t.Run("activity extends the wait once", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			p := newFakePeer()
			done := make(chan error, 1)
			go p.run(context.Background(), done)
			time.Sleep(140 * time.Millisecond) // 40ms after the ping
			p.activity <- struct{}{}           // deadline now 190ms
			synctest.Wait()
			time.Sleep(20 * time.Millisecond)
			p.activity <- struct{}{} // no second extension
			err := <-done
			if !errors.Is(err, ErrPingTimeout) || time.Since(p.start) != 190*time.Millisecond {
				t.Fatalf("heartbeat: %v after %v", err, time.Since(p.start))
			}
		})
	})
	t.Run("stale pong does not count", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			p := newFakePeer()
			done := make(chan error, 1)
			p.pong <- struct{}{} // before any ping
			go p.run(context.Background(), done)
			err := <-done
			if !errors.Is(err, ErrPingTimeout) || time.Since(p.start) != 150*time.Millisecond {
				t.Fatalf("heartbeat: %v after %v", err, time.Since(p.start))
			}
		})
	})
	t.Run("ping error", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			boom := errors.New("boom")
			err := heartbeat(context.Background(), time.Second, time.Second, nil, nil, func(context.Context) error { return boom })
			if err != boom {
				t.Fatalf("heartbeat: %v", err)
			}
		})
	})
}
