package soak

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// child is the test server's process (see serverMain), driven through its
// stdin and stdout.
type child struct {
	cmd *exec.Cmd
	in  io.WriteCloser
	out *bufio.Reader
	url string
	mu  sync.Mutex // one command at a time
}

func startChild(b *testing.B) *child {
	b.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), serverEnv+"=1")
	cmd.Stderr = os.Stderr
	in, err := cmd.StdinPipe()
	if err != nil {
		b.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	c := &child{cmd: cmd, in: in, out: bufio.NewReaderSize(out, 1<<16)}
	line, err := c.out.ReadString('\n')
	url, ok := strings.CutPrefix(strings.TrimSpace(line), "url ")
	if err != nil || !ok {
		_ = in.Close()
		_ = cmd.Wait()
		b.Fatalf("soak server: %q, %v", line, err)
	}
	c.url = url
	return c
}

func (c *child) command(b *testing.B, cmd string) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, err := fmt.Fprintln(c.in, cmd); err != nil {
		b.Errorf("soak server: %s: %v", cmd, err)
		return ""
	}
	line, err := c.out.ReadString('\n')
	if err != nil {
		b.Errorf("soak server: %s: %v", cmd, err)
	}
	return strings.TrimSpace(line)
}

// cut asks the server to cut n random sessions; it returns how many it cut.
func (c *child) cut(b *testing.B, n int) int {
	reply := c.command(b, "cut "+strconv.Itoa(n))
	k, err := strconv.Atoi(strings.TrimPrefix(reply, "ok "))
	if err != nil {
		b.Errorf("soak server: cut: %q", reply)
	}
	return k
}

func (c *child) stats(b *testing.B) serverStats {
	var st serverStats
	if err := json.Unmarshal([]byte(c.command(b, "stats")), &st); err != nil {
		b.Errorf("soak server: stats: %v", err)
	}
	return st
}

// stop ends the child: it closes the server when its stdin ends.
func (c *child) stop(b *testing.B) {
	_ = c.in.Close()
	done := make(chan error, 1)
	go func() { done <- c.cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			b.Errorf("soak server: %v", err)
		}
	case <-time.After(30 * time.Second):
		_ = c.cmd.Process.Kill()
		<-done
		b.Errorf("soak server: did not exit within 30 s; killed")
	}
}

type reportData struct {
	elapsed          time.Duration
	cuts             int
	start, end       snapshot
	baseline, closed int // goroutines before dialing and after every client closed
	settled          bool
	warm, total      counts         // client figures after the warm-up, and at the end
	server           serverStats    // the server's, at the end
	reasons          map[string]int // why acks failed, summed over clients
	errs             []string       // a sample of the clients' last errors
}

