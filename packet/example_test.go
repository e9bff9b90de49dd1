package packet_test

import (
	"fmt"

	"github.com/sio-go/sio/packet"
)

func ExampleJSON_Encode() {
	type chat struct {
		User string `json:"user"`
		Text string `json:"text"`
	}
	codec := packet.JSON{}
	m, _ := codec.Encode(packet.Header{Type: packet.Event}, "chat", []any{chat{"a", "hi"}})
	fmt.Println(string(m.Head.Data))

	m, _ = codec.Encode(packet.Header{Type: packet.Event, Namespace: "/admin", ID: 12, HasID: true},
		"up", []any{map[string]any{"file": []byte{1, 2, 3}}})
	fmt.Println(string(m.Head.Data), m.Attachments)
	// Output:
	// 42["chat",{"user":"a","text":"hi"}]
	// 451-/admin,12["up",{"file":{"_placeholder":true,"num":0}}] [[1 2 3]]
}

func ExampleDecoder() {
	codec := packet.JSON{}
	dec := codec.NewDecoder(10)
	frames := []packet.Frame{
		{Data: []byte(`42/admin,7["hello","world"]`)},
		{Data: []byte(`451-["up",{"_placeholder":true,"num":0}]`)},
		{Data: []byte{1, 2, 3}, Binary: true},
	}
	for _, f := range frames {
		p, ok, err := dec.Decode(f)
		if err != nil || !ok {
			fmt.Println("waiting:", ok, err)
			continue
		}
		fmt.Println(p.Type, p.Namespace, p.ID, p.Name, len(p.Args))
		if p.Type == packet.BinaryEvent {
			var b []byte
			_ = codec.Unmarshal(p.Args[0], p.Attachments, &b)
			fmt.Println(b)
		}
	}
	// Output:
	// EVENT /admin 7 hello 1
	// waiting: false <nil>
	// BINARY_EVENT / 0 up 1
	// [1 2 3]
}

func ExampleParseOpen() {
	f, _ := packet.ParseFrame([]byte(`0{"sid":"lv_VI97HAXpY6yYWAAAC","upgrades":["websocket"],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}`), false)
	if f.Type() == packet.FrameOpen {
		o, _ := packet.ParseOpen(f.Payload())
		fmt.Println(o.SID, o.Upgrades, o.PingInterval, o.PingTimeout, o.MaxPayload)
	}
	// Output: lv_VI97HAXpY6yYWAAAC [websocket] 25s 20s 1000000
}
