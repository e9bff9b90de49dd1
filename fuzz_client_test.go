package sio_test

import (
	"bytes"
	"context"
	"errors"
	"net/url"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sio-go/sio"
	"github.com/sio-go/sio/test/testserver"
)

// FuzzClient feeds a live client random frames from the test server. For
// each input, a session of the test server opens, accepts the client's
// CONNECT to "/" and waits for its event "ready" (so that, over polling, no
// response carries both the CONNECT reply and fuzz frames, which would fail
// Dial rather than the live client), then sends the input as frames: it is
// split at every '\n', and a piece that starts with 'B' is a binary frame of
// the bytes after the 'B', any other a text frame (an Engine.IO packet, such
// as `42["chat","hi"]` or `451-["f",{"_placeholder":true,"num":0}]`).
// polling chooses the transport: HTTP long-polling (where the frames of one
// GET are joined by "\x1e" and binary ones sent as "b" + base64) or
// WebSocket. The seed corpus is in testdata/fuzz/FuzzClient.
//
// Whatever the frames, the client must not panic, and within fuzzHang it
// must either still work (an EmitWithAck that the session answers comes
// back) or have ended with an error that matches one of the disconnect
// reasons (fuzzReasons); Close must return.
//
//	go test -run='^$' -fuzz='^FuzzClient$' -fuzztime=2m .
func FuzzClient(f *testing.F) {
	var srv fuzzServer
	f.Cleanup(srv.close)
	f.Add(false, []byte(`42["chat","hello"]`))
	f.Add(true, []byte(`42["chat","hello"]`))

	f.Fuzz(func(t *testing.T, polling bool, data []byte) {
		frames, ok := splitFrames(data)
		if !ok {
			t.Skip("too many frames")
		}
		fc := &fuzzCase{frames: frames, stop: make(chan struct{})}
		id := strconv.FormatInt(srv.seq.Add(1), 10)
		srv.cases.Store(id, fc)
		defer srv.cases.Delete(id)
		defer close(fc.stop) // ends the server's session

		tr := sio.WebSocket
		if polling {
			tr = sio.Polling
		}
		ctx, cancel := context.WithTimeout(context.Background(), fuzzHang)
		defer cancel()
		s, err := sio.Dial(ctx, srv.url(t),
			sio.WithTransports(tr),
			sio.WithoutReconnect(),
			sio.WithQuery(url.Values{"fuzzcase": {id}}),
		)
		if err != nil {
			// The fuzz frames wait for "ready": Dial succeeds.
			t.Fatalf("Dial: %v", err)
		}
		drained := make(chan struct{})
		go func() {
			defer close(drained)
			drainFuzzEvents(s)
		}()
		defer func() {
			closed := make(chan struct{})
			go func() { s.Close(); close(closed) }()
			select {
			case <-closed:
			case <-time.After(fuzzHang):
				t.Fatalf("Close did not return within %v\n%s", fuzzHang, goroutines())
			}
			<-drained // Events closes with Close
		}()

		if err := s.Emit(ctx, "ready"); err != nil {
			t.Fatalf("Emit ready: %v", err)
		}
		fut, err := s.EmitWithAck(ctx, "probe", 1)
		if err != nil {
			// The socket ended already: Emit fails with ErrClosed and the reason.
			if !errors.Is(err, sio.ErrClosed) {
				t.Fatalf("EmitWithAck: %v, want ErrClosed", err)
			}
			checkEnded(t, s)
			return
		}
		select {
		case <-fut.Done():
		case <-time.After(fuzzHang):
			t.Fatalf("the ack neither came nor failed within %v (socket ended: %v)\n%s", fuzzHang, s.Err(), goroutines())
		}
		_, ferr, _ := fut.Result()
		if ferr == nil {
			return // the client works: the session answered
		}
		if !isFuzzReason(ferr) {
			t.Errorf("the ack failed with %v, which is no disconnect reason", ferr)
		}
		checkEnded(t, s)
	})
}

// fuzzServer is the test server of FuzzClient, shared by the inputs, which
// run one at a time: a new one every fuzzServerUses inputs, since a test
// server keeps every session it served.
type fuzzServer struct {
	srv  *testserver.Server
	uses int

	cases sync.Map // the inputs in progress: "fuzzcase" query parameter -> *fuzzCase
	seq   atomic.Int64
}

const fuzzServerUses = 1000

func (fs *fuzzServer) url(t *testing.T) string {
	if fs.srv != nil && fs.uses >= fuzzServerUses {
		fs.close()
	}
	if fs.srv == nil {
		srv, err := testserver.Start(testserver.WithHandler(fs.handle))
		if err != nil {
			t.Fatal(err)
		}
		fs.srv, fs.uses = srv, 0
	}
	fs.uses++
	return fs.srv.URL()
}

