// Package interop_test runs the client against the reference socket.io 4.8
// server (test/node/server.js, started through test/nodeserver).
//
// Install the Node dependencies once, from the repository root:
//
//	npm ci --prefix test/node
//	go test -race -count=1 ./test/interop/
//
// SIO_INTEROP_SERVER=3 runs the suite against socket.io 3.1 instead (after
// npm ci --prefix test/node/legacy/v3). Where 3.x behaves differently (it
// has no connection state recovery and announces no maxPayload), a test
// asserts what 3.x does instead; see legacy3.
//
// The tests named TestPython* run the client against the second peer,
// python-socketio 5.x (test/python/server.py, started through test/python),
// which needs Debian's python3-socketio and python3-aiohttp (bash
// test/setup.sh); they fail, never skip, without them.
//
// Tests that are about the data path run over every transport (subtests
// websocket, polling and upgrade, the client's default). The others use the
// client's default transports; SIO_INTEROP_TRANSPORT=websocket or =polling
// pins those to one transport, to tell a transport bug from another.
package interop_test

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/sio-go/sio"
	"github.com/sio-go/sio/internal/testutil"
	"github.com/sio-go/sio/test/nodeserver"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// baseOptions are the options every socket and Manager of the tests starts
// with (the test's own options come after them and win).
func baseOptions() []sio.Option {
	switch os.Getenv("SIO_INTEROP_TRANSPORT") {
	case "websocket":
		return []sio.Option{sio.WithTransports(sio.WebSocket)}
	case "polling":
		return []sio.Option{sio.WithTransports(sio.Polling)}
	}
	return nil
}

// testTimeout bounds every test.
const testTimeout = 20 * time.Second

// serverVersion is the socket.io major version the suite runs against:
// SIO_INTEROP_SERVER=3 runs it against socket.io 3.1 instead of 4.8.
func serverVersion() string {
	return cmp.Or(os.Getenv("SIO_INTEROP_SERVER"), nodeserver.DefaultVersion)
}

// legacy3 reports whether the suite runs against socket.io 3.x. The tests
// of what 3.x does differently (no connection state recovery, no maxPayload
// in the open packet) then assert what 3.x does instead.
func legacy3() bool { return serverVersion() == "3" }

// startServer starts one server.js for this test with the given flags, of
// the version serverVersion says.
func startServer(t *testing.T, args ...string) *nodeserver.Server {
	t.Helper()
	return nodeserver.Start(t, nodeserver.WithVersion(serverVersion()), nodeserver.WithArgs(args...))
}

// dial opens a socket (closed when the test ends) and checks that the first
// event it delivers is EventConnect.
func dial(t *testing.T, ctx context.Context, rawURL string, opts ...sio.Option) *sio.Socket {
	t.Helper()
	s, err := sio.Dial(ctx, rawURL, append(baseOptions(), opts...)...)
	if err != nil {
		t.Fatalf("Dial(%q): %v", rawURL, err)
	}
	if s == nil {
		t.Fatalf("Dial(%q) returned a nil socket and no error", rawURL)
	}
	t.Cleanup(func() { s.Close() })
	expectConnect(t, ctx, s)
	return s
}

// expectConnect reads the next event and checks that it is EventConnect.
func expectConnect(t *testing.T, ctx context.Context, s *sio.Socket) {
	t.Helper()
	ev := testutil.NextEvent(t, ctx, s)
	if ev.Type != sio.EventConnect || ev.Err != nil {
		t.Fatalf("first event = %s, want EventConnect", testutil.Describe(ev))
	}
}

// nextMessage returns the next event of s and checks that it is an
// EventMessage named name.
func nextMessage(t *testing.T, ctx context.Context, s *sio.Socket, name string) sio.Event {
	t.Helper()
	ev := testutil.NextEvent(t, ctx, s)
	if ev.Type != sio.EventMessage || ev.Name != name {
		t.Fatalf("got %s, want message %q", testutil.Describe(ev), name)
	}
	return ev
}

// expectDisconnect reads the next event, checks that it is EventDisconnect
// with a reason matching want, and that Events is closed right after it.
func expectDisconnect(t *testing.T, ctx context.Context, s *sio.Socket, want error) {
	t.Helper()
	ev := testutil.NextEvent(t, ctx, s)
	if ev.Type != sio.EventDisconnect {
		t.Fatalf("got %s, want EventDisconnect", testutil.Describe(ev))
	}
	if !errors.Is(ev.Err, want) {
		t.Fatalf("EventDisconnect.Err = %v, want errors.Is %v", ev.Err, want)
	}
	expectClosed(t, ctx, s)
}

// expectClosed checks that Events is closed, with no event left in it.
func expectClosed(t *testing.T, ctx context.Context, s *sio.Socket) {
	t.Helper()
	select {
	case ev, ok := <-s.Events():
		if ok {
			t.Fatalf("Events delivered %s, want the channel closed", testutil.Describe(ev))
		}
	case <-ctx.Done():
		t.Fatalf("Events not closed before the deadline: %v", ctx.Err())
	}
}

