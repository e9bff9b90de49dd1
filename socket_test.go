package sio_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/sio-go/sio"
	"github.com/sio-go/sio/packet"
	"github.com/sio-go/sio/test/testserver"
)

func TestEchoJSONAndBinary(t *testing.T) {
	srv := startServer(t)
	s := dial(t, srv.URL()+"/admin")
	if s.Namespace() != "/admin" || s.ID() == "" || !s.Connected() {
		t.Fatalf("namespace %q id %q connected %v", s.Namespace(), s.ID(), s.Connected())
	}
	type doc struct {
		Name string `json:"name"`
		Blob []byte `json:"blob"`
	}
	blob := bytes.Repeat([]byte{0, 1, 2, 255}, 1000)
	if err := s.Emit(testCtx(t), "echo", "text", 42, doc{"d", blob}, []byte("raw")); err != nil {
		t.Fatal(err)
	}
	ev := nextMessage(t, s)
	if ev.Name != "echo" || ev.Args.Len() != 4 {
		t.Fatalf("got %q with %d args", ev.Name, ev.Args.Len())
	}
	var (
		text string
		n    int
		d    doc
		raw  []byte
	)
	if err := ev.Args.Decode(&text, &n, &d, &raw); err != nil {
		t.Fatal(err)
	}
	if text != "text" || n != 42 || d.Name != "d" || !bytes.Equal(d.Blob, blob) || string(raw) != "raw" {
		t.Fatalf("decoded %q %d %q %d bytes %q", text, n, d.Name, len(d.Blob), raw)
	}
	if err := ev.Args.Decode(nil, nil, nil, nil, new(any)); err == nil {
		t.Fatal("Decode into more destinations than arguments succeeded")
	}
}

