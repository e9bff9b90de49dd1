package interop_test

import (
	"bytes"
	"errors"
	"fmt"
	"reflect"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/sio-go/sio"
	"github.com/sio-go/sio/ack"
	"github.com/sio-go/sio/internal/testutil"
)

// The server acknowledges with the arguments it got.
func TestAckFromServer(t *testing.T) {
	t.Parallel()
	srv := startServer(t)
	forTransports(t, func(t *testing.T, tr transportCase) {
		ctx := testutil.Context(t, testTimeout)
		s := dial(t, ctx, srv.URL()+"/admin", tr.opts...)

		obj := map[string]any{"a": []any{1.0, "b"}, "c": nil}
		reply := call(t, ctx, s, "ack", "x", 12, obj, true, nil, []byte{9, 8, 7})
		if reply.Len() != 6 {
			t.Fatalf("ack has %d arguments, want 6: %s", reply.Len(), reply.String())
		}
		var (
			str   string
			n     int
			gotO  map[string]any
			b     bool
			null  any = "sentinel"
			bytez []byte
		)
		if err := reply.Decode(&str, &n, &gotO, &b, &null, &bytez); err != nil {
			t.Fatalf("Decode %s: %v", reply.String(), err)
		}
		if str != "x" || n != 12 || !b || null != nil || !reflect.DeepEqual(gotO, obj) || !bytes.Equal(bytez, []byte{9, 8, 7}) {
			t.Errorf("ack = %q %d %v %v %v %v", str, n, gotO, b, null, bytez)
		}

		// An ack with no arguments (echo acknowledges with none) resolves too,
		// and the event itself still arrives.
		reply = call(t, ctx, s, "echo", "e")
		if reply.Len() != 0 {
			t.Errorf("echo ack has arguments: %s", reply.String())
		}
		ev := nextMessage(t, ctx, s, "echo")
		var e string
		if err := ev.Args.Decode(&e); err != nil || e != "e" {
			t.Errorf("echo = %q, %v", e, err)
		}

		// Futures can be selected on through Done, and resolve with Result.
		fut, err := s.EmitWithAck(ctx, "ack", "sel")
		if err != nil {
			t.Fatal(err)
		}
		select {
		case <-fut.Done():
		case <-ctx.Done():
			t.Fatal("future not resolved")
		}
		v, err, ok := fut.Result()
		var got string
		if !ok || err != nil || v.Decode(&got) != nil || got != "sel" {
			t.Errorf("Result = %s, %v, %v", v.String(), err, ok)
		}
	})
}

// The server asks the client for an acknowledgement.
func TestAckToServer(t *testing.T) {
	t.Parallel()
	srv := startServer(t)
	forTransports(t, func(t *testing.T, tr transportCase) {
		for _, path := range []string{"", "/chat"} {
			t.Run("nsp"+path, func(t *testing.T) {
				ctx := testutil.Context(t, testTimeout)
				s := dial(t, ctx, srv.URL()+path, tr.opts...)
				for _, n := range []int{21, -5, 0} {
					if err := s.Emit(ctx, "ask", n); err != nil {
						t.Fatal(err)
					}
					q := nextMessage(t, ctx, s, "question")
					if !q.WantsAck() {
						t.Fatalf("question does not want an ack")
					}
					var got int
					if err := q.Args.Decode(&got); err != nil || got != n {
						t.Fatalf("question arg = %d, %v; want %d", got, err, n)
					}
					if err := q.Ack(ctx, got*2); err != nil {
						t.Fatalf("Ack: %v", err)
					}
					if err := q.Ack(ctx, got*3); !errors.Is(err, sio.ErrAlreadyAcked) {
						t.Errorf("second Ack = %v, want ErrAlreadyAcked", err)
					}
					a := nextMessage(t, ctx, s, "answer")
					if a.WantsAck() {
						t.Errorf("answer wants an ack")
					}
					if err := a.Ack(ctx, 1); !errors.Is(err, sio.ErrNoAck) {
						t.Errorf("Ack of an event without ack request = %v, want ErrNoAck", err)
					}
					var ans int
					if a.Args.Len() != 1 {
						t.Fatalf("answer has %d arguments: %s", a.Args.Len(), a.Args.String())
					}
					if err := a.Args.Decode(&ans); err != nil || ans != n*2 {
						t.Fatalf("answer = %d, %v; want %d", ans, err, n*2)
					}
				}
			})
		}
	})
}

