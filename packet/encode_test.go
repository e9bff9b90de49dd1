package packet

import (
	"encoding/json"
	"errors"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"
)

type chatMessage struct {
	User string `json:"user"`
	Text string `json:"text"`
}

type upload struct {
	Name  string            `json:"name"`
	Data  []byte            `json:"data"`
	Thumb *[]byte           `json:"thumb,omitempty"`
	Parts [][]byte          `json:"parts"`
	Meta  map[string][]byte `json:"meta,omitempty"`
	Skip  []byte            `json:"-"`
	Extra any               `json:"extra,omitempty"`
	inner []byte
}

type Base struct {
	ID   int    `json:"id"`
	Blob []byte `json:"blob"`
}

type withEmbedded struct {
	Base
	*Ptr
	Name string `json:"name"`
}

type Ptr struct {
	P []byte `json:"p"`
}

// Blob is a named byte slice: still an attachment.
type Blob []byte

// upper marshals itself with a value receiver.
type upper string

func (u upper) MarshalJSON() ([]byte, error) { return json.Marshal(strings.ToUpper(string(u))) }

// ptrMarshaler marshals itself with a pointer receiver.
type ptrMarshaler struct{ V []byte }

func (p *ptrMarshaler) MarshalJSON() ([]byte, error) { return []byte(`"custom"`), nil }

type failing struct{}

func (failing) MarshalJSON() ([]byte, error) { return nil, errors.New("boom") }

