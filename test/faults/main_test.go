// Package faults_test runs the client against the reference socket.io 4.8
// server (test/node/server.js) through test/faultproxy, which breaks the
// path between them. Every scenario runs over WebSocket and over
// long-polling:
//
//   - blackhole_test.go: the path goes silent; ping timeout, then reconnection.
//   - cut_test.go: cuts during 64 concurrent acknowledged emits, and during
//     the flush of the offline queue.
//   - segment_test.go: 1-byte segments and 50 ms latency; 200 echoes intact.
//   - flap_test.go: a cut every 300 ms for 10 s; no deadlock, no leak.
//   - storm_test.go: emits from eight goroutines while the path is cut every
//     100 ms, one promise of the client per test.
//   - lost_test.go: a response lost on the way must not go unnoticed.
//
// Install the Node dependencies once, then run the package:
//
//	npm ci --prefix test/node
//	go test -race -count=1 ./test/faults/
package faults_test

import (
	"context"
	"errors"
	"net/http"
	"runtime/pprof"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/sio-go/sio"
	"github.com/sio-go/sio/internal/testutil"
	"github.com/sio-go/sio/test/faultproxy"
	"github.com/sio-go/sio/test/nodeserver"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// transportCase is one transport the scenarios run over.
type transportCase struct {
	name string
	opt  sio.Option
}

var transportCases = []transportCase{
	{name: "websocket", opt: sio.WithTransports(sio.WebSocket)},
	{name: "polling", opt: sio.WithTransports(sio.Polling)},
}

// forTransports runs f as a parallel subtest for every transport.
func forTransports(t *testing.T, f func(t *testing.T, tc transportCase)) {
	t.Helper()
	for _, tc := range transportCases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f(t, tc)
		})
	}
}

// fastReconnect keeps reconnection short.
func fastReconnect() sio.Option {
	return sio.WithReconnect(sio.Backoff{Min: 50 * time.Millisecond, Max: 200 * time.Millisecond})
}

// startServer starts one server.js with the given flags.
func startServer(t *testing.T, args ...string) *nodeserver.Server {
	t.Helper()
	if len(args) == 0 {
		return nodeserver.Start(t)
	}
	return nodeserver.Start(t, nodeserver.WithArgs(args...))
}

// startProxy starts a fault proxy in front of srv, closed when the test
// ends (after the sockets dialed through it).
func startProxy(t *testing.T, srv *nodeserver.Server) *faultproxy.Proxy {
	t.Helper()
	px, err := faultproxy.Start("127.0.0.1:" + strconv.Itoa(srv.Port()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { px.Close() })
	return px
}

// client is a socket with the HTTP transport it alone uses, so that its
// keep-alive connections can be closed (goleak, goroutine counts).
type client struct {
	*sio.Socket
	ht *http.Transport
}

// close closes the socket, then its idle HTTP connections.
func (c *client) close() {
	c.Socket.Close()
	c.ht.CloseIdleConnections()
}

// dial opens a socket on "/" through px over tc's transport, with fast
// reconnection (opts come after and win), checks that its first event is
// EventConnect, and closes it when the test ends.
func dial(t *testing.T, ctx context.Context, px *faultproxy.Proxy, tc transportCase, opts ...sio.Option) *client {
	t.Helper()
	ht := &http.Transport{}
	base := []sio.Option{tc.opt, fastReconnect(), sio.WithHTTPClient(&http.Client{Transport: ht})}
	s, err := sio.Dial(ctx, px.URL(), append(base, opts...)...)
	if err != nil {
		ht.CloseIdleConnections()
		t.Fatalf("Dial(%s): %v", px.URL(), err)
	}
	c := &client{Socket: s, ht: ht}
	t.Cleanup(c.close)
	if ev := testutil.NextEvent(t, ctx, s); ev.Type != sio.EventConnect {
		t.Fatalf("first event = %s, want EventConnect", testutil.Describe(ev))
	}
	return c
}

// echo emits "echo" with token and checks that the next event is the
// server's echo of it.
func echo(t *testing.T, ctx context.Context, s *sio.Socket, token string) {
	t.Helper()
	if err := s.Emit(ctx, "echo", token); err != nil {
		t.Fatalf("Emit(echo, %q): %v", token, err)
	}
	ev := testutil.NextEvent(t, ctx, s)
	var got string
	if ev.Type != sio.EventMessage || ev.Name != "echo" || ev.Args.Decode(&got) != nil || got != token {
		t.Fatalf("got %s, want the echo of %q", testutil.Describe(ev), token)
	}
}

// ackEcho emits "ack" with token, asking for an acknowledgement, and checks
// that the reply is the token.
func ackEcho(t *testing.T, ctx context.Context, s *sio.Socket, token string) {
	t.Helper()
	f, err := s.EmitWithAck(ctx, "ack", token)
	if err != nil {
		t.Fatalf("EmitWithAck(ack, %q): %v", token, err)
	}
	reply, err := f.Wait(ctx)
	if err != nil {
		t.Fatalf("ack of %q: %v", token, err)
	}
	var got string
	if err := reply.Decode(&got); err != nil || got != token {
		t.Fatalf("ack reply %s (%v), want [%q]", reply.String(), err, token)
	}
}

// usable waits until the socket has settled on a connection (give the last
// fault time to be noticed first) and checks that an acknowledged echo
// goes through.
func usable(t *testing.T, ctx context.Context, s *sio.Socket) {
	t.Helper()
	for !s.Connected() {
		select {
		case <-ctx.Done():
			logGoroutines(t)
			t.Fatalf("not connected again before the deadline (socket err: %v)", s.Err())
		case <-time.After(10 * time.Millisecond):
		}
	}
	ackEcho(t, ctx, s, "usable")
}

// logGoroutines logs the stacks of every goroutine, to show where a client
// that should have recovered is stuck.
func logGoroutines(t *testing.T) {
	t.Helper()
	var b strings.Builder
	_ = pprof.Lookup("goroutine").WriteTo(&b, 1)
	t.Logf("goroutines:\n%s", b.String())
}

// isDisconnectReason reports whether err is one of the reasons a lost
// connection gives.
func isDisconnectReason(err error) bool {
	for _, r := range []error{sio.ErrTransportClose, sio.ErrTransportError, sio.ErrPingTimeout} {
		if errors.Is(err, r) {
			return true
		}
	}
	return false
}