func (fs *fuzzServer) close() {
	if fs.srv != nil {
		fs.srv.Close()
		fs.srv = nil
	}
}

// fuzzHang bounds everything a FuzzClient input waits for.
const fuzzHang = 10 * time.Second

// maxFuzzFrames bounds the frames of one input.
const maxFuzzFrames = 64

// fuzzReasons are the errors a socket may end with because of what the
// server sent.
var fuzzReasons = []error{
	sio.ErrParse, sio.ErrProtocol, sio.ErrTransportClose, sio.ErrTransportError,
	sio.ErrPingTimeout, sio.ErrServerDisconnect, sio.ErrSlowConsumer,
}

func isFuzzReason(err error) bool {
	for _, r := range fuzzReasons {
		if errors.Is(err, r) {
			return true
		}
	}
	return false
}

// checkEnded checks that a socket whose ack failed has ended, or ends
// within fuzzHang, with a disconnect reason.
func checkEnded(t *testing.T, s *sio.Socket) {
	t.Helper()
	select {
	case <-s.Done():
	case <-time.After(fuzzHang):
		t.Fatalf("an ack failed but the socket did not end within %v\n%s", fuzzHang, goroutines())
	}
	if err := s.Err(); !isFuzzReason(err) {
		t.Errorf("the socket ended with %v, which is no disconnect reason", err)
	}
}

// drainFuzzEvents reads the socket's events until Events closes, decoding
// every message and answering the acks asked for.
func drainFuzzEvents(s *sio.Socket) {
	for ev := range s.Events() {
		if ev.Type != sio.EventMessage {
			continue
		}
		_ = ev.Args.String()
		vals := make([]any, ev.Args.Len())
		ptrs := make([]any, len(vals))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		_ = ev.Args.Decode(ptrs...)
		if ev.WantsAck() {
			ctx, cancel := context.WithTimeout(context.Background(), time.Second)
			_ = ev.Ack(ctx, "ok")
			cancel()
		}
	}
}

// goroutines returns every goroutine's stack, for a hang.
func goroutines() string {
	buf := make([]byte, 1<<20)
	return string(buf[:runtime.Stack(buf, true)])
}

// fuzzFrame is a frame the server sends.
type fuzzFrame struct {
	data   []byte
	binary bool
}

// splitFrames cuts a fuzz input into frames (see FuzzClient).
func splitFrames(data []byte) ([]fuzzFrame, bool) {
	parts := bytes.Split(data, []byte{'\n'})
	if len(parts) > maxFuzzFrames {
		return nil, false
	}
	frames := make([]fuzzFrame, len(parts))
	for i, p := range parts {
		if b, ok := bytes.CutPrefix(p, []byte{'B'}); ok {
			frames[i] = fuzzFrame{data: b, binary: true}
		} else {
			frames[i] = fuzzFrame{data: p}
		}
	}
	return frames, true
}

// fuzzCase is what the server does for one input.
type fuzzCase struct {
	frames []fuzzFrame
	stop   chan struct{} // closed when the input is done
}

// handle runs a session of FuzzClient: it accepts the CONNECT, waits for
// the event "ready", sends the input's frames, then acknowledges every event
// that asks for it with ["ok"], until the session or the input ends.
func (fs *fuzzServer) handle(ctx context.Context, c *testserver.Conn) error {
	v, ok := fs.cases.Load(c.Request().URL.Query().Get("fuzzcase"))
	if !ok {
		return nil
	}
	fc := v.(*fuzzCase)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		select {
		case <-fc.stop:
			cancel()
		case <-ctx.Done():
		}
	}()

	if err := c.SendOpen(testserver.Open{PingInterval: 25000, PingTimeout: 20000, MaxPayload: 1e6}); err != nil {
		return nil
	}
	if _, err := c.Expect(ctx, "40"); err != nil {
		return nil
	}
	if err := c.SendText(ctx, `40{"sid":"fuzz"}`); err != nil {
		return nil
	}
	if _, err := c.Expect(ctx, `42["ready"]`); err != nil {
		return nil
	}
	for _, fr := range fc.frames {
		var err error
		if fr.binary {
			err = c.SendBinary(ctx, fr.data)
		} else {
			err = c.SendText(ctx, string(fr.data))
		}
		if err != nil {
			return nil // the client went away
		}
	}
	for {
		fr, err := c.Read(ctx)
		if err != nil {
			return nil
		}
		if fr.IsBinary {
			continue
		}
		rest, ok := strings.CutPrefix(fr.Text, "42")
		if !ok {
			continue
		}
		n := 0
		for n < len(rest) && rest[n] >= '0' && rest[n] <= '9' {
			n++
		}
		if n == 0 {
			continue
		}
		if err := c.SendText(ctx, "43"+rest[:n]+`["ok"]`); err != nil {
			return nil
		}
	}
}