// report logs and reports the figures, and fails the benchmark when they
// show a lost, duplicated or wrong ack, or growth.
func report(b *testing.B, cfg soakConfig, r reportData) {
	t, w := r.total, r.warm
	main := t.ops - w.ops
	b.ReportMetric(float64(r.start.goroutines), "goroutines-start")
	b.ReportMetric(float64(r.end.goroutines), "goroutines-end")
	b.ReportMetric(r.start.heapAlloc, "heap-MiB-start")
	b.ReportMetric(r.end.heapAlloc, "heap-MiB-end")
	b.ReportMetric(float64(t.lost), "lost-acks")
	b.ReportMetric(float64(r.server.AckDups), "dup-acks")
	b.ReportMetric(float64(t.wrong), "wrong-replies")
	b.ReportMetric(float64(t.acked), "acked")
	b.ReportMetric(float64(t.reconnects), "reconnects")
	b.ReportMetric(float64(t.ops), "ops")
	b.ReportMetric(0, "ns/op") // b.N means nothing here

	note("%d clients, main phase %v (after a %v warm-up), one op every %v..%v per client, %.2f%% of the clients cut every %v, retries %d",
		cfg.clients, r.elapsed.Round(time.Second), cfg.warmup, cfg.opMin, cfg.opMax, 100*cfg.cutRate, cfg.cutEvery, cfg.retries)
	note("ops: %d (%d in the main phase, %.0f/s): %d acked emits (%d binary, barriers included), %d plain emits; emit errors %d",
		t.ops, main, float64(main)/r.elapsed.Seconds(), t.ackEmits, t.binEmits, t.emits, t.emitErrors)
	note("acks: %d acked, %d wrong replies, %d lost (never resolved), %d failed with a disconnect reason%s, %d failed otherwise, %d failed on a client that saw no disconnect",
		t.acked, t.wrong, t.lost, t.failed, sortedReasons(r.reasons), t.failedOther, t.unexplained)
	note("echo events: %d received, %d not awaited (duplicates), %d out of order, %d missing after a disconnect (allowed), %d missing without one",
		t.echoes, t.echoUnexpected, t.echoReordered, t.echoMissing, t.echoLost)
	note("forced disconnects: %d transports cut; clients saw %d disconnects and %d reconnects (%d during the warm-up), after %d attempts (%d failed); %d other events",
		r.cuts, t.disconnects, t.reconnects, w.reconnects, t.attempts, t.attemptErrors, t.otherEvents)
	note("server: %d sessions, %d live at the end, %d packets; %d numbered ack emits (%d received twice), %d plain (%d twice); %d session errors (%d protocol errors) %q",
		r.server.Sessions, r.server.Live, r.server.Packets, r.server.AckEmits, r.server.AckDups, r.server.PlainEmits, r.server.PlainDups, r.server.Errors, r.server.ProtocolErrors, r.server.ErrSample)
	if len(r.server.DupSample) > 0 {
		note("server: duplicates %q", r.server.DupSample)
	}
	note("goroutines: %d before dialing, %d at the start, %d at the end, %d after every client closed", r.baseline, r.start.goroutines, r.end.goroutines, r.closed)
	note("heap (after GC): %.2f MiB at the start, %.2f MiB at the end (in use %.2f -> %.2f MiB)", r.start.heapAlloc, r.end.heapAlloc, r.start.heapInuse, r.end.heapInuse)
	if len(r.errs) > 0 {
		note("last client errors (sample): %q", r.errs)
	}

	b.Logf("%d clients, %v: %d ops, %d acked, %d lost, %d dup, %d wrong, %d reconnects; goroutines %d -> %d, heap %.2f -> %.2f MiB (full report on stderr)",
		cfg.clients, r.elapsed.Round(time.Second), t.ops, t.acked, t.lost, r.server.AckDups, t.wrong, t.reconnects,
		r.start.goroutines, r.end.goroutines, r.start.heapAlloc, r.end.heapAlloc)
	fail := func(cond bool, format string, args ...any) {
		if cond {
			b.Errorf(format, args...)
		}
	}
	fail(!r.settled, "the clients did not all settle at the end")
	fail(t.lost > 0, "%d acks lost (never resolved)", t.lost)
	fail(t.wrong > 0, "%d acks resolved with a wrong reply", t.wrong)
	if cfg.retries == 0 {
		fail(r.server.AckDups > 0, "%d ack emits received twice by the server", r.server.AckDups)
	} else {
		fail(t.failed > 0, "%d acks failed with a disconnect reason despite retries", t.failed)
	}
	fail(r.server.PlainDups > 0, "%d plain emits received twice by the server", r.server.PlainDups)
	fail(r.server.ProtocolErrors > 0, "the server closed %d sessions on a protocol error: %q", r.server.ProtocolErrors, r.server.ErrSample)
	fail(t.failedOther > 0, "%d acks failed with an error that is not a disconnect reason", t.failedOther)
	fail(t.unexplained > 0, "%d acks failed on clients that saw no disconnect", t.unexplained)
	fail(t.emitErrors > 0, "%d emits failed", t.emitErrors)
	fail(t.echoUnexpected > 0, "%d echo events not awaited (duplicated)", t.echoUnexpected)
	fail(t.echoReordered > 0, "%d echo events out of order", t.echoReordered)
	fail(t.echoLost > 0, "%d echo events lost on clients that saw no disconnect", t.echoLost)
	fail(t.otherEvents > 0, "%d unexpected events (connect errors, closed Events, unknown messages)", t.otherEvents)
	fail(w.disconnects > 0, "%d disconnects during the warm-up, which cuts nothing", w.disconnects)
	fail(r.server.AckEmits < int(t.acked), "the server saw %d ack emits, fewer than the %d acked", r.server.AckEmits, t.acked)
	maxG := r.start.goroutines + goroutineSlack + int(float64(r.start.goroutines)*goroutineSlackPct/100)
	fail(r.end.goroutines > maxG, "goroutines grew: %d at the start, %d at the end (limit %d)", r.start.goroutines, r.end.goroutines, maxG)
	maxH := r.start.heapAlloc*(1+heapSlackPct/100) + heapSlackMiB
	fail(r.end.heapAlloc > maxH, "heap grew: %.2f MiB at the start, %.2f MiB at the end (limit %.2f MiB)", r.start.heapAlloc, r.end.heapAlloc, maxH)
	fail(r.closed > r.baseline+goroutineSlack, "%d goroutines after every client closed, %d before dialing", r.closed, r.baseline)
}

func sortedReasons(m map[string]int) string {
	var b strings.Builder
	for _, k := range slices.Sorted(maps.Keys(m)) {
		fmt.Fprintf(&b, " [%s: %d]", k, m[k])
	}
	return b.String()
}
