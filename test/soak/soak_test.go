package soak

import (
	"context"
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"runtime"
	"runtime/pprof"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sio-go/sio"
	"github.com/sio-go/sio/ack"
)

var (
	flagDuration = flag.Duration("soak.duration", 5*time.Minute, "length of the soak's main phase (random load and forced disconnects)")
	flagClients  = flag.Int("soak.clients", 1000, "number of clients")
	flagWarmup   = flag.Duration("soak.warmup", 10*time.Second, "load without forced disconnects before the start figures are taken")
	flagOpMin    = flag.Duration("soak.opmin", 50*time.Millisecond, "least pause between two operations of one client")
	flagOpMax    = flag.Duration("soak.opmax", 200*time.Millisecond, "greatest pause between two operations of one client")
	flagCutRate  = flag.Float64("soak.cutrate", 0.01, "fraction of the clients whose transport the server cuts every -soak.cutevery")
	flagCutEvery = flag.Duration("soak.cutevery", time.Second, "interval of the forced disconnects")
	flagRetries  = flag.Int("soak.retries", 0, "sio.WithRetries for every client (0: off); with retries no ack may fail, and the server may see an ack emit more than once")
	flagProfile  = flag.String("soak.heapprofile", "", "if set, write heap profiles to <this>-start.pprof and <this>-end.pprof at the two measurements (compare with go tool pprof -base)")
	flagSettle   = flag.Duration("soak.settle", time.Minute, "longest wait for every client to be connected with no ack pending, before each measurement")
)

// Margins of the flatness checks: at the end, goroutines may exceed the
// start by goroutineSlack plus goroutineSlackPct percent, and the live heap
// by heapSlackMiB plus heapSlackPct percent.
const (
	goroutineSlack    = 20
	goroutineSlackPct = 1.0
	heapSlackMiB      = 4.0
	heapSlackPct      = 10.0
)

// BenchmarkSoak runs -soak.clients clients against the Go test server (in a
// child process) for -soak.duration; see README.md. The soak runs once,
// whatever b.N: run it with -benchtime=1x.
func BenchmarkSoak(b *testing.B) {
	cfg := soakConfig{
		clients:  *flagClients,
		duration: *flagDuration,
		warmup:   *flagWarmup,
		opMin:    *flagOpMin,
		opMax:    max(*flagOpMax, *flagOpMin),
		cutRate:  *flagCutRate,
		cutEvery: *flagCutEvery,
		retries:  *flagRetries,
		settle:   *flagSettle,
	}
	if cfg.clients <= 0 || cfg.opMin <= 0 || cfg.cutEvery <= 0 {
		b.Fatal("soak: -soak.clients, -soak.opmin and -soak.cutevery must be positive")
	}
	if *flagProfile != "" {
		runtime.MemProfileRate = 512 // a sample every 512 bytes, rather than every 512 KiB
	}
	b.StopTimer()
	runSoak(b, cfg)
}

type soakConfig struct {
	clients          int
	duration, warmup time.Duration
	opMin, opMax     time.Duration
	cutRate          float64
	cutEvery         time.Duration
	retries          int
	settle           time.Duration
}

// Transport mixes: of every 10 clients, 4 use the default transports
// (polling, then the upgrade to WebSocket), 5 WebSocket only, 1 polling only.
const (
	mixDefault   = "default"
	mixWebSocket = "websocket"
	mixPolling   = "polling"
)

func mixOf(i int) string {
	switch i % 10 {
	case 0, 3, 6, 8:
		return mixDefault
	case 9:
		return mixPolling
	}
	return mixWebSocket
}

// snapshot is a measurement of the process.
type snapshot struct {
	goroutines int
	heapAlloc  float64 // MiB, live heap after GC
	heapInuse  float64 // MiB
}

func measure(hc *http.Client, profile string) snapshot {
	// Idle keep-alive connections of the shared HTTP client come and go
	// with the polling traffic; they are not the client's state.
	hc.CloseIdleConnections()
	time.Sleep(500 * time.Millisecond) // their goroutines return
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	if profile != "" {
		if err := writeHeapProfile(profile); err != nil {
			note("heap profile: %v", err)
		}
	}
	return snapshot{
		goroutines: runtime.NumGoroutine(),
		heapAlloc:  float64(ms.HeapAlloc) / (1 << 20),
		heapInuse:  float64(ms.HeapInuse) / (1 << 20),
	}
}

// profilePath names the heap profile of a measurement; "" for none.
func profilePath(what string) string {
	if *flagProfile == "" {
		return ""
	}
	return *flagProfile + "-" + what + ".pprof"
}