func TestEncode(t *testing.T) {
	const ph0 = `{"_placeholder":true,"num":0}`
	const ph1 = `{"_placeholder":true,"num":1}`
	const ph2 = `{"_placeholder":true,"num":2}`
	tests := []struct {
		name  string
		h     Header
		event string
		args  []any
		want  string
		atts  []string
	}{
		{"connect", Header{Type: Connect}, "", nil, `40`, nil},
		{"connect slash", Header{Type: Connect, Namespace: "/"}, "", nil, `40`, nil},
		{"connect nil arg", Header{Type: Connect}, "", []any{nil}, `40`, nil},
		{"connect nil map", Header{Type: Connect}, "", []any{map[string]any(nil)}, `40`, nil},
		{"connect admin", Header{Type: Connect, Namespace: "/admin"}, "", nil, `40/admin,`, nil},
		{"connect auth", Header{Type: Connect, Namespace: "/admin"}, "", []any{map[string]any{"token": "123"}}, `40/admin,{"token":"123"}`, nil},
		{"connect auth string map", Header{Type: Connect}, "", []any{map[string]string{"token": "123", "a": "b"}}, `40{"a":"b","token":"123"}`, nil},
		{"connect recovery", Header{Type: Connect}, "", []any{json.RawMessage(`{"pid":"p","offset":"o"}`)}, `40{"pid":"p","offset":"o"}`, nil},
		{"connect bytes are base64", Header{Type: Connect}, "", []any{map[string]any{"k": []byte("hi")}}, `40{"k":"aGk="}`, nil},
		{"connect error", Header{Type: ConnectError}, "", []any{map[string]any{"message": "Not authorized"}}, `44{"message":"Not authorized"}`, nil},
		{"connect error string", Header{Type: ConnectError}, "", []any{"Not authorized"}, `44"Not authorized"`, nil},
		{"disconnect", Header{Type: Disconnect}, "", nil, `41`, nil},
		{"disconnect admin", Header{Type: Disconnect, Namespace: "/admin"}, "", nil, `41/admin,`, nil},
		{"event", Header{Type: Event}, "foo", nil, `42["foo"]`, nil},
		{"event admin", Header{Type: Event, Namespace: "/admin"}, "bar", nil, `42/admin,["bar"]`, nil},
		{"event args", Header{Type: Event}, "hello", []any{"world", map[string]any{"a": 1}}, `42["hello","world",{"a":1}]`, nil},
		{"event hey", Header{Type: Event}, "hey", []any{"Jude"}, `42["hey","Jude"]`, nil},
		{"event struct", Header{Type: Event}, "chat", []any{chatMessage{"a", "hi"}}, `42["chat",{"user":"a","text":"hi"}]`, nil},
		{"event struct ptr", Header{Type: Event}, "chat", []any{&chatMessage{"a", "hi"}}, `42["chat",{"user":"a","text":"hi"}]`, nil},
		{"event id", Header{Type: Event, ID: 12, HasID: true}, "hello", nil, `4212["hello"]`, nil},
		{"event admin id", Header{Type: Event, Namespace: "/admin", ID: 12, HasID: true}, "hello", nil, `42/admin,12["hello"]`, nil},
		{"event id 0", Header{Type: Event, ID: 0, HasID: true}, "x", nil, `420["x"]`, nil},
		{"event name escaped", Header{Type: Event}, "a\"b\\c\n\x01é\u2028<>&", nil, `42["a\"b\\c\n\u0001é` + "\u2028" + `<>&"]`, nil},
		{"event name invalid utf8", Header{Type: Event}, "a\xffb", nil, `42["a\ufffdb"]`, nil},
		{"ack", Header{Type: Ack, ID: 12, HasID: true}, "", []any{"got it"}, `4312["got it"]`, nil},
		{"ack empty", Header{Type: Ack, ID: 12, HasID: true}, "ignored", nil, `4312[]`, nil},
		{"ack admin", Header{Type: Ack, Namespace: "/admin", ID: 13, HasID: true}, "", []any{"bar"}, `43/admin,13["bar"]`, nil},
		{"scalars", Header{Type: Ack, ID: 1, HasID: true}, "", []any{
			nil, true, false, int(-1), int8(-8), int16(16), int32(32), int64(math.MinInt64), uint(1), uint8(8), uint16(16), uint32(32), uint64(math.MaxUint64), uintptr(7),
		}, `431[null,true,false,-1,-8,16,32,-9223372036854775808,1,8,16,32,18446744073709551615,7]`, nil},
		{"floats", Header{Type: Ack, ID: 1, HasID: true}, "", []any{
			0.0, math.Copysign(0, -1), 1.5, 0.1, float32(0.1), 1e20, 1e21, 1e-6, 1e-7, -2.5e-10, float32(1e21), 123456789.0,
		}, `431[0,-0,1.5,0.1,0.1,100000000000000000000,1e+21,0.000001,1e-7,-2.5e-10,1e+21,123456789]`, nil},
		{"collections", Header{Type: Ack, ID: 1, HasID: true}, "", []any{
			[]any{}, []any(nil), map[string]any{}, []string{"a", "b"}, []string(nil), map[string]string(nil), json.RawMessage(nil), json.RawMessage(` {"x": [1]} `),
		}, `431[[],null,{},["a","b"],null,null,null, {"x": [1]} ]`, nil},
		{"marshalers", Header{Type: Ack, ID: 1, HasID: true}, "", []any{
			upper("abc"), time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC), json.Number("12.5"), &ptrMarshaler{V: []byte("x")},
		}, `431["ABC","2024-01-02T03:04:05Z",12.5,"custom"]`, nil},

		// Binary.
		{"binary up", Header{Type: Event}, "up", []any{[]byte("x")}, `451-["up",` + ph0 + `]`, []string{"x"}},
		{"binary baz", Header{Type: Event}, "baz", []any{[]byte{1, 2, 3, 4}}, `451-["baz",` + ph0 + `]`, []string{"\x01\x02\x03\x04"}},
		{"binary two", Header{Type: Event, Namespace: "/admin"}, "baz", []any{[]byte{1, 2}, []byte{3, 4}}, `452-/admin,["baz",` + ph0 + `,` + ph1 + `]`, []string{"\x01\x02", "\x03\x04"}},
		{"binary id", Header{Type: Event, ID: 14, HasID: true}, "foo", []any{[]byte{1, 2, 3, 4}}, `451-14["foo",` + ph0 + `]`, []string{"\x01\x02\x03\x04"}},
		{"binary ack", Header{Type: Ack, ID: 15, HasID: true}, "", []any{"bar", []byte{1, 2, 3, 4}}, `461-15["bar",` + ph0 + `]`, []string{"\x01\x02\x03\x04"}},
		{"binary ack only", Header{Type: Ack, ID: 12, HasID: true}, "", []any{[]byte("b")}, `461-12[` + ph0 + `]`, []string{"b"}},
		{"binary type given", Header{Type: BinaryEvent}, "x", []any{1}, `42["x",1]`, nil},
		{"binary ack type given", Header{Type: BinaryAck, ID: 3, HasID: true}, "", []any{[]byte("z")}, `461-3[` + ph0 + `]`, []string{"z"}},
		{"empty and nil bytes", Header{Type: Event}, "e", []any{[]byte{}, []byte(nil)}, `451-["e",` + ph0 + `,null]`, []string{""}},
		{"nested any", Header{Type: Event}, "n", []any{
			map[string]any{"b": []any{1, []byte("one"), map[string]any{"deep": []byte("two")}}, "a": []byte("zero")},
		}, `453-["n",{"a":` + ph0 + `,"b":[1,` + ph1 + `,{"deep":` + ph2 + `}]}]`, []string{"zero", "one", "two"}},
		{"struct", Header{Type: Event}, "file", []any{upload{
			Name: "f", Data: []byte("data"), Thumb: &[]byte{9}, Parts: [][]byte{[]byte("p0"), nil},
			Meta: map[string][]byte{"z": []byte("mz"), "a": []byte("ma")}, Skip: []byte("skip"), inner: []byte("inner"),
		}}, `455-["file",{"name":"f","data":` + ph0 + `,"thumb":` + ph1 + `,"parts":[` + ph2 + `,null],"meta":{"a":{"_placeholder":true,"num":3},"z":{"_placeholder":true,"num":4}}}]`,
			[]string{"data", "\x09", "p0", "ma", "mz"}},
		{"struct no bytes set", Header{Type: Event}, "file", []any{upload{Name: "f"}}, `42["file",{"name":"f","data":null,"parts":null}]`, nil},
		{"struct any field", Header{Type: Event}, "file", []any{upload{Extra: []any{[]byte("e")}}}, `451-["file",{"name":"","data":null,"parts":null,"extra":[` + ph0 + `]}]`, []string{"e"}},
		{"embedded", Header{Type: Event}, "emb", []any{withEmbedded{Base: Base{ID: 1, Blob: []byte("b")}, Ptr: &Ptr{P: []byte("p")}, Name: "n"}},
			`452-["emb",{"id":1,"blob":` + ph0 + `,"p":` + ph1 + `,"name":"n"}]`, []string{"b", "p"}},
		{"embedded nil ptr", Header{Type: Event}, "emb", []any{withEmbedded{Base: Base{ID: 1, Blob: []byte("b")}, Name: "n"}},
			`451-["emb",{"id":1,"blob":` + ph0 + `,"name":"n"}]`, []string{"b"}},
		{"named blob", Header{Type: Event}, "b", []any{Blob("blob"), []Blob{Blob("x")}}, `452-["b",` + ph0 + `,[` + ph1 + `]]`, []string{"blob", "x"}},
		{"byte slices", Header{Type: Event}, "b", []any{[][]byte{[]byte("a"), []byte("b")}}, `452-["b",[` + ph0 + `,` + ph1 + `]]`, []string{"a", "b"}},
		{"array", Header{Type: Event}, "b", []any{[2][]byte{[]byte("a"), []byte("b")}, [2]byte{1, 2}}, `452-["b",[` + ph0 + `,` + ph1 + `],[1,2]]`, []string{"a", "b"}},
		{"int map", Header{Type: Event}, "m", []any{map[int][]byte{10: []byte("ten"), 2: []byte("two")}}, `452-["m",{"10":` + ph0 + `,"2":` + ph1 + `}]`, []string{"ten", "two"}},
		{"pointer marshaler in pointer", Header{Type: Event}, "m", []any{&struct {
			M ptrMarshaler
			B []byte
		}{B: []byte("b")}}, `451-["m",{"M":"custom","B":` + ph0 + `}]`, []string{"b"}},
		{"raw not walked", Header{Type: Event}, "r", []any{json.RawMessage(`{"_placeholder":true,"num":0}`)}, `42["r",{"_placeholder":true,"num":0}]`, nil},
		{"12 attachments", Header{Type: Ack, ID: 1, HasID: true}, "", []any{
			[]byte("0"), []byte("1"), []byte("2"), []byte("3"), []byte("4"), []byte("5"), []byte("6"), []byte("7"), []byte("8"), []byte("9"), []byte("10"), []byte("11"),
		}, `4612-1[` + strings.Repeat(`{"_placeholder":true,"num":N},`, 12)[:0] + `]`, nil},
	}
	for _, tt := range tests {
		m, err := JSON{}.Encode(tt.h, tt.event, tt.args)
		if err != nil {
			t.Errorf("%s: %v", tt.name, err)
			continue
		}
		if tt.name == "12 attachments" {
			if !strings.HasPrefix(string(m.Head.Data), "4612-1[") || len(m.Attachments) != 12 || string(m.Attachments[11]) != "11" ||
				!strings.HasSuffix(string(m.Head.Data), `{"_placeholder":true,"num":11}]`) {
				t.Errorf("%s: %s %q", tt.name, m.Head.Data, m.Attachments)
			}
			continue
		}
		if string(m.Head.Data) != tt.want || m.Head.Binary {
			t.Errorf("%s:\n got %s\nwant %s", tt.name, m.Head.Data, tt.want)
		}
		var atts []string
		for _, a := range m.Attachments {
			atts = append(atts, string(a))
		}
		if !reflect.DeepEqual(atts, tt.atts) {
			t.Errorf("%s: attachments %q, want %q", tt.name, atts, tt.atts)
		}
	}
}