// drainClosed reads Events until it is closed (any events still buffered are
// returned), failing the test if it does not close within the deadline.
func drainClosed(t *testing.T, ctx context.Context, s *sio.Socket) []sio.Event {
	t.Helper()
	var evs []sio.Event
	for {
		select {
		case ev, ok := <-s.Events():
			if !ok {
				return evs
			}
			evs = append(evs, ev)
		case <-ctx.Done():
			t.Fatalf("Events not closed before the deadline: %v (read %d events)", ctx.Err(), len(evs))
		}
	}
}

// expectDone checks that Done is closed.
func expectDone(t *testing.T, ctx context.Context, s *sio.Socket) {
	t.Helper()
	select {
	case <-s.Done():
	case <-ctx.Done():
		t.Fatalf("Done not closed before the deadline (Err: %v)", s.Err())
	}
}

// serverInfo is the reply of the server's "info" event.
type serverInfo struct {
	ID                     string         `json:"id"`
	Nsp                    string         `json:"nsp"`
	EngineID               string         `json:"engineId"`
	Transport              string         `json:"transport"`
	Query                  map[string]any `json:"query"`
	Headers                map[string]any `json:"headers"`
	Cookie                 string         `json:"cookie"`
	Recovered              bool           `json:"recovered"`
	Auth                   map[string]any `json:"auth"`
	NamespacesOnConnection []string       `json:"namespacesOnConnection"`
	EngineConnections      int            `json:"engineConnections"`
}

// info asks the server what it knows about s.
func info(t *testing.T, ctx context.Context, s *sio.Socket) serverInfo {
	t.Helper()
	inf, err := tryInfo(ctx, s)
	if err != nil {
		t.Fatal(err)
	}
	return inf
}

// tryInfo is info returning its error.
func tryInfo(ctx context.Context, s *sio.Socket) (serverInfo, error) {
	var inf serverInfo
	fut, err := s.EmitWithAck(ctx, "info")
	if err != nil {
		return inf, fmt.Errorf("info on %s: EmitWithAck: %w", s.Namespace(), err)
	}
	args, err := fut.Wait(ctx)
	if err != nil {
		return inf, fmt.Errorf("info on %s: ack: %w", s.Namespace(), err)
	}
	if args.Len() != 1 {
		return inf, fmt.Errorf("info ack has %d arguments, want 1: %s", args.Len(), args.String())
	}
	if err := args.Decode(&inf); err != nil {
		return inf, fmt.Errorf("decoding info %s: %w", args.String(), err)
	}
	return inf, nil
}

// call emits event with args, asks for an ack and waits for it.
func call(t *testing.T, ctx context.Context, s *sio.Socket, event string, args ...any) sio.Args {
	t.Helper()
	fut, err := s.EmitWithAck(ctx, event, args...)
	if err != nil {
		t.Fatalf("EmitWithAck(%q): %v", event, err)
	}
	reply, err := fut.Wait(ctx)
	if err != nil {
		t.Fatalf("ack of %q: %v", event, err)
	}
	return reply
}

// eventually polls cond until it holds, failing the test with its last
// description when ctx ends first.
func eventually(t *testing.T, ctx context.Context, what string, cond func() (bool, string)) {
	t.Helper()
	for {
		ok, state := cond()
		if ok {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("%s: still %s at the deadline", what, state)
		case <-time.After(25 * time.Millisecond):
		}
	}
}

// transportCase is one way for the client to carry Engine.IO.
type transportCase struct {
	name  string
	opts  []sio.Option
	final string // the transport the server reports once the connection has settled
}

// transportCases are WebSocket alone, long-polling alone, and the client's
// default, spelled out: polling, then the upgrade to WebSocket.
var transportCases = []transportCase{
	{name: "websocket", opts: []sio.Option{sio.WithTransports(sio.WebSocket)}, final: "websocket"},
	{name: "polling", opts: []sio.Option{sio.WithTransports(sio.Polling)}, final: "polling"},
	{name: "upgrade", opts: []sio.Option{sio.WithTransports(sio.Polling, sio.WebSocket)}, final: "websocket"},
}

// with returns the case's options followed by opts.
func (tc transportCase) with(opts ...sio.Option) []sio.Option {
	return append(slices.Clone(tc.opts), opts...)
}

// forTransports runs f as a parallel subtest for every transport case. The
// subtests run after the calling test function has returned (its Cleanups
// wait for them): nothing may follow the call, and a server the subtests
// share must not be asked for counts that the other subtests change.
func forTransports(t *testing.T, f func(t *testing.T, tc transportCase)) {
	t.Helper()
	for _, tc := range transportCases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f(t, tc)
		})
	}
}

// settle waits until the server reports the case's final transport for s
// (for the default case: until the upgrade to WebSocket is done).
func settle(t *testing.T, ctx context.Context, s *sio.Socket, tc transportCase) serverInfo {
	t.Helper()
	var inf serverInfo
	eventually(t, ctx, "transport "+tc.final, func() (bool, string) {
		inf = info(t, ctx, s)
		return inf.Transport == tc.final, "transport " + inf.Transport
	})
	return inf
}
