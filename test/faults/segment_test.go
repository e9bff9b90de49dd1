package faults_test

import (
	"bytes"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/sio-go/sio"
	"github.com/sio-go/sio/internal/testutil"
)

// payload is the object argument of some echo events, with binary nested
// in it.
type payload struct {
	N      int     `json:"n"`
	Text   string  `json:"text"`
	Ratio  float64 `json:"ratio"`
	List   []any   `json:"list"`
	Nested struct {
		Bin []byte `json:"bin"`
	} `json:"nested"`
}

// echoArgs returns the arguments of echo event i: JSON of every kind and
// binary, at the top level and nested, of sizes from 0 to a few KiB.
func echoArgs(i int) []any {
	bin := func(n int) []byte {
		b := make([]byte, n)
		for j := range b {
			b[j] = byte(i*31 + j)
		}
		return b
	}
	switch i % 5 {
	case 0:
		return []any{i, fmt.Sprintf("text %d: héllo \"wörld\" \\ \u2028 ✓ 😀", i)}
	case 1:
		return []any{i, bin(i * 13)}
	case 2:
		p := payload{N: i, Text: "ü€", Ratio: float64(i) / 8, List: []any{1.5, true, nil, "x", []any{}}}
		p.Nested.Bin = bin(1 + i%97)
		return []any{i, p}
	case 3:
		return []any{i, bin(0), bin(3), map[string]any{"k": []any{"v", float64(i)}}}
	default:
		return []any{i, bytes.Repeat([]byte{0x1e, 0, 0xff, 'b'}, 1+i*4)}
	}
}

// checkEcho decodes echo event i and compares it with what was sent.
func checkEcho(t *testing.T, i int, ev sio.Event) {
	t.Helper()
	if ev.Type != sio.EventMessage || ev.Name != "echo" {
		t.Fatalf("event %d: got %s, want an echo", i, testutil.Describe(ev))
	}
	sent := echoArgs(i)
	if ev.Args.Len() != len(sent) {
		t.Fatalf("echo %d has %d arguments, want %d: %s", i, ev.Args.Len(), len(sent), ev.Args.String())
	}
	var n int
	if err := ev.Args.Decode(&n); err != nil || n != i {
		t.Fatalf("echo %d: first argument %s (%v): out of order or corrupt", i, ev.Args.Raw(0), err)
	}
	for j := 1; j < len(sent); j++ {
		dst := reflect.New(reflect.TypeOf(sent[j]))
		if err := ev.Args.Decode(append(make([]any, j), dst.Interface())...); err != nil {
			t.Fatalf("echo %d: argument %d %s: %v", i, j, ev.Args.Raw(j), err)
		}
		got := dst.Elem().Interface()
		if b, ok := sent[j].([]byte); ok && len(b) == 0 {
			if g := got.([]byte); len(g) != 0 {
				t.Fatalf("echo %d: argument %d = %x, want empty", i, j, g)
			}
			continue
		}
		if !reflect.DeepEqual(got, sent[j]) {
			t.Fatalf("echo %d: argument %d = %#v, want %#v", i, j, got, sent[j])
		}
	}
}

// Every byte goes through the proxy in its own TCP segment, 50 ms late in
// each direction: 200 echo events of mixed JSON and binary come back
// intact and in order.
func TestSegmentedSlowPath(t *testing.T) {
	t.Parallel()
	const events = 200
	srv := startServer(t)
	forTransports(t, func(t *testing.T, tc transportCase) {
		ctx := testutil.Context(t, 60*time.Second)
		px := startProxy(t, srv)
		px.Segment(true)
		px.Latency(50 * time.Millisecond)
		s := dial(t, ctx, px, tc) // the handshake goes through the faults too

		start := time.Now()
		emitted := make(chan error, 1)
		go func() {
			for i := range events {
				if err := s.Emit(ctx, "echo", echoArgs(i)...); err != nil {
					emitted <- fmt.Errorf("Emit %d: %w", i, err)
					return
				}
			}
			emitted <- nil
		}()
		for i := range events {
			checkEcho(t, i, testutil.NextEvent(t, ctx, s.Socket))
		}
		if err := <-emitted; err != nil {
			t.Fatal(err)
		}
		t.Logf("%d echoes in %v", events, time.Since(start))
		ackEcho(t, ctx, s.Socket, "done")
		select {
		case ev := <-s.Events():
			t.Errorf("unexpected event after the echoes: %s", testutil.Describe(ev))
		default:
		}
	})
}
