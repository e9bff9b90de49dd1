package interop_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"

	"github.com/sio-go/sio"
	"github.com/sio-go/sio/internal/testutil"
)

type point struct {
	X, Y int
}

type nested struct {
	Name   string            `json:"name"`
	Tags   []string          `json:"tags"`
	Points []point           `json:"points"`
	Attrs  map[string]string `json:"attrs"`
	Inner  *nested           `json:"inner,omitempty"`
	Ok     bool              `json:"ok"`
	Ratio  float64           `json:"ratio"`
}

// JSON arguments of every kind make the round trip through the server.
func TestJSONEcho(t *testing.T) {
	t.Parallel()
	srv := startServer(t)
	forTransports(t, func(t *testing.T, tr transportCase) {
		ctx := testutil.Context(t, testTimeout)
		s := dial(t, ctx, srv.URL()+"/chat", tr.opts...)

		str := "héllo \"wörld\" \\ \u2028 ✓ 😀 <tag> \x01"
		obj := nested{
			Name:   "outer",
			Tags:   []string{"a", "", "ü"},
			Points: []point{{1, 2}, {-3, 4}},
			Attrs:  map[string]string{"k": "v", "empty": ""},
			Inner:  &nested{Name: "inner", Tags: []string{}, Points: []point{}, Attrs: map[string]string{}, Ratio: -0.25},
			Ok:     true,
			Ratio:  1.5e-7,
		}
		arr := []any{1.0, "two", []any{3.0, []any{}}, map[string]any{"four": 4.0}, nil, false}
		const big = int64(1) << 53

		if err := s.Emit(ctx, "echo", str, 42, -3.25, big, obj, arr, true, false, nil, ""); err != nil {
			t.Fatalf("Emit: %v", err)
		}
		ev := nextMessage(t, ctx, s, "echo")
		if ev.WantsAck() {
			t.Errorf("echo event wants an ack; the server asked for none")
		}
		if ev.Args.Len() != 10 {
			t.Fatalf("echo has %d arguments, want 10: %s", ev.Args.Len(), ev.Args.String())
		}
		var (
			gotStr           string
			gotInt           int
			gotFloat         float64
			gotBig           int64
			gotObj           nested
			gotArr           []any
			gotTrue, gotFals bool
			gotNull          *string
			gotEmpty         string
		)
		sentinel := "not null"
		gotNull = &sentinel
		if err := ev.Args.Decode(&gotStr, &gotInt, &gotFloat, &gotBig, &gotObj, &gotArr, &gotTrue, &gotFals, &gotNull, &gotEmpty); err != nil {
			t.Fatalf("Decode %s: %v", ev.Args.String(), err)
		}
		if gotStr != str {
			t.Errorf("string = %q, want %q", gotStr, str)
		}
		if gotInt != 42 || gotFloat != -3.25 || gotBig != big {
			t.Errorf("numbers = %d %v %d, want 42 -3.25 %d", gotInt, gotFloat, gotBig, big)
		}
		if !reflect.DeepEqual(gotObj, obj) {
			t.Errorf("object = %+v, want %+v", gotObj, obj)
		}
		if !reflect.DeepEqual(gotArr, arr) {
			t.Errorf("array = %#v, want %#v", gotArr, arr)
		}
		if !gotTrue || gotFals {
			t.Errorf("bools = %v %v, want true false", gotTrue, gotFals)
		}
		if gotNull != nil {
			t.Errorf("null decoded into %q, want nil pointer", *gotNull)
		}
		if string(ev.Args.Raw(8)) != "null" {
			t.Errorf("Raw(8) = %s, want null", ev.Args.Raw(8))
		}
		if gotEmpty != "" || string(ev.Args.Raw(9)) != `""` {
			t.Errorf("empty string = %q (raw %s)", gotEmpty, ev.Args.Raw(9))
		}

		// Decoding fewer arguments, skipping some, and asking for too many.
		var first string
		var fourth int64
		if err := ev.Args.Decode(&first, nil, nil, &fourth); err != nil || first != str || fourth != big {
			t.Errorf("partial Decode = %q %d %v", first, fourth, err)
		}
		many := make([]any, 11)
		for i := range many {
			many[i] = new(any)
		}
		if err := ev.Args.Decode(many...); err == nil {
			t.Errorf("Decode of 11 destinations for 10 arguments succeeded")
		}

		// An event with no argument at all.
		if err := s.Emit(ctx, "echo"); err != nil {
			t.Fatalf("Emit without args: %v", err)
		}
		if ev := nextMessage(t, ctx, s, "echo"); ev.Args.Len() != 0 {
			t.Errorf("echo without args came back with %s", ev.Args.String())
		}
	})
}

