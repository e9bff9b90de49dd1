package packet

import (
	"encoding"
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"unicode"
)

// isMarshaler reports whether values of type t marshal themselves, so the
// encoder must not look inside them.
func isMarshaler(t reflect.Type) bool {
	return t.Implements(reflect.TypeFor[json.Marshaler]()) ||
		t.Implements(reflect.TypeFor[encoding.TextMarshaler]())
}

// isByteSlice reports whether encoding/json would encode type t (a slice)
// as base64: a slice of a uint8 kind whose pointer does not marshal itself.
func isByteSlice(t reflect.Type) bool {
	return t.Kind() == reflect.Slice && t.Elem().Kind() == reflect.Uint8 &&
		!isMarshaler(reflect.PointerTo(t.Elem()))
}

// canHoldBytes reports whether a value of type t can contain a []byte the
// encoder must turn into an attachment. It inspects the type only, so
// values of types that cannot are marshalled without reflection by the
// encoder.
func canHoldBytes(t reflect.Type) bool {
	var seen [8]reflect.Type
	return holdsBytes(t, seen[:0])
}

// holdsBytes is canHoldBytes; seen holds the composite types being
// inspected, which stops recursive types.
func holdsBytes(t reflect.Type, seen []reflect.Type) bool {
	switch t.Kind() {
	case reflect.Interface:
		return !isMarshaler(t)
	case reflect.Pointer, reflect.Array, reflect.Slice, reflect.Map, reflect.Struct:
		if isMarshaler(t) {
			return false
		}
	default:
		return false // scalars; a marshaler among them cannot hold []byte either
	}
	if isByteSlice(t) {
		return true
	}
	if slices.Contains(seen, t) {
		return false
	}
	seen = append(seen, t)
	if t.Kind() != reflect.Struct {
		return holdsBytes(t.Elem(), seen)
	}
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() && !f.Anonymous || f.Tag.Get("json") == "-" {
			continue
		}
		if holdsBytes(f.Type, seen) {
			return true
		}
	}
	return false
}

// appendValue writes v, replacing []byte values by attachments, following
// encoding/json rules for everything else. Sub-values whose type cannot
// hold []byte are marshalled by encoding/json.
func (e *encoder) appendValue(v reflect.Value) error {
	if !v.IsValid() {
		e.buf = append(e.buf, "null"...)
		return nil
	}
	t := v.Type()
	if v.CanInterface() {
		// encoding/json calls the pointer-receiver methods of addressable
		// values: marshalling a pointer to v keeps them callable.
		addr := t.Kind() != reflect.Pointer && v.CanAddr()
		switch {
		case addr && (!e.holdsBytes(t) || !isMarshaler(t) && isMarshaler(reflect.PointerTo(t))):
			return e.marshal(v.Addr().Interface())
		case !e.holdsBytes(t) && t.Kind() == reflect.Interface:
			// An interface with MarshalJSON or MarshalText: encoding/json
			// calls it through the interface (a nil pointer inside
			// included), so the interface type must reach it.
			p := reflect.New(t)
			p.Elem().Set(v)
			return e.marshal(p.Interface())
		case !e.holdsBytes(t):
			return e.marshal(v.Interface())
		}
	}
	switch t.Kind() {
	case reflect.Interface:
		if v.IsNil() {
			e.buf = append(e.buf, "null"...)
			return nil
		}
		if el := v.Elem(); el.CanInterface() {
			return e.appendAny(el.Interface())
		}
		return e.appendValue(v.Elem())
	case reflect.Pointer:
		if v.IsNil() {
			e.buf = append(e.buf, "null"...)
			return nil
		}
		k := cycleKey{v.UnsafePointer(), 0, t}
		if !e.enter(k) {
			return cycleError(v)
		}
		defer e.leave(k)
		return e.appendValue(v.Elem())
	case reflect.Slice:
		if v.IsNil() {
			e.buf = append(e.buf, "null"...)
			return nil
		}
		if isByteSlice(t) {
			e.appendBytes(v.Bytes())
			return nil
		}
		k := cycleKey{v.UnsafePointer(), v.Len(), t}
		if !e.enter(k) {
			return cycleError(v)
		}
		defer e.leave(k)
		return e.appendElems(v)
	case reflect.Array:
		return e.appendElems(v)
	case reflect.Map:
		return e.appendReflectMap(v)
	case reflect.Struct:
		return e.appendStruct(v)
	}
	return e.appendScalar(v)
}

