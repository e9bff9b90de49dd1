package packet

import (
	"encoding"
	"encoding/json"
	"errors"
	"math"
	"strconv"
	"strings"
	"testing"
	"time"
)

// ptrText marshals itself as text with a pointer receiver.
type ptrText struct{ S string }

func (p *ptrText) MarshalText() ([]byte, error) { return []byte("text:" + p.S), nil }

// valText is a map key type marshalling itself as text.
type valText int

func (v valText) MarshalText() ([]byte, error) { return []byte("k" + strconv.Itoa(int(v))), nil }

// ptrKind is a string with a pointer-receiver MarshalJSON.
type ptrKind string

func (p *ptrKind) MarshalJSON() ([]byte, error) { return []byte(`"kind"`), nil }

// ptrStruct is a struct that cannot hold []byte, with a pointer-receiver
// MarshalJSON.
type ptrStruct struct{ X int }

func (p *ptrStruct) MarshalJSON() ([]byte, error) { return []byte(`"ptr struct"`), nil }

// zeroVal is zero, by its value-receiver IsZero, when A is 1.
type zeroVal struct{ A int }

func (z zeroVal) IsZero() bool { return z.A == 1 }

// zeroPtr is zero, by its pointer-receiver IsZero, when A is 1.
type zeroPtr struct{ A int }

func (z *zeroPtr) IsZero() bool { return z.A == 1 }

// panicker panics in MarshalJSON.
type panicker struct{}

func (panicker) MarshalJSON() ([]byte, error) { panic("marshal panic") }

// textPanicker panics in MarshalText, also as a map key.
type textPanicker int

func (textPanicker) MarshalText() ([]byte, error) { panic("text panic") }

// chain is a linked list that can hold []byte.
type chain struct {
	Next *chain
	B    []byte `json:",omitempty"`
}

// newChain returns a list of n nodes, the last one holding a []byte.
func newChain(n int) *chain {
	c := &chain{B: marked("end")}
	for range n - 1 {
		c = &chain{Next: c}
	}
	return c
}

// nestedAny returns n nested []any around a []byte.
func nestedAny(n int) any {
	var v any = marked("leaf")
	for range n {
		v = []any{v}
	}
	return v
}

// matchCase is one value of the differential tests.
type matchCase struct {
	name string
	v    any
}

