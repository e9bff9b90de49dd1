package bench

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/sio-go/sio"
	"github.com/sio-go/sio/internal/testutil"
	"github.com/sio-go/sio/test/nodeserver"
)

// payload is the 100-byte argument of every benchmark event.
var payload = strings.Repeat("x", 100)

func ctxFor(b *testing.B) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	b.Cleanup(cancel)
	return ctx
}

// BenchmarkStream sends b.N 100-byte events to the server's echo handler
// while reading the echoes, and reports events/s (each event goes out and
// comes back).
func BenchmarkStream(b *testing.B) {
	srv := nodeserver.Start(b)
	warmUp(b, srv.URL())
	b.Run("impl=sio", func(b *testing.B) {
		ctx := ctxFor(b)
		// The emits are not paced: on a busy machine the reading loop
		// below can fall more than the default 4096 events behind the
		// echoes, which would end the socket with ErrSlowConsumer (the
		// raw row's backlog waits in the kernel's buffers instead).
		s, err := sio.Dial(ctx, srv.URL(), sio.WithEventQueueLimit(b.N+1, 1<<30))
		if err != nil {
			b.Fatal(err)
		}
		defer s.Close()
		<-s.Events() // EventConnect
		b.ReportAllocs()
		b.ResetTimer()
		cpu0 := testutil.CPUTime()
		start := time.Now()
		if err := testutil.EchoStream(ctx, s, b.N, payload); err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "events/s")
		reportCPU(b, cpu0)
	})
	b.Run("impl=raw", func(b *testing.B) {
		ctx := ctxFor(b)
		c := rawDial(b, ctx, srv.URL())
		defer c.CloseNow()
		b.ReportAllocs()
		b.ResetTimer()
		cpu0 := testutil.CPUTime()
		start := time.Now()
		rawStream(b, ctx, c, b.N)
		b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "events/s")
		reportCPU(b, cpu0)
	})
}

// BenchmarkStreamPaired streams b.N events with sio and b.N with the raw
// client as BenchmarkStream does, in alternating chunks of streamChunk
// events on two connections to one server, so that both see the same
// machine, and reports the ratio of their rates (ratio, sio ÷ raw: above 1,
// sio is faster).
func BenchmarkStreamPaired(b *testing.B) {
	const streamChunk = 2000
	srv := nodeserver.Start(b)
	warmUp(b, srv.URL())
	ctx := ctxFor(b)
	s, err := sio.Dial(ctx, srv.URL(), sio.WithTransports(sio.WebSocket), sio.WithEventQueueLimit(streamChunk+1, 1<<30))
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	<-s.Events() // EventConnect
	c := rawDial(b, ctx, srv.URL())
	defer c.CloseNow()
	var sioTime, rawTime time.Duration
	b.ResetTimer()
	for done := 0; done < b.N; done += streamChunk {
		n := min(streamChunk, b.N-done)
		sioChunk := func() {
			t0 := time.Now()
			if err := testutil.EchoStream(ctx, s, n, payload); err != nil {
				b.Fatal(err)
			}
			sioTime += time.Since(t0)
		}
		rawChunk := func() {
			t0 := time.Now()
			rawStream(b, ctx, c, n)
			rawTime += time.Since(t0)
		}
		if done/streamChunk%2 == 0 {
			sioChunk()
			rawChunk()
		} else {
			rawChunk()
			sioChunk()
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N)/sioTime.Seconds(), "sio-events/s")
	b.ReportMetric(float64(b.N)/rawTime.Seconds(), "raw-events/s")
	b.ReportMetric(rawTime.Seconds()/sioTime.Seconds(), "ratio")
}

// rawStream sends n echo events on the raw client from one goroutine while
// reading the n echoes.
func rawStream(b *testing.B, ctx context.Context, c *websocket.Conn, n int) {
	frame := []byte(`42["echo","` + payload + `"]`)
	errc := make(chan error, 1)
	go func() {
		for range n {
			if err := c.Write(ctx, websocket.MessageText, frame); err != nil {
				errc <- err
				return
			}
		}
		errc <- nil
	}()
	for got := 0; got < n; {
		if bytes.HasPrefix(rawRead(b, ctx, c), []byte(`42["echo"`)) {
			got++
		}
	}
	if err := <-errc; err != nil {
		b.Fatal(err)
	}
}

// BenchmarkAck makes b.N acknowledged round trips one after another and
// reports the median and 99th percentile.
func BenchmarkAck(b *testing.B) {
	srv := nodeserver.Start(b)
	warmUp(b, srv.URL())
	b.Run("impl=sio", func(b *testing.B) {
		ctx := ctxFor(b)
		s, err := sio.Dial(ctx, srv.URL(), sio.WithTransports(sio.WebSocket))
		if err != nil {
			b.Fatal(err)
		}
		defer s.Close()
		lat := make([]time.Duration, b.N)
		b.ReportAllocs()
		b.ResetTimer()
		cpu0 := testutil.CPUTime()
		for i := range lat {
			lat[i] = sioRoundTrip(b, ctx, s)
		}
		reportCPU(b, cpu0)
		reportLatency(b, lat)
	})
	b.Run("impl=raw", func(b *testing.B) {
		ctx := ctxFor(b)
		c := rawDial(b, ctx, srv.URL())
		defer c.CloseNow()
		lat := make([]time.Duration, b.N)
		b.ReportAllocs()
		b.ResetTimer()
		cpu0 := testutil.CPUTime()
		for i := range lat {
			lat[i] = rawRoundTrip(b, ctx, c, i)
		}
		reportCPU(b, cpu0)
		reportLatency(b, lat)
	})
}