// TestEncodeAttachmentsNotCopied checks that attachments are the caller's
// slices.
func TestEncodeAttachmentsNotCopied(t *testing.T) {
	b := []byte("abc")
	m, err := JSON{}.Encode(Header{Type: Event}, "x", []any{map[string]any{"b": b}})
	if err != nil || len(m.Attachments) != 1 || &m.Attachments[0][0] != &b[0] {
		t.Fatalf("%v %v", m, err)
	}
}

// TestEncodeMatchesEncodingJSON checks that values without []byte encode
// exactly as encoding/json marshals them, through both the fast and the
// reflective paths.
func TestEncodeMatchesEncodingJSON(t *testing.T) {
	type inner struct {
		A int     `json:"a,omitempty"`
		B string  `json:"b,string"`
		C float64 `json:",string"`
		D *int    `json:"d,string"`
		E any     `json:"e"`
	}
	type Embedded struct {
		X int `json:"x"`
		Y int
	}
	type conflict struct {
		Y int
	}
	type outer struct {
		Embedded
		conflict
		In      inner            `json:"in"`
		Ptr     *inner           `json:"ptr"`
		List    []any            `json:"list"`
		Map     map[string]any   `json:"map"`
		IntKeys map[int]any      `json:"int_keys"`
		Zero    time.Time        `json:"zero,omitzero"`
		Empty   []any            `json:"empty,omitempty"`
		Iface   any              `json:"iface"`
		Named   upper            `json:"named"`
		Raw     json.RawMessage  `json:"raw"`
		Dash    int              `json:"-,"`
		Ignored int              `json:"-"`
		Arr     [2]any           `json:"arr"`
		Nested  map[string][]any `json:"nested"`
		Bad     int              `json:"bad\x01name"`
		hidden  any
	}
	seven := 7
	values := []any{
		outer{
			Embedded: Embedded{X: 1, Y: 2},
			conflict: conflict{Y: 3},
			In:       inner{B: "q\"s", C: 1.5, D: &seven, E: []any{1, "two", nil}},
			List:     []any{1.5, "x", map[string]any{"k": []any{true}}},
			Map:      map[string]any{"b": 1, "a": []any{}},
			IntKeys:  map[int]any{3: "c", 1: "a"},
			Iface:    inner{A: 1},
			Named:    "shout",
			Raw:      json.RawMessage(`[1,2]`),
			Dash:     5,
			Arr:      [2]any{1, "b"},
			Nested:   map[string][]any{"n": {1}},
			Bad:      9,
		},
		[]any{map[string]any{"x": []any{1, 2.5, "s", nil, true}}},
		map[string]any{"z": 1, "a": map[string]any{"m": "n"}},
		&inner{E: map[string]any{"k": "v"}},
		[]*inner{nil, {A: 2}},
	}
	for i, v := range values {
		want, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		m, err := JSON{}.Encode(Header{Type: Ack, ID: 1, HasID: true}, "", []any{v})
		if err != nil {
			t.Errorf("value %d: %v", i, err)
			continue
		}
		if got := string(m.Head.Data); got != "431["+string(want)+"]" {
			t.Errorf("value %d:\n got %s\nwant 431[%s]", i, got, want)
		}
	}
}

