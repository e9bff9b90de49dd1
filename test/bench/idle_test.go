package bench

import (
	"context"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/sio-go/sio"
	"github.com/sio-go/sio/test/nodeserver"
)

// idleClients is how many connections BenchmarkIdleMemory holds open.
const idleClients = 500

// BenchmarkIdleMemory holds idleClients connected, idle clients and reports
// the heap and goroutine stacks each one costs, next to a bare
// coder/websocket connection with one reader goroutine.
//
// The impl=sio row uses the default transports and is measured once every
// client has upgraded to WebSocket; impl=sio-ws connects over WebSocket
// directly.
//
// Each row first connects and closes idleClients clients, unmeasured, and
// then measures its run: every row, raw's included, is measured in a heap
// that has served clients before, as a long-running program's has. Without
// that, whichever row ran first in the process was measured in a fresh heap,
// and the rows after it in the holes the ones before had left: the same row
// moved by 5 KiB/client with its place.
func BenchmarkIdleMemory(b *testing.B) {
	srv := nodeserver.Start(b)
	for _, row := range []struct {
		name string
		opts []sio.Option
	}{
		{"impl=sio", nil},
		{"impl=sio-ws", []sio.Option{sio.WithTransports(sio.WebSocket)}},
	} {
		b.Run(row.name, func(b *testing.B) {
			ctx := ctxFor(b)
			measureIdle(b, func() []*sio.Socket { return dialIdle(b, ctx, srv.URL(), idleClients, row.opts...) }, closeAll)
		})
	}
	b.Run("impl=raw", func(b *testing.B) {
		ctx := ctxFor(b)
		u := strings.Replace(srv.URL(), "http://", "ws://", 1) + "/socket.io/?EIO=4&transport=websocket"
		done := make(chan struct{}, idleClients)
		connect := func() []*websocket.Conn {
			conns := make([]*websocket.Conn, idleClients)
			for i := range conns {
				c, _, err := websocket.Dial(ctx, u, nil)
				if err != nil {
					b.Fatal(err)
				}
				conns[i] = c
				go func() {
					defer func() { done <- struct{}{} }()
					answerPings(c)
				}()
			}
			return conns
		}
		closeRaw := func(conns []*websocket.Conn) {
			for _, c := range conns {
				c.CloseNow()
			}
			for range conns {
				<-done
			}
		}
		measureIdle(b, connect, closeRaw)
	})
}

// measureIdle connects and closes a row's clients once, unmeasured (see
// BenchmarkIdleMemory), then reports what the clients of each of b.N
// connects cost while they are held.
func measureIdle[T any](b *testing.B, connect func() T, closeAll func(T)) {
	closeAll(connect())
	for range b.N {
		before := memInUse()
		clients := connect()
		b.ReportMetric(float64(memInUse()-before)/idleClients/1024, "KiB/client")
		closeAll(clients)
	}
}

// dialIdle dials n clients and waits until each one's transport is the
// WebSocket: at once over WebSocket only, after the upgrade on the default
// transports. It closes what it dialed and fails tb when ctx ends first.
func dialIdle(tb testing.TB, ctx context.Context, url string, n int, opts ...sio.Option) []*sio.Socket {
	socks := make([]*sio.Socket, 0, n)
	fail := func(args ...any) {
		closeAll(socks)
		tb.Fatal(args...)
	}
	for range n {
		s, err := sio.Dial(ctx, url, opts...)
		if err != nil {
			fail(err)
		}
		socks = append(socks, s)
	}
	for _, s := range socks {
		for s.Manager().Transport() != sio.WebSocket {
			if ctx.Err() != nil {
				fail("no upgrade to WebSocket")
			}
			time.Sleep(time.Millisecond)
		}
	}
	return socks
}

func closeAll(socks []*sio.Socket) {
	for _, s := range socks {
		s.Close()
	}
}

// memInUse is the heap and goroutine stack memory in use after a GC.
func memInUse() int64 {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return int64(ms.HeapInuse + ms.StackInuse)
}

// answerPings is a bare connection's reader: it answers the server's pings
// until the connection ends.
func answerPings(c *websocket.Conn) {
	for {
		_, msg, err := c.Read(context.Background())
		if err != nil {
			return
		}
		if string(msg) == "2" {
			c.Write(context.Background(), websocket.MessageText, []byte("3"))
		}
	}
}