// BenchmarkAckPaired makes b.N acknowledged round trips with sio and b.N
// with the raw client, alternating between them (and which of the two goes
// first) on two connections to one server, so that both see the same
// machine: the ratio of the medians it reports (p50-ratio, sio ÷ raw) is
// the figure to quote, where BenchmarkAck's rows drift with the load of the
// moment they run in.
func BenchmarkAckPaired(b *testing.B) {
	srv := nodeserver.Start(b)
	warmUp(b, srv.URL())
	ctx := ctxFor(b)
	s, err := sio.Dial(ctx, srv.URL(), sio.WithTransports(sio.WebSocket))
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	c := rawDial(b, ctx, srv.URL())
	defer c.CloseNow()
	sioRT := func() time.Duration { return sioRoundTrip(b, ctx, s) }
	rawRT := func(i int) time.Duration { return rawRoundTrip(b, ctx, c, i) }
	sioLat, rawLat := make([]time.Duration, b.N), make([]time.Duration, b.N)
	b.ResetTimer()
	for i := range b.N {
		if i%2 == 0 {
			sioLat[i], rawLat[i] = sioRT(), rawRT(i)
		} else {
			rawLat[i], sioLat[i] = rawRT(i), sioRT()
		}
	}
	b.StopTimer()
	slices.Sort(sioLat)
	slices.Sort(rawLat)
	p50 := func(l []time.Duration) float64 { return float64(l[len(l)/2].Nanoseconds()) / 1e3 }
	p99 := func(l []time.Duration) float64 { return float64(l[len(l)*99/100].Nanoseconds()) / 1e3 }
	b.ReportMetric(p50(sioLat), "sio-p50-µs")
	b.ReportMetric(p50(rawLat), "raw-p50-µs")
	b.ReportMetric(p50(sioLat)/p50(rawLat), "p50-ratio")
	b.ReportMetric(p99(sioLat), "sio-p99-µs")
	b.ReportMetric(p99(rawLat), "raw-p99-µs")
}

// rawRoundTrip makes the raw client's acknowledged round trip number i
// and returns how long it took.
func rawRoundTrip(b *testing.B, ctx context.Context, c *websocket.Conn, i int) time.Duration {
	t0 := time.Now()
	id := strconv.Itoa(i)
	if err := c.Write(ctx, websocket.MessageText, []byte(`42`+id+`["ack","`+payload+`"]`)); err != nil {
		b.Fatal(err)
	}
	want := []byte(`43` + id + `[`)
	for !bytes.HasPrefix(rawRead(b, ctx, c), want) {
	}
	return time.Since(t0)
}

// sioRoundTrip makes one acknowledged round trip and returns how long it
// took.
func sioRoundTrip(b *testing.B, ctx context.Context, s *sio.Socket) time.Duration {
	t0 := time.Now()
	f, err := s.EmitWithAck(ctx, "ack", payload)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := f.Wait(ctx); err != nil {
		b.Fatal(err)
	}
	return time.Since(t0)
}

// reportCPU reports the CPU time the client process used per operation
// since cpu0: unlike wall-clock figures, it hardly depends on what else the
// machine runs.
func reportCPU(b *testing.B, cpu0 time.Duration) {
	b.ReportMetric(float64(testutil.CPUTime()-cpu0)/float64(time.Microsecond)/float64(b.N), "cpu-µs/op")
}

func reportLatency(b *testing.B, lat []time.Duration) {
	b.StopTimer()
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "p50-µs")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), "p99-µs")
}

// warmUp streams and acks through the server with the raw client, so that
// the server's JIT has settled before either implementation is measured
// (without it, whichever runs first is penalised several times over).
func warmUp(b *testing.B, url string) {
	ctx := ctxFor(b)
	c := rawDial(b, ctx, url)
	defer c.CloseNow()
	const n = 30000
	go func() {
		for i := 0; i < n; i++ {
			frame := []byte(`42["echo","` + payload + `"]`)
			if i%10 == 0 {
				frame = []byte(`42` + fmt.Sprint(i) + `["ack","` + payload + `"]`)
			}
			if c.Write(ctx, websocket.MessageText, frame) != nil {
				return
			}
		}
	}()
	for got := 0; got < n; got++ {
		rawRead(b, ctx, c)
	}
}

// rawDial is the baseline client: a bare coder/websocket connection that
// does the Engine.IO and Socket.IO handshakes by hand.
func rawDial(b *testing.B, ctx context.Context, base string) *websocket.Conn {
	u := strings.Replace(base, "http://", "ws://", 1) + "/socket.io/?EIO=4&transport=websocket"
	c, _, err := websocket.Dial(ctx, u, nil)
	if err != nil {
		b.Fatal(err)
	}
	c.SetReadLimit(32 << 20)
	if msg := rawRead(b, ctx, c); msg[0] != '0' {
		b.Fatalf("expected open packet, got %q", msg)
	}
	if err := c.Write(ctx, websocket.MessageText, []byte("40")); err != nil {
		b.Fatal(err)
	}
	for !bytes.HasPrefix(rawRead(b, ctx, c), []byte("40")) {
	}
	return c
}

// rawRead reads the next message, answering pings on the way.
func rawRead(b *testing.B, ctx context.Context, c *websocket.Conn) []byte {
	for {
		_, msg, err := c.Read(ctx)
		if err != nil {
			b.Fatal(err)
		}
		if string(msg) == "2" {
			if err := c.Write(ctx, websocket.MessageText, []byte("3")); err != nil {
				b.Fatal(err)
			}
			continue
		}
		return msg
	}
}
