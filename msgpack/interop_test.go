package msgpack_test

import (
	"bytes"
	"context"
	"errors"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/sio-go/sio"
	"github.com/sio-go/sio/internal/testutil"
	"github.com/sio-go/sio/msgpack"
	"github.com/sio-go/sio/test/nodeserver"
)

// These tests run the client with msgpack.Codec against the reference
// socket.io 4.8 server (test/node/server.js) started with
// --parser msgpack, over every transport.

const testTimeout = 20 * time.Second

// transportCase is one way for the client to carry Engine.IO.
type transportCase struct {
	name  string
	opts  []sio.Option
	final string // the transport the server reports once settled
}

var transportCases = []transportCase{
	{name: "websocket", opts: []sio.Option{sio.WithTransports(sio.WebSocket)}, final: "websocket"},
	{name: "polling", opts: []sio.Option{sio.WithTransports(sio.Polling)}, final: "polling"},
	{name: "default", opts: nil, final: "websocket"}, // polling, then the upgrade
}

// forTransports runs f as a parallel subtest per transport.
func forTransports(t *testing.T, f func(t *testing.T, tc transportCase)) {
	t.Helper()
	for _, tc := range transportCases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f(t, tc)
		})
	}
}

// dial opens a msgpack socket (closed with the test) and expects EventConnect.
func dial(t *testing.T, ctx context.Context, url string, opts ...sio.Option) *sio.Socket {
	t.Helper()
	return testutil.Dial(t, ctx, url, append([]sio.Option{sio.WithCodec(msgpack.Codec{})}, opts...)...)
}

func startServer(t *testing.T, args ...string) *nodeserver.Server {
	t.Helper()
	return nodeserver.Start(t, nodeserver.WithArgs(append([]string{"--parser", "msgpack"}, args...)...))
}

// serverInfo is the reply of the server's "info" event.
type serverInfo struct {
	ID        string         `json:"id"`
	Nsp       string         `json:"nsp"`
	EngineID  string         `json:"engineId"`
	Transport string         `json:"transport"`
	Auth      map[string]any `json:"auth"`
	Recovered bool           `json:"recovered"`
}

func info(t *testing.T, ctx context.Context, s *sio.Socket) serverInfo {
	t.Helper()
	var inf serverInfo
	if err := testutil.Call(t, ctx, s, "info").Decode(&inf); err != nil {
		t.Fatalf("decoding info: %v", err)
	}
	return inf
}

// settle waits until the server reports the case's final transport.
func settle(t *testing.T, ctx context.Context, s *sio.Socket, tc transportCase) {
	t.Helper()
	for {
		inf := info(t, ctx, s)
		if inf.Transport == tc.final {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("transport still %q, want %q", inf.Transport, tc.final)
		case <-time.After(25 * time.Millisecond):
		}
	}
}

// nested carries binary at several depths.
type nested struct {
	Name  string            `json:"name"`
	Blob  []byte            `json:"blob"`
	List  [][]byte          `json:"list"`
	Map   map[string][]byte `json:"map"`
	Inner *nested           `json:"inner,omitempty"`
	Count int               `json:"count"`
	Ratio float64           `json:"ratio"`
}

func sample() nested {
	return nested{
		Name:  "outer é",
		Blob:  []byte{0, 1, 2, 255},
		List:  [][]byte{{9}, {}, bytes.Repeat([]byte{7}, 300)},
		Map:   map[string][]byte{"k": {1, 2, 3}},
		Inner: &nested{Name: "inner", Blob: bytes.Repeat([]byte{0xab}, 70000), Count: -5, Ratio: 0.25},
		Count: 1 << 40,
		Ratio: 1.5,
	}
}

