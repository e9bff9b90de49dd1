package transport

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/coder/websocket"

	"github.com/sio-go/sio/packet"
)

func TestWebSocketV3ReadWrite(t *testing.T) {
	type received struct {
		query url.Values
		msgs  []string
		types []websocket.MessageType
		err   error
	}
	got := make(chan received, 1)
	cfg := wsServer(t, func(ctx context.Context, c *websocket.Conn, r *http.Request) {
		rec := received{query: r.URL.Query()}
		defer func() { got <- rec }()
		c.SetReadLimit(1 << 20)
		for _, m := range []struct {
			typ  websocket.MessageType
			data string
		}{
			{websocket.MessageText, v3Open},
			{websocket.MessageText, "40"},
			{websocket.MessageText, `451-["a",{"_placeholder":true,"num":0}]`},
			{websocket.MessageBinary, "\x04\x01\x02\x03"},
			{websocket.MessageBinary, "\x04"},
			{websocket.MessageText, `42["€😀"]`},
		} {
			if rec.err = c.Write(ctx, m.typ, []byte(m.data)); rec.err != nil {
				return
			}
		}
		for range 5 {
			typ, data, err := c.Read(ctx)
			if err != nil {
				rec.err = err
				return
			}
			rec.types = append(rec.types, typ)
			rec.msgs = append(rec.msgs, string(data))
		}
	})
	// A b64 in the user's query must not reach a WebSocket request: the
	// server would send binary messages as base64 text.
	cfg.URL.RawQuery += "&b64=1"
	cfg.EIO = 3
	c := dialWS(t, cfg, "")
	wantFrame(t, readFrame(t, c), v3Open, false)
	wantFrame(t, readFrame(t, c), "40", false)
	wantFrame(t, readFrame(t, c), `451-["a",{"_placeholder":true,"num":0}]`, false)
	wantFrame(t, readFrame(t, c), "\x01\x02\x03", true)
	wantFrame(t, readFrame(t, c), "", true)
	wantFrame(t, readFrame(t, c), `42["€😀"]`, false)

	big := make([]byte, maxKeptBuffer+1)
	big[0], big[len(big)-1] = 7, 9
	writeFrames(t, c, packet.TextFrame(packet.FrameMessage, `51-["up",{"_placeholder":true,"num":0}]`),
		packet.Frame{Data: []byte{4, 5}, Binary: true}, packet.Frame{Binary: true}, packet.Frame{Data: big, Binary: true})
	// The buffer is reused for a shorter message after a longer one.
	writeFrames(t, c, packet.Frame{Data: []byte{6}, Binary: true})

	rec := <-got
	if rec.err != nil {
		t.Fatal(rec.err)
	}
	if rec.query.Get("EIO") != "3" || rec.query.Has("b64") || rec.query.Get("transport") != "websocket" ||
		rec.query.Get("token") != "abc" {
		t.Errorf("handshake query %v", rec.query)
	}
	wantMsgs := []string{`451-["up",{"_placeholder":true,"num":0}]`, "\x04\x04\x05", "\x04", "\x04" + string(big), "\x04\x06"}
	wantTypes := []websocket.MessageType{websocket.MessageText, websocket.MessageBinary, websocket.MessageBinary,
		websocket.MessageBinary, websocket.MessageBinary}
	for i := range wantMsgs {
		if rec.msgs[i] != wantMsgs[i] || rec.types[i] != wantTypes[i] {
			t.Errorf("message %d: %v %.20q, want %v %.20q", i, rec.types[i], rec.msgs[i], wantTypes[i], wantMsgs[i])
		}
	}
	sizer := c.(interface{ FrameSize(packet.Frame) int })
	if got := sizer.FrameSize(packet.Frame{Data: []byte{1, 2, 3, 4}, Binary: true}); got != 5 {
		t.Errorf("FrameSize of 4 binary bytes = %d, want 5", got)
	}
	if got := sizer.FrameSize(packet.TextFrame(packet.FrameMessage, "€")); got != 4 {
		t.Errorf("FrameSize of a text frame = %d, want 4", got)
	}
}

func TestWebSocketV3BadBinary(t *testing.T) {
	cfg := wsServer(t, func(ctx context.Context, c *websocket.Conn, r *http.Request) {
		for _, m := range []string{"", "\x02probe", "4abc", "\x04ok"} {
			if c.Write(ctx, websocket.MessageBinary, []byte(m)) != nil {
				return
			}
		}
	})
	cfg.EIO = 3
	c := dialWS(t, cfg, "")
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	for _, want := range []string{"", "\x02probe", "4abc"} {
		_, err := c.Read(ctx)
		var de *packet.DecodeError
		if !errors.Is(err, packet.ErrBadFrame) || !errors.As(err, &de) || de.Input != want ||
			!strings.Contains(err.Error(), "v3") {
			t.Fatalf("binary message %q: Read: %v, want ErrBadFrame", want, err)
		}
	}
	wantFrame(t, readFrame(t, c), "ok", true)
}

// TestWebSocketV4BinaryUnchanged: without EIO 3 a binary message is carried
// as is, whatever its first byte.
func TestWebSocketV4BinaryUnchanged(t *testing.T) {
	cfg := wsServer(t, func(ctx context.Context, c *websocket.Conn, r *http.Request) {
		c.Write(ctx, websocket.MessageBinary, []byte("\x04ok"))
	})
	cfg.EIO = 4
	c := dialWS(t, cfg, "")
	wantFrame(t, readFrame(t, c), "\x04ok", true)
}
