package sio_test

import (
	"context"
	"fmt"
	"maps"
	"net"
	"net/http"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sio-go/sio"
	"github.com/sio-go/sio/internal/testutil"
	"github.com/sio-go/sio/test/testserver"
)

// clientGoroutines counts, by kind, the goroutines of this process that
// belong to clients: those running code of package sio, and net/http's
// client connections (an idle keep-alive connection has two). The test
// server's goroutines run neither.
func clientGoroutines() (map[string]int, int) {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			buf = buf[:n]
			break
		}
		buf = make([]byte, 2*len(buf))
	}
	kinds := make(map[string]int)
	total := 0
	for _, g := range strings.Split(string(buf), "\n\n") {
		if strings.Contains(g, "\ntesting.") {
			continue // the tests' own
		}
		kind := ""
		for _, line := range strings.Split(g, "\n") {
			fn := strings.TrimPrefix(line, "created by ")
			switch {
			case strings.HasPrefix(fn, "github.com/sio-go/sio."):
				if kind == "" {
					kind = fn[len("github.com/sio-go/sio."):]
					if i := strings.LastIndexAny(kind, "( "); i > 0 && strings.HasSuffix(kind, ")") {
						kind = kind[:i]
					}
				}
			case strings.HasPrefix(fn, "net/http.(*persistConn)"), strings.HasPrefix(fn, "net/http.(*Transport)"):
				kind = "net/http client connection"
			}
		}
		if kind != "" {
			kinds[kind]++
			total++
		}
	}
	return kinds, total
}

// An idle connected client runs exactly three goroutines, its reader,
// writer and heartbeat, whichever way it connected: nothing is left from
// the handshake, the polling phase or the upgrade (no keep-alive HTTP
// connection, no upgrade or delivery goroutine), however many heartbeats
// went by.
func TestIdleGoroutines(t *testing.T) {
	const clients = 10
	for _, tc := range []struct {
		name string
		opt  sio.Option
	}{
		{"default", sio.WithTransports(sio.Polling, sio.WebSocket)},
		{"websocket", sio.WithTransports(sio.WebSocket)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// Frequent pings, a long timeout: heartbeats go by, and a
			// loaded machine does not end the connections.
			srv := startServer(t, testserver.WithPingInterval(20*time.Millisecond), testserver.WithPingTimeout(10*time.Second))
			socks := make([]*sio.Socket, clients)
			for i := range socks {
				socks[i] = dial(t, srv.URL(), tc.opt, sio.WithoutReconnect())
			}
			for _, s := range socks {
				for s.Manager().Transport() != sio.WebSocket {
					time.Sleep(time.Millisecond)
				}
			}
			for srv.Connections() < clients || len(srv.Received()) < 10*clients {
				time.Sleep(10 * time.Millisecond) // the pongs of several heartbeats
			}
			want := map[string]int{
				"(*engineConn).readLoop":  clients,
				"(*engineConn).writeLoop": clients,
				"(*engineConn).heartbeat": clients,
			}
			// Goroutines that are ending (a closed connection's) may
			// take a moment to go.
			deadline := time.Now().Add(5 * time.Second)
			for {
				kinds, total := clientGoroutines()
				if total == 3*clients && fmt.Sprint(kinds) == fmt.Sprint(want) {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("%d idle clients run %d goroutines, want %d: %v", clients, total, 3*clients, kinds)
				}
				time.Sleep(10 * time.Millisecond)
			}
			for _, s := range socks {
				if !s.Connected() {
					t.Fatalf("a client disconnected: %v", s.Err())
				}
			}
		})
	}
}

// An idle connection's writer hands over to a fresh goroutine after it
// answers a ping (so that the stack the write grew is freed), while a busy
// one keeps its writer: the writer answering the pings of an idle
// connection is soon another goroutine.
func TestWriterHandsOverWhenIdle(t *testing.T) {
	srv := startServer(t, testserver.WithPingInterval(20*time.Millisecond), testserver.WithPingTimeout(10*time.Second))
	s := dial(t, srv.URL(), sio.WithTransports(sio.WebSocket), sio.WithoutReconnect())
	awaitHandOver(t, s, "sio.(*engineConn).writeLoop", 5*time.Second)
}

// The heartbeat of an idle connection hands over to a fresh goroutine each
// time its timer finds the connection alive, so that none keeps a stack it
// started with while clients were still polling: the heartbeat is soon
// another goroutine, and the connection lives on.
func TestHeartbeatHandsOver(t *testing.T) {
	// The timer fires pingInterval + pingTimeout after the last ping: a
	// timeout of 500 ms lets it fire every half second or so, and leaves
	// pings that much room to be late on a loaded machine.
	srv := startServer(t, testserver.WithPingInterval(20*time.Millisecond), testserver.WithPingTimeout(500*time.Millisecond))
	s := dial(t, srv.URL(), sio.WithTransports(sio.WebSocket), sio.WithoutReconnect())
	awaitHandOver(t, s, "sio.(*engineConn).heartbeat", 10*time.Second)
}

