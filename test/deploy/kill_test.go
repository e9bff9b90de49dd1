package deploy_test

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sio-go/sio"
	"github.com/sio-go/sio/ack"
)

// A node is killed (SIGKILL) while 100 clients behind HAProxy emit with
// acks and retries. The 100-client tests do not run in parallel: each has
// the machine to itself, as far as the package goes.
func TestKillNodeHAProxy(t *testing.T) {
	c := startCluster(t)
	testKillNode(t, c, startHAProxy(t, c.nodes))
}

// The same behind nginx. ip_hash keeps every client of one /24 on one node:
// all 100 are on the node that is killed.
func TestKillNodeNginx(t *testing.T) {
	c := startCluster(t)
	testKillNode(t, c, startNginx(t, c.nodes))
}

const (
	// emitEvery is the pace of each client's acked emits.
	emitEvery = 250 * time.Millisecond
	// retries is WithRetries of the clients.
	retries = 5
)

// killClient is one client of testKillNode and what happened to it.
type killClient struct {
	s    *sio.Socket
	node string // where it was before the kill

	mu           sync.Mutex
	disconnected time.Time     // first EventDisconnect
	reason       error         // its Err
	rejoined     time.Time     // first EventConnect after it
	again        []error       // the reasons of later disconnections
	handshake    time.Time     // the reconnection's handshake done (Reconnected)
	attempt      int           // the reconnection attempt that connected
	delay        time.Duration // the backoff before that attempt
	failures     []error       // of the attempts that failed
	futures      []*ack.Future[sio.Args]
	seqs         []int
}

// watch records the client's disconnection, reconnection and the attempt
// that made it, until its socket ends.
func (k *killClient) watch() {
	events, mevents := k.s.Events(), k.s.Manager().Events()
	var delays []time.Duration
	for events != nil || mevents != nil {
		select {
		case ev, ok := <-events:
			if !ok {
				events = nil
				continue
			}
			k.mu.Lock()
			switch {
			case ev.Type == sio.EventDisconnect && k.disconnected.IsZero():
				k.disconnected, k.reason = time.Now(), ev.Err
			case ev.Type == sio.EventConnect && !k.disconnected.IsZero() && k.rejoined.IsZero():
				k.rejoined = time.Now()
			case ev.Type == sio.EventDisconnect:
				k.again = append(k.again, ev.Err)
			}
			k.mu.Unlock()
		case ev, ok := <-mevents:
			if !ok {
				mevents = nil
				continue
			}
			k.mu.Lock()
			switch ev.Type {
			case sio.ReconnectAttempt:
				delays = append(delays, ev.Delay)
			case sio.ReconnectError:
				k.failures = append(k.failures, ev.Err)
			case sio.Reconnected:
				if k.attempt == 0 {
					k.attempt, k.handshake = ev.Attempt, time.Now()
					if ev.Attempt <= len(delays) {
						k.delay = delays[ev.Attempt-1]
					}
				}
			}
			k.mu.Unlock()
		}
	}
}

// emit sends acked "work" events every emitEvery until stop is closed.
func (k *killClient) emit(ctx context.Context, id int, stop <-chan struct{}) error {
	tick := time.NewTicker(emitEvery)
	defer tick.Stop()
	for seq := 0; ; seq++ {
		f, err := k.s.EmitWithAck(ctx, "work", id, seq)
		if err != nil {
			return fmt.Errorf("client %d: emit %d: %w", id, seq, err)
		}
		k.mu.Lock()
		k.futures, k.seqs = append(k.futures, f), append(k.seqs, seq)
		k.mu.Unlock()
		select {
		case <-stop:
			return nil
		case <-tick.C:
		}
	}
}

