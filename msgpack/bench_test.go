package msgpack_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/sio-go/sio"
	"github.com/sio-go/sio/internal/testutil"
	"github.com/sio-go/sio/msgpack"
	"github.com/sio-go/sio/packet"
	"github.com/sio-go/sio/test/faultproxy"
	"github.com/sio-go/sio/test/nodeserver"
)

// benchPayloads are what one event carries: a 100-byte string, and a
// mixed document with numbers, a flag, a short string and 1 KiB of binary.
var benchPayloads = map[string][]any{
	"text": {strings.Repeat("x", 100)},
	"mixed": {map[string]any{
		"id": 123456, "price": 19.99, "ok": true, "name": "sensor-42",
		"samples": []int{1, 2, 3, 4, 5, 6, 7, 8}, "blob": make([]byte, 1024),
	}},
}

// BenchmarkCodecStream streams b.N echo events over WebSocket to socket.io
// 4.8 started with each parser, through a fault proxy that counts the
// bytes, and reports events/s, wire-B/event (both directions, framing
// included), frame-B, the encoded size of one emit (its frame and
// attachments), and cpu-µs/event, the client process's CPU time (the
// proxy's included, the server's not). The rows of one run compare the codecs:
//
//	cd msgpack && go test -run='^$' -bench=CodecStream -benchtime=20000x
func BenchmarkCodecStream(b *testing.B) {
	codecs := []struct {
		name  string
		codec packet.Codec
		args  []string
	}{
		{"json", packet.JSON{}, nil},
		{"msgpack", msgpack.Codec{}, []string{"--parser", "msgpack"}},
	}
	for _, pl := range []string{"text", "mixed"} {
		for _, c := range codecs {
			b.Run("payload="+pl+"/codec="+c.name, func(b *testing.B) {
				srv := nodeserver.Start(b, nodeserver.WithArgs(c.args...))
				px, err := faultproxy.Start(strings.TrimPrefix(srv.URL(), "http://"))
				if err != nil {
					b.Fatal(err)
				}
				defer px.Close()
				args := benchPayloads[pl]
				msg, err := c.codec.Encode(packet.Header{Type: packet.Event}, "echo", args)
				if err != nil {
					b.Fatal(err)
				}
				frame := len(msg.Head.Data)
				for _, a := range msg.Attachments {
					frame += len(a)
				}
				ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
				defer cancel()
				s, err := sio.Dial(ctx, px.URL(), sio.WithCodec(c.codec), sio.WithTransports(sio.WebSocket),
					sio.WithEventQueueLimit(b.N+1, 1<<30))
				if err != nil {
					b.Fatal(err)
				}
				defer s.Close()
				<-s.Events() // EventConnect
				up0, down0 := px.Bytes(faultproxy.ToServer), px.Bytes(faultproxy.ToClient)
				b.ResetTimer()
				cpu0 := testutil.CPUTime()
				start := time.Now()
				if err := testutil.EchoStream(ctx, s, b.N, args...); err != nil {
					b.Fatal(err)
				}
				elapsed := time.Since(start)
				cpu := testutil.CPUTime() - cpu0
				b.StopTimer()
				wire := px.Bytes(faultproxy.ToServer) - up0 + px.Bytes(faultproxy.ToClient) - down0
				b.ReportMetric(float64(b.N)/elapsed.Seconds(), "events/s")
				b.ReportMetric(float64(wire)/float64(2*b.N), "wire-B/event")
				b.ReportMetric(float64(frame), "frame-B")
				b.ReportMetric(float64(cpu.Microseconds())/float64(b.N), "cpu-µs/event")
			})
		}
	}
}
