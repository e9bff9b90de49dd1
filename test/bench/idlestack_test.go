//go:build !race

// The race detector makes every stack frame larger, so the stack sizes this
// file asserts hold only without it; CI runs it in its pass without -race.

package bench

import (
	"context"
	"runtime"
	"runtime/metrics"
	"testing"
	"time"

	"github.com/sio-go/sio"
	"github.com/sio-go/sio/test/nodeserver"
)

// Idle clients keep goroutines starting with 2 KiB stacks: the runtime
// starts a goroutine with the average stack in use at the last collection,
// so one idle goroutine parked in a deep frame would make every goroutine
// of the program, the clients' own included, start at 4 KiB and keep it
// (see "Goroutine stacks" in the package documentation). It holds on both
// paths, once the default path's clients have upgraded.
func TestIdleStacksStartSmall(t *testing.T) {
	srv := nodeserver.Start(t)
	for _, row := range []struct {
		name string
		opts []sio.Option
	}{
		{"default", nil},
		{"websocket", []sio.Option{sio.WithTransports(sio.WebSocket)}},
	} {
		t.Run(row.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
			defer cancel()
			socks := dialIdle(t, ctx, srv.URL(), 200, row.opts...)
			defer closeAll(socks)
			runtime.GC()
			runtime.GC()
			sample := []metrics.Sample{{Name: "/gc/stack/starting-size:bytes"}}
			metrics.Read(sample)
			if got := sample[0].Value.Uint64(); got != 2048 {
				t.Errorf("with %d idle clients, goroutines start with %d-byte stacks, want 2048", len(socks), got)
			}
		})
	}
}
