package faults_test

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sio-go/sio"
	"github.com/sio-go/sio/ack"
	"github.com/sio-go/sio/internal/testutil"
	"github.com/sio-go/sio/test/faultproxy"
)

// Storms: eight goroutines emit while the proxy cuts the connection every
// 100 ms for 2 s, resets and closes in turn. Each test looks at one
// promise of the client.

const (
	stormEmitters = 8
	stormFor      = 2 * time.Second
	stormEvery    = 100 * time.Millisecond
	// stormSettle bounds, after the last cut, the wait for every
	// acknowledgement to resolve.
	stormSettle = 15 * time.Second
)

// storm runs emit from stormEmitters goroutines, each with its own index g
// and a counter i, one call per millisecond, while the proxy cuts the
// connection; it returns the number of cuts once the goroutines are done.
func storm(px *faultproxy.Proxy, emit func(g, i int)) int {
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for g := range stormEmitters {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				case <-time.After(time.Millisecond):
				}
				emit(g, i)
			}
		}()
	}
	cuts := 0
	for end := time.Now().Add(stormFor); time.Now().Before(end); cuts++ {
		time.Sleep(stormEvery)
		px.Cut(cuts%2 == 0)
	}
	close(stop)
	wg.Wait()
	return cuts
}

// tally counts outcomes by kind and keeps the first example of each.
type tally struct {
	mu     sync.Mutex
	counts map[string]int
	first  map[string]string
}

func (t *tally) add(kind, example string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.counts == nil {
		t.counts, t.first = map[string]int{}, map[string]string{}
	}
	if t.counts[kind]++; t.counts[kind] == 1 {
		t.first[kind] = example
	}
}

func (t *tally) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	kinds := make([]string, 0, len(t.counts))
	for k := range t.counts {
		kinds = append(kinds, k)
	}
	sort.Strings(kinds)
	var out string
	for _, k := range kinds {
		out += fmt.Sprintf("\n\t%d %s, e.g. %s", t.counts[k], k, t.first[k])
	}
	return out
}

func (t *tally) len() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.counts)
}

// Emits made while the connection breaks are queued for the next one (the
// socket reconnects), never refused: Emit fails with ErrClosed only on a
// socket that has ended. (The offline queue is made large enough for
// everything emitted during an outage.)
func TestEmitDuringCutIsQueued(t *testing.T) {
	t.Parallel()
	srv := startServer(t)
	forTransports(t, func(t *testing.T, tc transportCase) {
		ctx := testutil.Context(t, 30*time.Second)
		px := startProxy(t, srv)
		s := dial(t, ctx, px, tc, sio.WithOfflineQueueLimit(1<<20))
		drained := drainEvents(s.Socket)

		var emits atomic.Int64
		var bad tally
		cuts := storm(px, func(g, i int) {
			emits.Add(1)
			// "ack" asks for no acknowledgement here: the server sends nothing back.
			if err := s.Emit(ctx, "ack", g, i); err != nil {
				kind := "refused"
				if errors.Is(err, sio.ErrClosed) {
					kind = "refused with ErrClosed"
				}
				bad.add(kind, err.Error())
			}
		})
		t.Logf("%d cuts, %d emits", cuts, emits.Load())
		if bad.len() > 0 {
			t.Errorf("emits failed on a socket that had not ended (it reconnects):%s", bad.String())
		}
		if err := s.Err(); err != nil {
			t.Errorf("the socket ended: %v", err)
		}
		time.Sleep(500 * time.Millisecond) // for the last cut to be noticed
		usable(t, ctx, s.Socket)
		s.close()
		<-drained
	})
}

// sentAck is an acknowledged emit of a storm: its argument and its future.
type sentAck struct {
	n int
	f *ack.Future[sio.Args]
}

// ackStorm makes acknowledged emits of "ack" during a storm, with distinct
// arguments, and returns the futures; refusals are added to bad.
func ackStorm(t *testing.T, ctx context.Context, px *faultproxy.Proxy, s *sio.Socket, bad *tally) []sentAck {
	t.Helper()
	var (
		mu   sync.Mutex
		sent []sentAck
	)
	cuts := storm(px, func(g, i int) {
		n := g*1_000_000 + i
		f, err := s.EmitWithAck(ctx, "ack", n)
		if err != nil {
			kind := "EmitWithAck refused"
			if errors.Is(err, sio.ErrClosed) {
				kind += " with ErrClosed"
			}
			bad.add(kind, err.Error())
			return
		}
		mu.Lock()
		sent = append(sent, sentAck{n, f})
		mu.Unlock()
	})
	t.Logf("%d cuts, %d acknowledged emits", cuts, len(sent))
	return sent
}

