package interop_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/sio-go/sio"
	"github.com/sio-go/sio/ack"
	"github.com/sio-go/sio/internal/testutil"
	"github.com/sio-go/sio/test/python"
)

// The python-socketio suite: the client against test/python/server.py
// (python-socketio 5.x on aiohttp, Debian's), over every transport, for the
// scenarios python-socketio can serve. Where python-socketio itself is broken
// (over polling it drops a POST of more than 16 packets and reads a large
// POST only partly, both while answering 200), the tests assert what it does
// and say so; see TestPostOver16PacketsDropped and TestLargePostReadPartly in
// test/python for the raw behaviour.

// startPython starts one server.py for this test with the given flags.
func startPython(t *testing.T, args ...string) *python.Server {
	t.Helper()
	return python.Start(t, python.WithArgs(args...))
}

// pyPattern is what server.py's "binary"(n) sends: byte i is i % 256.
func pyPattern(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i)
	}
	return b
}

// expectReadPartly checks what python-socketio on aiohttp does with a POST
// of several hundred kB: it reads only what has arrived (measured: a 400 kB
// body was never read whole in 10 tries, a 200 kB one 7 times), answers 200,
// and decodes that. The packet cut short is lost (its base64 does not
// decode) or, when the cut falls on a multiple of 4 base64 characters,
// delivered truncated. So the ack of fut (the "ack" event, which answers
// with what it got) either never comes or carries less than was sent:
// intact says whether it carries everything.
func expectReadPartly(t *testing.T, ctx context.Context, fut *ack.Future[sio.Args], intact func(sio.Args) bool) {
	t.Helper()
	wait, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	reply, err := fut.Wait(wait)
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		t.Logf("as expected, python-socketio read the large POST only partly and lost its last packet")
	case err != nil:
		t.Fatalf("ack: %v", err)
	case intact(reply):
		t.Fatalf("python-socketio read a large POST whole over polling: update this test and README")
	default:
		t.Logf("as expected, python-socketio read the large POST only partly and acknowledged a truncated buffer")
	}
}

// JSON arguments of every kind make the round trip, by event and by ack.
func TestPythonEcho(t *testing.T) {
	t.Parallel()
	srv := startPython(t)
	forTransports(t, func(t *testing.T, tr transportCase) {
		ctx := testutil.Context(t, testTimeout)
		s := dial(t, ctx, srv.URL()+"/chat", tr.opts...)
		str := "héllo \"wörld\" \\ \u2028 ✓ 😀 <tag> \x01"
		obj := map[string]any{"a": []any{1.0, "b", nil}, "c": map[string]any{"d": true}, "e": -0.25}
		args := []any{str, 42.0, obj, []any{}, false, nil, ""}
		if err := s.Emit(ctx, "echo", args...); err != nil {
			t.Fatal(err)
		}
		ev := nextMessage(t, ctx, s, "echo")
		if ev.WantsAck() {
			t.Errorf("echo wants an ack; the server asked for none")
		}
		got := make([]any, ev.Args.Len())
		ptrs := make([]any, len(got))
		for i := range got {
			ptrs[i] = &got[i]
		}
		if err := ev.Args.Decode(ptrs...); err != nil || !reflect.DeepEqual(got, args) {
			t.Errorf("echo = %#v, %v; want %#v", got, err, args)
		}
		// An ack with no arguments (echo's) resolves too.
		if reply := call(t, ctx, s, "echo", "e"); reply.Len() != 0 {
			t.Errorf("echo ack has arguments: %s", reply.String())
		}
		nextMessage(t, ctx, s, "echo")
	})
}

// Acks both ways: the server acknowledges with what it got, and asks the
// client for an ack, whose reply it reports back.
func TestPythonAcks(t *testing.T) {
	t.Parallel()
	srv := startPython(t)
	forTransports(t, func(t *testing.T, tr transportCase) {
		ctx := testutil.Context(t, testTimeout)
		s := dial(t, ctx, srv.URL()+"/admin", tr.opts...)
		reply := call(t, ctx, s, "ack", "x", 12, map[string]any{"k": "v"})
		var (
			str string
			n   int
			m   map[string]string
		)
		if err := reply.Decode(&str, &n, &m); err != nil || str != "x" || n != 12 || m["k"] != "v" {
			t.Errorf("ack = %s (%v)", reply.String(), err)
		}
		for _, n := range []int{21, -5} {
			if err := s.Emit(ctx, "ask", n); err != nil {
				t.Fatal(err)
			}
			q := nextMessage(t, ctx, s, "question")
			var got int
			if !q.WantsAck() || q.Args.Decode(&got) != nil || got != n {
				t.Fatalf("question %s (wants ack %v), want %d asking for an ack", q.Args.String(), q.WantsAck(), n)
			}
			if err := q.Ack(ctx, "twice", got*2); err != nil {
				t.Fatal(err)
			}
			a := nextMessage(t, ctx, s, "answer")
			var word string
			var ans int
			if err := a.Args.Decode(&word, &ans); err != nil || word != "twice" || ans != 2*n {
				t.Errorf("answer = %s, want [\"twice\", %d]", a.Args.String(), 2*n)
			}
		}
	})
}

