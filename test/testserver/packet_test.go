package testserver

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestParsePacket(t *testing.T) {
	tests := []struct {
		in          string
		typ         byte
		attachments int
		nsp         string
		id          int64 // -1: none
		data        string
	}{
		{"0", '0', 0, "/", -1, ""},
		{`0/admin,{"token":"123"}`, '0', 0, "/admin", -1, `{"token":"123"}`},
		{"0/admin", '0', 0, "/admin", -1, ""},
		{"1/admin,", '1', 0, "/admin", -1, ""},
		{`2["hello","world",{"a":1}]`, '2', 0, "/", -1, `["hello","world",{"a":1}]`},
		{`212["hello"]`, '2', 0, "/", 12, `["hello"]`},
		{`2/admin,12["hello"]`, '2', 0, "/admin", 12, `["hello"]`},
		{`2[1,"numeric name"]`, '2', 0, "/", -1, `[1,"numeric name"]`},
		{`312["got it"]`, '3', 0, "/", 12, `["got it"]`},
		{`312`, '3', 0, "/", 12, ""},
		{`4/admin,{"message":"Not authorized","data":{"code":401}}`, '4', 0, "/admin", -1, `{"message":"Not authorized","data":{"code":401}}`},
		{`4"Not authorized"`, '4', 0, "/", -1, `"Not authorized"`},
		{`51-["up",{"_placeholder":true,"num":0}]`, '5', 1, "/", -1, `["up",{"_placeholder":true,"num":0}]`},
		{`50-["up"]`, '5', 0, "/", -1, `["up"]`},
		{`61-/admin,12[{"_placeholder":true,"num":0}]`, '6', 1, "/admin", 12, `[{"_placeholder":true,"num":0}]`},
		{`510-[1,{"k":[{"_placeholder":true,"num":9}]}]`, '5', 10, "/", -1, `[1,{"k":[{"_placeholder":true,"num":9}]}]`},
		{`2 ["spaces"] `, '2', 0, "/", -1, ` ["spaces"] `},
	}
	for _, tt := range tests {
		p, err := parsePacket(tt.in)
		if err != nil {
			t.Errorf("parsePacket(%q): %v", tt.in, err)
			continue
		}
		id := int64(-1)
		if p.hasID {
			id = p.id
		}
		if p.typ != tt.typ || p.attachments != tt.attachments || p.nsp != tt.nsp || id != tt.id || string(p.data) != tt.data {
			t.Errorf("parsePacket(%q) = %c %d %q %d %q", tt.in, p.typ, p.attachments, p.nsp, id, p.data)
		}
	}
}

func TestParsePacketErrors(t *testing.T) {
	for _, in := range []string{
		"", "7", "x", "0[]", `0"s"`, "0x", `1{}`, "2", "2[]", `2{}`, `2[null]`, `2[["a"]]`,
		`2["connect"]`, `2["connect_error"]`, `2["disconnect"]`, `2["disconnecting"]`, `2["newListener"]`, `2["removeListener"]`,
		`2["a"`, `2["a"]]`, `3{}`, `3"x"`, `4[]`, `5["a"]`, `5-["a"]`, `5x-["a"]`, `5+1-["a"]`, `511-["a"]`, `5100-["a"]`,
		`51-["a",{"_placeholder":true,"num":1}]`, `51-["a",{"_placeholder":true,"num":-1}]`,
		`51-["a",{"_placeholder":true,"num":0.5}]`, `51-["a",{"_placeholder":true}]`, `51-`,
		`299999999999999999999["a"]`, `2,["a"]`,
	} {
		if p, err := parsePacket(in); err == nil {
			t.Errorf("parsePacket(%q) accepted: %+v", in, p)
		}
	}
}

func TestEncodePacket(t *testing.T) {
	args := []json.RawMessage{json.RawMessage(`1`), json.RawMessage(`{"_placeholder":true,"num":0}`)}
	tests := []struct{ got, want string }{
		{encodePacket(sioConnect, "/", -1, []byte(`{"sid":"x"}`), 0), `40{"sid":"x"}`},
		{encodePacket(sioDisconnect, "/admin", -1, nil, 0), `41/admin,`},
		{encodePacket(sioDisconnect, "/", -1, nil, 0), `41`},
		{eventPacket("/", -1, "a", nil, nil), `42["a"]`},
		{eventPacket("/admin", 3, "a", args[:1], nil), `42/admin,3["a",1]`},
		{eventPacket("/", -1, "a", args, [][]byte{{1}}), `451-["a",1,{"_placeholder":true,"num":0}]`},
		{ackPacket("/", 0, nil, nil), `430[]`},
		{ackPacket("/x", 12, args, [][]byte{{1}}), `461-/x,12[1,{"_placeholder":true,"num":0}]`},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("got %q, want %q", tt.got, tt.want)
		}
	}
}

// FuzzParsePacket checks that the decoder never panics and that what it
// accepts survives a re-encoding.
func FuzzParsePacket(f *testing.F) {
	for _, s := range []string{"0", `0/admin,{"a":1}`, `2/a,1["x",{"y":[1]}]`, `51-["a",{"_placeholder":true,"num":0}]`, "1/a,", `3[]`, `4"x"`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := parsePacket(s)
		if err != nil {
			return
		}
		id := int64(-1)
		if p.hasID {
			id = p.id
		}
		enc := encodePacket(p.typ, p.nsp, id, p.data, p.attachments)
		q, err := parsePacket(strings.TrimPrefix(enc, "4"))
		if err != nil {
			t.Fatalf("%q re-encoded as %q: %v", s, enc, err)
		}
		if q.typ != p.typ || q.nsp != p.nsp || q.hasID != p.hasID || q.id != p.id || q.attachments != p.attachments || string(q.data) != string(p.data) {
			t.Fatalf("%q re-encoded as %q decodes differently", s, enc)
		}
	})
}