// appendScalar writes a bool, number or string by kind (this also works on
// values read through unexported embedded fields).
func (e *encoder) appendScalar(v reflect.Value) error {
	switch v.Kind() {
	case reflect.Bool:
		e.buf = strconv.AppendBool(e.buf, v.Bool())
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		e.buf = strconv.AppendInt(e.buf, v.Int(), 10)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		e.buf = strconv.AppendUint(e.buf, v.Uint(), 10)
	case reflect.Float32:
		return e.appendFloat(v.Float(), 32)
	case reflect.Float64:
		return e.appendFloat(v.Float(), 64)
	case reflect.String:
		e.buf = appendString(e.buf, v.String())
	default:
		return &json.UnsupportedTypeError{Type: v.Type()}
	}
	return nil
}

// appendElems writes the elements of a slice or array.
func (e *encoder) appendElems(v reflect.Value) error {
	e.buf = append(e.buf, '[')
	for i := range v.Len() {
		if i > 0 {
			e.buf = append(e.buf, ',')
		}
		if err := e.appendValue(v.Index(i)); err != nil {
			return err
		}
	}
	e.buf = append(e.buf, ']')
	return nil
}

// appendReflectMap writes a map with keys named and sorted as
// encoding/json does.
func (e *encoder) appendReflectMap(v reflect.Value) error {
	switch v.Type().Key().Kind() {
	case reflect.String,
		reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
	default:
		if !v.Type().Key().Implements(reflect.TypeFor[encoding.TextMarshaler]()) {
			return &json.UnsupportedTypeError{Type: v.Type()}
		}
	}
	if v.IsNil() {
		e.buf = append(e.buf, "null"...)
		return nil
	}
	k := cycleKey{v.UnsafePointer(), 0, v.Type()}
	if !e.enter(k) {
		return cycleError(v)
	}
	defer e.leave(k)
	type entry struct {
		name string
		key  reflect.Value
	}
	entries := make([]entry, 0, v.Len())
	for it := v.MapRange(); it.Next(); {
		name, err := mapKeyName(it.Key())
		if err != nil {
			return err
		}
		entries = append(entries, entry{name, it.Key()})
	}
	slices.SortFunc(entries, func(a, b entry) int { return strings.Compare(a.name, b.name) })
	e.buf = append(e.buf, '{')
	for i, en := range entries {
		if i > 0 {
			e.buf = append(e.buf, ',')
		}
		e.buf = appendString(e.buf, en.name)
		e.buf = append(e.buf, ':')
		if err := e.appendValue(v.MapIndex(en.key)); err != nil {
			return err
		}
	}
	e.buf = append(e.buf, '}')
	return nil
}

// mapKeyName returns the JSON object key for a map key, as encoding/json.
func mapKeyName(k reflect.Value) (string, error) {
	if k.Kind() == reflect.String {
		return k.String(), nil
	}
	if k.CanInterface() {
		if tm, ok := k.Interface().(encoding.TextMarshaler); ok {
			if k.Kind() == reflect.Pointer && k.IsNil() {
				return "", nil
			}
			b, err := tm.MarshalText()
			return string(b), err
		}
	}
	if k.CanInt() {
		return strconv.FormatInt(k.Int(), 10), nil
	}
	return strconv.FormatUint(k.Uint(), 10), nil // appendReflectMap checked the kind
}

// appendStruct writes the JSON fields of a struct value.
func (e *encoder) appendStruct(v reflect.Value) error {
	e.buf = append(e.buf, '{')
	first := true
	for _, f := range e.structFields(v.Type()) {
		fv, ok := fieldByIndex(v, f.index)
		if !ok || f.omitEmpty && isEmptyValue(fv) || f.omitZero && isZeroValue(fv) {
			continue
		}
		if !first {
			e.buf = append(e.buf, ',')
		}
		first = false
		e.buf = appendString(e.buf, f.name)
		e.buf = append(e.buf, ':')
		n, err := e.enterPath(v, f.index)
		switch {
		case err != nil:
		case f.quoted:
			err = e.appendQuoted(fv)
		default:
			err = e.appendValue(fv)
		}
		if err != nil {
			return err
		}
		e.leavePath(n)
	}
	e.buf = append(e.buf, '}')
	return nil
}

