package msgpack

import (
	"strings"
	"testing"

	"github.com/sio-go/sio/packet"
)

// BenchmarkCodec encodes and decodes one event with a 100-byte string,
// with this codec and, as the baseline, the JSON one.
func BenchmarkCodec(b *testing.B) {
	args := []any{strings.Repeat("x", 100)}
	for _, c := range []struct {
		name  string
		codec packet.Codec
	}{{"json", packet.JSON{}}, {"msgpack", Codec{}}} {
		b.Run("codec="+c.name, func(b *testing.B) {
			dec := c.codec.NewDecoder(10)
			b.ReportAllocs()
			for b.Loop() {
				msg, err := c.codec.Encode(packet.Header{Type: packet.Event}, "echo", args)
				if err != nil {
					b.Fatal(err)
				}
				f := msg.Head
				if !f.Binary {
					f, err = packet.ParseFrame(f.Data, false)
					if err != nil {
						b.Fatal(err)
					}
				}
				p, _, err := dec.Decode(f)
				if err != nil {
					b.Fatal(err)
				}
				var s string
				if err := c.codec.Unmarshal(p.Args[0], nil, &s); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