// Events, acks both ways and binary at any depth, over every transport.
func TestDataAndAcks(t *testing.T) {
	t.Parallel()
	srv := startServer(t)
	forTransports(t, func(t *testing.T, tc transportCase) {
		ctx := testutil.Context(t, testTimeout)
		s := dial(t, ctx, srv.URL(), tc.opts...)
		settle(t, ctx, s, tc)

		// An event out and back.
		want := sample()
		if err := s.Emit(ctx, "echo", "text", 42, 3.5, true, nil, want, []any{"a", []byte{5}}); err != nil {
			t.Fatal(err)
		}
		ev := testutil.NextMessage(t, ctx, s, "echo")
		var (
			str  string
			i    int
			f    float64
			b    bool
			null *int
			got  nested
			mix  []any
		)
		if err := ev.Args.Decode(&str, &i, &f, &b, &null, &got, &mix); err != nil {
			t.Fatalf("Decode: %v (%s)", err, ev.Args.String())
		}
		if str != "text" || i != 42 || f != 3.5 || !b || null != nil {
			t.Errorf("scalars: %q %d %v %v %v", str, i, f, b, null)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("nested binary: got %+v\nwant %+v", got, want)
		}
		if len(mix) != 2 || mix[0] != "a" || !bytes.Equal(asBytes(mix[1]), []byte{5}) {
			t.Errorf("[]any: %#v", mix)
		}
		var anyNum any
		if err := ev.Args.Decode(nil, &anyNum); err != nil || anyNum != int64(42) {
			t.Errorf("42 into an any: %#v, %v (want int64)", anyNum, err)
		}
		if n := ev.Args.Len(); n != 7 {
			t.Errorf("%d arguments, want 7", n)
		}

		// An ack from the server, with binary.
		var back nested
		if err := testutil.Call(t, ctx, s, "ack", want).Decode(&back); err != nil || !reflect.DeepEqual(back, want) {
			t.Errorf("ack: %+v, %v", back, err)
		}

		// An ack to the server, with binary: it reports the reply.
		if err := s.Emit(ctx, "ask", 7); err != nil {
			t.Fatal(err)
		}
		q := testutil.NextMessage(t, ctx, s, "question")
		var n int
		if !q.WantsAck() || q.Args.Decode(&n) != nil || n != 7 {
			t.Fatalf("question: wants ack %v, %s", q.WantsAck(), q.Args.String())
		}
		if err := q.Ack(ctx, "reply", []byte{4, 5}, map[string]any{"deep": []any{[]byte{6}}}); err != nil {
			t.Fatal(err)
		}
		a := testutil.NextMessage(t, ctx, s, "answer")
		var (
			r    string
			bin  []byte
			deep map[string][][]byte
		)
		if err := a.Args.Decode(&r, &bin, &deep); err != nil || r != "reply" || !bytes.Equal(bin, []byte{4, 5}) ||
			len(deep["deep"]) != 1 || !bytes.Equal(deep["deep"][0], []byte{6}) {
			t.Errorf("answer: %s, %v", a.Args.String(), err)
		}

		// Binary from the server, as an ack and as an event.
		var blob []byte
		if err := testutil.Call(t, ctx, s, "binary", 100000).Decode(&blob); err != nil || len(blob) != 100000 || blob[99999] != byte(99999%256) {
			t.Errorf("binary ack: %d bytes, %v", len(blob), err)
		}
		if err := s.Emit(ctx, "binary", 3); err != nil {
			t.Fatal(err)
		}
		if err := testutil.NextMessage(t, ctx, s, "binary").Args.Decode(&blob); err != nil || !bytes.Equal(blob, []byte{0, 1, 2}) {
			t.Errorf("binary event: %v, %v", blob, err)
		}

		// Empty binary, both ways.
		var empty []byte
		if err := testutil.Call(t, ctx, s, "ack", []byte{}).Decode(&empty); err != nil || empty == nil || len(empty) != 0 {
			t.Errorf("empty binary: %#v, %v", empty, err)
		}

		// An event whose first element is binary (socket.emit(buffer)).
		if err := s.Emit(ctx, "emit-buffer"); err != nil {
			t.Fatal(err)
		}
		ev = testutil.NextEvent(t, ctx, s)
		var first []byte
		if ev.Type != sio.EventMessage || ev.Name != "" || ev.Args.Decode(&first) != nil || !bytes.Equal(first, []byte{1, 2, 3}) {
			t.Errorf("emit-buffer: %q %s", ev.Name, ev.Args.String())
		}

		// An event whose first element is not a string.
		if err := s.Emit(ctx, "emit-number"); err != nil {
			t.Fatal(err)
		}
		ev = testutil.NextEvent(t, ctx, s)
		var num int
		if ev.Name != "" || ev.Args.Decode(&num, &str) != nil || num != 1 || str != "a" {
			t.Errorf("emit-number: %q %s", ev.Name, ev.Args.String())
		}
	})
}

func asBytes(v any) []byte {
	b, _ := v.([]byte)
	return b
}