func TestAcksBothWays(t *testing.T) {
	srv := startServer(t)
	s := dial(t, srv.URL())
	ctx := testCtx(t)

	f, err := s.EmitWithAck(ctx, "ack", "a", []byte{9})
	if err != nil {
		t.Fatal(err)
	}
	reply, err := f.Wait(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var a string
	var b []byte
	if err := reply.Decode(&a, &b); err != nil || a != "a" || !bytes.Equal(b, []byte{9}) {
		t.Fatalf("reply %v decoded %q %v err %v", reply, a, b, err)
	}

	// The server asks; the client answers once.
	if err := s.Emit(ctx, "ask", 21); err != nil {
		t.Fatal(err)
	}
	q := nextMessage(t, s)
	if q.Name != "question" || !q.WantsAck() {
		t.Fatalf("got %q wantsAck %v", q.Name, q.WantsAck())
	}
	if err := q.Ack(ctx, 42); err != nil {
		t.Fatal(err)
	}
	if err := q.Ack(ctx, 43); !errors.Is(err, sio.ErrAlreadyAcked) {
		t.Fatalf("second Ack: %v, want ErrAlreadyAcked", err)
	}
	ans := nextMessage(t, s)
	var got int
	if err := ans.Args.Decode(&got); ans.Name != "answer" || err != nil || got != 42 {
		t.Fatalf("answer %q %v (%v)", ans.Name, ans.Args, err)
	}
	if err := ans.Ack(ctx); !errors.Is(err, sio.ErrNoAck) {
		t.Fatalf("Ack of an event without request: %v", err)
	}
}

// Emits from many goroutines: every ack reply matches its own request.
func TestConcurrentAcks(t *testing.T) {
	srv := startServer(t)
	s := dial(t, srv.URL())
	ctx := testCtx(t)
	var wg sync.WaitGroup
	errs := make(chan error, 32*20)
	for g := range 32 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 20 {
				f, err := s.EmitWithAck(ctx, "ack", g, i)
				if err != nil {
					errs <- err
					return
				}
				r, err := f.Wait(ctx)
				var rg, ri int
				if err == nil {
					err = r.Decode(&rg, &ri)
				}
				if err == nil && (rg != g || ri != i) {
					err = fmt.Errorf("goroutine %d emit %d got reply (%d, %d)", g, i, rg, ri)
				}
				if err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// Events arrive in wire order, and emits from one goroutine keep theirs.
func TestOrder(t *testing.T) {
	srv := startServer(t)
	s := dial(t, srv.URL())
	ctx := testCtx(t)
	const n = 2000
	for i := range n {
		if err := s.Emit(ctx, "echo", i); err != nil {
			t.Fatal(err)
		}
	}
	for i := range n {
		var got int
		if err := nextMessage(t, s).Args.Decode(&got); err != nil || got != i {
			t.Fatalf("event %d: got %d (%v)", i, got, err)
		}
	}
}

func TestReservedNames(t *testing.T) {
	srv := startServer(t)
	s := dial(t, srv.URL())
	for _, name := range []string{"connect", "connect_error", "disconnect", "disconnecting", "newListener", "removeListener"} {
		if err := s.Emit(testCtx(t), name); !errors.Is(err, sio.ErrReservedEvent) {
			t.Errorf("Emit(%q) = %v, want ErrReservedEvent", name, err)
		}
		if _, err := s.EmitWithAck(testCtx(t), name); !errors.Is(err, sio.ErrReservedEvent) {
			t.Errorf("EmitWithAck(%q) = %v, want ErrReservedEvent", name, err)
		}
	}
}

func TestPayloadTooLarge(t *testing.T) {
	srv := startServer(t, testserver.WithMaxPayload(1000))
	s := dial(t, srv.URL())
	ctx := testCtx(t)
	if err := s.Emit(ctx, "echo", string(make([]byte, 2000))); !errors.Is(err, sio.ErrPayloadTooLarge) {
		t.Fatalf("text over maxPayload: %v", err)
	}
	if err := s.Emit(ctx, "echo", make([]byte, 2000)); !errors.Is(err, sio.ErrPayloadTooLarge) {
		t.Fatalf("attachment over maxPayload: %v", err)
	}
	// The connection is still usable.
	if err := s.Emit(ctx, "echo", "small"); err != nil {
		t.Fatal(err)
	}
	if ev := nextMessage(t, s); ev.Name != "echo" {
		t.Fatalf("got %q", ev.Name)
	}
}

func TestAuthAndRefusal(t *testing.T) {
	srv := startServer(t, testserver.WithAuth(func(nsp string, auth json.RawMessage) error {
		if string(auth) != `{"token":"ok"}` {
			return &testserver.RefuseError{Message: "not authorized", Data: map[string]int{"code": 401}}
		}
		return nil
	}))
	dial(t, srv.URL(), sio.WithAuth(map[string]string{"token": "ok"}))

	_, err := sio.Dial(testCtx(t), srv.URL(), sio.WithAuth(map[string]string{"token": "bad"}))
	var ce *sio.ConnectError
	if !errors.As(err, &ce) || ce.Message != "not authorized" || string(ce.Data) != `{"code":401}` {
		t.Fatalf("Dial with bad auth: %v (%#v)", err, ce)
	}
	if _, err := sio.Dial(testCtx(t), srv.URL(), sio.WithAuth([]int{1})); err == nil {
		t.Fatal("auth that is not an object accepted")
	}
}

func TestServerKick(t *testing.T) {
	srv := startServer(t)
	s := dial(t, srv.URL())
	ctx := testCtx(t)
	// An ack the server will never answer (unknown event gets an empty ack,
	// so use one the kick overtakes: emit kick first).
	if err := s.Emit(ctx, "kick"); err != nil {
		t.Fatal(err)
	}
	err := disconnected(t, s)
	if !errors.Is(err, sio.ErrServerDisconnect) || !errors.Is(s.Err(), sio.ErrServerDisconnect) {
		t.Fatalf("disconnect reason %v / %v", err, s.Err())
	}
	if err := s.Emit(ctx, "echo"); !errors.Is(err, sio.ErrClosed) || !errors.Is(err, sio.ErrServerDisconnect) {
		t.Fatalf("Emit after kick: %v", err)
	}
	select {
	case <-s.Done():
	default:
		t.Fatal("Done not closed after kick")
	}
}

// Close fails pending acks, closes Events, and may race with everything.
func TestCloseRaces(t *testing.T) {
	srv := startServer(t)
	for range 20 {
		s := dial(t, srv.URL())
		ctx := testCtx(t)
		pending, err := s.EmitWithAck(ctx, "no-reply-yet")
		if err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		for range 4 {
			wg.Add(4)
			go func() { defer wg.Done(); s.Close() }()
			go func() { defer wg.Done(); s.Emit(ctx, "echo", 1) }()
			go func() {
				defer wg.Done()
				if f, err := s.EmitWithAck(ctx, "ack", 1); err == nil {
					f.Wait(ctx)
				}
			}()
			go func() {
				defer wg.Done()
				for range s.Events() {
				}
			}()
		}
		wg.Wait()
		if _, err := pending.Wait(ctx); err == nil {
			// the server may have acked before Close: that is a result too
		} else if !errors.Is(err, sio.ErrClientDisconnect) {
			t.Fatalf("pending ack failed with %v, want ErrClientDisconnect", err)
		}
		if err := s.Emit(ctx, "echo"); !errors.Is(err, sio.ErrClosed) {
			t.Fatalf("Emit after Close: %v", err)
		}
		if err := s.Close(); err != nil {
			t.Fatalf("second Close: %v", err)
		}
	}
}

// A program that does not read Events for a long time: heartbeats go on,
// and past the queue limit the socket disconnects with ErrSlowConsumer.
func TestSlowConsumer(t *testing.T) {
	// Pings every 100 ms, with room for a loaded machine in the timeout:
	// what matters is that the pongs go on while nobody reads.
	srv := startServer(t, testserver.WithPingInterval(100*time.Millisecond), testserver.WithPingTimeout(2*time.Second))
	s := dial(t, srv.URL(), sio.WithEventQueueLimit(100, 1<<20))
	ctx := testCtx(t)

	// Not reading for many ping intervals keeps the connection alive.
	time.Sleep(time.Second)
	if !s.Connected() {
		t.Fatalf("disconnected while the program was not reading: %v", s.Err())
	}

	if err := s.Emit(ctx, "stream", 5000); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for s.Connected() && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	// What was queued is delivered in order, then the reason.
	want := 0
	for ev := range s.Events() {
		switch ev.Type {
		case sio.EventMessage:
			var i int
			if err := ev.Args.Decode(&i); err != nil || i != want {
				t.Fatalf("tick %d arrived as #%d (%v)", i, want, err)
			}
			want++
		case sio.EventDisconnect:
			if !errors.Is(ev.Err, sio.ErrSlowConsumer) {
				t.Fatalf("disconnect reason %v, want ErrSlowConsumer", ev.Err)
			}
		}
	}
	if want == 0 || want > 200 {
		t.Fatalf("%d events delivered with a queue of 100", want)
	}
	if !errors.Is(s.Err(), sio.ErrSlowConsumer) {
		t.Fatalf("Err = %v", s.Err())
	}
}

func TestPingTimeout(t *testing.T) {
	steps := append(handshake(testserver.Open{PingInterval: 50, PingTimeout: 50}), testserver.WaitForClose())
	srv := scripted(t, steps...)
	s := dial(t, srv.URL(), sio.WithoutReconnect())
	start := time.Now()
	err := disconnected(t, s)
	if !errors.Is(err, sio.ErrPingTimeout) {
		t.Fatalf("reason %v, want ErrPingTimeout", err)
	}
	// Functional bound, far above pingInterval+pingTimeout (100 ms).
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("ping timeout noticed after %v", d)
	}
}

// A cancelled Dial returns promptly and leaves nothing behind (goleak).
func TestDialContext(t *testing.T) {
	srv := scripted(t, testserver.SendOpen(testserver.Open{PingInterval: 25000, PingTimeout: 20000, MaxPayload: 1e6}), testserver.WaitForClose())
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := sio.Dial(ctx, srv.URL())
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Dial = %v, want deadline exceeded", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("Dial returned after %v", d)
	}
}

func TestHandshakeErrors(t *testing.T) {
	srv := startServer(t)
	_, err := sio.Dial(testCtx(t), srv.URL(), sio.WithPath("/nowhere/"))
	var he *sio.HandshakeError
	if !errors.As(err, &he) || he.StatusCode != 404 || he.Transport != "polling" {
		t.Fatalf("wrong path: %v", err)
	}
	_, err = sio.Dial(testCtx(t), srv.URL(), sio.WithPath("/nowhere/"), sio.WithTransports(sio.WebSocket))
	if !errors.As(err, &he) || he.StatusCode != 404 || he.Transport != "websocket" {
		t.Fatalf("wrong path over WebSocket: %v", err)
	}
	for _, bad := range []string{"ftp://x", "http://", "::"} {
		if _, err := sio.Dial(testCtx(t), bad); err == nil {
			t.Errorf("Dial(%q) succeeded", bad)
		}
	}
	if _, err := sio.Dial(testCtx(t), srv.URL(), sio.WithTransports()); err == nil {
		t.Error("no transports accepted")
	}
}

// Hostile open packets fail Dial with a clear error.
func TestBadOpen(t *testing.T) {
	for name, tc := range map[string]struct {
		first string
		want  error
		opts  []sio.Option
	}{
		"negative ping interval": {`0{"sid":"a","pingInterval":-1,"pingTimeout":1,"maxPayload":1}`, packet.ErrBadOpen, nil},
		"zero ping timeout":      {`0{"sid":"a","pingInterval":1,"pingTimeout":0,"maxPayload":1}`, packet.ErrBadOpen, nil},
		"absurd ping interval":   {`0{"sid":"a","pingInterval":1e300,"pingTimeout":1,"maxPayload":1}`, packet.ErrBadOpen, nil},
		"no sid":                 {`0{"pingInterval":1,"pingTimeout":1,"maxPayload":1}`, packet.ErrBadOpen, nil},
		"not json":               {`0{`, packet.ErrBadOpen, nil},
		"not an open packet":     {`40`, sio.ErrProtocol, nil},
		"empty frame":            {``, packet.ErrBadFrame, nil},
	} {
		t.Run(name, func(t *testing.T) {
			srv := scripted(t, testserver.Send(tc.first), testserver.WaitForClose())
			_, err := sio.Dial(testCtx(t), srv.URL(), tc.opts...)
			if !errors.Is(err, tc.want) {
				t.Fatalf("Dial = %v, want %v", err, tc.want)
			}
		})
	}
}

// An open packet without maxPayload followed at once by a CONNECT nobody
// asked for is an Engine.IO v3 server (Socket.IO 2.x) that ignored EIO=4:
// the client asks again with EIO=3 (which this v4-only test server refuses,
// with the error naming the version).
func TestEngineIOv3Retry(t *testing.T) {
	srv := scripted(t, testserver.Send(`0{"sid":"a","upgrades":[],"pingInterval":25000,"pingTimeout":5000}`), testserver.Send("40"), testserver.WaitForClose())
	_, err := sio.Dial(testCtx(t), srv.URL())
	var he *sio.HandshakeError
	if !errors.As(err, &he) || he.Code != 5 {
		t.Fatalf("Dial = %v, want the refusal of EIO=3", err)
	}
	if _, err := sio.Dial(testCtx(t), srv.URL(), sio.WithEngineIO(5)); err == nil {
		t.Fatal("WithEngineIO(5) accepted")
	}
}

// An open packet without maxPayload and nothing after it is a v4 server
// (Socket.IO 3.x announces none): the client stays on v4 and joins.
func TestOpenWithoutMaxPayload(t *testing.T) {
	srv := scripted(t,
		testserver.Send(`0{"sid":"a","upgrades":[],"pingInterval":25000,"pingTimeout":5000}`),
		testserver.Expect("40"), testserver.Send(`40{"sid":"s3"}`), testserver.WaitForClose())
	s := dial(t, srv.URL())
	if s.ID() != "s3" || s.Manager().EngineIO() != 4 {
		t.Fatalf("id %q, Engine.IO %d", s.ID(), s.Manager().EngineIO())
	}
}

func TestConnectReplyWithoutSID(t *testing.T) {
	srv := scripted(t,
		testserver.SendOpen(testserver.Open{PingInterval: 25000, PingTimeout: 20000, MaxPayload: 1e6}),
		testserver.Expect("40"), testserver.Send("40"), testserver.WaitForClose())
	if _, err := sio.Dial(testCtx(t), srv.URL()); !errors.Is(err, sio.ErrProtocol) {
		t.Fatalf("Dial = %v, want ErrProtocol", err)
	}
}

// Hostile or broken packets after the socket joined: each ends the
// connection with the given reason (never a panic or a hang), or is ignored
// where the protocol says so.
func TestHostilePackets(t *testing.T) {
	for name, tc := range map[string]struct {
		send   []string // text frames; "bin:" prefix sends the rest as a binary frame
		want   []error  // nil: the packets are ignored and the socket stays up
		events int      // messages expected before the outcome
	}{
		"unknown socket.io type":     {send: []string{`49["x"]`}, want: []error{sio.ErrParse, packet.ErrUnknownType}},
		"unknown engine.io type":     {send: []string{`7`}, want: []error{sio.ErrParse, packet.ErrBadFrame}},
		"bad json":                   {send: []string{`42["a"`}, want: []error{sio.ErrParse, packet.ErrBadJSON}},
		"invalid utf-8 in json":      {send: []string{"42[\"\xff\xfe\"]"}, want: []error{sio.ErrParse}},
		"event is not an array":      {send: []string{`42{"a":1}`}, want: []error{sio.ErrParse, packet.ErrBadPayload}},
		"reserved event name":        {send: []string{`42["connect"]`}, want: []error{sio.ErrParse, packet.ErrBadPayload}},
		"a billion attachments":      {send: []string{`451000000000-["x",{"_placeholder":true,"num":0}]`}, want: []error{sio.ErrParse, packet.ErrTooManyAttachments}},
		"fewer attachments":          {send: []string{`452-["x",{"_placeholder":true,"num":0}]`, "bin:a", `42["y"]`}, want: []error{sio.ErrParse, packet.ErrMissingAttachments}},
		"unexpected attachment":      {send: []string{"bin:abc"}, want: []error{sio.ErrParse, packet.ErrUnexpectedAttachment}},
		"placeholder out of range":   {send: []string{`451-["x",{"_placeholder":true,"num":5}]`, "bin:a"}, want: []error{sio.ErrParse, packet.ErrBadAttachment}},
		"bad ack id":                 {send: []string{`4399999999999999999999["x"]`}, want: []error{sio.ErrParse, packet.ErrBadID}},
		"second open packet":         {send: []string{`0{"sid":"b","pingInterval":1,"pingTimeout":1,"maxPayload":1}`}, want: []error{sio.ErrParse}},
		"engine close":               {send: []string{`1`}, want: []error{sio.ErrTransportClose}},
		"namespace kick":             {send: []string{`41`}, want: []error{sio.ErrServerDisconnect}},
		"ack for an unknown id":      {send: []string{`43999["x"]`, `42["after"]`}, events: 1},
		"event for another nsp":      {send: []string{`42/other,["x"]`, `42["after"]`}, events: 1},
		"noop and pong":              {send: []string{`6`, `3`, `42["after"]`}, events: 1},
		"non-string first element":   {send: []string{`42[1,"a"]`}, events: 1},
		"binary first element":       {send: []string{`451-[{"_placeholder":true,"num":0}]`, "bin:\x01\x02"}, events: 1},
		"late connect reply ignored": {send: []string{`40{"sid":"again"}`, `42["after"]`}, events: 1},
	} {
		t.Run(name, func(t *testing.T) {
			steps := handshake(testserver.Open{})
			for _, f := range tc.send {
				if b, ok := cutPrefix(f, "bin:"); ok {
					steps = append(steps, testserver.SendBinary([]byte(b)))
				} else {
					steps = append(steps, testserver.Send(f))
				}
			}
			steps = append(steps, testserver.WaitForClose())
			srv := scripted(t, steps...)
			s := dial(t, srv.URL(), sio.WithoutReconnect())
			for range tc.events {
				if ev := nextMessage(t, s); ev.Args.Len() == 0 && ev.Name == "" {
					t.Fatalf("empty event %+v", ev)
				}
			}
			if tc.want == nil {
				if !s.Connected() {
					t.Fatalf("disconnected: %v", s.Err())
				}
				return
			}
			err := disconnected(t, s)
			for _, w := range tc.want {
				if !errors.Is(err, w) {
					t.Fatalf("reason %v, want %v", err, w)
				}
			}
		})
	}
}

func cutPrefix(s, p string) (string, bool) {
	if len(s) >= len(p) && s[:len(p)] == p {
		return s[len(p):], true
	}
	return s, false
}

// A reply for an id the client is waiting on resolves the future once; a
// second reply for the same id is dropped.
func TestDuplicateAck(t *testing.T) {
	srv := scripted(t, append(handshake(testserver.Open{}),
		testserver.Expect(`420["q"]`),
		testserver.Send(`430["first"]`),
		testserver.Send(`430["second"]`),
		testserver.Send(`42["after"]`),
		testserver.WaitForClose())...)
	s := dial(t, srv.URL())
	ctx := testCtx(t)
	f, err := s.EmitWithAck(ctx, "q")
	if err != nil {
		t.Fatal(err)
	}
	r, err := f.Wait(ctx)
	var got string
	if err != nil || r.Decode(&got) != nil || got != "first" {
		t.Fatalf("reply %v %v", r, err)
	}
	if ev := nextMessage(t, s); ev.Name != "after" {
		t.Fatalf("got %q", ev.Name)
	}
	if r2, _ := f.Wait(ctx); r2.String() != r.String() {
		t.Fatalf("future changed to %v", r2)
	}
}

// A frame over WithMaxMessageSize ends the connection with an error rather
// than buffering it.
func TestMaxMessageSize(t *testing.T) {
	big := `42["x","` + string(bytes.Repeat([]byte("y"), 4096)) + `"]`
	srv := scripted(t, append(handshake(testserver.Open{}), testserver.Send(big), testserver.WaitForClose())...)
	s := dial(t, srv.URL(), sio.WithMaxMessageSize(1024), sio.WithoutReconnect())
	err := disconnected(t, s)
	if err == nil || !(errors.Is(err, sio.ErrTransportError) || errors.Is(err, sio.ErrTransportClose)) {
		t.Fatalf("reason %v", err)
	}
}

// The Events channel is closed by Close even when nobody reads it.
func TestCloseWithUnreadEvents(t *testing.T) {
	srv := startServer(t)
	s := dial(t, srv.URL())
	if err := s.Emit(testCtx(t), "stream", 1000); err != nil {
		t.Fatal(err)
	}
	time.Sleep(100 * time.Millisecond)
	s.Close()
	for range s.Events() {
	}
}

func TestEmitContext(t *testing.T) {
	srv := startServer(t)
	s := dial(t, srv.URL())
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	// With a cancelled context an emit either finds room at once or fails
	// with the context's error; it never blocks.
	for range 1000 {
		if err := s.Emit(ctx, "echo", 1); err != nil && !errors.Is(err, context.Canceled) {
			t.Fatalf("Emit = %v", err)
		}
	}
}
