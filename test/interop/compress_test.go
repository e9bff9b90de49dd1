package interop_test

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/sio-go/sio"
	"github.com/sio-go/sio/internal/testutil"
	"github.com/sio-go/sio/test/faultproxy"
	"github.com/sio-go/sio/test/nodeserver"
)

// repetitiveJSON is about n bytes of JSON that compresses well, like the
// large JSON documents deployments turn perMessageDeflate on for.
func repetitiveJSON(n int) []map[string]any {
	var items []map[string]any
	for size := 0; size < n; {
		item := map[string]any{"id": len(items), "name": "item", "tags": []string{"alpha", "beta"}, "ok": true}
		b, _ := json.Marshal(item)
		size += len(b) + 1
		items = append(items, item)
	}
	return items
}

// compressionRig is the Node server (socket.io 4.8, whatever
// SIO_INTEROP_SERVER says: the test is about WebSocket, not versions)
// behind a fault proxy that counts the bytes.
func compressionRig(t *testing.T, serverArgs ...string) *faultproxy.Proxy {
	t.Helper()
	srv := nodeserver.Start(t, nodeserver.WithArgs(serverArgs...))
	px, err := faultproxy.Start(strings.TrimPrefix(srv.URL(), "http://"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { px.Close() })
	return px
}

// echoBytes emits "echo" with payload through emit, waits for the ack and
// for the echo, and returns the bytes the wire carried each way meanwhile.
func echoBytes(t *testing.T, ctx context.Context, px *faultproxy.Proxy, s *sio.Socket,
	emit func(context.Context, string, ...any) error, payload any) (up, down int64) {
	t.Helper()
	up0, down0 := px.Bytes(faultproxy.ToServer), px.Bytes(faultproxy.ToClient)
	if err := emit(ctx, "echo", payload); err != nil {
		t.Fatal(err)
	}
	nextMessage(t, ctx, s, "echo")
	call(t, ctx, s, "ack") // a round trip: everything before it went through
	return px.Bytes(faultproxy.ToServer) - up0, px.Bytes(faultproxy.ToClient) - down0
}

// Per-message deflate with the server's perMessageDeflate on: a large
// repetitive JSON message costs a small fraction of its size both ways;
// a message under the threshold and an emit marked Uncompressed go as they
// are; without WithCompression nothing is compressed.
func TestCompression(t *testing.T) {
	t.Parallel()
	px := compressionRig(t, "--per-message-deflate", "1024")
	big := repetitiveJSON(100_000)
	raw, _ := json.Marshal(big)
	small := strings.Repeat("a", 1000) // under the 1024-byte threshold, with its framing
	ws := sio.WithTransports(sio.WebSocket)

	t.Run("on", func(t *testing.T) {
		ctx := testutil.Context(t, testTimeout)
		s := dial(t, ctx, px.URL(), ws, sio.WithCompression(0))
		up, down := echoBytes(t, ctx, px, s, s.Emit, big)
		t.Logf("100 kB JSON (%d bytes): %d bytes up, %d down (%.1f%%, %.1f%%)", len(raw), up, down,
			100*float64(up)/float64(len(raw)), 100*float64(down)/float64(len(raw)))
		if up > int64(len(raw))/10 || down > int64(len(raw))/10 {
			t.Errorf("compressed: %d bytes up, %d down for %d bytes of JSON, want under a tenth", up, down, len(raw))
		}
		up, _ = echoBytes(t, ctx, px, s, s.Emit, small)
		if up < int64(len(small)) {
			t.Errorf("under the threshold: %d bytes up for a %d-byte string, want it uncompressed", up, len(small))
		}
		up, _ = echoBytes(t, ctx, px, s, s.Uncompressed().Emit, big)
		if up < int64(len(raw)) {
			t.Errorf("Uncompressed: %d bytes up for %d bytes of JSON, want it uncompressed", up, len(raw))
		}
		// The same through EmitWithAck, and binary.
		bin := bytes.Repeat([]byte("0123456789"), 10_000)
		up0 := px.Bytes(faultproxy.ToServer)
		f, err := s.Uncompressed().EmitWithAck(ctx, "ack", bin)
		if err != nil {
			t.Fatal(err)
		}
		var back []byte
		if reply, err := f.Wait(ctx); err != nil || reply.Decode(&back) != nil || !bytes.Equal(back, bin) {
			t.Fatalf("Uncompressed EmitWithAck: %v", err)
		}
		if up := px.Bytes(faultproxy.ToServer) - up0; up < int64(len(bin)) {
			t.Errorf("Uncompressed binary: %d bytes up for %d, want it uncompressed", up, len(bin))
		}
		up0 = px.Bytes(faultproxy.ToServer)
		call(t, ctx, s, "ack", bin)
		if up := px.Bytes(faultproxy.ToServer) - up0; up > int64(len(bin))/10 {
			t.Errorf("binary: %d bytes up for %d, want it compressed", up, len(bin))
		}
	})
	t.Run("off by default", func(t *testing.T) {
		ctx := testutil.Context(t, testTimeout)
		s := dial(t, ctx, px.URL(), ws)
		up, down := echoBytes(t, ctx, px, s, s.Emit, big)
		if up < int64(len(raw)) || down < int64(len(raw)) {
			t.Errorf("without WithCompression: %d bytes up, %d down for %d bytes of JSON, want it uncompressed", up, down, len(raw))
		}
	})
}

// A server without perMessageDeflate (socket.io's default) refuses the
// extension: WithCompression then changes nothing.
func TestCompressionServerOff(t *testing.T) {
	t.Parallel()
	px := compressionRig(t)
	ctx := testutil.Context(t, testTimeout)
	s := dial(t, ctx, px.URL(), sio.WithTransports(sio.WebSocket), sio.WithCompression(0))
	big := repetitiveJSON(100_000)
	raw, _ := json.Marshal(big)
	if up, down := echoBytes(t, ctx, px, s, s.Emit, big); up < int64(len(raw)) || down < int64(len(raw)) {
		t.Errorf("%d bytes up, %d down for %d bytes of JSON, want it uncompressed", up, down, len(raw))
	}
}

// Long-polling gets HTTP compression from net/http: the Node server's
// default httpCompression (threshold 1 kB) gzips the long-poll responses,
// which net/http asked for and decompresses. Request bodies go as they are
// (the official client does not compress them either).
func TestPollingHTTPCompression(t *testing.T) {
	t.Parallel()
	px := compressionRig(t)
	ctx := testutil.Context(t, testTimeout)
	s := dial(t, ctx, px.URL(), sio.WithTransports(sio.Polling))
	big := repetitiveJSON(100_000)
	raw, _ := json.Marshal(big)
	up, down := echoBytes(t, ctx, px, s, s.Emit, big)
	t.Logf("polling, 100 kB JSON (%d bytes): %d bytes up, %d down", len(raw), up, down)
	if down > int64(len(raw))/10 {
		t.Errorf("%d bytes down for %d bytes of JSON, want the response gzipped", down, len(raw))
	}
	if up < int64(len(raw)) {
		t.Errorf("%d bytes up for %d bytes of JSON: the request body was compressed?", up, len(raw))
	}
}
