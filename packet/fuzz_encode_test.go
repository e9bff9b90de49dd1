package packet

import (
	"encoding"
	"encoding/json"
	"math"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"
	"unsafe"
)

// FuzzEncodeMatchesJSON builds a Go value from the fuzz input with
// valueGen's grammar and checks that Encode writes it as json.Marshal does,
// with each []byte replaced by its placeholder (diffEncoding).
func FuzzEncodeMatchesJSON(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) {
		v := newValueGen(data).top()
		if d := diffEncoding(v); d != "" {
			// The value is not printed: it may be cyclic.
			t.Fatalf("value of type %v: %s", reflect.TypeOf(v), d)
		}
	})
}

// The static types below cover what the grammar cannot build with reflect:
// methods, tags, embedding and unexported fields.

// fzTags has a field for each tag option on fields of the kinds it affects.
type fzTags struct {
	Plain     any
	Named     any             `json:"named"`
	Dash      any             `json:"-"`
	DashComma any             `json:"-,"`
	Empty     any             `json:",omitempty"`
	Zero      any             `json:",omitzero"`
	Both      any             `json:"both,omitempty,omitzero"`
	Int       int             `json:",string"`
	IntEmpty  int64           `json:"ie,omitempty,string"`
	Uint      uint8           `json:",string,omitzero"`
	Float     float64         `json:",string"`
	Float32   float32         `json:",omitempty"`
	Bool      bool            `json:",string"`
	Str       string          `json:",string"`
	StrPtr    *string         `json:",string,omitempty"`
	IntPtr    *int            `json:",string"`
	AnyStr    any             `json:",string"`
	Number    json.Number     `json:",string"`
	NumberPtr *json.Number    `json:",string,omitzero"`
	Bytes     []byte          `json:",omitempty"`
	BytesZero []byte          `json:",omitzero"`
	BytesStr  []byte          `json:",string"`
	Time      time.Time       `json:",omitzero"`
	TimePtr   *time.Time      `json:",omitzero"`
	ZeroV     zeroVal         `json:",omitzero"`
	ZeroP     zeroPtr         `json:",omitzero"`
	ZeroPP    *zeroPtr        `json:",omitzero"`
	ZeroI     isZeroer        `json:",omitzero"`
	KindStr   ptrKind         `json:",string"`
	TextStr   valText         `json:",string"`
	Map       map[string]any  `json:",omitempty"`
	Slice     []any           `json:",omitzero"`
	Arr       [2]any          `json:",omitempty"`
	Arr0      [0]int          `json:",omitempty"`
	Struct    struct{ A any } `json:",omitempty"`
	Iface     json.Marshaler  `json:",omitempty"`
	Text      encoding.TextMarshaler
	Quoted    any            `json:"'q'"`
	BadName   any            `json:"a\x01"`
	HTMLName  any            `json:"<&>"`
	Space     any            `json:"a b"`
	Unicode   any            `json:"é"`
	Inline    any            `json:",inline"`
	Unknown   map[string]any `json:",unknown"`
	Format    []byte         `json:",format:hex"`
	Case      any            `json:",case:ignore"`
	hidden    any
	hiddenB   []byte
}

// FzE1, FzE2 and FzE3 are embedded with conflicting field names.
type FzE1 struct {
	A any
	B []byte `json:"b,omitempty"`
	C string `json:"C"`
	D int
}

type FzE2 struct {
	A int
	B any    `json:"b"`
	D string `json:"D"`
}

type FzE3 struct {
	FzE1
	X any
}

// FzStr is a named string, embedded and as a map key.
type FzStr string

// fzHidden is an unexported embedded struct: its fields are promoted.
type fzHidden struct {
	H any
	A int
}

type fzEmbed struct {
	FzE1
	*FzE2
	FzE3
	*fzHidden
	FzStr
	A any `json:"A,omitempty"`
}

type fzEmbed2 struct {
	FzE1 `json:"e1"`
	FzE2
	*FzE3
	fzHidden
}

// FzRec embeds a pointer to itself.
type FzRec struct {
	*FzRec
	V any
}

// valueGen builds Go values from fuzz input: each byte chooses the next
// step of the grammar (a type, a value, a length); past the end of the
// input every choice is 0, and a budget bounds the size.
type valueGen struct {
	data   []byte
	budget int
	marks  int                              // []byte values built, numbering their markers
	shared map[reflect.Type][]reflect.Value // pointers and maps built, for reuse (cycles)
	reuses int                              // reuses left: each may double the size
}

