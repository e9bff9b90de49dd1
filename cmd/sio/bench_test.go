package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/sio-go/sio/test/nodeserver"
)

// TestBench runs 200 clients for 3 s and checks the report's counts
// against what the server counted.
func TestBench(t *testing.T) {
	srv := nodeserver.Start(t)
	r := runSio(t, nil, "bench", srv.URL(), "--clients", "200", "--duration", "3s", "--ramp", "500ms",
		"--rate", "10", "--event", "count", "--ack", "--transports", "websocket", "--json")
	if r.code != 0 {
		t.Fatalf("status %d, stderr:\n%s", r.code, r.stderr)
	}
	var rep report
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
		t.Fatalf("report %q: %v", r.stdout, err)
	}
	q := runSio(t, nil, "emit", srv.URL(), "counts", "--ack")
	var counts []struct {
		Args []struct{ Connections, Count, Counted int64 }
	}
	if err := json.Unmarshal([]byte("["+q.stdout+"]"), &counts); err != nil || len(counts) != 1 || len(counts[0].Args) != 1 {
		t.Fatalf("counts: %q %v (stderr %s)", q.stdout, err, q.stderr)
	}
	server := counts[0].Args[0]
	t.Logf("report: %s", r.stdout)
	t.Logf("server: %+v", server)

	if rep.Clients != 200 || rep.Connected != 200 || rep.Failed != 0 || rep.Disconnects != 0 || len(rep.Errors) != 0 {
		t.Errorf("clients %d, connected %d, failed %d, disconnects %d, errors %v; want 200 connected and nothing else",
			rep.Clients, rep.Connected, rep.Failed, rep.Disconnects, rep.Errors)
	}
	if server.Connections != 200+1 { // and the query's own
		t.Errorf("server saw %d connections, want 201", server.Connections)
	}
	if rep.Emits == 0 || rep.Emits != server.Count || rep.Acks != rep.Emits {
		t.Errorf("emits %d, acks %d; the server counted %d", rep.Emits, rep.Acks, server.Count)
	}
	if rep.Received != server.Counted {
		t.Errorf("received %d events; the server sent %d", rep.Received, server.Counted)
	}
	if rep.Connect == nil || rep.Connect.Count != 200 || rep.Ack == nil || rep.Ack.Count != uint64(rep.Acks) {
		t.Errorf("latency summaries: connect %+v, ack %+v", rep.Connect, rep.Ack)
	} else if !(rep.Ack.P50 > 0 && rep.Ack.P50 <= rep.Ack.P90 && rep.Ack.P90 <= rep.Ack.P99 && rep.Ack.P99 <= rep.Ack.P999 && rep.Ack.P999 <= rep.Ack.Max) {
		t.Errorf("ack percentiles out of order: %+v", rep.Ack)
	}
	var inHist uint64
	for _, b := range rep.AckHistogram {
		inHist += b.Count
	}
	if len(rep.AckHistogram) != 10 || inHist != uint64(rep.Acks) {
		t.Errorf("histogram has %d buckets holding %d acks, want 10 holding %d", len(rep.AckHistogram), inHist, rep.Acks)
	}
	// Not a terminal: one status line a second.
	if n := strings.Count(r.stderr, "] connected "); n < 2 {
		t.Errorf("%d status lines on stderr, want one a second:\n%s", n, r.stderr)
	}
}

// TestBenchText checks the text report.
func TestBenchText(t *testing.T) {
	srv := nodeserver.Start(t)
	r := runSio(t, nil, "bench", srv.URL(), "--clients", "3", "--duration", "1500ms", "--rate", "20", "--event", "ack", "--size", "10", "--ack",
		"--local-addrs", "127.0.0.1,127.0.0.2")
	if r.code != 0 {
		t.Fatalf("status %d, stderr:\n%s", r.code, r.stderr)
	}
	for _, want := range []string{"Clients:      3 connected, 0 failed (of 3)", "Connect time (3):", "Ack latency (", "p99.9", "Ack latency histogram:", "|■■■■"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("report does not contain %q:\n%s", want, r.stdout)
		}
	}
}