func writeHeapProfile(path string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := pprof.Lookup("heap").WriteTo(f, 0); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func runSoak(b *testing.B, cfg soakConfig) {
	baseline := runtime.NumGoroutine()
	srv := startChild(b)
	defer srv.stop(b)

	hc := &http.Client{Transport: &http.Transport{
		Proxy:               nil,
		MaxIdleConns:        0, // no limit
		MaxIdleConnsPerHost: 2 * cfg.clients,
		IdleConnTimeout:     time.Minute,
	}}
	defer hc.CloseIdleConnections()

	ctl := &control{stop: make(chan struct{})}
	clients := make([]*client, cfg.clients)
	var (
		wg      sync.WaitGroup
		dialErr atomic.Value
		dialSem = make(chan struct{}, 32) // dials in flight
		ready   sync.WaitGroup
	)
	backoff := sio.Backoff{Min: 50 * time.Millisecond, Max: 500 * time.Millisecond, Jitter: 0.5}
	t0 := time.Now()
	for i := range clients {
		c := &client{id: i, mix: mixOf(i), cfg: &cfg, ctl: ctl, echo: make(map[int64]struct{}), failReasons: make(map[string]int)}
		clients[i] = c
		opts := []sio.Option{sio.WithHTTPClient(hc), sio.WithReconnect(backoff)}
		switch c.mix {
		case mixWebSocket:
			opts = append(opts, sio.WithTransports(sio.WebSocket))
		case mixPolling:
			opts = append(opts, sio.WithTransports(sio.Polling))
		}
		if cfg.retries > 0 {
			opts = append(opts, sio.WithRetries(cfg.retries))
		}
		wg.Add(1)
		ready.Add(1)
		go func() {
			defer wg.Done()
			dialSem <- struct{}{}
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			s, err := sio.Dial(ctx, srv.url, opts...)
			cancel()
			<-dialSem
			if err != nil {
				dialErr.CompareAndSwap(nil, fmt.Errorf("client %d (%s): Dial: %w", i, c.mix, err))
				ready.Done()
				return
			}
			c.s = s
			ready.Done()
			c.run()
		}()
	}
	ready.Wait()
	stopClients := func() {
		close(ctl.stop)
		wg.Wait()
	}
	if err, _ := dialErr.Load().(error); err != nil {
		stopClients()
		b.Fatal(err)
	}
	note("%d clients connected in %v (4/10 default transports, 5/10 WebSocket only, 1/10 polling only)", cfg.clients, time.Since(t0).Round(time.Millisecond))

	// Warm-up: load without cuts, then the start figures, taken with the
	// load stopped and every client connected with nothing pending.
	ctl.load.Store(true)
	time.Sleep(cfg.warmup)
	ctl.load.Store(false)
	if !ctl.quiesce(b, clients, cfg.settle, "start") {
		stopClients()
		b.FailNow()
	}
	start := measure(hc, profilePath("start"))
	note("start: %d goroutines, heap %.1f MiB (in use %.1f MiB); %d goroutines before dialing", start.goroutines, start.heapAlloc, start.heapInuse, baseline)
	warm := sumClients(clients)

	// The main phase: load and forced disconnects.
	ctl.load.Store(true)
	mainStart := time.Now()
	cutter := make(chan struct{})
	var cuts int
	go func() {
		defer close(cutter)
		t := time.NewTicker(cfg.cutEvery)
		defer t.Stop()
		progress := time.Now()
		owed := 0.0
		for now := range t.C {
			if now.Sub(mainStart) >= cfg.duration {
				return
			}
			owed += cfg.cutRate * float64(cfg.clients)
			if n := int(owed); n > 0 {
				owed -= float64(n)
				cuts += srv.cut(b, n)
			}
			if now.Sub(progress) >= 30*time.Second {
				progress = now
				st := sumClients(clients)
				note("%v: %d ops, %d acked, %d reconnects, %d goroutines",
					now.Sub(mainStart).Round(time.Second), st.ops-warm.ops, st.acked-warm.acked, st.reconnects-warm.reconnects, runtime.NumGoroutine())
			}
		}
	}()
	<-cutter
	ctl.load.Store(false)
	elapsed := time.Since(mainStart)

	settled := ctl.quiesce(b, clients, cfg.settle, "end")
	end := measure(hc, profilePath("end"))
	endStats := srv.stats(b)
	note("end: %d goroutines, heap %.1f MiB (in use %.1f MiB)", end.goroutines, end.heapAlloc, end.heapInuse)

	stopClients()
	hc.CloseIdleConnections()
	time.Sleep(500 * time.Millisecond)
	closed := runtime.NumGoroutine()

	reasons := make(map[string]int)
	var errs []string
	for _, c := range clients {
		for k, v := range c.failReasons {
			reasons[k] += v
		}
		if c.lastErr != "" && len(errs) < 10 {
			errs = append(errs, fmt.Sprintf("client %d (%s): %s", c.id, c.mix, c.lastErr))
		}
	}
	report(b, cfg, reportData{
		elapsed: elapsed, cuts: cuts, start: start, end: end, baseline: baseline, closed: closed,
		settled: settled, warm: warm, total: sumClients(clients), server: endStats,
		reasons: reasons, errs: errs,
	})
}

// note writes a line of the soak's progress and figures to stderr: the
// testing package keeps only the first 10 lines a benchmark logs.
func note(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "soak: "+format+"\n", args...)
}

