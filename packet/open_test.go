package packet

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestParseOpen(t *testing.T) {
	tests := []struct {
		in   string
		want Open
	}{
		{
			`{"sid":"lv_VI97HAXpY6yYWAAAC","upgrades":["websocket"],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}`,
			Open{SID: "lv_VI97HAXpY6yYWAAAC", Upgrades: []string{"websocket"}, PingInterval: 25 * time.Second, PingTimeout: 20 * time.Second, MaxPayload: 1000000},
		},
		{ // the sample session of the protocol document
			`{"sid":"lv_VI97HAXpY6yYWAAAC","upgrades":["websocket"],"pingInterval":25000,"pingTimeout":5000,"maxPayload":1000000}`,
			Open{SID: "lv_VI97HAXpY6yYWAAAC", Upgrades: []string{"websocket"}, PingInterval: 25 * time.Second, PingTimeout: 5 * time.Second, MaxPayload: 1000000},
		},
		{ // Engine.IO v3: no maxPayload
			`{"sid":"abc","upgrades":[],"pingInterval":25000,"pingTimeout":5000}`,
			Open{SID: "abc", Upgrades: []string{}, PingInterval: 25 * time.Second, PingTimeout: 5 * time.Second},
		},
		{ // over WebSocket, no upgrades; extra fields ignored; whitespace
			` { "sid" : "x", "pingInterval" : 1, "pingTimeout" : 86400000, "maxPayload" : 0, "other": [1] } `,
			Open{SID: "x", PingInterval: time.Millisecond, PingTimeout: 24 * time.Hour},
		},
		{
			`{"sid":"x","pingInterval":300,"pingTimeout":200,"maxPayload":null}`,
			Open{SID: "x", PingInterval: 300 * time.Millisecond, PingTimeout: 200 * time.Millisecond},
		},
		{
			`{"sid":"x","pingInterval":300,"pingTimeout":200,"maxPayload":9223372036854775807}`,
			Open{SID: "x", PingInterval: 300 * time.Millisecond, PingTimeout: 200 * time.Millisecond, MaxPayload: 9223372036854775807},
		},
	}
	for _, tt := range tests {
		if _, ok := scanOpen([]byte(tt.in)); !ok {
			t.Errorf("scanOpen(%s) left it to json.Unmarshal", tt.in)
		}
		got, err := ParseOpen([]byte(tt.in))
		if err != nil {
			t.Errorf("ParseOpen(%s): %v", tt.in, err)
			continue
		}
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("ParseOpen(%s) = %+v, want %+v", tt.in, got, tt.want)
		}
	}
}

// TestParseOpenAsJSON covers what encoding/json reads by rules of its own,
// which ParseOpen leaves to it: each payload must give what json.Unmarshal
// gives, and the scanner must not read it itself.
func TestParseOpenAsJSON(t *testing.T) {
	const rest = `"pingInterval":25000,"pingTimeout":20000`
	tests := []struct {
		in   string
		want Open
	}{
		{`{"SID":"a",` + rest + `}`, Open{SID: "a"}},                 // names match without regard to case
		{`{"\u0073id":"a",` + rest + `}`, Open{SID: "a"}},            // an escaped name
		{`{"\u017fid":"a",` + rest + `}`, Open{SID: "a"}},            // ſ folds to s
		{`{"sid":"a","sid":"b",` + rest + `}`, Open{SID: "b"}},       // the last one wins
		{`{"sid":"a","sid":null,` + rest + `}`, Open{SID: "a"}},      // null changes nothing
		{`{"sid":"a\u00e9",` + rest + `}`, Open{SID: "aé"}},          // escapes
		{"{\"sid\":\"a\xff\"," + rest + `}`, Open{SID: "a\ufffd"}},   // invalid UTF-8
		{`{"sid":"a","upgrades":null,` + rest + `}`, Open{SID: "a"}}, // null: no upgrades
		{`{"sid":"a","upgrades":[null],` + rest + `}`, Open{SID: "a", Upgrades: []string{""}}},
		{`{"sid":"a","pingInterval":1,` + rest + `}`, Open{SID: "a"}}, // the last interval wins
		{`{"sid":"a","upgrades":["x","y"],"upgrades":[null],` + rest + `}`, Open{SID: "a", Upgrades: []string{"x"}}},
	}
	for _, tt := range tests {
		tt.want.PingInterval, tt.want.PingTimeout = 25*time.Second, 20*time.Second
		if _, ok := scanOpen([]byte(tt.in)); ok {
			t.Errorf("scanOpen(%s) read it itself", tt.in)
		}
		got, err := ParseOpen([]byte(tt.in))
		if err != nil || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("ParseOpen(%s) = %+v, %v; want %+v", tt.in, got, err, tt.want)
		}
	}
}

func TestParseOpenErrors(t *testing.T) {
	const ok = `"sid":"x","pingInterval":25000,"pingTimeout":20000`
	bad := []string{
		``,
		`null`,
		`[]`,
		`"sid"`,
		`{`,
		`{` + ok + `}x`,
		`{"pingInterval":25000,"pingTimeout":20000}`,
		`{"sid":"","pingInterval":25000,"pingTimeout":20000}`,
		`{"sid":null,"pingInterval":25000,"pingTimeout":20000}`,
		`{"sid":12,"pingInterval":25000,"pingTimeout":20000}`,
		`{"sid":"x","pingTimeout":20000}`,
		`{"sid":"x","pingInterval":25000}`,
		`{"sid":"x","pingInterval":0,"pingTimeout":20000}`,
		`{"sid":"x","pingInterval":25000,"pingTimeout":0}`,
		`{"sid":"x","pingInterval":-1,"pingTimeout":20000}`,
		`{"sid":"x","pingInterval":25000.5,"pingTimeout":20000}`,
		`{"sid":"x","pingInterval":2.5e4,"pingTimeout":20000}`,
		`{"sid":"x","pingInterval":"25000","pingTimeout":20000}`,
		`{"sid":"x","pingInterval":null,"pingTimeout":20000}`,
		`{"sid":"x","pingInterval":true,"pingTimeout":20000}`,
		`{"sid":"x","pingInterval":86400001,"pingTimeout":20000}`,
		`{"sid":"x","pingInterval":25000,"pingTimeout":99999999999999999999999999}`,
		`{"sid":"x","pingInterval":9223372036854775807,"pingTimeout":20000}`,
		`{` + ok + `,"maxPayload":-1}`,
		`{` + ok + `,"maxPayload":1.5}`,
		`{` + ok + `,"maxPayload":"100"}`,
		`{` + ok + `,"maxPayload":9223372036854775808}`,
		`{` + ok + `,"upgrades":"websocket"}`,
		`{` + ok + `,"upgrades":[1]}`,
	}
	for _, in := range bad {
		_, err := ParseOpen([]byte(in))
		if !errors.Is(err, ErrBadOpen) {
			t.Errorf("ParseOpen(%s) error = %v, want ErrBadOpen", in, err)
			continue
		}
		var de *DecodeError
		if !errors.As(err, &de) || !strings.HasPrefix(in, de.Input) {
			t.Errorf("ParseOpen(%s) error %#v lacks the input", in, err)
		}
	}
}
