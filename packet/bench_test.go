package packet

import "testing"

func BenchmarkDecodeEvent(b *testing.B) {
	d := JSON{}.NewDecoder(10)
	f := Frame{Data: []byte(`42["chat",{"user":"a","text":"hi"}]`)}
	b.ReportAllocs()
	for b.Loop() {
		p, ok, err := d.Decode(f)
		if err != nil || !ok || p.Name != "chat" || len(p.Args) != 1 {
			b.Fatal(p, ok, err)
		}
	}
}

func BenchmarkEncodeEvent(b *testing.B) {
	h := Header{Type: Event}
	args := []any{chatMessage{User: "a", Text: "hi"}}
	b.ReportAllocs()
	for b.Loop() {
		m, err := JSON{}.Encode(h, "chat", args)
		if err != nil || len(m.Head.Data) != 35 {
			b.Fatal(string(m.Head.Data), err)
		}
	}
}

func BenchmarkEncodeBinaryEvent(b *testing.B) {
	h := Header{Type: Event}
	args := []any{"file.bin", []byte("\x00\x01\x02\x03"), map[string]any{"thumb": []byte("\x04\x05")}}
	b.ReportAllocs()
	for b.Loop() {
		m, err := JSON{}.Encode(h, "upload", args)
		if err != nil || len(m.Attachments) != 2 {
			b.Fatal(string(m.Head.Data), err)
		}
	}
}

func BenchmarkEncodeBinaryStruct(b *testing.B) {
	h := Header{Type: Event}
	args := []any{upload{Name: "f", Data: []byte("data"), Parts: [][]byte{[]byte("p0")}}}
	b.ReportAllocs()
	for b.Loop() {
		m, err := JSON{}.Encode(h, "upload", args)
		if err != nil || len(m.Attachments) != 2 {
			b.Fatal(string(m.Head.Data), err)
		}
	}
}

func BenchmarkDecodeBinaryEvent(b *testing.B) {
	d := JSON{}.NewDecoder(10)
	head := Frame{Data: []byte(`452-["upload","file.bin",{"_placeholder":true,"num":0},{"thumb":{"_placeholder":true,"num":1}}]`)}
	att0 := Frame{Data: []byte("\x00\x01\x02\x03"), Binary: true}
	att1 := Frame{Data: []byte("\x04\x05"), Binary: true}
	b.ReportAllocs()
	for b.Loop() {
		d.Decode(head)
		d.Decode(att0)
		p, ok, err := d.Decode(att1)
		if err != nil || !ok || len(p.Attachments) != 2 {
			b.Fatal(p, ok, err)
		}
	}
}

func BenchmarkUnmarshalBinaryStruct(b *testing.B) {
	raw := []byte(`{"name":"f","data":{"_placeholder":true,"num":0},"parts":[{"_placeholder":true,"num":1}]}`)
	atts := [][]byte{[]byte("data"), []byte("p0")}
	b.ReportAllocs()
	for b.Loop() {
		var u upload
		if err := (JSON{}).Unmarshal(raw, atts, &u); err != nil {
			b.Fatal(err)
		}
	}
}
