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
			for range b.N {
				before := memInUse()
				socks := make([]*sio.Socket, idleClients)
				for i := range socks {
					s, err := sio.Dial(ctx, srv.URL(), row.opts...)
					if err != nil {
						b.Fatal(err)
					}
					socks[i] = s
				}
				for _, s := range socks {
					for s.Manager().Transport() != sio.WebSocket {
						if ctx.Err() != nil {
							b.Fatal("no upgrade to WebSocket")
						}
						time.Sleep(time.Millisecond)
					}
				}
				b.ReportMetric(float64(memInUse()-before)/idleClients/1024, "KiB/client")
				for _, s := range socks {
					s.Close()
				}
			}
		})
	}
	b.Run("impl=raw", func(b *testing.B) {
		ctx := ctxFor(b)
		u := strings.Replace(srv.URL(), "http://", "ws://", 1) + "/socket.io/?EIO=4&transport=websocket"
		for range b.N {
			before := memInUse()
			conns := make([]*websocket.Conn, idleClients)
			done := make(chan struct{}, idleClients)
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
			b.ReportMetric(float64(memInUse()-before)/idleClients/1024, "KiB/client")
			for _, c := range conns {
				c.CloseNow()
			}
			for range conns {
				<-done
			}
		}
	})
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