// Binary: 700 kB from the server, by ack and by event, and a nested
// structure with a 700 kB buffer sent to the server and acknowledged back.
// Over polling python-socketio on aiohttp reads only part of the POST that
// carries the 700 kB attachment (and answers 200): the attachment is lost or
// truncated, and the test says so (see expectReadPartly).
func TestPythonBinary(t *testing.T) {
	t.Parallel()
	srv := startPython(t)
	forTransports(t, func(t *testing.T, tr transportCase) {
		ctx := testutil.Context(t, testTimeout)
		s := dial(t, ctx, srv.URL(), tr.opts...)
		const size = 700_000
		want := pyPattern(size)

		var got []byte
		if err := call(t, ctx, s, "binary", size).Decode(&got); err != nil || !bytes.Equal(got, want) {
			t.Fatalf("binary ack: %d bytes (%v), want the %d-byte pattern", len(got), err, size)
		}
		if err := s.Emit(ctx, "binary-event", size); err != nil {
			t.Fatal(err)
		}
		got = nil
		if err := nextMessage(t, ctx, s, "binary").Args.Decode(&got); err != nil || !bytes.Equal(got, want) {
			t.Fatalf("binary event: %d bytes (%v), want the %d-byte pattern", len(got), err, size)
		}

		small := []byte{0, 1, 2, 0xff}
		nested := map[string]any{"name": "n", "big": want, "list": []any{small, []byte{}}, "more": map[string]any{"tiny": small}}
		if tr.name == "upgrade" {
			settle(t, ctx, s, tr) // the upgrade is done: the 700 kB go over the WebSocket
		}
		fut, err := s.EmitWithAck(ctx, "ack", nested, small)
		if err != nil {
			t.Fatal(err)
		}
		if tr.name == "polling" {
			expectReadPartly(t, ctx, fut, func(reply sio.Args) bool {
				var got struct {
					Big []byte `json:"big"`
				}
				return reply.Decode(&got) == nil && bytes.Equal(got.Big, want)
			})
			return
		}
		reply, err := fut.Wait(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var gotNested struct {
			Name string   `json:"name"`
			Big  []byte   `json:"big"`
			List [][]byte `json:"list"`
			More struct {
				Tiny []byte `json:"tiny"`
			} `json:"more"`
		}
		var gotSmall []byte
		if err := reply.Decode(&gotNested, &gotSmall); err != nil {
			t.Fatalf("Decode %.200s: %v", reply.String(), err)
		}
		if gotNested.Name != "n" || !bytes.Equal(gotSmall, small) || !bytes.Equal(gotNested.Big, want) ||
			len(gotNested.List) != 2 || !bytes.Equal(gotNested.List[0], small) || len(gotNested.List[1]) != 0 ||
			!bytes.Equal(gotNested.More.Tiny, small) {
			t.Errorf("ack: %.300s", reply.String())
		}
	})
}

// Namespaces share one connection through a Manager; query and headers reach
// the server; auth is accepted, or refused with the server's message and data.
func TestPythonNamespacesAuthQuery(t *testing.T) {
	t.Parallel()
	srv := startPython(t)
	forTransports(t, func(t *testing.T, tr transportCase) {
		ctx := testutil.Context(t, testTimeout)
		m := newManager(t, srv.URL(), tr.with(
			sio.WithQuery(url.Values{"who": {"py"}}),
			sio.WithHeader(http.Header{"X-Test": {"yes"}}))...)
		admin := managerSocket(t, ctx, m, "/admin")
		chat := managerSocket(t, ctx, m, "/chat")
		auth := managerSocket(t, ctx, m, "/auth", sio.WithAuth(map[string]any{"token": "secret", "n": 7}))
		ia, ic, iu := info(t, ctx, admin), info(t, ctx, chat), info(t, ctx, auth)
		if ia.EngineID == "" || ia.EngineID != ic.EngineID || ia.EngineID != iu.EngineID {
			t.Errorf("engine ids differ: %q %q %q", ia.EngineID, ic.EngineID, iu.EngineID)
		}
		if ia.Nsp != "/admin" || ic.Nsp != "/chat" || iu.Nsp != "/auth" {
			t.Errorf("nsps = %q %q %q", ia.Nsp, ic.Nsp, iu.Nsp)
		}
		if ia.ID != admin.ID() || ic.ID != chat.ID() || iu.ID != auth.ID() {
			t.Errorf("ids: server %q %q %q, client %q %q %q", ia.ID, ic.ID, iu.ID, admin.ID(), chat.ID(), auth.ID())
		}
		if want := (map[string]any{"token": "secret", "n": 7.0}); !reflect.DeepEqual(iu.Auth, want) {
			t.Errorf("server auth = %v, want %v", iu.Auth, want)
		}
		if ia.Query["who"] != "py" || ia.Headers["x-test"] != "yes" {
			t.Errorf("query %v, headers %v: want who=py and x-test: yes", ia.Query, ia.Headers)
		}
		echo(t, ctx, chat, "to-chat")

		for _, opts := range [][]sio.Option{{sio.WithAuth(map[string]string{"token": "nope"})}, nil} {
			s, err := sio.Dial(ctx, srv.URL()+"/auth", tr.with(opts...)...)
			if s != nil {
				s.Close()
				t.Fatalf("Dial returned a socket for a refused namespace (err %v)", err)
			}
			var ce *sio.ConnectError
			if !errors.As(err, &ce) {
				t.Fatalf("Dial error = %v (%T), want *sio.ConnectError", err, err)
			}
			var data any
			if json.Unmarshal(ce.Data, &data) != nil || ce.Message != "not authorized" ||
				!reflect.DeepEqual(data, map[string]any{"code": 401.0}) {
				t.Errorf("ConnectError %q %s, want \"not authorized\" {\"code\":401}", ce.Message, ce.Data)
			}
		}
	})
}

// Rooms: a broadcast to a room reaches every socket in it, in order.
func TestPythonRooms(t *testing.T) {
	t.Parallel()
	srv := startPython(t)
	forTransports(t, func(t *testing.T, tr transportCase) {
		ctx := testutil.Context(t, testTimeout)
		room := "room-" + tr.name
		a := dial(t, ctx, srv.URL()+"/chat", tr.opts...)
		b := dial(t, ctx, srv.URL()+"/chat", tr.opts...)
		call(t, ctx, a, "join", room)
		call(t, ctx, b, "join", room)
		call(t, ctx, a, "broadcast", room, 3, 10)
		for _, s := range []*sio.Socket{a, b} {
			for i := range 3 {
				var n int
				if err := nextMessage(t, ctx, s, "tick").Args.Decode(&n); err != nil || n != i {
					t.Fatalf("tick %d = %d, %v", i, n, err)
				}
			}
			nextMessage(t, ctx, s, "broadcast-done")
		}
	})
}

// The server disconnects a socket (its namespace only, or the whole
// connection): the socket ends with ErrServerDisconnect and does not come
// back.
func TestPythonServerDisconnect(t *testing.T) {
	t.Parallel()
	srv := startPython(t)
	forTransports(t, func(t *testing.T, tr transportCase) {
		for _, event := range []string{"kick", "kick-all"} {
			t.Run(event, func(t *testing.T) {
				ctx := testutil.Context(t, testTimeout)
				s := dial(t, ctx, srv.URL()+"/admin", tr.opts...)
				fut := pending(t, ctx, s)
				if err := s.Emit(ctx, event); err != nil {
					t.Fatal(err)
				}
				if tr.name == "polling" && event == "kick-all" {
					expectKickAllOverPolling(t, ctx, s, fut)
					return
				}
				expectDisconnect(t, ctx, s, sio.ErrServerDisconnect)
				expectDone(t, ctx, s)
				expectFutureErr(t, ctx, fut, sio.ErrServerDisconnect)
			})
		}
	})
}

// expectKickAllOverPolling checks a kick-all over polling, where
// python-engineio may lose the DISCONNECT: it closes the session at once,
// with the DISCONNECT still queued when no GET is waiting to carry it, and
// answers the client's next request with HTTP 500 ("Session is
// disconnected" in its log; 1 run in about 20 here). The client then sees a
// transport error, as the official client does, and its pending ack fails
// with it. Otherwise the socket ends as after any kick.
func expectKickAllOverPolling(t *testing.T, ctx context.Context, s *sio.Socket, fut *ack.Future[sio.Args]) {
	t.Helper()
	ev := testutil.NextEvent(t, ctx, s)
	if ev.Type != sio.EventDisconnect {
		t.Fatalf("got %s, want EventDisconnect", testutil.Describe(ev))
	}
	if errors.Is(ev.Err, sio.ErrTransportError) && strings.Contains(ev.Err.Error(), "HTTP 500") {
		t.Logf("python-engineio lost the DISCONNECT of the session it closed: %v", ev.Err)
		expectFutureErr(t, ctx, fut, sio.ErrTransportError)
		return
	}
	if !errors.Is(ev.Err, sio.ErrServerDisconnect) {
		t.Fatalf("EventDisconnect.Err = %v, want errors.Is %v (or python-engineio's HTTP 500)", ev.Err, sio.ErrServerDisconnect)
	}
	expectClosed(t, ctx, s)
	expectDone(t, ctx, s)
	expectFutureErr(t, ctx, fut, sio.ErrServerDisconnect)
}

// 1000 events arrive in order, both ways. From the client, over WebSocket
// (and after the upgrade) all of them; over polling python-socketio drops
// every POST of more than 16 packets (answering 200), so the client's
// batches of a burst are lost whole: what arrives is in order, without
// duplicates, and the test says how much was lost.
func TestPythonOrdered(t *testing.T) {
	t.Parallel()
	srv := startPython(t)
	forTransports(t, func(t *testing.T, tr transportCase) {
		ctx := testutil.Context(t, testTimeout)
		s := dial(t, ctx, srv.URL(), tr.opts...)
		const n = 1000
		if err := s.Emit(ctx, "stream", n, 16); err != nil {
			t.Fatal(err)
		}
		for i := range n {
			var got int
			if err := nextMessage(t, ctx, s, "tick").Args.Decode(&got); err != nil || got != i {
				t.Fatalf("tick %d = %d, %v", i, got, err)
			}
		}
		nextMessage(t, ctx, s, "stream-done")

		if tr.name == "upgrade" {
			settle(t, ctx, s, tr)
		}
		for i := range n {
			if err := s.Emit(ctx, "record", i); err != nil {
				t.Fatal(err)
			}
		}
		// Over polling, "recorded" itself may go in a dropped batch: ask
		// until an answer comes (the queue is empty by then).
		var got []int
		for {
			wait, cancel := ctx, context.CancelFunc(func() {})
			if tr.name == "polling" {
				wait, cancel = context.WithTimeout(ctx, time.Second)
			}
			fut, err := s.EmitWithAck(wait, "recorded")
			if err != nil {
				cancel()
				t.Fatal(err)
			}
			reply, err := fut.Wait(wait)
			cancel()
			if err == nil {
				if err := reply.Decode(&got); err != nil {
					t.Fatal(err)
				}
				break
			}
			if tr.name != "polling" || ctx.Err() != nil {
				t.Fatalf("recorded: %v", err)
			}
		}
		for i := 1; i < len(got); i++ {
			if got[i] <= got[i-1] {
				t.Fatalf("the server got %d after %d", got[i], got[i-1])
			}
		}
		if tr.name != "polling" {
			if len(got) != n {
				t.Fatalf("the server got %d of %d events", len(got), n)
			}
			return
		}
		if len(got) == n {
			t.Fatalf("python-socketio got every event of a burst over polling: it takes POSTs of more than 16 packets now; update this test and README")
		}
		t.Logf("as expected, python-socketio dropped %d of %d events sent in a burst over polling (POSTs of more than 16 packets)", n-len(got), n)
	})
}

// python-socketio announces no maxPayload. Set to take 8 MB, it gets a 1 MiB
// buffer only when the client is told so (WithServerMaxPayload): without it,
// Emit refuses with ErrPayloadTooLarge at the assumed 1e6 bytes. Over polling
// the option lets the emit go, but python-socketio reads so large a POST only
// partly and loses it: the test says so.
func TestPythonServerMaxPayload(t *testing.T) {
	t.Parallel()
	srv := startPython(t, "--max-http-buffer-size", "8000000")
	forTransports(t, func(t *testing.T, tr transportCase) {
		ctx := testutil.Context(t, testTimeout)
		buf := pyPattern(1 << 20)

		s := dial(t, ctx, srv.URL(), tr.opts...)
		if tr.name == "upgrade" {
			settle(t, ctx, s, tr)
		}
		if _, err := s.EmitWithAck(ctx, "ack", buf); !errors.Is(err, sio.ErrPayloadTooLarge) {
			t.Fatalf("EmitWithAck of 1 MiB without WithServerMaxPayload: %v, want ErrPayloadTooLarge", err)
		}

		s = dial(t, ctx, srv.URL(), tr.with(sio.WithServerMaxPayload(8e6))...)
		if tr.name == "upgrade" {
			settle(t, ctx, s, tr)
		}
		fut, err := s.EmitWithAck(ctx, "ack", buf)
		if err != nil {
			t.Fatalf("EmitWithAck of 1 MiB with WithServerMaxPayload(8e6): %v", err)
		}
		if tr.name == "polling" {
			expectReadPartly(t, ctx, fut, func(reply sio.Args) bool {
				var got []byte
				return reply.Decode(&got) == nil && bytes.Equal(got, buf)
			})
			return
		}
		reply, err := fut.Wait(ctx)
		var got []byte
		if err != nil || reply.Decode(&got) != nil || !bytes.Equal(got, buf) {
			t.Fatalf("ack of 1 MiB: %d bytes, %v", len(got), err)
		}
	})
}