// control is what the benchmark tells every client.
type control struct {
	stop  chan struct{} // closed: close the socket and return
	load  atomic.Bool   // emit at random
	epoch atomic.Int64  // a new value asks every client to settle (see client.settle)
	quiet atomic.Int64  // clients settled for the current epoch
	// emits hands out the numbers that make every emit of the soak unique,
	// so that the server can tell one sent twice.
	emits atomic.Int64
}

// quiesce asks every client to settle and waits for all of them, at most
// limit; it reports whether all did.
func (ctl *control) quiesce(b *testing.B, clients []*client, limit time.Duration, what string) bool {
	ctl.quiet.Store(0)
	ctl.epoch.Add(1)
	deadline := time.Now().Add(limit)
	t0 := time.Now()
	for ctl.quiet.Load() < int64(len(clients)) {
		if time.Now().After(deadline) {
			b.Errorf("%s: only %d of %d clients settled (connected, upgraded, no ack pending) within %v",
				what, ctl.quiet.Load(), len(clients), limit)
			return false
		}
		time.Sleep(20 * time.Millisecond)
	}
	note("%s: every client settled in %v", what, time.Since(t0).Round(time.Millisecond))
	// Let goroutines that were ending (a reconnection's, an upgrade's) end.
	time.Sleep(time.Second)
	return true
}

// pendingAck is an acknowledged emit not yet resolved.
type pendingAck struct {
	f       *ack.Future[sio.Args]
	n       int64
	bin     bool // it carries a binary attachment, echoed back
	barrier bool
}

// counts are a client's figures; summed over clients by sumClients.
type counts struct {
	ops, emits, ackEmits, binEmits int64
	acked                          int64 // acks with the expected reply
	wrong                          int64 // acks with another reply
	failed                         int64 // acks failed with a disconnect reason
	failedOther                    int64 // acks failed with any other error
	unexplained                    int64 // acks failed on a client that saw no disconnect in that phase
	lost                           int64 // acks never resolved
	emitErrors                     int64
	echoes                         int64 // echo events received as expected
	echoUnexpected                 int64 // echo events for a number not awaited (a duplicate)
	echoReordered                  int64 // echo events for a number below the last one
	echoMissing                    int64 // echoes not received on a client that was disconnected (allowed)
	echoLost                       int64 // echoes not received on a client that was not disconnected
	disconnects, reconnects        int64
	attempts, attemptErrors        int64 // reconnection attempts and failed ones (Manager.Events, lossy)
	otherEvents                    int64
}

func (c *counts) add(o counts) {
	c.ops += o.ops
	c.emits += o.emits
	c.ackEmits += o.ackEmits
	c.binEmits += o.binEmits
	c.acked += o.acked
	c.wrong += o.wrong
	c.failed += o.failed
	c.failedOther += o.failedOther
	c.unexplained += o.unexplained
	c.lost += o.lost
	c.emitErrors += o.emitErrors
	c.echoes += o.echoes
	c.echoUnexpected += o.echoUnexpected
	c.echoReordered += o.echoReordered
	c.echoMissing += o.echoMissing
	c.echoLost += o.echoLost
	c.disconnects += o.disconnects
	c.reconnects += o.reconnects
	c.attempts += o.attempts
	c.attemptErrors += o.attemptErrors
	c.otherEvents += o.otherEvents
}

// client is one soak client. Its fields are its goroutine's, except counts,
// which it publishes under mu.
type client struct {
	id  int
	mix string
	cfg *soakConfig
	ctl *control
	s   *sio.Socket

	pending   []pendingAck
	echo      map[int64]struct{} // echo emits awaiting their event
	lastEcho  int64
	epoch     int64 // the last epoch settled
	barrier   bool  // a barrier ack is pending
	barrierOK bool  // a barrier ack came back right since the client last settled
	// phase figures, reset when the client settles
	phaseDisconnects, phaseFailed int64

	mu          sync.Mutex
	c           counts
	failReasons map[string]int
	lastErr     string
}

