package sio_test

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/sio-go/sio"
	"github.com/sio-go/sio/test/testserver"
)

// While the upgrade probe runs, nothing goes over polling, as with the
// official client (some servers answer a POST during the probe with 400
// "paused"): between the probe "2probe" and the upgrade "5" the server
// receives nothing, and the events emitted meanwhile go out after the
// upgrade, in order, none lost or repeated.
func TestNoPollingSendsDuringProbe(t *testing.T) {
	// The upgrade's WebSocket request waits 100 ms before the server takes
	// it, so the probe starts while the test emits; every poll waits 30 ms,
	// so the upgrade waits that long for the pending poll to return: a
	// window in which a client that sends during the probe POSTs.
	// A POST during the probe gets 400 "paused", as some servers answer.
	var srvRef atomic.Pointer[testserver.Server]
	var paused atomic.Int32
	srv := startServer(t, testserver.WithIntercept(func(ctx context.Context, w http.ResponseWriter, r *http.Request) bool {
		q := r.URL.Query()
		delay := time.Duration(0)
		switch {
		case r.Method == http.MethodPost && probing(srvRef.Load()):
			paused.Add(1)
			http.Error(w, `{"code":3,"message":"paused"}`, http.StatusBadRequest)
			return true
		case q.Get("sid") == "":
		case q.Get("transport") == "websocket":
			delay = 100 * time.Millisecond
		case r.Method == http.MethodGet:
			delay = 30 * time.Millisecond
		}
		select {
		case <-time.After(delay):
		case <-ctx.Done():
		}
		return false
	}))
	srvRef.Store(srv)
	s := dial(t, srv.URL()) // polling, then the upgrade
	ctx := testCtx(t)
	const n = 300
	emitSeq(t, ctx, s, n) // all along the upgrade
	got := awaitSeq(srv, n)
	if n := paused.Load(); n > 0 {
		t.Errorf("%d POSTs during the probe were answered \"paused\"", n)
	}
	probe, upgrade := slices.Index(got, "2probe"), slices.Index(got, "5")
	if probe < 0 || upgrade < probe {
		t.Fatalf("no upgrade: received %.300q", got)
	}
	if upgrade != probe+1 {
		t.Errorf("received %d packets over polling during the probe: %.300q", upgrade-probe-1, got[probe+1:upgrade])
	}
	checkSeq(t, got, n)
	t.Logf("%d events before the probe, %d after the upgrade", probe-1, len(got)-upgrade-1)
}

// probing reports whether srv has received a probe and not yet the upgrade.
func probing(srv *testserver.Server) bool {
	if srv == nil {
		return false
	}
	got := srv.Received()
	return slices.Contains(got, "2probe") && !slices.Contains(got, "5")
}

// checkSeq checks that the events "seq"(0..n-1) are among got, in order,
// each once.
func checkSeq(t *testing.T, got []string, n int) {
	t.Helper()
	var seq []string
	for _, p := range got {
		if strings.HasPrefix(p, `42["seq",`) {
			seq = append(seq, p)
		}
	}
	if len(seq) != n {
		t.Fatalf("the server got %d events, want %d", len(seq), n)
	}
	for i, p := range seq {
		if want := fmt.Sprintf(`42["seq",%d]`, i); p != want {
			t.Fatalf("event %d is %q, want %q", i, p, want)
		}
	}
}