func TestEncodeErrors(t *testing.T) {
	tests := []struct {
		name  string
		h     Header
		event string
		args  []any
		want  error // nil: any error
	}{
		{"unknown type", Header{Type: 7}, "x", nil, ErrUnknownType},
		{"namespace without slash", Header{Type: Event, Namespace: "admin"}, "x", nil, ErrBadNamespace},
		{"namespace with comma", Header{Type: Event, Namespace: "/a,b"}, "x", nil, ErrBadNamespace},
		{"reserved connect", Header{Type: Event}, "connect", nil, ErrBadPayload},
		{"reserved disconnect", Header{Type: Event}, "disconnect", nil, ErrBadPayload},
		{"reserved newListener", Header{Type: Event}, "newListener", nil, ErrBadPayload},
		{"ack without id", Header{Type: Ack}, "", []any{1}, ErrBadPayload},
		{"connect array", Header{Type: Connect}, "", []any{[]any{1}}, ErrBadPayload},
		{"connect string", Header{Type: Connect}, "", []any{"x"}, ErrBadPayload},
		{"connect error number", Header{Type: ConnectError}, "", []any{1}, ErrBadPayload},
		{"invalid raw", Header{Type: Event}, "x", []any{json.RawMessage(`{`)}, ErrBadJSON},
		{"empty raw", Header{Type: Event}, "x", []any{json.RawMessage{}}, ErrBadJSON},
		{"NaN", Header{Type: Event}, "x", []any{math.NaN()}, nil},
		{"Inf in map", Header{Type: Event}, "x", []any{map[string]any{"a": math.Inf(1)}}, nil},
		{"float32 Inf", Header{Type: Event}, "x", []any{float32(math.Inf(-1))}, nil},
		{"channel", Header{Type: Event}, "x", []any{make(chan int)}, nil},
		{"channel in any", Header{Type: Event}, "x", []any{[]any{make(chan int)}}, nil},
		{"func in struct", Header{Type: Event}, "x", []any{struct {
			F func()
			B []byte
		}{}}, nil},
		{"marshaler error", Header{Type: Event}, "x", []any{failing{}}, nil},
		{"complex map key", Header{Type: Event}, "x", []any{map[[1]int][]byte{{1}: nil}}, nil},
	}
	for _, tt := range tests {
		m, err := JSON{}.Encode(tt.h, tt.event, tt.args)
		if err == nil {
			t.Errorf("%s: no error, got %s", tt.name, m.Head.Data)
			continue
		}
		if tt.want != nil && !errors.Is(err, tt.want) {
			t.Errorf("%s: error %v, want %v", tt.name, err, tt.want)
		}
		if !strings.HasPrefix(err.Error(), "packet: ") {
			t.Errorf("%s: error %q lacks the package prefix", tt.name, err)
		}
	}
}