// appendQuoted writes a field tagged ",string" as encoding/json does: a
// value that marshals itself as usual, a json.Number as its literal in
// quotes, a string as its JSON encoding (with encoding/json's escaping) in
// a JSON string, any other scalar as its encoding in quotes.
func (e *encoder) appendQuoted(v reflect.Value) error {
	if v.Kind() == reflect.Pointer {
		if v.IsNil() {
			e.buf = append(e.buf, "null"...)
			return nil
		}
		v = v.Elem()
	}
	if isMarshaler(v.Type()) || v.CanAddr() && isMarshaler(reflect.PointerTo(v.Type())) {
		return e.appendValue(v)
	}
	switch {
	case v.Type() == reflect.TypeFor[json.Number]():
		n := v.String()
		if n == "" {
			n = "0"
		}
		if !isNumber(n) {
			return fmt.Errorf("json: invalid number literal %q", n)
		}
		e.buf = append(e.buf, '"')
		e.buf = append(e.buf, n...)
		e.buf = append(e.buf, '"')
	case v.Kind() == reflect.String:
		inner, err := json.Marshal(v.String())
		if err != nil {
			return err
		}
		e.buf = appendString(e.buf, string(inner))
	default:
		e.buf = append(e.buf, '"')
		if err := e.appendScalar(v); err != nil {
			return err
		}
		e.buf = append(e.buf, '"')
	}
	return nil
}

// isNumber reports whether s is a JSON number literal.
func isNumber(s string) bool {
	if s == "" || s[0] != '-' && (s[0] < '0' || s[0] > '9') || strings.TrimSpace(s) != s {
		return false
	}
	var n json.Number
	return json.Unmarshal([]byte(s), &n) == nil
}

// fieldByIndex follows an index path through embedded structs; ok is false
// when it passes through a nil embedded pointer.
func fieldByIndex(v reflect.Value, index []int) (reflect.Value, bool) {
	for _, i := range index {
		if v.Kind() == reflect.Pointer {
			if v.IsNil() {
				return reflect.Value{}, false
			}
			v = v.Elem()
		}
		v = v.Field(i)
	}
	return v, true
}

// enterPath enters, for cycle detection, the embedded pointers on the path
// index from struct v (fieldByIndex found them non-nil) and returns how
// many. encoding/json does not count these, and overflows its stack on a
// cycle through them; the encoder reports the cycle.
func (e *encoder) enterPath(v reflect.Value, index []int) (int, error) {
	n := 0
	for _, i := range index[:len(index)-1] {
		v = v.Field(i)
		if v.Kind() == reflect.Pointer {
			k := cycleKey{v.UnsafePointer(), 0, v.Type()}
			if !e.enter(k) {
				return n, cycleError(v)
			}
			e.path = append(e.path, k)
			n++
			v = v.Elem()
		}
	}
	return n, nil
}

// leavePath leaves the last n embedded pointers enterPath entered.
func (e *encoder) leavePath(n int) {
	for range n {
		e.leave(e.path[len(e.path)-1])
		e.path = e.path[:len(e.path)-1]
	}
}

// isEmptyValue is the omitempty test of encoding/json.
func isEmptyValue(v reflect.Value) bool {
	switch v.Kind() {
	case reflect.Array, reflect.Map, reflect.Slice, reflect.String:
		return v.Len() == 0
	case reflect.Bool:
		return !v.Bool()
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return v.Int() == 0
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return v.Uint() == 0
	case reflect.Float32, reflect.Float64:
		return v.Float() == 0
	case reflect.Interface, reflect.Pointer:
		return v.IsNil()
	}
	return false
}

// isZeroer is the interface of types with their own omitzero test.
type isZeroer interface{ IsZero() bool }