// newValueGen returns a generator reading its choices from data.
func newValueGen(data []byte) *valueGen {
	return &valueGen{data: data, budget: 24, shared: map[reflect.Type][]reflect.Value{}, reuses: 1}
}

// next returns the next input byte, 0 past the end.
func (g *valueGen) next() byte {
	if len(g.data) == 0 {
		return 0
	}
	b := g.data[0]
	g.data = g.data[1:]
	return b
}

// pick returns a choice in [0, n).
func (g *valueGen) pick(n int) int { return int(g.next()) % n }

// top builds the argument: a value, or a pointer to it (which makes it
// addressable).
func (g *valueGen) top() any {
	v := g.value(g.typ(0), 0)
	if g.pick(4) == 0 {
		return v.Addr().Interface()
	}
	return v.Interface()
}

var (
	scalarTypes = []reflect.Type{
		reflect.TypeFor[bool](), reflect.TypeFor[int](), reflect.TypeFor[int8](), reflect.TypeFor[int16](),
		reflect.TypeFor[int32](), reflect.TypeFor[int64](), reflect.TypeFor[uint](), reflect.TypeFor[uint8](),
		reflect.TypeFor[uint16](), reflect.TypeFor[uint32](), reflect.TypeFor[uint64](), reflect.TypeFor[uintptr](),
		reflect.TypeFor[float32](), reflect.TypeFor[float64](), reflect.TypeFor[string](), reflect.TypeFor[FzStr](),
	}
	otherTypes = []reflect.Type{
		reflect.TypeFor[[]byte](), reflect.TypeFor[Blob](), reflect.TypeFor[json.RawMessage](), reflect.TypeFor[[3]byte](),
		reflect.TypeFor[any](), reflect.TypeFor[json.Marshaler](), reflect.TypeFor[encoding.TextMarshaler](), reflect.TypeFor[isZeroer](),
		reflect.TypeFor[json.Number](), reflect.TypeFor[time.Time](), reflect.TypeFor[time.Duration](),
		reflect.TypeFor[upper](), reflect.TypeFor[ptrStruct](), reflect.TypeFor[ptrKind](), reflect.TypeFor[ptrText](),
		reflect.TypeFor[valText](), reflect.TypeFor[zeroVal](), reflect.TypeFor[zeroPtr](), reflect.TypeFor[panicker](),
		reflect.TypeFor[failing](), reflect.TypeFor[ptrMarshaler](), reflect.TypeFor[chain](), reflect.TypeFor[fzTags](),
		reflect.TypeFor[FzE1](), reflect.TypeFor[FzE3](), reflect.TypeFor[fzEmbed](), reflect.TypeFor[fzEmbed2](),
		reflect.TypeFor[FzRec](), reflect.TypeFor[roOuter](), reflect.TypeFor[withEmbedded](), reflect.TypeFor[upload](),
		reflect.TypeFor[[]any](), reflect.TypeFor[map[string]any](),
		reflect.TypeFor[complex128](), reflect.TypeFor[chan int](), reflect.TypeFor[func()](),
	}
	keyTypes = []reflect.Type{
		reflect.TypeFor[string](), reflect.TypeFor[FzStr](), reflect.TypeFor[int](), reflect.TypeFor[int8](),
		reflect.TypeFor[uint16](), reflect.TypeFor[uint64](), reflect.TypeFor[uintptr](), reflect.TypeFor[json.Number](),
		reflect.TypeFor[valText](), reflect.TypeFor[*ptrText](), reflect.TypeFor[float64](), reflect.TypeFor[bool](),
		reflect.TypeFor[[1]int](), reflect.TypeFor[any](), reflect.TypeFor[textPanicker](),
	}
	// implementers are the candidate dynamic types of non-empty interfaces.
	implementers = []reflect.Type{
		reflect.TypeFor[upper](), reflect.TypeFor[*ptrStruct](), reflect.TypeFor[time.Time](), reflect.TypeFor[*time.Time](),
		reflect.TypeFor[zeroVal](), reflect.TypeFor[*zeroPtr](), reflect.TypeFor[valText](), reflect.TypeFor[*ptrText](),
		reflect.TypeFor[json.RawMessage](), reflect.TypeFor[panicker](), reflect.TypeFor[failing](), reflect.TypeFor[*ptrMarshaler](),
	}
)

