package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sio-go/sio"
	"github.com/sio-go/sio/internal/testutil"
	"github.com/sio-go/sio/test/nodeserver"
)

// The polling benchmarks compare sio with the official socket.io-client 4.x
// (client.js, run with Node) over HTTP long-polling only, against one Node
// server started with --transports polling, in the same run. Both rows
// report the same metrics, so they compare directly; for the js row ns/op
// is the client's own timing (client.js excludes Node's start-up), not the
// wall time of the node process.
//
// Before the rows run, the server is warmed with polling traffic from the
// JS client (as warmUp does over WebSocket), and each implementation then
// makes an untimed pass on its own connection before its timed one: the
// Node client needs it for its JIT, and giving it to both keeps either row
// from paying for running first.
const (
	// pollServerWarmEvents and pollServerWarmAcks are the server's warm-up:
	// one JS client streaming, then one making round trips.
	pollServerWarmEvents = 20000
	pollServerWarmAcks   = 1000
	// pollClientWarmEvents and pollClientWarmAcks are each client's untimed
	// pass on its connection before the timed one.
	pollClientWarmEvents = 5000
	pollClientWarmAcks   = 500
	// jsTimeout bounds one client.js run from the Go side; client.js gives
	// up by itself after 60 s.
	jsTimeout = 90 * time.Second
)

// BenchmarkPollingStream sends b.N 100-byte events to the server's echo
// handler while reading the echoes, over polling only, and reports events/s.
func BenchmarkPollingStream(b *testing.B) {
	js := jsClient(b)
	srv := nodeserver.Start(b, nodeserver.WithArgs("--transports", "polling"))
	warmUpPolling(b, js, srv.URL())
	b.Run("impl=sio", func(b *testing.B) {
		ctx := ctxFor(b)
		s := pollingDial(b, ctx, srv.URL())
		if ev := <-s.Events(); ev.Type != sio.EventConnect {
			b.Fatalf("expected the connect event, got %v %v", ev.Type, ev.Err)
		}
		if err := testutil.EchoStream(ctx, s, pollClientWarmEvents, payload); err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		b.ResetTimer()
		start := time.Now()
		if err := testutil.EchoStream(ctx, s, b.N, payload); err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "events/s")
	})
	b.Run("impl=js", func(b *testing.B) {
		r := js.run(b, srv.URL(), "stream", b.N, pollClientWarmEvents)
		b.ReportMetric(r.EventsPerSec, "events/s")
	})
}

// BenchmarkPollingAck makes b.N acknowledged round trips one after another
// over polling only, and reports the median and 99th percentile, and the
// round trips per second.
func BenchmarkPollingAck(b *testing.B) {
	js := jsClient(b)
	srv := nodeserver.Start(b, nodeserver.WithArgs("--transports", "polling"))
	warmUpPolling(b, js, srv.URL())
	b.Run("impl=sio", func(b *testing.B) {
		ctx := ctxFor(b)
		s := pollingDial(b, ctx, srv.URL())
		if _, err := pollingAcks(ctx, s, pollClientWarmAcks); err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		b.ResetTimer()
		start := time.Now()
		lat, err := pollingAcks(ctx, s, b.N)
		if err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "events/s")
		reportLatency(b, lat)
	})
	b.Run("impl=js", func(b *testing.B) {
		r := js.run(b, srv.URL(), "ack", b.N, pollClientWarmAcks)
		b.ReportMetric(r.EventsPerSec, "events/s")
		b.ReportMetric(float64(r.P50us), "p50-µs")
		b.ReportMetric(float64(r.P99us), "p99-µs")
	})
}

// pollingDial connects a sio socket over polling only (no upgrade), closed
// when b ends. Its event queue takes a whole unpaced stream's backlog (see
// BenchmarkStream).
func pollingDial(b *testing.B, ctx context.Context, url string) *sio.Socket {
	s, err := sio.Dial(ctx, url, sio.WithTransports(sio.Polling), sio.WithEventQueueLimit(1<<20, 1<<30))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		s.Close()
		// The polling requests went through http.DefaultClient: drop its
		// keep-alive connections, whose goroutines goleak would see.
		http.DefaultClient.CloseIdleConnections()
	})
	return s
}