// isZeroValue is the omitzero test of encoding/json for a field value v:
// the IsZero method of v's static type (or of a pointer to it) when it has
// one, never called on a nil pointer, else reflect's zero test.
func isZeroValue(v reflect.Value) bool {
	t := v.Type()
	zeroer := reflect.TypeFor[isZeroer]()
	switch {
	case !t.Implements(zeroer) && !reflect.PointerTo(t).Implements(zeroer):
		return v.IsZero()
	case t.Kind() == reflect.Interface:
		return v.IsNil() || v.Elem().Kind() == reflect.Pointer && v.Elem().IsNil() ||
			v.Interface().(isZeroer).IsZero()
	case t.Kind() == reflect.Pointer && t.Implements(zeroer):
		return v.IsNil() || v.Interface().(isZeroer).IsZero()
	case t.Implements(zeroer):
		return v.Interface().(isZeroer).IsZero()
	}
	if !v.CanAddr() {
		c := reflect.New(t).Elem()
		c.Set(v)
		v = c
	}
	return v.Addr().Interface().(isZeroer).IsZero()
}

// structField is one JSON field of a struct type.
type structField struct {
	name      string
	index     []int
	tagged    bool
	omitEmpty bool
	omitZero  bool
	quoted    bool
}

// structFields lists the JSON fields of struct type t in encoding/json
// order, with embedded structs flattened and name conflicts resolved the
// same way (the shallowest field wins, a tagged one among equals, else none).
// Like encoding/json it groups the candidates by name, so wide structs cost
// n log n, not n².
func structFields(t reflect.Type) []structField {
	var all []structField
	collectFields(t, nil, nil, &all)
	slices.SortStableFunc(all, func(a, b structField) int { return strings.Compare(a.name, b.name) })
	fields := all[:0] // written at or before the group being read
	for i := 0; i < len(all); {
		j := i + 1
		for j < len(all) && all[j].name == all[i].name {
			j++
		}
		if w := dominant(all[i:j]); w >= 0 {
			fields = append(fields, all[i+w])
		}
		i = j
	}
	slices.SortFunc(fields, func(a, b structField) int { return slices.Compare(a.index, b.index) })
	return fields
}

// dominant returns the index in group, the candidates for one name in
// field order, of the field that owns the name, or -1.
func dominant(group []structField) int {
	best, depth, count, tagged, taggedAt := -1, 0, 0, 0, -1
	for i, f := range group {
		switch d := len(f.index); {
		case best < 0 || d < depth:
			best, depth, count, tagged, taggedAt = i, d, 1, 0, -1
		case d == depth:
			count++
		default:
			continue
		}
		if f.tagged {
			tagged++
			taggedAt = i
		}
	}
	switch {
	case count == 1:
		return best
	case tagged == 1:
		return taggedAt
	}
	return -1
}

// collectFields appends the candidate JSON fields of struct type t, found
// under index, to out. path holds the struct types being expanded.
func collectFields(t reflect.Type, index []int, path []reflect.Type, out *[]structField) {
	if slices.Contains(path, t) {
		return
	}
	path = append(path, t)
	for i := range t.NumField() {
		sf := t.Field(i)
		if sf.Anonymous {
			et := sf.Type
			if et.Kind() == reflect.Pointer {
				et = et.Elem()
			}
			if !sf.IsExported() && et.Kind() != reflect.Struct {
				continue
			}
		} else if !sf.IsExported() {
			continue
		}
		tag := sf.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		if !isValidTag(name) {
			name = ""
		}
		idx := append(index[:len(index):len(index)], i)
		ft := sf.Type
		if ft.Name() == "" && ft.Kind() == reflect.Pointer {
			ft = ft.Elem()
		}
		if name == "" && sf.Anonymous && ft.Kind() == reflect.Struct {
			collectFields(ft, idx, path, out)
			continue
		}
		f := structField{name: name, index: idx, tagged: name != ""}
		if name == "" {
			f.name = sf.Name
		}
		for opts != "" {
			var opt string
			opt, opts, _ = strings.Cut(opts, ",")
			switch opt {
			case "omitempty":
				f.omitEmpty = true
			case "omitzero":
				f.omitZero = true
			case "string":
				switch ft.Kind() {
				case reflect.Bool, reflect.String,
					reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
					reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr,
					reflect.Float32, reflect.Float64:
					f.quoted = true
				}
			}
		}
		*out = append(*out, f)
	}
}

// isValidTag reports whether s can be used as a JSON field name in a tag.
func isValidTag(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		switch {
		case strings.ContainsRune("!#$%&()*+-./:;<=>?@[]^_{|}~ ", c):
		case !unicode.IsLetter(c) && !unicode.IsDigit(c):
			return false
		}
	}
	return true
}
