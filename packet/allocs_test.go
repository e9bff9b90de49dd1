//go:build !race

// Allocation counts are exact only without the race detector, which
// allocates on its own; CI runs these in a separate pass without -race.

package packet

import (
	"strings"
	"testing"
)

func TestDecodeAllocs(t *testing.T) {
	d := JSON{}.NewDecoder(10)
	f := Frame{Data: []byte(`42["chat",{"user":"a","text":"hi"}]`)}
	allocs := testing.AllocsPerRun(100, func() {
		p, ok, err := d.Decode(f)
		if err != nil || !ok || p.Name != "chat" || len(p.Args) != 1 {
			t.Fatal(p, ok, err)
		}
	})
	if allocs > 2 {
		t.Errorf("decode: %v allocs, want ≤ 2", allocs)
	}
}

func TestEncodeAllocs(t *testing.T) {
	args := []any{chatMessage{User: "a", Text: "hi"}}
	h := Header{Type: Event}
	allocs := testing.AllocsPerRun(100, func() {
		if _, err := (JSON{}).Encode(h, "chat", args); err != nil {
			t.Fatal(err)
		}
	})
	if allocs > 2 {
		t.Errorf("encode: %v allocs, want ≤ 2", allocs)
	}
	strArgs := []any{"hello", 12, true, 1.5}
	allocs = testing.AllocsPerRun(100, func() {
		if _, err := (JSON{}).Encode(h, "chat", strArgs); err != nil {
			t.Fatal(err)
		}
	})
	if allocs > 1 {
		t.Errorf("encode scalars: %v allocs, want 1", allocs)
	}
}

func TestDecodePayloadAllocations(t *testing.T) {
	// Many tiny records: the frame slice is sized once.
	body := []byte(strings.Repeat("6\x1e", 999) + "6")
	allocs := testing.AllocsPerRun(20, func() {
		if _, err := DecodePayload(body); err != nil {
			t.Fatal(err)
		}
	})
	if allocs > 2 { // 1, the frame slice; some slack for the race detector
		t.Errorf("DecodePayload of 1000 text records: %v allocations, want 1", allocs)
	}
}

// TestParseOpenAllocs: an open packet as servers send it is read without
// reflection, into its session id and list of upgrades only.
func TestParseOpenAllocs(t *testing.T) {
	in := []byte(`{"sid":"lv_VI97HAXpY6yYWAAAC","upgrades":["websocket"],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}`)
	allocs := testing.AllocsPerRun(100, func() {
		if o, err := ParseOpen(in); err != nil || len(o.Upgrades) != 1 {
			t.Fatal(o, err)
		}
	})
	if allocs > 3 {
		t.Errorf("ParseOpen: %v allocs, want ≤ 3", allocs)
	}
}