// typ chooses a type: a scalar, one of the types above, or below depth 2 a
// slice, array, map or pointer of another type. Types are built only near
// the top, so a fuzzing run creates a bounded number of them.
func (g *valueGen) typ(depth int) reflect.Type {
	n := 3
	if depth < 2 && g.budget > 0 {
		n = 7
	}
	switch g.pick(n) {
	case 0:
		return scalarTypes[g.pick(len(scalarTypes))]
	case 1, 2:
		return otherTypes[g.pick(len(otherTypes))]
	case 3:
		return reflect.SliceOf(g.typ(depth + 1))
	case 4:
		return reflect.ArrayOf(g.pick(3), g.typ(depth+1))
	case 5:
		return reflect.MapOf(keyTypes[g.pick(len(keyTypes))], g.typ(depth+1))
	}
	return reflect.PointerTo(g.typ(depth + 1))
}

// value returns an addressable value of type t.
func (g *valueGen) value(t reflect.Type, depth int) reflect.Value {
	v := reflect.New(t).Elem()
	g.budget--
	if g.budget < 0 {
		return v
	}
	g.fill(v, depth)
	return v
}

// fill sets the settable value v.
func (g *valueGen) fill(v reflect.Value, depth int) {
	t := v.Type()
	switch {
	case t == reflect.TypeFor[json.Number]():
		v.SetString([]string{"12", "", "-0.5e3", "abc", "1.", "01", "1e400", " 1", `"7"`}[g.pick(9)])
		return
	case t == reflect.TypeFor[json.RawMessage]():
		raws := []string{"", `{"a": [1, 2]}`, ` "<>&" `, "\"\xff\"", `{`, `null`, `{"_placeholder":true,"num":0}`, "nil"}
		if s := raws[g.pick(len(raws))]; s != "nil" {
			v.SetBytes([]byte(s))
		}
		return
	case t == reflect.TypeFor[time.Time]():
		if g.pick(2) == 1 {
			v.Set(reflect.ValueOf(time.Unix(int64(g.next())<<20, 0).UTC()))
		}
		return
	}
	switch t.Kind() {
	case reflect.Bool:
		v.SetBool(g.pick(2) == 1)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		n := []int64{0, 1, -1, math.MaxInt64, math.MinInt64, 300, -129}[g.pick(7)]
		if !v.OverflowInt(n) {
			v.SetInt(n)
		}
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		n := []uint64{0, 1, math.MaxUint64, 255, 256}[g.pick(5)]
		if !v.OverflowUint(n) {
			v.SetUint(n)
		}
	case reflect.Float32, reflect.Float64:
		fs := []float64{0, math.Copysign(0, -1), 1.5, 1e21, 1e-7, 5e-324, 123456789, 1e20, 3.4e38, math.NaN(), math.Inf(-1)}
		f := fs[g.pick(len(fs))]
		if t.Kind() == reflect.Float32 && v.OverflowFloat(f) {
			f = 1
		}
		v.SetFloat(f)
	case reflect.Complex64, reflect.Complex128:
		v.SetComplex(complex(1, 2))
	case reflect.String:
		v.SetString(g.str())
	case reflect.Chan:
		if g.pick(2) == 1 {
			v.Set(reflect.MakeChan(t, 0))
		}
	case reflect.Func:
		if g.pick(2) == 1 {
			v.Set(reflect.MakeFunc(t, func([]reflect.Value) []reflect.Value { return nil }))
		}
	case reflect.Slice:
		g.fillSlice(v, depth)
	case reflect.Array:
		for i := range v.Len() {
			g.fill(v.Index(i), depth+1)
		}
	case reflect.Map:
		g.fillMap(v, depth)
	case reflect.Pointer:
		g.fillPointer(v, depth)
	case reflect.Interface:
		g.fillInterface(v, depth)
	case reflect.Struct:
		for i := range v.NumField() {
			if g.pick(3) == 0 {
				continue
			}
			f := v.Field(i)
			if !f.CanSet() { // unexported: json ignores it, or promotes its fields
				f = reflect.NewAt(f.Type(), unsafe.Pointer(f.UnsafeAddr())).Elem()
			}
			if t.Field(i).Anonymous && f.Kind() == reflect.Pointer {
				// Never a reused pointer: encoding/json overflows its stack
				// on a cycle through embedded pointers only.
				p := reflect.New(f.Type().Elem())
				g.fill(p.Elem(), depth+1)
				f.Set(p)
				continue
			}
			g.fill(f, depth+1)
		}
	}
}