func testKillNode(t *testing.T, c *cluster, url string) {
	closeDefaultIdle(t)
	ctx := testContext(t, 120*time.Second)

	ks := make([]*killClient, clients)
	err := parallel(clients, 20, func(i int) error {
		s, err := sio.Dial(ctx, url, sio.WithHTTPClient(jarClient(t)), sio.WithRetries(retries))
		if err != nil {
			return fmt.Errorf("client %d: Dial: %w", i, err)
		}
		ks[i] = &killClient{s: s}
		if ev := <-s.Events(); ev.Type != sio.EventConnect {
			return fmt.Errorf("client %d: first event %v (%v)", i, ev.Type, ev.Err)
		}
		inf, err := upgraded(ctx, s)
		ks[i].node = inf.Node
		return err
	})
	var watchers sync.WaitGroup
	t.Cleanup(func() {
		for _, k := range ks {
			if k != nil {
				k.s.Close()
			}
		}
		watchers.Wait()
	})
	if err != nil {
		t.Fatal(err)
	}
	perNode := map[string]int{}
	for _, k := range ks {
		perNode[k.node]++
		watchers.Go(k.watch)
	}
	// The victim is the node with the most clients.
	victim := ""
	for _, name := range sortedNames(c.nodes) {
		if perNode[name] > perNode[victim] {
			victim = name
		}
	}

	stop := make(chan struct{})
	emitErr := make(chan error, clients)
	var emitters sync.WaitGroup
	for i, k := range ks {
		emitters.Go(func() { emitErr <- k.emit(ctx, i, stop) })
	}
	time.Sleep(time.Second)
	killed := time.Now()
	c.nodes[victim].kill()

	// Every client of the victim reconnects; the others never notice.
	deadline := time.After(30 * time.Second)
	for _, k := range ks {
		if k.node != victim {
			continue
		}
		for {
			k.mu.Lock()
			done := !k.rejoined.IsZero()
			k.mu.Unlock()
			if done {
				break
			}
			select {
			case <-deadline:
				t.Fatalf("a client of %s has not reconnected 30 s after the kill", victim)
			case <-time.After(20 * time.Millisecond):
			}
		}
	}
	time.Sleep(500 * time.Millisecond) // emits on the new nodes too
	close(stop)
	emitters.Wait()
	close(emitErr)
	for err := range emitErr {
		if err != nil {
			t.Error(err)
		}
	}

	// Every acked emit is acknowledged, with its own sequence number.
	emitted := 0
	for i, k := range ks {
		k.mu.Lock()
		futures, seqs := k.futures, k.seqs
		k.mu.Unlock()
		for j, f := range futures {
			emitted++
			reply, err := f.Wait(ctx)
			var got int
			if err != nil || reply.Decode(&got) != nil || got != seqs[j] {
				t.Fatalf("client %d (on %s) emit %d: ack %s, %v", i, k.node, seqs[j], reply.String(), err)
			}
		}
	}

	// The server side: every emit was received (none lost); one received
	// more than once was first received by the victim, which died before
	// its ack reached the client (WithRetries sent it again).
	var lines []string
	if err := call(ctx, ks[0].s, &lines, "receipts"); err != nil {
		t.Fatal(err)
	}
	receipts := map[[2]int][]string{}
	for _, line := range lines {
		f := strings.Fields(line)
		id, err1 := strconv.Atoi(f[0])
		seq, err2 := strconv.Atoi(f[1])
		if len(f) != 3 || err1 != nil || err2 != nil {
			t.Fatalf("bad receipt %q", line)
		}
		receipts[[2]int{id, seq}] = append(receipts[[2]int{id, seq}], f[2])
	}
	dups := 0
	for i, k := range ks {
		for _, seq := range k.seqs {
			nodes := receipts[[2]int{i, seq}]
			switch {
			case len(nodes) == 0:
				t.Errorf("client %d emit %d: acknowledged, but no node received it", i, seq)
			case len(nodes) > 1 && nodes[0] != victim:
				t.Errorf("client %d emit %d: received by %v: a retry of an emit a live node had received", i, seq, nodes)
			case len(nodes) > 1:
				dups++
			}
		}
	}
	if len(receipts) != emitted {
		t.Errorf("%d emits received, %d emitted", len(receipts), emitted)
	}

	// Reconnection: each client of the victim, on its first attempt, to a
	// live node; the time from the kill to its EventConnect.
	// From the kill: to the reconnection, to the disconnection noticed;
	// from the disconnection, beyond the backoff delay: to the handshake
	// done, to the join done.
	var times, noticed, handshook, joined []time.Duration
	for i, k := range ks {
		k.mu.Lock()
		disconnected, reason, rejoined, attempt, delay, failures := k.disconnected, k.reason, k.rejoined, k.attempt, k.delay, k.failures
		again, handshake := k.again, k.handshake
		k.mu.Unlock()
		if len(again) > 0 {
			t.Errorf("client %d disconnected again after it had reconnected: %v", i, again)
		}
		if k.node != victim {
			if !disconnected.IsZero() {
				t.Errorf("client %d on %s, which lived, was disconnected %v after the kill: %v",
					i, k.node, disconnected.Sub(killed), reason)
			}
			continue
		}
		if attempt != 1 {
			t.Errorf("client %d reconnected at attempt %d, want the first (within the backoff window); failed attempts: %v",
				i, attempt, failures)
		}
		times = append(times, rejoined.Sub(killed))
		noticed = append(noticed, disconnected.Sub(killed))
		handshook = append(handshook, handshake.Sub(disconnected)-delay)
		joined = append(joined, rejoined.Sub(disconnected)-delay)
		inf, err := upgraded(ctx, k.s)
		if err != nil || inf.Node == victim {
			t.Errorf("client %d after the kill: on %q, %v", i, inf.Node, err)
		}
	}
	t.Logf("killed %s with %d of %d clients (per node %v): reconnected after the kill in p50 %v, max %v "+
		"(the disconnection noticed after p50 %v, max %v; from it, beyond each one's backoff delay, the handshake done "+
		"after p50 %v, max %v, the join after p50 %v, max %v); %d acked emits, all acknowledged once, "+
		"%d received twice (retries of emits the victim had received)",
		victim, len(times), clients, perNode, p50(times), pmax(times), p50(noticed), pmax(noticed),
		p50(handshook), pmax(handshook), p50(joined), pmax(joined), emitted, dups)
}

// p50 returns the median of ds, rounded to the millisecond.
func p50(ds []time.Duration) time.Duration {
	ds = slices.Sorted(slices.Values(ds))
	return ds[len(ds)/2].Round(time.Millisecond)
}

// pmax returns the largest of ds, rounded to the millisecond.
func pmax(ds []time.Duration) time.Duration { return slices.Max(ds).Round(time.Millisecond) }