// settleAcks waits, up to stormSettle in all, for every future to resolve,
// and adds to bad those that did not, those answered with another emit's
// reply, and those that failed with an error for which failed returns a
// kind (failed returns "" for an error that is acceptable).
func settleAcks(sent []sentAck, bad *tally, failed func(error) string) {
	deadline := time.NewTimer(stormSettle)
	defer deadline.Stop()
	expired := false
	for _, e := range sent {
		if !expired {
			select {
			case <-e.f.Done():
			case <-deadline.C:
				expired = true
			}
		}
		reply, err, done := e.f.Result()
		var got int
		switch {
		case !done:
			bad.add(fmt.Sprintf("unresolved %v after the last cut", stormSettle), fmt.Sprint(e.n))
		case err == nil && (reply.Decode(&got) != nil || got != e.n):
			bad.add("answered with another reply", fmt.Sprintf("%d: %s", e.n, reply.String()))
		case err != nil:
			if kind := failed(err); kind != "" {
				bad.add(kind, fmt.Sprintf("%d: %v", e.n, err))
			}
		}
	}
}

// Without retries, an acknowledgement resolves with the reply, or with the
// disconnect reason when its connection is lost first: it never stays
// pending once the path is back.
func TestAcksResolveAcrossCuts(t *testing.T) {
	t.Parallel()
	srv := startServer(t)
	forTransports(t, func(t *testing.T, tc transportCase) {
		ctx := testutil.Context(t, 40*time.Second)
		px := startProxy(t, srv)
		s := dial(t, ctx, px, tc, sio.WithOfflineQueueLimit(1<<20))
		drained := drainEvents(s.Socket)

		var refused, bad tally
		sent := ackStorm(t, ctx, px, s.Socket, &refused)
		settleAcks(sent, &bad, func(err error) string {
			if isDisconnectReason(err) {
				return ""
			}
			return "failed with an error that is no disconnect reason"
		})
		if refused.len() > 0 {
			t.Logf("(refusals, see TestEmitDuringCutIsQueued):%s", refused.String())
		}
		if bad.len() > 0 {
			t.Errorf("acknowledgements that did not resolve properly:%s", bad.String())
		}
		time.Sleep(500 * time.Millisecond) // for the last cut to be noticed
		usable(t, ctx, s.Socket)
		s.close()
		<-drained
	})
}

// With WithRetries, an acknowledged emit survives lost connections: it is
// sent again on the next one. Once the path is back, every emit made
// during the storm has been answered with its own reply: none refused,
// none failed, none pending. The retries (100) outnumber the cuts (20), so
// that no emit can run out of them: a failure is never the policy giving
// up.
func TestAckRetriesAcrossCuts(t *testing.T) {
	t.Parallel()
	srv := startServer(t)
	forTransports(t, func(t *testing.T, tc transportCase) {
		ctx := testutil.Context(t, 40*time.Second)
		px := startProxy(t, srv)
		s := dial(t, ctx, px, tc, sio.WithRetries(100), sio.WithOfflineQueueLimit(1<<20))
		drained := drainEvents(s.Socket)

		var bad tally
		sent := ackStorm(t, ctx, px, s.Socket, &bad)
		settleAcks(sent, &bad, func(err error) string {
			switch {
			case errors.Is(err, sio.ErrClosed):
				return "failed with ErrClosed"
			case isDisconnectReason(err):
				return "failed with the disconnect reason, retries left"
			}
			return "failed otherwise"
		})
		if bad.len() > 0 {
			t.Errorf("with WithRetries(100), not every acknowledged emit was answered:%s", bad.String())
		}
		time.Sleep(500 * time.Millisecond) // for the last cut to be noticed
		usable(t, ctx, s.Socket)
		s.close()
		<-drained
	})
}