// Decoding into any gives the generic JSON shapes.
func TestJSONDecodeAny(t *testing.T) {
	t.Parallel()
	srv := startServer(t)
	forTransports(t, func(t *testing.T, tr transportCase) {
		ctx := testutil.Context(t, testTimeout)
		s := dial(t, ctx, srv.URL(), tr.opts...)
		in := map[string]any{"a": []any{1.0, "x", nil, true}, "b": map[string]any{"c": -2.5}}
		if err := s.Emit(ctx, "echo", in, json.RawMessage(`{"raw":[1,2]}`)); err != nil {
			t.Fatal(err)
		}
		ev := nextMessage(t, ctx, s, "echo")
		var got, raw any
		if err := ev.Args.Decode(&got, &raw); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, in) {
			t.Errorf("got %#v, want %#v", got, in)
		}
		if want := (map[string]any{"raw": []any{1.0, 2.0}}); !reflect.DeepEqual(raw, want) {
			t.Errorf("json.RawMessage came back as %#v", raw)
		}
	})
}

// randomBytes returns n deterministic pseudo-random bytes.
func randomBytes(n int, seed uint64) []byte {
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

// Against socket.io 3.x, which announces no maxPayload, the client assumes
// engine.io's default, 1e6 bytes, although this server would take 4e6: Emit
// refuses the 1 MiB attachment (nothing is sent, the connection goes on).
// 1 MiB then travels the other way, as the server's ack of "binary", and
// the echo is of the largest attachment that the assumed limit lets through
// over every transport (749997 bytes: "b" + base64 over polling).
func TestBinaryEchoOneMiB(t *testing.T) {
	t.Parallel()
	// The default maxHttpBufferSize (1e6) is below 1 MiB.
	srv := startServer(t, "--max-http-buffer-size", "4000000")
	forTransports(t, func(t *testing.T, tr transportCase) {
		ctx := testutil.Context(t, testTimeout)
		s := dial(t, ctx, srv.URL(), tr.opts...)
		big := randomBytes(1<<20, 1)
		want := bytes.Clone(big)

		echoed := big
		if legacy3() {
			if err := s.Emit(ctx, "echo", big); !errors.Is(err, sio.ErrPayloadTooLarge) {
				t.Fatalf("Emit of 1 MiB to a server announcing no maxPayload = %v, want ErrPayloadTooLarge", err)
			}
			var fromServer []byte
			if err := call(t, ctx, s, "binary", 1<<20).Decode(&fromServer); err != nil || len(fromServer) != 1<<20 {
				t.Fatalf("binary 1 MiB from the server: %d bytes, %v", len(fromServer), err)
			}
			for i, b := range fromServer {
				if b != byte(i) {
					t.Fatalf("binary 1 MiB from the server: byte %d is %d, want %d", i, b, byte(i))
				}
			}
			echoed = big[:749997]
		}
		if err := s.Emit(ctx, "echo", echoed); err != nil {
			t.Fatalf("Emit: %v", err)
		}
		ev := nextMessage(t, ctx, s, "echo")
		if ev.Args.Len() != 1 {
			t.Fatalf("echo has %d arguments: %.200s", ev.Args.Len(), ev.Args.String())
		}
		var got []byte
		if err := ev.Args.Decode(&got); err != nil {
			t.Fatalf("Decode: %v", err)
		}
		if !bytes.Equal(got, want[:len(echoed)]) {
			t.Fatalf("%d-byte echo differs: got %d bytes", len(echoed), len(got))
		}
		if !bytes.Equal(big, want) {
			t.Errorf("Emit modified the caller's slice")
		}

		// A large attachment through an acknowledgement too (a BINARY_ACK
		// from the server); 256 KiB keeps the test quick under -race.
		quarter := big[:256<<10]
		reply := call(t, ctx, s, "ack", quarter, "tail")
		var gotAck []byte
		var tail string
		if err := reply.Decode(&gotAck, &tail); err != nil {
			t.Fatalf("Decode ack: %v", err)
		}
		if !bytes.Equal(gotAck, want[:256<<10]) || tail != "tail" {
			t.Fatalf("256 KiB ack differs: %d bytes, tail %q", len(gotAck), tail)
		}
	})
}

type blob struct {
	Name  string   `json:"name"`
	Data  []byte   `json:"data"`
	Parts [][]byte `json:"parts"`
	Meta  struct {
		Thumb []byte `json:"thumb"`
		Size  int    `json:"size"`
	} `json:"meta"`
	Nil []byte `json:"nil"`
}

func TestBinaryStructAndMap(t *testing.T) {
	t.Parallel()
	srv := startServer(t)
	forTransports(t, func(t *testing.T, tr transportCase) {
		ctx := testutil.Context(t, testTimeout)
		s := dial(t, ctx, srv.URL()+"/admin", tr.opts...)

		var b blob
		b.Name = "pic"
		b.Data = randomBytes(70000, 2)
		b.Parts = [][]byte{{0}, {1, 2}, randomBytes(300, 3)}
		b.Meta.Thumb = []byte{0xff, 0x00, 0x7f}
		b.Meta.Size = 70000
		m := map[string][]byte{"one": {1}, "two": {2, 2}, "big": randomBytes(5000, 4)}

		if err := s.Emit(ctx, "echo", b, m); err != nil {
			t.Fatalf("Emit: %v", err)
		}
		ev := nextMessage(t, ctx, s, "echo")
		if ev.Args.Len() != 2 {
			t.Fatalf("echo has %d arguments", ev.Args.Len())
		}
		if !strings.Contains(string(ev.Args.Raw(0)), `"_placeholder":true`) {
			t.Errorf("Raw(0) has no placeholder: %.200s", ev.Args.Raw(0))
		}
		var gotB blob
		var gotM map[string][]byte
		if err := ev.Args.Decode(&gotB, &gotM); err != nil {
			t.Fatalf("Decode: %v", err)
		}
		if !reflect.DeepEqual(gotB, b) {
			t.Errorf("struct differs:\n got name=%q data=%d parts=%v meta=%+v nil=%v\nwant name=%q data=%d",
				gotB.Name, len(gotB.Data), len(gotB.Parts), gotB.Meta, gotB.Nil, b.Name, len(b.Data))
		}
		if !reflect.DeepEqual(gotM, m) {
			t.Errorf("map differs: got keys %d", len(gotM))
		}

		// Into generic values, attachments come out as []byte.
		var anyB, anyM any
		if err := ev.Args.Decode(&anyB, &anyM); err != nil {
			t.Fatalf("Decode into any: %v", err)
		}
		ob, ok := anyB.(map[string]any)
		if !ok {
			t.Fatalf("struct into any = %T", anyB)
		}
		if d, ok := ob["data"].([]byte); !ok || !bytes.Equal(d, b.Data) {
			t.Errorf("struct.data into any = %T", ob["data"])
		}
		if meta, ok := ob["meta"].(map[string]any); !ok || !bytes.Equal(asBytes(meta["thumb"]), b.Meta.Thumb) || meta["size"] != 70000.0 {
			t.Errorf("struct.meta into any = %#v", ob["meta"])
		}
		if ob["nil"] != nil {
			t.Errorf("nil []byte came back as %#v, want null", ob["nil"])
		}
		om, ok := anyM.(map[string]any)
		if !ok || len(om) != 3 || !bytes.Equal(asBytes(om["two"]), []byte{2, 2}) || !bytes.Equal(asBytes(om["big"]), m["big"]) {
			t.Errorf("map into any = %T with %d keys", anyM, len(om))
		}
	})
}

func asBytes(v any) []byte {
	b, _ := v.([]byte)
	return b
}

// Several attachments in one packet, at the top level and nested, up to the
// official parser's limit of 10, keep their order.
func TestBinaryManyAttachments(t *testing.T) {
	t.Parallel()
	srv := startServer(t)
	forTransports(t, func(t *testing.T, tr transportCase) {
		ctx := testutil.Context(t, testTimeout)
		s := dial(t, ctx, srv.URL(), tr.opts...)

		a0, a1, a2 := []byte{0}, []byte{1, 1}, randomBytes(1000, 5)
		nestedList := [][]byte{{3}, {4, 4}, {5}}
		obj := map[string]any{"k": []byte{6}, "l": []any{[]byte{7}, "x", map[string]any{"deep": []byte{8, 8, 8}}}}
		last := []byte("nine")
		if err := s.Emit(ctx, "echo", a0, "mid", a1, a2, nestedList, obj, last); err != nil {
			t.Fatalf("Emit: %v", err)
		}
		ev := nextMessage(t, ctx, s, "echo")
		var (
			g0, g1, g2, gLast []byte
			mid               string
			gList             [][]byte
			gObj              struct {
				K []byte `json:"k"`
				L []any  `json:"l"`
			}
		)
		if err := ev.Args.Decode(&g0, &mid, &g1, &g2, &gList, &gObj, &gLast); err != nil {
			t.Fatalf("Decode %s: %v", ev.Args.String(), err)
		}
		if !bytes.Equal(g0, a0) || mid != "mid" || !bytes.Equal(g1, a1) || !bytes.Equal(g2, a2) || !bytes.Equal(gLast, last) {
			t.Errorf("top-level attachments differ: %v %q %v len %d %q", g0, mid, g1, len(g2), gLast)
		}
		if !reflect.DeepEqual(gList, nestedList) {
			t.Errorf("list = %v, want %v", gList, nestedList)
		}
		if !bytes.Equal(gObj.K, []byte{6}) {
			t.Errorf("obj.k = %v", gObj.K)
		}
		// An interface field inside a struct gets the base64 text (as
		// documented); a map[string]any destination gets the bytes.
		var full map[string]any
		if err := ev.Args.Decode(nil, nil, nil, nil, nil, &full); err != nil {
			t.Fatal(err)
		}
		gl, _ := full["l"].([]any)
		if len(gl) != 3 || !bytes.Equal(asBytes(gl[0]), []byte{7}) || gl[1] != "x" {
			t.Fatalf("obj.l = %#v", full["l"])
		}
		if deep, _ := gl[2].(map[string]any); !bytes.Equal(asBytes(deep["deep"]), []byte{8, 8, 8}) {
			t.Errorf("obj.l[2] = %#v", gl[2])
		}
	})
}

// An empty (non-nil) []byte is an attachment of zero bytes.
func TestBinaryEmpty(t *testing.T) {
	t.Parallel()
	srv := startServer(t)
	forTransports(t, func(t *testing.T, tr transportCase) {
		ctx := testutil.Context(t, testTimeout)
		s := dial(t, ctx, srv.URL(), tr.opts...)
		if err := s.Emit(ctx, "echo", []byte{}, "after"); err != nil {
			t.Fatalf("Emit: %v", err)
		}
		ev := nextMessage(t, ctx, s, "echo")
		var got []byte
		var after string
		if err := ev.Args.Decode(&got, &after); err != nil {
			t.Fatalf("Decode %s: %v", ev.Args.String(), err)
		}
		if got == nil || len(got) != 0 || after != "after" {
			t.Errorf("empty []byte came back as %#v, %q", got, after)
		}
	})
}

// The server sends n generated bytes through an ack or as an event.
func TestBinaryFromServer(t *testing.T) {
	t.Parallel()
	srv := startServer(t)
	forTransports(t, func(t *testing.T, tr transportCase) {
		ctx := testutil.Context(t, testTimeout)
		s := dial(t, ctx, srv.URL()+"/chat", tr.opts...)
		check := func(what string, got []byte, n int) {
			t.Helper()
			if len(got) != n {
				t.Fatalf("%s: %d bytes, want %d", what, len(got), n)
			}
			for i, b := range got {
				if b != byte(i%256) {
					t.Fatalf("%s: byte %d = %d, want %d", what, i, b, i%256)
				}
			}
		}
		for _, n := range []int{1, 256, 100000} {
			reply := call(t, ctx, s, "binary", n)
			if reply.Len() != 1 {
				t.Fatalf("binary ack has %d arguments", reply.Len())
			}
			var got []byte
			if err := reply.Decode(&got); err != nil {
				t.Fatalf("Decode: %v", err)
			}
			check("ack", got, n)
		}
		if err := s.Emit(ctx, "binary", 3000); err != nil {
			t.Fatal(err)
		}
		ev := nextMessage(t, ctx, s, "binary")
		var got []byte
		if err := ev.Args.Decode(&got); err != nil {
			t.Fatalf("Decode: %v", err)
		}
		check("event", got, 3000)
	})
}

// Events whose first element is not a string are delivered with Name "" and
// every element in Args.
func TestEventWithoutStringName(t *testing.T) {
	t.Parallel()
	srv := startServer(t)
	forTransports(t, func(t *testing.T, tr transportCase) {
		for _, path := range []string{"", "/admin"} {
			t.Run("nsp"+path, func(t *testing.T) {
				ctx := testutil.Context(t, testTimeout)
				s := dial(t, ctx, srv.URL()+path, tr.opts...)

				if err := s.Emit(ctx, "emit-buffer"); err != nil {
					t.Fatal(err)
				}
				ev := testutil.NextEvent(t, ctx, s)
				if ev.Type != sio.EventMessage || ev.Name != "" {
					t.Fatalf("emit-buffer: got %s, want a message with Name \"\"", testutil.Describe(ev))
				}
				if ev.Args.Len() != 1 {
					t.Fatalf("emit-buffer: %d arguments, want 1: %s", ev.Args.Len(), ev.Args.String())
				}
				var buf []byte
				if err := ev.Args.Decode(&buf); err != nil {
					t.Fatalf("emit-buffer: Decode: %v", err)
				}
				if !bytes.Equal(buf, []byte{1, 2, 3}) {
					t.Errorf("emit-buffer: Args[0] = %v, want [1 2 3]", buf)
				}

				if err := s.Emit(ctx, "emit-number"); err != nil {
					t.Fatal(err)
				}
				ev = testutil.NextEvent(t, ctx, s)
				if ev.Type != sio.EventMessage || ev.Name != "" {
					t.Fatalf("emit-number: got %s, want a message with Name \"\"", testutil.Describe(ev))
				}
				if ev.Args.Len() != 2 {
					t.Fatalf("emit-number: %d arguments, want 2: %s", ev.Args.Len(), ev.Args.String())
				}
				var n int
				var a string
				if err := ev.Args.Decode(&n, &a); err != nil {
					t.Fatalf("emit-number: Decode: %v", err)
				}
				if n != 1 || a != "a" {
					t.Errorf("emit-number: Args = %d %q, want 1 \"a\"", n, a)
				}

				// The connection is still fine afterwards.
				if inf := info(t, ctx, s); inf.ID != s.ID() {
					t.Errorf("info id %q != %q", inf.ID, s.ID())
				}
			})
		}
	})
}