// awaitSeq waits until srv has received n "seq" events, or 10 s.
func awaitSeq(srv *testserver.Server, n int) []string {
	deadline := time.Now().Add(10 * time.Second)
	for {
		got := srv.Received()
		if strings.Count(strings.Join(got, "\n"), `["seq",`) >= n || time.Now().After(deadline) {
			return got
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// emitSeq emits "seq"(i) for i < n, one a millisecond.
func emitSeq(t *testing.T, ctx context.Context, s *sio.Socket, n int) {
	t.Helper()
	for i := range n {
		if err := s.Emit(ctx, "seq", i); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Millisecond)
	}
}

// A probe that fails (the WebSocket answers "2probe" with something else)
// leaves the connection on polling: what was emitted while the writer was
// held goes out there, in order, none lost.
func TestProbeFailsEmitsGoOnPolling(t *testing.T) {
	var probes atomic.Int32
	srv := startServer(t, testserver.WithIntercept(func(ctx context.Context, w http.ResponseWriter, r *http.Request) bool {
		q := r.URL.Query()
		if q.Get("transport") != "websocket" || q.Get("sid") == "" {
			return false
		}
		time.Sleep(50 * time.Millisecond) // the probe starts while the test emits
		c, err := websocket.Accept(w, r, nil)
		if err != nil {
			return true
		}
		defer c.CloseNow()
		if typ, data, err := c.Read(ctx); err == nil && typ == websocket.MessageText && string(data) == "2probe" {
			probes.Add(1)
			time.Sleep(30 * time.Millisecond) // the writer is held meanwhile
			c.Write(ctx, websocket.MessageText, []byte("3nope"))
		}
		for {
			if _, _, err := c.Read(ctx); err != nil {
				return true
			}
		}
	}))
	s := dial(t, srv.URL())
	ctx := testCtx(t)
	const n = 200
	emitSeq(t, ctx, s, n)
	got := awaitSeq(srv, n)
	if probes.Load() != 1 {
		t.Errorf("%d probes, want 1", probes.Load())
	}
	checkSeq(t, got, n)
	if info := srv.Sessions(); len(info) != 1 || info[0].Transport != "polling" {
		t.Errorf("sessions %+v, want one, on polling", info)
	}
	if err := s.Emit(ctx, "seq", n); err != nil {
		t.Errorf("Emit after the failed probe: %v", err)
	}
}

// Close from many goroutines at once while the upgrade probe holds the
// writer still leaves the namespace and closes the session: the server
// receives the DISCONNECT, after the upgrade. Each Close used to ask the
// connection to close; the writer, held by the probe, took none of those
// requests, and the ninth found the queue full and cut the connection, so
// the DISCONNECT was lost and the server was never told the session ended
// (over polling with no request in flight, a server then keeps the session
// until its ping timeout).
func TestCloseConcurrentDuringProbe(t *testing.T) {
	// Every poll waits 300 ms before the server takes it, and the upgrade
	// waits for the pending poll to return: the writer is held up to that
	// long once the probe has started. The WebSocket waits 400 ms, so that
	// the probe starts after the poll that answers the CONNECT (Dial
	// returns then) and waits for the next one.
	srv := startServer(t, testserver.WithIntercept(func(ctx context.Context, w http.ResponseWriter, r *http.Request) bool {
		q := r.URL.Query()
		delay := time.Duration(0)
		switch {
		case r.Method == http.MethodGet && q.Get("transport") == "polling" && q.Get("sid") != "":
			delay = 300 * time.Millisecond
		case q.Get("transport") == "websocket":
			delay = 400 * time.Millisecond
		}
		select {
		case <-time.After(delay):
		case <-ctx.Done():
		}
		return false
	}))
	s := dial(t, srv.URL()) // polling, then the upgrade
	ctx := testCtx(t)
	for !probing(srv) {
		select {
		case <-ctx.Done():
			t.Fatalf("no probe: received %q", srv.Received())
		case <-time.After(time.Millisecond):
		}
	}
	var wg sync.WaitGroup
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := s.Close(); err != nil {
				t.Errorf("Close = %v", err)
			}
		}()
	}
	wg.Wait()
	got := srv.Received()
	upgrade, leave := slices.Index(got, "5"), slices.Index(got, "41")
	if upgrade < 0 || leave < upgrade {
		t.Errorf("want the upgrade \"5\", then the DISCONNECT \"41\"; received %q", got)
	}
}