// pollingAcks makes n acknowledged round trips one after another and
// returns their latencies.
func pollingAcks(ctx context.Context, s *sio.Socket, n int) ([]time.Duration, error) {
	lat := make([]time.Duration, n)
	for i := range lat {
		t0 := time.Now()
		f, err := s.EmitWithAck(ctx, "ack", payload)
		if err != nil {
			return nil, err
		}
		if _, err := f.Wait(ctx); err != nil {
			return nil, err
		}
		lat[i] = time.Since(t0)
	}
	return lat, nil
}

// warmUpPolling runs the JS client against the server, untimed, streaming
// and then making round trips, so that the server's JIT has settled on the
// polling code paths before either implementation is measured.
func warmUpPolling(b *testing.B, js *jsRunner, url string) {
	b.Helper()
	js.exec(b, url, "stream", pollServerWarmEvents, 0)
	js.exec(b, url, "ack", pollServerWarmAcks, 0)
}

// jsRunner runs test/bench/client.js, the official socket.io-client.
type jsRunner struct {
	node   string // path of the node binary
	script string // path of client.js
}

// jsResult is the JSON line client.js prints.
type jsResult struct {
	Events       int     `json:"events"`
	Seconds      float64 `json:"seconds"`
	EventsPerSec float64 `json:"eventsPerSec"`
	P50us        float64 `json:"p50us"`
	P99us        float64 `json:"p99us"`
}

// jsClient finds node and client.js, and fails b (it never skips) when node
// or the npm dependencies are missing.
func jsClient(b *testing.B) *jsRunner {
	b.Helper()
	node, err := exec.LookPath("node")
	if err != nil {
		b.Fatalf("node (Node.js 18+) not found in PATH: %v; then run: npm ci --prefix test/node", err)
	}
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		b.Fatal("runtime.Caller failed")
	}
	script := filepath.Join(filepath.Dir(file), "client.js")
	for _, f := range []string{script, filepath.Join(nodeserver.Dir(), "node_modules", "socket.io-client", "package.json")} {
		if _, err := os.Stat(f); err != nil {
			b.Fatalf("%s is missing (%v); install the Node dependencies from the repository root with: npm ci --prefix test/node", f, err)
		}
	}
	return &jsRunner{node: node, script: script}
}

// run runs client.js as the timed part of b: count events (or round trips)
// after warm untimed ones. ns/op is set from the client's own timing, as the
// benchmark's timer would include Node's start-up.
func (j *jsRunner) run(b *testing.B, url, mode string, count, warm int) jsResult {
	b.Helper()
	b.ResetTimer()
	r := j.exec(b, url, mode, count, warm)
	b.StopTimer()
	if r.Events != count {
		b.Fatalf("client.js reported %d events, want %d", r.Events, count)
	}
	b.ReportMetric(r.Seconds*1e9/float64(count), "ns/op")
	return r
}

// exec runs client.js once and parses its output.
func (j *jsRunner) exec(b *testing.B, url, mode string, count, warm int) jsResult {
	b.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), jsTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, j.node, j.script,
		"--url", url, "--mode", mode, "--count", strconv.Itoa(count),
		"--transports", "polling", "--warmup", strconv.Itoa(warm))
	cmd.Dir = filepath.Dir(j.script)
	cmd.WaitDelay = 5 * time.Second
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			err = fmt.Errorf("%w (killed after %v)", err, jsTimeout)
		}
		b.Fatalf("client.js --mode %s --count %d: %v\nstdout: %s\nstderr: %s", mode, count, err, stdout.Bytes(), stderr.Bytes())
	}
	out := strings.TrimSpace(stdout.String())
	if i := strings.LastIndexByte(out, '\n'); i >= 0 {
		out = out[i+1:]
	}
	var r jsResult
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		b.Fatalf("client.js --mode %s: bad output %q: %v\nstderr: %s", mode, stdout.Bytes(), err, stderr.Bytes())
	}
	return r
}