// regressionCases are the differences the encoder once had with
// encoding/json, one per case.
func regressionCases() []matchCase {
	cyclic := &chain{}
	cyclic.Next = cyclic
	cyclicMap := map[string]any{"b": marked("b")}
	cyclicMap["self"] = cyclicMap
	kind := ptrKind("k")
	return []matchCase{
		// omitzero.
		{"omitzero nil *time.Time in any", struct {
			T any `json:",omitzero"`
		}{T: (*time.Time)(nil)}},
		{"omitzero any holding zero time.Time", struct {
			T any `json:",omitzero"`
		}{T: time.Time{}}},
		{"omitzero pointer IsZero addressable", &struct {
			Z zeroPtr `json:",omitzero"`
			B []byte
		}{Z: zeroPtr{A: 1}, B: marked("b")}},
		{"omitzero pointer IsZero not addressable", struct {
			Z zeroPtr `json:",omitzero"`
			B []byte
		}{Z: zeroPtr{A: 1}, B: marked("b")}},
		{"omitzero pointer IsZero false on zero value", struct {
			Z zeroPtr `json:",omitzero"`
			B any
		}{}},
		{"omitzero value IsZero", struct {
			Z, Y zeroVal `json:",omitzero"`
			B    any
		}{Z: zeroVal{A: 1}}},
		{"omitzero nil pointer with value IsZero", struct {
			Z *zeroVal `json:",omitzero"`
			B any
		}{}},
		{"omitzero nil pointer with pointer IsZero", struct {
			Z *zeroPtr `json:",omitzero"`
			B any
		}{}},
		// json.Number with ,string.
		{"json.Number string", struct {
			N json.Number `json:",string"`
			B []byte
		}{N: "12", B: marked("b")}},
		{"json.Number string invalid", struct {
			N json.Number `json:",string"`
			B []byte
		}{N: "abc"}},
		{"json.Number string empty", struct {
			N json.Number `json:",string"`
			B any
		}{}},
		{"json.Number invalid", []any{json.Number("1.")}},
		{"json.Number string quoted literal", struct {
			N json.Number `json:",string"`
			B any
		}{N: `"12"`}},
		{"json.Number string spaces", struct {
			N json.Number `json:",string"`
			B any
		}{N: " 12"}},
		{"json.Number pointer string", struct {
			N *json.Number `json:",string"`
			B any
		}{N: new(json.Number("7"))}},
		// Pointer-receiver methods of addressable values.
		{"pointer MarshalJSON on string field", &struct {
			M ptrKind `json:",string"`
			B []byte
		}{M: "x", B: marked("b")}},
		{"pointer MarshalJSON on string field not addressable", struct {
			M ptrKind `json:",string"`
			B []byte
		}{M: "x<", B: marked("b")}},
		{"pointer MarshalJSON pointer string field", struct {
			M *ptrKind `json:",string"`
			B []byte
		}{M: &kind}},
		{"pointer MarshalJSON in sub-struct", &struct {
			S struct{ M ptrStruct }
			B []byte
		}{B: marked("b")}},
		{"pointer MarshalJSON in array", &struct {
			A [2]ptrStruct
			B []byte
		}{}},
		{"pointer MarshalJSON in slice", []any{[]ptrStruct{{1}}, []byte(marked("b"))}},
		{"pointer MarshalText in sub-struct", &struct {
			S struct{ T ptrText }
			B []byte
		}{}},
		{"pointer MarshalText in map value", map[string]any{"m": map[string]ptrText{"a": {"x"}}, "b": marked("b")}},
		// Interfaces with marshal methods are called through the interface.
		{"nil pointer in TextMarshaler field", []any{struct {
			T encoding.TextMarshaler
			B []byte
		}{T: (*time.Time)(nil)}}},
		{"nil pointer-receiver marshaler in Marshaler field", []any{struct {
			M json.Marshaler
			B []byte
		}{M: (*ptrStruct)(nil)}}},
		{"nil pointer in Marshaler map value", map[string]json.Marshaler{"m": (*ptrStruct)(nil), "n": nil}},
		// Map keys.
		{"float64 map key", map[float64][]byte{1: marked("x")}},
		{"nil bool map", map[bool]any(nil)},
		{"empty array map key", map[[1]int][]byte{}},
		{"pointer map key", map[*int]any{}},
		{"text map key", map[valText][]byte{1: marked("x"), 0: marked("y")}},
		{"pointer text map key", map[*ptrText]any{{"b"}: 1, {"a"}: marked("a")}},
		{"int map key order", map[int]any{10: 1, 2: marked("2"), -1: 3}},
		// Nesting.
		{"pointer chain 2000", newChain(2000)},
		{"nested any 2000", nestedAny(2000)},
		{"cyclic pointer", cyclic},
		{"cyclic map", cyclicMap},
		// Panics in user methods.
		{"panic in MarshalJSON", []any{panicker{}}},
		{"panic in MarshalJSON in struct", struct {
			P panicker
			B []byte
		}{}},
		{"panic in MarshalText key", map[textPanicker]any{1: 1}},
		// Strings and numbers.
		{"html and line separators", []any{"<a href=\"x\">&amp;</a>\u2028\u2029", map[string]any{"<k>": "&"}}},
		{"invalid utf8", []any{"a\xffb\xc0", map[string]any{"\xfe": marked("b")}}},
		{"invalid utf8 in raw message", []any{json.RawMessage("\"a\xffb\""), []byte(marked("b"))}},
		{"invalid utf8 from MarshalJSON", struct {
			R json.RawMessage
			B any
		}{R: json.RawMessage("[\"\xff\"]")}},
		{"NaN", []any{math.NaN()}},
		{"NaN in struct", struct {
			F float32
			B any
		}{F: float32(math.Inf(1))}},
		{"floats", []any{1e21, 1e-7, float32(1e-7), -0.0, 1e20, float32(3.4e38), 5e-324}},
	}
}

