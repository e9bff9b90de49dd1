package sio_test

import (
	"context"
	"log"
	"log/slog"
	"os"
	"time"

	"github.com/sio-go/sio"
)

// A client that logs its connection's life. At slog.LevelDebug every
// packet is logged too.
func ExampleWithLogger() {
	url, stop := exampleServer()
	defer stop()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	logger := slog.New(slog.NewTextHandler(os.Stdout, &slog.HandlerOptions{
		Level: slog.LevelInfo,
		ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
			switch a.Key {
			case slog.TimeKey, "sid", "url": // they change from run to run
				return slog.Attr{}
			}
			return a
		},
	}))
	s, err := sio.Dial(ctx, url+"/chat", sio.WithLogger(logger), sio.WithTransports(sio.WebSocket))
	if err != nil {
		log.Fatal(err)
	}
	s.Close()
	// Output:
	// level=INFO msg="sio: handshake" transport=websocket eio=4 upgrades=[] pingInterval=25s pingTimeout=20s maxPayload=1000000
	// level=INFO msg="sio: connected" ns=/chat recovered=false
	// level=INFO msg="sio: disconnected" ns=/chat reason="sio: io client disconnect"
	// level=INFO msg="sio: connection closed" reason="sio: io client disconnect: connection closed by client"
}