// A copy of an event shares its ack request: only one reply is sent.
func TestAckCopiesShareRequest(t *testing.T) {
	t.Parallel()
	srv := startServer(t)
	ctx := testutil.Context(t, testTimeout)
	s := dial(t, ctx, srv.URL())
	if err := s.Emit(ctx, "ask", 1); err != nil {
		t.Fatal(err)
	}
	q := nextMessage(t, ctx, s, "question")
	cp := q
	if err := cp.Ack(ctx, "first"); err != nil {
		t.Fatal(err)
	}
	if err := q.Ack(ctx, "second"); !errors.Is(err, sio.ErrAlreadyAcked) {
		t.Errorf("Ack through the original after the copy = %v, want ErrAlreadyAcked", err)
	}
	a := nextMessage(t, ctx, s, "answer")
	var got string
	if err := a.Args.Decode(&got); err != nil || got != "first" {
		t.Errorf("answer = %q, %v", got, err)
	}
}

// The client's ack can carry several arguments and binary data.
func TestAckToServerArgs(t *testing.T) {
	t.Parallel()
	srv := startServer(t)
	forTransports(t, func(t *testing.T, tr transportCase) {
		ctx := testutil.Context(t, testTimeout)
		s := dial(t, ctx, srv.URL()+"/admin", tr.opts...)

		cases := []struct {
			name  string
			reply []any
		}{
			{"none", nil},
			{"several", []any{"s", 3.5, map[string]any{"k": []any{true, nil}}}},
			{"binary", []any{[]byte{1, 2, 3}, "x", map[string]any{"b": []byte{4}}}},
		}
		for i, tc := range cases {
			if err := s.Emit(ctx, "ask", i); err != nil {
				t.Fatal(err)
			}
			q := nextMessage(t, ctx, s, "question")
			if err := q.Ack(ctx, tc.reply...); err != nil {
				t.Fatalf("%s: Ack: %v", tc.name, err)
			}
			a := nextMessage(t, ctx, s, "answer")
			if a.Args.Len() != len(tc.reply) {
				t.Fatalf("%s: answer has %d arguments, want %d: %s", tc.name, a.Args.Len(), len(tc.reply), a.Args.String())
			}
			got := make([]any, len(tc.reply))
			dst := make([]any, len(tc.reply))
			for j := range got {
				dst[j] = &got[j]
			}
			if err := a.Args.Decode(dst...); err != nil {
				t.Fatalf("%s: Decode: %v", tc.name, err)
			}
			if len(tc.reply) > 0 && !reflect.DeepEqual(got, tc.reply) {
				t.Errorf("%s: answer = %#v, want %#v", tc.name, got, tc.reply)
			}
		}
	})
}

// 64 goroutines × 50 acknowledged emits at once: every reply reaches the
// future of its own request.
func TestConcurrentAcks(t *testing.T) {
	t.Parallel()
	srv := startServer(t)
	forTransports(t, func(t *testing.T, tr transportCase) {
		ctx := testutil.Context(t, testTimeout)
		s := dial(t, ctx, srv.URL()+"/admin", tr.opts...)

		const goroutines, perG = 64, 50
		var resolved, failures atomic.Int64
		report := func(format string, args ...any) {
			if failures.Add(1) <= 10 {
				t.Errorf(format, args...)
			}
		}
		var wg sync.WaitGroup
		for g := range goroutines {
			wg.Add(1)
			go func() {
				defer wg.Done()
				futs := make([]*ack.Future[sio.Args], perG)
				for i := range perG {
					f, err := s.EmitWithAck(ctx, "ack", g, i, fmt.Sprintf("g%d-i%d", g, i))
					if err != nil {
						report("goroutine %d: EmitWithAck %d: %v", g, i, err)
						return
					}
					futs[i] = f
				}
				for i, f := range futs {
					args, err := f.Wait(ctx)
					if err != nil {
						report("goroutine %d: ack %d: %v", g, i, err)
						continue
					}
					var g2, i2 int
					var tag string
					if args.Len() != 3 {
						report("goroutine %d: ack %d has %d args: %s", g, i, args.Len(), args.String())
						continue
					}
					if err := args.Decode(&g2, &i2, &tag); err != nil {
						report("goroutine %d: ack %d: Decode: %v", g, i, err)
						continue
					}
					if g2 != g || i2 != i || tag != fmt.Sprintf("g%d-i%d", g, i) {
						report("goroutine %d: ack %d got the reply of (%d, %d, %q)", g, i, g2, i2, tag)
						continue
					}
					resolved.Add(1)
				}
			}()
		}
		wg.Wait()
		if n := resolved.Load(); n != goroutines*perG {
			t.Fatalf("%d of %d acks resolved correctly", n, goroutines*perG)
		}
		// The socket is still healthy.
		if inf := info(t, ctx, s); inf.ID != s.ID() {
			t.Errorf("info id = %q, want %q", inf.ID, s.ID())
		}
	})
}