// awaitHandOver checks that the one goroutine running fn for s's
// connection is, within the time given, another one (two, for a moment,
// during a hand-over), and that s is still connected.
func awaitHandOver(t *testing.T, s *sio.Socket, fn string, within time.Duration) {
	t.Helper()
	first := goroutineIDs(fn)
	if len(first) != 1 {
		t.Fatalf("%d goroutines running %s, want 1", len(first), fn)
	}
	deadline := time.Now().Add(within)
	for {
		if now := goroutineIDs(fn); len(now) == 1 && !maps.Equal(now, first) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s of an idle connection is the same goroutine after %v", fn, within)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if !s.Connected() {
		t.Fatalf("disconnected: %v", s.Err())
	}
}

// goroutineIDs returns the ids of the goroutines whose stack holds fn.
func goroutineIDs(fn string) map[string]bool {
	buf := make([]byte, 1<<20)
	buf = buf[:runtime.Stack(buf, true)]
	ids := make(map[string]bool)
	for _, g := range strings.Split(string(buf), "\n\n") {
		if strings.Contains(g, fn) {
			ids[strings.Fields(g)[1]] = true
		}
	}
	return ids
}

// Close races the writer's hand-overs and the heartbeat: with pings every
// 2 ms, a connection's writer hands over to a new goroutine after nearly
// every pong, and Close, at any point, still returns with every goroutine
// gone (TestMain's goleak, and the race detector, check the rest).
func TestCloseRacesWriterHandOver(t *testing.T) {
	srv := startServer(t, testserver.WithPingInterval(2*time.Millisecond), testserver.WithPingTimeout(10*time.Second))
	closeRacesHandOvers(t, srv.URL(), 8*time.Millisecond)
}

// The same with the heartbeat's hand-overs: its timer fires every 20 ms
// or so (pingTimeout after the last ping), and Close comes at 40 points
// spread over two such periods.
func TestCloseRacesHeartbeatHandOver(t *testing.T) {
	srv := startServer(t, testserver.WithPingInterval(2*time.Millisecond), testserver.WithPingTimeout(20*time.Millisecond))
	closeRacesHandOvers(t, srv.URL(), 40*time.Millisecond)
}

// closeRacesHandOvers dials 40 times and closes each socket after a delay
// spread over span: Close returns and leaves no goroutine.
func closeRacesHandOvers(t *testing.T, url string, span time.Duration) {
	const rounds = 40
	for i := range rounds {
		s := dial(t, url, sio.WithTransports(sio.WebSocket), sio.WithoutReconnect())
		time.Sleep(span * time.Duration(i%rounds) / rounds)
		done := make(chan struct{})
		go func() {
			defer close(done)
			s.Close()
		}()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Fatalf("round %d: Close did not return", i)
		}
		if kinds, total := clientGoroutines(); total != 0 {
			t.Fatalf("round %d: goroutines left after Close: %v", i, kinds)
		}
	}
}

// Once upgraded, a client keeps no connection of its polling phase
// reachable: each of its TCP connections but the WebSocket's is freed by
// the garbage collector, though the program's transport keeps idle
// connections for an hour (net/http's timer for an idle connection held
// such a connection, its 8 KiB of buffers and the session's transport
// until it fired: 90 s with http.DefaultTransport).
func TestUpgradeLeavesNothingReachable(t *testing.T) {
	const clients = 20
	srv := startServer(t)
	var dialed, freed atomic.Int64
	dialer := func(ctx context.Context, network, addr string) (net.Conn, error) {
		var d net.Dialer
		c, err := d.DialContext(ctx, network, addr)
		if err == nil {
			dialed.Add(1)
			runtime.AddCleanup(c.(*net.TCPConn), func(f *atomic.Int64) { f.Add(1) }, &freed)
		}
		return c, err
	}
	hc := &http.Client{Transport: &http.Transport{DialContext: dialer, MaxIdleConnsPerHost: 100, IdleConnTimeout: time.Hour}}
	socks := make([]*sio.Socket, clients)
	for i := range socks {
		socks[i] = dial(t, srv.URL(), sio.WithHTTPClient(hc), sio.WithoutReconnect())
		// An emit and its POST, so that each session had a connection
		// go idle.
		if err := socks[i].Emit(testutil.Context(t, 5*time.Second), "x"); err != nil {
			t.Fatal(err)
		}
	}
	for _, s := range socks {
		for s.Manager().Transport() != sio.WebSocket {
			time.Sleep(time.Millisecond)
		}
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		runtime.GC()
		reachable := dialed.Load() - freed.Load()
		if reachable == clients {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d upgraded clients keep %d TCP connections reachable (%d dialed), want one each", clients, reachable, dialed.Load())
		}
		time.Sleep(10 * time.Millisecond)
	}
	runtime.KeepAlive(socks)
}

// A Manager makes its Events channel only when asked for it or when it has
// an event; Close closes it either way, and Events after Close is closed.
func TestManagerEventsClosed(t *testing.T) {
	for _, asked := range []bool{true, false} {
		m, err := sio.NewManager("http://127.0.0.1:1")
		if err != nil {
			t.Fatal(err)
		}
		var before <-chan sio.ManagerEvent
		if asked {
			before = m.Events()
		}
		m.Close()
		if _, ok := <-m.Events(); ok {
			t.Fatalf("asked before Close %v: Events after Close is open", asked)
		}
		if asked {
			if _, ok := <-before; ok {
				t.Fatal("the channel returned before Close is still open")
			}
		}
	}
}