func TestCanHoldBytes(t *testing.T) {
	type rec struct {
		Next *rec
		V    int
	}
	type recBytes struct {
		Next []recBytes
		V    []byte
	}
	type selfSlice []selfSlice
	type selfMap map[string]selfMap
	tests := []struct {
		v    any
		want bool
	}{
		{"", false},
		{0, false},
		{chatMessage{}, false},
		{&chatMessage{}, false},
		{[]chatMessage{}, false},
		{map[string]chatMessage{}, false},
		{time.Time{}, false},
		{json.RawMessage{}, false},
		{upper(""), false},
		{rec{}, false},
		{selfSlice{}, false},
		{selfMap{}, false},
		{[4]byte{}, false},
		{struct{ b []byte }{}, false},
		{struct {
			B []byte `json:"-"`
		}{}, false},
		{[]byte{}, true},
		{Blob{}, true},
		{[]any{}, true},
		{map[string]any{}, true},
		{struct{ A any }{}, true},
		{upload{}, true},
		{&upload{}, true},
		{map[string][]byte{}, true},
		{[2][]byte{}, true},
		{recBytes{}, true},
		{withEmbedded{}, true},
		{struct{ Ptr }{}, true},
		{struct{ *Ptr }{}, true},
	}
	for _, tt := range tests {
		if got := canHoldBytes(reflect.TypeOf(tt.v)); got != tt.want {
			t.Errorf("canHoldBytes(%T) = %v, want %v", tt.v, got, tt.want)
		}
	}
}

type roInner struct {
	B []byte
	T time.Time
	N int `json:"n,string"`
	M map[string]any
}

type roOuter struct {
	roInner
	X int
}

// TestUnexportedEmbedded checks fields promoted from an unexported embedded
// struct, which encoding/json encodes too.
func TestUnexportedEmbedded(t *testing.T) {
	m, err := JSON{}.Encode(Header{Type: Event}, "x", []any{roOuter{roInner: roInner{B: []byte("b"), N: 3, M: map[string]any{"k": []byte("c")}}, X: 1}})
	if err != nil {
		t.Fatal(err)
	}
	want := `452-["x",{"B":{"_placeholder":true,"num":0},"T":"0001-01-01T00:00:00Z","n":"3","M":{"k":{"_placeholder":true,"num":1}},"X":1}]`
	if string(m.Head.Data) != want || len(m.Attachments) != 2 {
		t.Errorf("got  %s\nwant %s", m.Head.Data, want)
	}
}
