package transport

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/sio-go/sio/packet"
	"github.com/sio-go/sio/test/nodeserver"
)

// nodeV3Config returns a Config for the reference server, with a cookie jar
// and a recording client of its own.
func nodeV3Config(t *testing.T, srv *nodeserver.Server, eio int) (Config, *recorder) {
	t.Helper()
	tr := &http.Transport{}
	t.Cleanup(tr.CloseIdleConnections)
	rec := &recorder{base: tr}
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(srv.URL() + "/socket.io/")
	if err != nil {
		t.Fatal(err)
	}
	return Config{URL: u, HTTPClient: &http.Client{Transport: rec, Jar: jar}, EIO: eio}, rec
}

// waitStderr waits until the server's stderr holds s, n times.
func waitStderr(t *testing.T, srv *nodeserver.Server, s string, n int) {
	t.Helper()
	deadline := time.Now().Add(testTimeout)
	for strings.Count(srv.Stderr(), s) < n {
		if time.Now().After(deadline) {
			t.Fatalf("the server did not write %q %d times:\n%s", s, n, srv.Stderr())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestNodeV2DetectsEIO3: socket.io 2.5 answers EIO=4 with a v3 handshake;
// DialPolling reports ErrEIO3 and closes that session, which the server had
// already connected to the main namespace.
func TestNodeV2DetectsEIO3(t *testing.T) {
	srv := nodeserver.Start(t, nodeserver.WithVersion("2"))
	cfg, _ := nodeV3Config(t, srv, 0)
	c, err := DialPolling(context.Background(), cfg)
	if !errors.Is(err, ErrEIO3) {
		if c != nil {
			c.Close()
		}
		t.Fatalf("DialPolling: %v, want ErrEIO3", err)
	}
	waitStderr(t, srv, "transport close", 1)
}

// TestNodeEIO3 runs a v3 session, over polling then upgraded to WebSocket,
// against socket.io 2.5 and against socket.io 4.8 started with allowEIO3.
func TestNodeEIO3(t *testing.T) {
	for _, peer := range []struct {
		name string
		opts []nodeserver.Option
	}{
		{"socket.io 2", []nodeserver.Option{nodeserver.WithVersion("2")}},
		{"socket.io 4 allowEIO3", []nodeserver.Option{nodeserver.WithArgs("--allow-eio3")}},
	} {
		t.Run(peer.name, func(t *testing.T) {
			srv := nodeserver.Start(t, peer.opts...)
			cfg, rec := nodeV3Config(t, srv, 3)
			ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
			defer cancel()
			conn, err := DialPolling(ctx, cfg)
			if err != nil {
				t.Fatalf("DialPolling: %v", err)
			}
			c := conn
			defer func() { c.Close() }()

			f := readFrame(t, c)
			if f.Type() != packet.FrameOpen {
				t.Fatalf("first frame %q", f.Data)
			}
			open, err := packet.ParseOpen(f.Payload())
			if err != nil {
				t.Fatal(err)
			}
			// The main namespace is joined without asking.
			wantFrame(t, readMessage(t, c), "40", false)

			// Text with characters of 1, 2 and 3 bytes and a surrogate pair.
			const text = `2["echo","é€😀 \u001e:1"]`
			writeFrames(t, c, packet.TextFrame(packet.FrameMessage, text))
			wantFrame(t, readMessage(t, c), "4"+text, false)

			// Binary both ways, as b4 + base64.
			writeFrames(t, c, packet.TextFrame(packet.FrameMessage, `2["binary",300]`))
			wantFrame(t, readMessage(t, c), `451-["binary",{"_placeholder":true,"num":0}]`, false)
			want := make([]byte, 300)
			for i := range want {
				want[i] = byte(i)
			}
			wantFrame(t, readMessage(t, c), string(want), true)
			writeFrames(t, c, packet.TextFrame(packet.FrameMessage, `51-["echo","😀",{"_placeholder":true,"num":0}]`),
				packet.Frame{Data: []byte{0, 0xff, 4}, Binary: true})
			wantFrame(t, readMessage(t, c), `451-["echo","😀",{"_placeholder":true,"num":0}]`, false)
			wantFrame(t, readMessage(t, c), "\x00\xff\x04", true)

			// 1.2 MB in one Write goes in POSTs of at most 1e6 bytes, the
			// server's default maxHttpBufferSize (one over it would make the
			// server drop the connection).
			before := len(rec.posts())
			var frames []packet.Frame
			for i := range 3 {
				frames = append(frames, packet.TextFrame(packet.FrameMessage,
					fmt.Sprintf(`2["echo","%d%s"]`, i, strings.Repeat("é", 200_000))))
			}
			writeFrames(t, c, frames...)
			posts := rec.posts()[before:]
			if len(posts) != 2 {
				t.Errorf("%d POSTs for 1.2 MB", len(posts))
			}
			for i, p := range posts {
				if p.size > 1e6 {
					t.Errorf("POST %d: %d bytes", i, p.size)
				}
			}
			for i := range 3 {
				wantFrame(t, readMessage(t, c), fmt.Sprintf(`42["echo","%d%s"]`, i, strings.Repeat("é", 200_000)), false)
			}

			// Upgrade to WebSocket, as the JS client does.
			if len(open.Upgrades) != 1 || open.Upgrades[0] != NameWebSocket {
				t.Fatalf("upgrades %q", open.Upgrades)
			}
			ws := dialWS(t, cfg, open.SID)
			writeFrames(t, ws, packet.TextFrame(packet.FramePing, "probe"))
			wantFrame(t, readFrame(t, ws), "3probe", false)
			c.(Pauser).Pause()
			for {
				// The server ends the poll in flight, if any, with a noop.
				if _, err := c.Read(ctx); err != nil {
					if err != ErrPaused {
						t.Fatalf("polling Read while pausing: %v", err)
					}
					break
				}
			}
			writeFrames(t, ws, packet.TextFrame(packet.FrameUpgrade, ""))
			c.Abort()
			c = ws

			// Binary both ways with the leading type byte.
			writeFrames(t, ws, packet.TextFrame(packet.FrameMessage, `2["binary",5]`))
			wantFrame(t, readMessage(t, ws), `451-["binary",{"_placeholder":true,"num":0}]`, false)
			wantFrame(t, readMessage(t, ws), "\x00\x01\x02\x03\x04", true)
			writeFrames(t, ws, packet.TextFrame(packet.FrameMessage, `51-["echo",{"_placeholder":true,"num":0}]`),
				packet.Frame{Data: []byte{4, 0, 9}, Binary: true}, packet.TextFrame(packet.FrameMessage, `2["echo","€😀"]`))
			wantFrame(t, readMessage(t, ws), `451-["echo",{"_placeholder":true,"num":0}]`, false)
			wantFrame(t, readMessage(t, ws), "\x04\x00\x09", true)
			wantFrame(t, readMessage(t, ws), `42["echo","€😀"]`, false)

			// In v3 the client pings and the server answers.
			writeFrames(t, ws, packet.TextFrame(packet.FramePing, ""))
			wantFrame(t, readFrame(t, ws), "3", false)

			ws.Close()
			waitStderr(t, srv, "transport close", 1)
		})
	}
}