// Namespaces and auth: accepted, and refused with the server's message and
// data.
func TestNamespacesAndAuth(t *testing.T) {
	t.Parallel()
	srv := startServer(t)
	forTransports(t, func(t *testing.T, tc transportCase) {
		ctx := testutil.Context(t, testTimeout)
		m, err := sio.NewManager(srv.URL(), append([]sio.Option{sio.WithCodec(msgpack.Codec{})}, tc.opts...)...)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { m.Close() })
		admin, err := m.Socket(ctx, "/admin")
		if err != nil {
			t.Fatal(err)
		}
		auth, err := m.Socket(ctx, "/auth", sio.WithAuth(map[string]any{"token": "secret", "n": 1}))
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range []*sio.Socket{admin, auth} {
			if ev := testutil.NextEvent(t, ctx, s); ev.Type != sio.EventConnect {
				t.Fatalf("%s: %v", s.Namespace(), ev.Type)
			}
		}
		if inf := info(t, ctx, admin); inf.Nsp != "/admin" || inf.ID != admin.ID() {
			t.Errorf("admin info %+v, id %q", inf, admin.ID())
		}
		inf := info(t, ctx, auth)
		if inf.Nsp != "/auth" || inf.Auth["token"] != "secret" || inf.Auth["n"] != int64(1) {
			t.Errorf("auth info %+v", inf)
		}
		if a, b := info(t, ctx, admin).EngineID, inf.EngineID; a != b {
			t.Errorf("two connections %q %q, want one", a, b)
		}

		_, err = sio.Dial(ctx, srv.URL()+"/auth", append([]sio.Option{sio.WithCodec(msgpack.Codec{}),
			sio.WithAuth(map[string]string{"token": "wrong"})}, tc.opts...)...)
		var ce *sio.ConnectError
		if !errors.As(err, &ce) || ce.Message != "not authorized" || string(ce.Data) != `{"code":401}` {
			t.Fatalf("refused join: %v (%+v)", err, ce)
		}
	})
}

// Connection state recovery: the server drops the transport while it
// broadcasts; the socket recovers its id and every tick arrives in order.
func TestRecovery(t *testing.T) {
	t.Parallel()
	srv := startServer(t, "--recovery")
	forTransports(t, func(t *testing.T, tc transportCase) {
		ctx := testutil.Context(t, testTimeout)
		opts := append(slices.Clone(tc.opts), sio.WithReconnect(sio.Backoff{Min: 50 * time.Millisecond, Max: 100 * time.Millisecond}))
		s := dial(t, ctx, srv.URL()+"/chat", opts...)
		settle(t, ctx, s, tc)
		room := "room-" + tc.name
		testutil.Call(t, ctx, s, "join", room)
		// An event first, so that the client has an offset.
		if err := s.Emit(ctx, "echo", "first"); err != nil {
			t.Fatal(err)
		}
		testutil.NextMessage(t, ctx, s, "echo")
		id := s.ID()
		const count = 20
		testutil.Call(t, ctx, s, "broadcast", room, count, 20)
		if err := s.Emit(ctx, "close-transport"); err != nil {
			t.Fatal(err)
		}
		next := 0
		recovered := false
		for next < count || !recovered {
			ev := testutil.NextEvent(t, ctx, s)
			switch {
			case ev.Type == sio.EventDisconnect:
			case ev.Type == sio.EventConnect:
				if !ev.Recovered {
					t.Fatalf("reconnected without recovery")
				}
				recovered = true
			case ev.Name == "tick":
				var i int
				if err := ev.Args.Decode(&i); err != nil || i != next {
					t.Fatalf("tick %d (%v), want %d", i, err, next)
				}
				next++
			case ev.Name == "broadcast-done":
				t.Fatalf("broadcast-done after %d ticks (recovered %v)", next, recovered)
			}
		}
		testutil.NextMessage(t, ctx, s, "broadcast-done")
		if s.ID() != id {
			t.Errorf("id %q after recovery, want %q", s.ID(), id)
		}
	})
}

// A client speaking JSON to a msgpack server does not connect, and the
// msgpack client against a JSON server does not either: nothing in the
// handshake tells.
func TestWrongParser(t *testing.T) {
	t.Parallel()
	srv := nodeserver.Start(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	_, err := sio.Dial(ctx, srv.URL(), sio.WithCodec(msgpack.Codec{}), sio.WithoutReconnect(), sio.WithTransports(sio.WebSocket))
	if err == nil {
		t.Fatal("msgpack against a JSON server connected")
	}
}
