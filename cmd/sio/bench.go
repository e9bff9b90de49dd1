package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sio-go/sio"
)

// Bench limits.
const (
	// maxInFlight bounds one client's acknowledgements waited for at once;
	// a tick that finds them all taken emits nothing and counts an error.
	maxInFlight = 1024
	// benchGrace bounds the wait, after the run, for the acknowledgements
	// still due and for the events still arriving.
	benchGrace = 5 * time.Second
	// quietPeriod ends the wait for events after the run: none came for
	// that long.
	quietPeriod = 300 * time.Millisecond
)

// benchConfig is what bench's flags say.
type benchConfig struct {
	target   target
	clients  int
	ramp     time.Duration
	duration time.Duration
	rate     float64
	event    string
	args     []any
	ack      bool
	laddrs   []net.Addr
	json     bool
}

// cmdBench is "sio bench URL".
func cmdBench(ctx context.Context, e *env, args []string) error {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	var cf connFlags
	cf.register(fs)
	var bc benchConfig
	fs.IntVar(&bc.clients, "clients", 10, "simulated clients, each with a connection of its own")
	fs.DurationVar(&bc.ramp, "ramp", 0, "spread the clients' connects over this `duration`")
	fs.DurationVar(&bc.duration, "duration", 10*time.Second, "how long to run, from the first connect")
	fs.Float64Var(&bc.rate, "rate", 1, "emits per second per client (0: none)")
	fs.StringVar(&bc.event, "event", "bench", "the event to emit")
	size := fs.Int("size", 0, "emit one string argument of this many `bytes`")
	payload := fs.String("payload", "", "emit this `JSON` value as the one argument")
	fs.BoolVar(&bc.ack, "ack", false, "emit with an acknowledgement and measure round trips")
	laddrs := fs.String("local-addrs", "", "spread clients over these source `addresses` (comma-separated IPs)")
	fs.BoolVar(&bc.json, "json", false, "print the report as one JSON object")
	pos, err := parseArgs(fs, args, e.stdout, "sio bench URL [flags]")
	if err != nil {
		return err
	}
	if bc.target, err = oneURL(pos); err != nil {
		return err
	}
	switch {
	case bc.clients < 1 || bc.clients > 1_000_000:
		return usagef("--clients: want 1 to 1000000, got %d", bc.clients)
	case bc.duration <= 0:
		return usagef("--duration: want a positive duration, got %v", bc.duration)
	case bc.ramp < 0 || bc.ramp > bc.duration:
		return usagef("--ramp: want 0 to --duration (%v), got %v", bc.duration, bc.ramp)
	case !(bc.rate >= 0 && bc.rate <= 1e6):
		return usagef("--rate: want 0 to 1e6, got %v", bc.rate)
	case *size < 0 || *size > maxFileArg:
		return usagef("--size: want 0 to %d, got %d", maxFileArg, *size)
	case *size > 0 && *payload != "":
		return usagef("--size and --payload: choose one")
	case reservedEvent(bc.event):
		return usagef("--event: %q is a reserved event name", bc.event)
	}
	if *size > 0 {
		bc.args = []any{strings.Repeat("x", *size)}
	}
	if *payload != "" {
		if !json.Valid([]byte(*payload)) {
			return usagef("--payload: not valid JSON: %.40q", *payload)
		}
		bc.args = []any{json.RawMessage(compact([]byte(*payload)))}
	}
	if *laddrs != "" {
		for _, a := range strings.Split(*laddrs, ",") {
			ip := net.ParseIP(strings.TrimSpace(a))
			if ip == nil {
				return usagef("--local-addrs: %q is not an IP address", a)
			}
			bc.laddrs = append(bc.laddrs, &net.TCPAddr{IP: ip})
		}
	}
	cl, err := cf.build(e.stderr)
	if err != nil {
		return err
	}
	b := &bench{cfg: bc, cl: cl, errs: map[string]int64{}}
	rep := b.run(ctx, e)
	if bc.json {
		return rep.writeJSON(e.stdout)
	}
	rep.writeText(e.stdout)
	return nil
}

// reservedEvent reports the event names the protocol keeps for itself.
func reservedEvent(name string) bool {
	switch name {
	case "connect", "connect_error", "disconnect", "disconnecting", "newListener", "removeListener":
		return true
	}
	return false
}

// bench is one run: its clients update the counters and histograms, the
// status goroutine reads them each second.
type bench struct {
	cfg benchConfig
	cl  *client

	connected   atomic.Int64 // clients connected now
	connects    atomic.Int64 // successful first connects
	failed      atomic.Int64 // clients that never connected
	disconnects atomic.Int64
	emits       atomic.Int64
	acks        atomic.Int64
	received    atomic.Int64

	mu        sync.Mutex // guards what follows
	connectH  histogram
	ackH      histogram
	ackWindow histogram // the acks of the current status second
	errs      map[string]int64
}

func (b *bench) fail(what string, err error) {
	b.mu.Lock()
	b.errs[what+": "+reason(err)]++
	b.mu.Unlock()
}