// shapeCases are ordinary values of many shapes.
func shapeCases() []matchCase {
	type Embedded struct {
		X int `json:"x"`
		Y int
		B []byte `json:"b,omitempty"`
	}
	type conflict struct{ Y int }
	type tagged struct {
		Y int `json:"Y"`
	}
	type outer struct {
		Embedded
		*conflict
		tagged
		A     int     `json:"a,omitempty"`
		S     string  `json:"s,string"`
		F     float64 `json:",string"`
		P     *int    `json:"p,string"`
		Bool  bool    `json:",string,omitempty"`
		Any   any     `json:"any"`
		Dash  int     `json:"-,"`
		Skip  []byte  `json:"-"`
		Bad   int     `json:"bad\x01name"`
		Quote int     `json:"'q'"`
		Fmt   []byte  `json:",format:hex"`
		Arr   [2]any
		hide  []byte
	}
	seven := 7
	return []matchCase{
		{"scalars", []any{nil, true, 1, int8(-8), uint64(math.MaxUint64), 1.5, float32(0.1), "s", uintptr(3)}},
		{"bytes", []any{marked("a"), []byte(nil), [][]byte{marked("b"), nil}, &[]byte{0, 's', 'i', 'o', 0xff, 0xfe, 1}}},
		{"named byte slice", []any{Blob(marked("blob")), []Blob{marked("x")}, json.RawMessage(`{"a":1}`)}},
		{"byte array", [3]byte{1, 2, 3}},
		{"map of bytes", map[string][]byte{"z": marked("z"), "a": marked("a")}},
		{"struct", outer{
			Embedded: Embedded{X: 1, Y: 2, B: marked("e")}, conflict: &conflict{3}, tagged: tagged{4},
			S: "q\"s", F: 1.5, P: &seven, Any: []any{marked("any"), "x"}, Dash: 5, Skip: marked("skip"),
			Bad: 6, Quote: 8, Fmt: marked("fmt"), Arr: [2]any{marked("arr"), 1}, hide: marked("hide"),
		}},
		{"struct pointer nil embedded", &outer{}},
		{"unexported embedded", roOuter{roInner: roInner{B: marked("b"), N: 3, M: map[string]any{"k": marked("c")}}, X: 1}},
		{"upload", upload{Name: "f", Data: marked("d"), Thumb: new(marked("t")), Parts: [][]byte{marked("p"), nil},
			Meta: map[string][]byte{"m": marked("m")}, Extra: map[string]any{"x": marked("x")}}},
		{"marshalers", []any{upper("abc"), time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC), json.Number("12.5"),
			&ptrMarshaler{V: marked("hidden")}, ptrMarshaler{V: marked("shown")}}},
		{"marshaler error", []any{failing{}}},
		{"channel", []any{make(chan int)}},
		{"func in struct", struct {
			F func()
			B []byte
		}{}},
		{"nil interface and pointers", []any{(*int)(nil), (*chain)(nil), []any(nil), map[string]any(nil)}},
		{"empty", []any{[]any{}, map[string]any{}, struct{}{}, [0]int{}}},
	}
}

// TestEncodeMatchesJSON checks the rule of Encode: json.Marshal's output,
// with each []byte replaced by its placeholder.
func TestEncodeMatchesJSON(t *testing.T) {
	for _, c := range append(regressionCases(), shapeCases()...) {
		t.Run(strings.ReplaceAll(c.name, " ", "_"), func(t *testing.T) {
			if d := diffEncoding(c.v); d != "" {
				t.Error(d)
			}
		})
	}
}

// TestEncodePanicIsError checks that a panic in a user's method comes back
// as an error that keeps the panic value.
func TestEncodePanicIsError(t *testing.T) {
	sentinel := errors.New("sentinel")
	_, err := JSON{}.Encode(Header{Type: Event}, "e", []any{1, errPanicker{sentinel}})
	if !errors.Is(err, sentinel) || !strings.Contains(err.Error(), "argument 1") {
		t.Fatalf("error %v", err)
	}
}

// TestEncodeEmbeddedPointerCycle checks a cycle through an embedded
// pointer, on which encoding/json overflows its stack (so it cannot be a
// differential case): Encode reports it as encoding/json reports cycles.
func TestEncodeEmbeddedPointerCycle(t *testing.T) {
	p := &FzE3{}
	p.X = fzEmbed2{FzE3: p}
	_, err := JSON{}.Encode(Header{Type: Event}, "e", []any{fzEmbed2{FzE3: p}})
	var cycle *json.UnsupportedValueError
	if !errors.As(err, &cycle) || !strings.Contains(err.Error(), "cycle") {
		t.Fatalf("error %v", err)
	}
}

// errPanicker panics with its error.
type errPanicker struct{ err error }

func (p errPanicker) MarshalJSON() ([]byte, error) { panic(p.err) }