func (c *client) count(f func(*counts)) {
	c.mu.Lock()
	f(&c.c)
	c.mu.Unlock()
}

func sumClients(clients []*client) counts {
	var t counts
	for _, c := range clients {
		c.mu.Lock()
		t.add(c.c)
		c.mu.Unlock()
	}
	return t
}

// run is the client's goroutine: random operations every opMin..opMax while
// the load is on, the socket's events all along, settling when asked.
func (c *client) run() {
	defer c.s.Close()
	timer := time.NewTimer(c.pause())
	defer timer.Stop()
	events := c.s.Events()
	// The Manager's events are read too: unread, its buffer would hold the
	// first few reconnection events, with their errors, for good (bounded,
	// but growth between the two measurements all the same).
	mevents := c.s.Manager().Events()
	connected := 1 // Dial returned: the first EventConnect is queued
	for {
		select {
		case mev, ok := <-mevents:
			if !ok {
				mevents = nil
				continue
			}
			switch mev.Type {
			case sio.ReconnectAttempt:
				c.count(func(k *counts) { k.attempts++ })
			case sio.ReconnectError:
				c.count(func(k *counts) { k.attemptErrors++ })
			case sio.ReconnectFailed:
				c.count(func(k *counts) { k.otherEvents++ })
				c.lastErr = fmt.Sprintf("reconnect failed: %v", mev.Err)
			}
		case <-c.ctl.stop:
			c.poll()
			c.countLost() // before Close fails them
			return
		case ev, ok := <-events:
			if !ok {
				c.count(func(k *counts) { k.otherEvents++ })
				c.lastErr = fmt.Sprintf("Events closed: %v", c.s.Err())
				events = nil
				continue
			}
			switch ev.Type {
			case sio.EventMessage:
				c.onMessage(ev)
			case sio.EventConnect:
				if connected > 0 {
					connected--
				} else {
					c.count(func(k *counts) { k.reconnects++ })
				}
			case sio.EventDisconnect:
				c.phaseDisconnects++
				c.count(func(k *counts) { k.disconnects++ })
			default:
				c.count(func(k *counts) { k.otherEvents++ })
				c.lastErr = fmt.Sprintf("event %v: %v", ev.Type, ev.Err)
			}
		case <-timer.C:
			if c.ctl.load.Load() {
				c.op()
			}
			c.poll()
			c.settle()
			timer.Reset(c.pause())
		}
	}
}

func (c *client) pause() time.Duration {
	if !c.ctl.load.Load() {
		return 20 * time.Millisecond // settling: look often
	}
	d := c.cfg.opMax - c.cfg.opMin
	if d <= 0 {
		return c.cfg.opMin
	}
	return c.cfg.opMin + rand.N(d)
}

// op makes one random operation: an acknowledged emit (60 %, a sixth of
// them with a binary attachment), an echo (25 %) or a plain emit (15 %).
// Every one carries a number of its own.
func (c *client) op() {
	n := c.ctl.emits.Add(1)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	r := rand.IntN(100)
	var err error
	switch {
	case r < 60:
		bin := r < 10
		var f *ack.Future[sio.Args]
		if bin {
			f, err = c.s.EmitWithAck(ctx, "ack", n, binary.BigEndian.AppendUint64(nil, uint64(n)))
		} else {
			f, err = c.s.EmitWithAck(ctx, "ack", n)
		}
		if err == nil {
			c.pending = append(c.pending, pendingAck{f: f, n: n, bin: bin})
		}
		c.count(func(k *counts) {
			k.ackEmits++
			if bin {
				k.binEmits++
			}
		})
	case r < 85:
		c.echo[n] = struct{}{}
		err = c.s.Emit(ctx, "echo", n)
		if err != nil {
			delete(c.echo, n)
		}
		c.count(func(k *counts) { k.emits++ })
	default:
		err = c.s.Emit(ctx, "noop", n)
		c.count(func(k *counts) { k.emits++ })
	}
	c.count(func(k *counts) {
		k.ops++
		if err != nil {
			k.emitErrors++
		}
	})
	if err != nil {
		c.lastErr = fmt.Sprintf("emit: %v", err)
	}
}