// str returns a string, sometimes from the input itself; none starts a
// marker's base64.
func (g *valueGen) str() string {
	strs := []string{"", "a", "<a&b>", "\u2028\u2029", "a\xffb", `"\`, "\x00\x1f\x7f", "é😀", "_placeholder", "\ufffd", "input"}
	s := strs[g.pick(len(strs))]
	if s == "input" {
		n := min(g.pick(8), len(g.data))
		s, g.data = string(g.data[:n]), g.data[n:]
	}
	return strings.ReplaceAll(s, markerB64, "")
}

// fillSlice makes a nil, empty or short slice; a byte slice is marked.
func (g *valueGen) fillSlice(v reflect.Value, depth int) {
	t := v.Type()
	n := g.pick(5) - 1
	if n < 0 {
		return // nil
	}
	if t.Elem().Kind() == reflect.Uint8 {
		g.marks++
		b := marked(strconv.Itoa(g.marks) + strings.Repeat("x", n))
		v.Set(reflect.ValueOf(b).Convert(t))
		return
	}
	s := reflect.MakeSlice(t, n, n)
	for i := range n {
		g.fill(s.Index(i), depth+1)
	}
	v.Set(s)
}

// reuse leaves the map or pointer v nil, or sets it to one of its type
// built before (which may make a cycle), and reports whether it did either.
func (g *valueGen) reuse(v reflect.Value) bool {
	shared := g.shared[v.Type()]
	switch c := g.pick(6); {
	case c == 0:
		return true // nil
	case c == 1 && len(shared) > 0 && g.reuses > 0:
		g.reuses--
		v.Set(shared[g.pick(len(shared))])
		return true
	}
	return false
}

// fillMap makes a nil, empty or small map, or reuses one.
func (g *valueGen) fillMap(v reflect.Value, depth int) {
	if g.reuse(v) {
		return
	}
	t := v.Type()
	m := reflect.MakeMap(t)
	g.shared[t] = append(g.shared[t], m)
	names := map[string]bool{} // of text keys: json's order of equal names is unspecified
	for range g.pick(4) {
		k := g.value(t.Key(), depth+1)
		if !k.Comparable() {
			continue
		}
		tm, ok := k.Interface().(encoding.TextMarshaler)
		if ok && k.Kind() != reflect.Interface && k.Type() != reflect.TypeFor[textPanicker]() {
			var name []byte
			if k.Kind() != reflect.Pointer || !k.IsNil() {
				name, _ = tm.MarshalText()
			}
			if names[string(name)] {
				continue
			}
			names[string(name)] = true
		}
		m.SetMapIndex(k, g.value(t.Elem(), depth+1))
	}
	v.Set(m)
}

// fillPointer makes a nil or new pointer, or reuses one.
func (g *valueGen) fillPointer(v reflect.Value, depth int) {
	if g.reuse(v) {
		return
	}
	t := v.Type()
	p := reflect.New(t.Elem())
	g.shared[t] = append(g.shared[t], p)
	g.fill(p.Elem(), depth+1)
	v.Set(p)
}

// fillInterface sets an interface to nil, to a value of a chosen type (an
// implementer for a non-empty interface), or to a typed nil pointer.
func (g *valueGen) fillInterface(v reflect.Value, depth int) {
	t := v.Type()
	if g.pick(5) == 0 {
		return // nil
	}
	var et reflect.Type
	if t.NumMethod() == 0 {
		et = g.typ(depth + 1)
	} else {
		var fit []reflect.Type
		for _, c := range implementers {
			if c.Implements(t) {
				fit = append(fit, c)
			}
		}
		et = fit[g.pick(len(fit))]
	}
	if et.Kind() == reflect.Pointer && g.pick(4) == 0 {
		v.Set(reflect.Zero(et)) // a typed nil
		return
	}
	v.Set(g.value(et, depth+1))
}