// run runs the clients and the status line and returns the report.
func (b *bench) run(ctx context.Context, e *env) *report {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	start := time.Now()
	emitCtx, stopEmits := context.WithDeadline(ctx, start.Add(b.cfg.duration))
	defer stopEmits()

	var clients sync.WaitGroup
	for i := range b.cfg.clients {
		clients.Go(func() { b.client(ctx, emitCtx, i) })
	}
	allDone := make(chan struct{})
	go func() {
		clients.Wait()
		close(allDone)
	}()

	st := newStatus(e.stderr, e.tty)
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	last := start
	var lastEmits, lastRecv int64
	ran := b.cfg.duration // the emitting window, shorter when interrupted
	emitting := emitCtx.Done()
	for running := true; running; {
		select {
		case <-allDone:
			running = false
		case <-emitting:
			ran, emitting = min(time.Since(start), b.cfg.duration), nil
		case now := <-tick.C:
			emits, recv := b.emits.Load(), b.received.Load()
			secs := now.Sub(last).Seconds()
			b.mu.Lock()
			p50, p99 := b.ackWindow.quantile(0.5), b.ackWindow.quantile(0.99)
			b.ackWindow.reset()
			b.mu.Unlock()
			st.show(now.Sub(start), b.connected.Load(), b.failed.Load(),
				float64(emits-lastEmits)/secs, float64(recv-lastRecv)/secs, b.cfg.ack, p50, p99)
			last, lastEmits, lastRecv = now, emits, recv
		}
	}
	st.done()
	return b.report(ran)
}

// client is one simulated client: it connects after its share of the
// ramp, emits at the rate until emitCtx ends, counts what it receives,
// then waits for its acknowledgements and the events still coming, and
// closes.
func (b *bench) client(ctx, emitCtx context.Context, i int) {
	if b.cfg.ramp > 0 && b.cfg.clients > 1 {
		t := time.NewTimer(time.Duration(float64(b.cfg.ramp) * float64(i) / float64(b.cfg.clients-1)))
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return
		}
	}
	var laddr net.Addr
	if n := len(b.cfg.laddrs); n > 0 {
		laddr = b.cfg.laddrs[i%n]
	}
	opts, release := b.cl.options(laddr)
	defer release()
	t0 := time.Now()
	s, err := sio.Dial(ctx, b.cfg.target.url, opts...) // a connect that ends after the run counts too
	if err != nil {
		b.failed.Add(1)
		b.fail("connect", err)
		return
	}
	defer s.Close()
	b.mu.Lock()
	b.connectH.record(time.Since(t0))
	b.mu.Unlock()
	b.connects.Add(1)
	up := false // the socket is connected as the program has seen it
	defer func() {
		if up {
			b.connected.Add(-1)
		}
	}()

	// The acknowledgements' goroutines: given up on (cancelAcks) and
	// waited for on every way out.
	var acks sync.WaitGroup
	defer acks.Wait()
	ackCtx, cancelAcks := context.WithCancel(ctx)
	defer cancelAcks()
	inFlight := make(chan struct{}, maxInFlight)
	var tick <-chan time.Time
	if b.cfg.rate > 0 {
		t := time.NewTicker(max(time.Duration(float64(time.Second)/b.cfg.rate), time.Microsecond))
		defer t.Stop()
		tick = t.C
	}
	handle := func(ev sio.Event) {
		switch ev.Type {
		case sio.EventMessage:
			b.received.Add(1)
		case sio.EventConnect:
			if !up {
				up = true
				b.connected.Add(1)
			}
		case sio.EventDisconnect:
			if up {
				up = false
				b.connected.Add(-1)
			}
			b.disconnects.Add(1)
			b.fail("disconnect", ev.Err)
		case sio.EventConnectError:
			b.fail("reconnect", ev.Err)
		}
	}
	for running := true; running; {
		select {
		case ev, ok := <-s.Events():
			if !ok {
				return // ended for good; its last event was counted
			}
			handle(ev)
		case <-tick:
			b.emit(emitCtx, ackCtx, s, &acks, inFlight)
		case <-emitCtx.Done():
			running = false
		}
	}

	// After the run: the acknowledgements still due, then the events that
	// come until a quiet period, both within benchGrace.
	grace := time.NewTimer(benchGrace)
	defer grace.Stop()
	acksDone := make(chan struct{})
	waiter := make(chan struct{})
	go func() {
		defer close(waiter)
		acks.Wait()
		close(acksDone)
	}()
	defer func() {
		cancelAcks()
		<-waiter
	}()
	quiet := time.NewTimer(quietPeriod)
	defer quiet.Stop()
	for waiting := true; ; {
		select {
		case ev, ok := <-s.Events():
			if !ok {
				return
			}
			handle(ev)
			if !waiting {
				quiet.Reset(quietPeriod)
			}
		case <-acksDone:
			acksDone, waiting = nil, false
			quiet.Reset(quietPeriod)
		case <-quiet.C:
			if !waiting {
				return
			}
		case <-grace.C:
			return
		case <-ctx.Done():
			return
		}
	}
}

// emit sends one event; with --ack, a goroutine waits for its
// acknowledgement (at most maxInFlight per client).
func (b *bench) emit(emitCtx, ackCtx context.Context, s *sio.Socket, acks *sync.WaitGroup, inFlight chan struct{}) {
	if !b.cfg.ack {
		if err := s.Emit(emitCtx, b.cfg.event, b.cfg.args...); err != nil {
			if emitCtx.Err() == nil {
				b.fail("emit", err)
			}
			return
		}
		b.emits.Add(1)
		return
	}
	select {
	case inFlight <- struct{}{}:
	default:
		b.fail("emit", errors.New("skipped: too many acknowledgements pending"))
		return
	}
	t0 := time.Now()
	f, err := s.EmitWithAck(emitCtx, b.cfg.event, b.cfg.args...)
	if err != nil {
		<-inFlight
		if emitCtx.Err() == nil {
			b.fail("emit", err)
		}
		return
	}
	b.emits.Add(1)
	acks.Go(func() {
		defer func() { <-inFlight }()
		if _, err := f.Wait(ackCtx); err != nil {
			if errors.Is(err, context.Canceled) {
				err = errors.New("not answered by the end of the run")
			}
			b.fail("ack", err)
			return
		}
		d := time.Since(t0)
		b.acks.Add(1)
		b.mu.Lock()
		b.ackH.record(d)
		b.ackWindow.record(d)
		b.mu.Unlock()
	})
}