// poll checks the pending acks that have resolved.
func (c *client) poll() {
	kept := c.pending[:0]
	for _, p := range c.pending {
		reply, err, done := p.f.Result()
		if !done {
			kept = append(kept, p)
			continue
		}
		if p.barrier {
			c.barrier = false
		}
		if err != nil {
			c.failed(err)
			continue
		}
		if c.check(p, reply) {
			c.barrierOK = c.barrierOK || p.barrier
			c.count(func(k *counts) { k.acked++ })
		} else {
			c.count(func(k *counts) { k.wrong++ })
			c.lastErr = fmt.Sprintf("wrong reply to %d: %s", p.n, reply)
		}
	}
	clear(c.pending[len(kept):])
	c.pending = kept
}

// check reports whether reply is the one the server owes to p: [n], or
// [n, <8 bytes of n>] for a binary emit.
func (c *client) check(p pendingAck, reply sio.Args) bool {
	var n int64
	if !p.bin {
		return reply.Len() == 1 && reply.Decode(&n) == nil && n == p.n
	}
	var bin []byte
	return reply.Len() == 2 && reply.Decode(&n, &bin) == nil && n == p.n &&
		len(bin) == 8 && binary.BigEndian.Uint64(bin) == uint64(p.n)
}

// disconnectReasons are the errors an ack may fail with when the server
// cuts the transport under it.
var disconnectReasons = []error{sio.ErrTransportClose, sio.ErrTransportError, sio.ErrPingTimeout}

func (c *client) failed(err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, r := range disconnectReasons {
		if errors.Is(err, r) {
			c.c.failed++
			c.phaseFailed++
			c.failReasons[r.Error()]++
			return
		}
	}
	c.c.failedOther++
	c.failReasons["other: "+err.Error()]++
}

func (c *client) onMessage(ev sio.Event) {
	if ev.Name != "echo" {
		c.count(func(k *counts) { k.otherEvents++ })
		c.lastErr = fmt.Sprintf("unexpected event %q %s", ev.Name, ev.Args)
		return
	}
	var n int64
	if err := ev.Args.Decode(&n); err != nil {
		c.count(func(k *counts) { k.echoUnexpected++ })
		return
	}
	if _, ok := c.echo[n]; !ok {
		c.count(func(k *counts) { k.echoUnexpected++ })
		c.lastErr = fmt.Sprintf("echo %d not awaited", n)
		return
	}
	delete(c.echo, n)
	reordered := n < c.lastEcho
	c.lastEcho = n
	c.count(func(k *counts) {
		k.echoes++
		if reordered {
			k.echoReordered++
		}
	})
}

// settle makes the client quiet for a measurement when the benchmark asks
// (a new epoch, load off): connected, upgraded to WebSocket when it uses
// the default transports, and no ack pending, which a last "barrier" ack
// emitted on the settled connection proves (every echo emitted before it
// has come back by then, unless the connection was lost meanwhile).
func (c *client) settle() {
	e := c.ctl.epoch.Load()
	if e == c.epoch || c.ctl.load.Load() {
		return
	}
	if !c.s.Connected() || c.mix == mixDefault && c.s.Manager().Transport() != sio.WebSocket {
		return
	}
	if c.barrier || len(c.pending) > 0 {
		return // wait for what is pending
	}
	if !c.barrierOK {
		c.sendBarrier()
		return
	}
	// Settled: close the phase's books.
	c.barrierOK = false
	missing := int64(len(c.echo))
	clear(c.echo)
	c.mu.Lock()
	if c.phaseDisconnects == 0 {
		c.c.echoLost += missing
		c.c.unexplained += c.phaseFailed
	} else {
		c.c.echoMissing += missing
	}
	c.mu.Unlock()
	c.phaseDisconnects, c.phaseFailed = 0, 0
	c.epoch = e
	c.ctl.quiet.Add(1)
}

// sendBarrier emits the barrier ack; poll sets barrierOK when it comes back
// right.
func (c *client) sendBarrier() {
	n := c.ctl.emits.Add(1)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	f, err := c.s.EmitWithAck(ctx, "ack", n)
	cancel()
	c.count(func(k *counts) { k.ackEmits++ })
	if err != nil {
		c.count(func(k *counts) { k.emitErrors++ })
		c.lastErr = fmt.Sprintf("barrier emit: %v", err)
		return
	}
	c.pending = append(c.pending, pendingAck{f: f, n: n, barrier: true})
	c.barrier = true
}

// countLost counts, when the client stops, the acks that never resolved.
func (c *client) countLost() {
	for _, p := range c.pending {
		if _, _, done := p.f.Result(); !done {
			c.count(func(k *counts) { k.lost++ })
			c.lastErr = fmt.Sprintf("ack %d never resolved", p.n)
		}
	}
}
