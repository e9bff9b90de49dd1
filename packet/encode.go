package packet

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"slices"
	"strconv"
	"unicode/utf8"
	"unsafe"
)

// startDetectingCyclesAfter is encoding/json's: past this many nested
// pointers, maps and slices the encoder remembers those it is inside, and
// meeting one again is a cycle, reported as encoding/json reports it.
const startDetectingCyclesAfter = 1000

// cycleKey identifies a pointer, map or slice for cycle detection.
type cycleKey struct {
	ptr unsafe.Pointer
	len int
	typ reflect.Type
}

// typeCacheSize is how many types an encoder remembers: nested and
// repeated values (lists, slices of structs) meet a few types many times.
const typeCacheSize = 8

// typeInfo is what an encoder learnt about a type.
type typeInfo struct {
	t         reflect.Type
	holds     bool          // canHoldBytes(t)
	fields    []structField // structFields(t), once hasFields
	hasFields bool
}

// encoder builds the text of one Socket.IO packet.
type encoder struct {
	buf    []byte
	atts   [][]byte
	binary bool                  // []byte values become attachments (else base64 strings)
	level  int                   // nested pointers, maps and slices
	seen   map[cycleKey]struct{} // those nested deeper than startDetectingCyclesAfter
	path   []cycleKey            // embedded pointers entered, innermost last
	types  [typeCacheSize]typeInfo
	next   int // the entry of types to replace next
}

// info returns what e knows about t, learning it when t is new.
func (e *encoder) info(t reflect.Type) *typeInfo {
	for i := range e.types {
		if e.types[i].t == t {
			return &e.types[i]
		}
	}
	ti := &e.types[e.next%typeCacheSize]
	e.next++
	*ti = typeInfo{t: t, holds: canHoldBytes(t)}
	return ti
}

// holdsBytes is canHoldBytes(t), remembered.
func (e *encoder) holdsBytes(t reflect.Type) bool { return e.info(t).holds }

// structFields is structFields(t), remembered.
func (e *encoder) structFields(t reflect.Type) []structField {
	ti := e.info(t)
	if !ti.hasFields {
		ti.fields, ti.hasFields = structFields(t), true
	}
	return ti.fields
}

// sizeHint estimates the encoded size of a packet so that the common case
// needs a single buffer allocation.
func sizeHint(ns, event string, args []any) int {
	n := 32 + len(ns) + len(event)
	for _, a := range args {
		switch x := a.(type) {
		case string:
			n += len(x) + 3
		case json.RawMessage:
			n += len(x) + 1
		default:
			n += 40
		}
	}
	return n
}

// markBinary turns the packet in e.buf into a BINARY_EVENT or BINARY_ACK by
// changing its type digit and inserting "<count>-" after it.
func (e *encoder) markBinary(t Type) {
	var tmp [24]byte
	cnt := strconv.AppendInt(tmp[:0], int64(len(e.atts)), 10)
	cnt = append(cnt, '-')
	n := len(e.buf)
	e.buf = append(e.buf, cnt...)
	copy(e.buf[2+len(cnt):], e.buf[2:n])
	copy(e.buf[2:], cnt)
	if t == Event {
		e.buf[1] = '0' + byte(BinaryEvent)
	} else {
		e.buf[1] = '0' + byte(BinaryAck)
	}
}

// appendBytes writes b as an attachment placeholder (or base64 string when
// attachments are not allowed); a nil slice is null.
func (e *encoder) appendBytes(b []byte) {
	switch {
	case b == nil:
		e.buf = append(e.buf, "null"...)
	case e.binary:
		e.buf = append(e.buf, `{"_placeholder":true,"num":`...)
		e.buf = strconv.AppendInt(e.buf, int64(len(e.atts)), 10)
		e.buf = append(e.buf, '}')
		e.atts = append(e.atts, b)
	default:
		e.buf = append(e.buf, '"')
		e.buf = base64.StdEncoding.AppendEncode(e.buf, b)
		e.buf = append(e.buf, '"')
	}
}

// appendArg writes one argument. A panic in a method of the argument
// (MarshalJSON, MarshalText, IsZero) comes back as an error wrapping the
// panic value.
func (e *encoder) appendArg(v any) (err error) {
	defer func() {
		if r := recover(); r != nil {
			if rerr, ok := r.(error); ok {
				err = fmt.Errorf("panic: %w", rerr)
			} else {
				err = fmt.Errorf("panic: %v", r)
			}
		}
	}()
	return e.appendAny(v)
}

// marshal appends the encoding/json encoding of v.
func (e *encoder) marshal(v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	e.buf = appendValidUTF8(e.buf, b)
	return nil
}

// appendValidUTF8 appends the JSON text b with each byte of invalid UTF-8
// replaced by \ufffd, as encoding/json does in the strings it encodes. Only
// a MarshalJSON method or a json.RawMessage can put such bytes in b, and
// only inside strings.
func appendValidUTF8(dst, b []byte) []byte {
	if utf8.Valid(b) {
		return append(dst, b...)
	}
	for len(b) > 0 {
		r, size := utf8.DecodeRune(b)
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, `\ufffd`...)
		} else {
			dst = append(dst, b[:size]...)
		}
		b = b[size:]
	}
	return dst
}

// enter notes one more nested pointer, map or slice, k. It reports false
// when k is already being written: the value is cyclic.
func (e *encoder) enter(k cycleKey) bool {
	e.level++
	if e.level <= startDetectingCyclesAfter {
		return true
	}
	if _, ok := e.seen[k]; ok {
		return false
	}
	if e.seen == nil {
		e.seen = make(map[cycleKey]struct{})
	}
	e.seen[k] = struct{}{}
	return true
}

// leave undoes enter(k).
func (e *encoder) leave(k cycleKey) {
	if e.level > startDetectingCyclesAfter {
		delete(e.seen, k)
	}
	e.level--
}

// cycleError is the error of encoding/json for a cyclic value v.
func cycleError(v reflect.Value) error {
	return &json.UnsupportedValueError{Value: v, Str: "encountered a cycle via " + v.Type().String()}
}

// appendAny writes v. Common types are handled by a type switch without
// reflection; other types are searched for []byte only when their type can
// hold one.
func (e *encoder) appendAny(v any) error {
	switch x := v.(type) {
	case nil:
		e.buf = append(e.buf, "null"...)
	case string:
		e.buf = appendString(e.buf, x)
	case bool:
		e.buf = strconv.AppendBool(e.buf, x)
	case int:
		e.buf = strconv.AppendInt(e.buf, int64(x), 10)
	case int8:
		e.buf = strconv.AppendInt(e.buf, int64(x), 10)
	case int16:
		e.buf = strconv.AppendInt(e.buf, int64(x), 10)
	case int32:
		e.buf = strconv.AppendInt(e.buf, int64(x), 10)
	case int64:
		e.buf = strconv.AppendInt(e.buf, x, 10)
	case uint:
		e.buf = strconv.AppendUint(e.buf, uint64(x), 10)
	case uint8:
		e.buf = strconv.AppendUint(e.buf, uint64(x), 10)
	case uint16:
		e.buf = strconv.AppendUint(e.buf, uint64(x), 10)
	case uint32:
		e.buf = strconv.AppendUint(e.buf, uint64(x), 10)
	case uint64:
		e.buf = strconv.AppendUint(e.buf, x, 10)
	case uintptr:
		e.buf = strconv.AppendUint(e.buf, uint64(x), 10)
	case float32:
		return e.appendFloat(float64(x), 32)
	case float64:
		return e.appendFloat(x, 64)
	case []byte:
		e.appendBytes(x)
	case json.RawMessage:
		return e.appendRaw(x)
	case []any:
		return e.appendSlice(x)
	case map[string]any:
		return e.appendMap(x)
	case []string:
		if x == nil {
			e.buf = append(e.buf, "null"...)
			break
		}
		e.buf = append(e.buf, '[')
		for i, s := range x {
			if i > 0 {
				e.buf = append(e.buf, ',')
			}
			e.buf = appendString(e.buf, s)
		}
		e.buf = append(e.buf, ']')
	case map[string]string:
		if x == nil {
			e.buf = append(e.buf, "null"...)
			break
		}
		keys := sortedKeys(x)
		e.buf = append(e.buf, '{')
		for i, k := range keys {
			if i > 0 {
				e.buf = append(e.buf, ',')
			}
			e.buf = appendString(e.buf, k)
			e.buf = append(e.buf, ':')
			e.buf = appendString(e.buf, x[k])
		}
		e.buf = append(e.buf, '}')
	case [][]byte:
		if x == nil {
			e.buf = append(e.buf, "null"...)
			break
		}
		e.buf = append(e.buf, '[')
		for i, b := range x {
			if i > 0 {
				e.buf = append(e.buf, ',')
			}
			e.appendBytes(b)
		}
		e.buf = append(e.buf, ']')
	case json.Marshaler:
		return e.marshal(x)
	default:
		if !e.holdsBytes(reflect.TypeOf(v)) {
			return e.marshal(v)
		}
		return e.appendValue(reflect.ValueOf(v))
	}
	return nil
}

// appendRaw writes a json.RawMessage as it is after checking it; nil is
// null.
func (e *encoder) appendRaw(x json.RawMessage) error {
	if x == nil {
		e.buf = append(e.buf, "null"...)
		return nil
	}
	if !json.Valid(x) {
		return &json.MarshalerError{Type: reflect.TypeFor[json.RawMessage](), Err: ErrBadJSON}
	}
	e.buf = appendValidUTF8(e.buf, x)
	return nil
}

// appendSlice writes a []any, searching each element.
func (e *encoder) appendSlice(x []any) error {
	if x == nil {
		e.buf = append(e.buf, "null"...)
		return nil
	}
	k := cycleKey{unsafe.Pointer(unsafe.SliceData(x)), len(x), reflect.TypeFor[[]any]()}
	if !e.enter(k) {
		return cycleError(reflect.ValueOf(x))
	}
	e.buf = append(e.buf, '[')
	for i, v := range x {
		if i > 0 {
			e.buf = append(e.buf, ',')
		}
		if err := e.appendAny(v); err != nil {
			return err
		}
	}
	e.buf = append(e.buf, ']')
	e.leave(k)
	return nil
}

// appendMap writes a map[string]any with sorted keys, searching each value.
func (e *encoder) appendMap(x map[string]any) error {
	if x == nil {
		e.buf = append(e.buf, "null"...)
		return nil
	}
	ck := cycleKey{reflect.ValueOf(x).UnsafePointer(), 0, reflect.TypeFor[map[string]any]()}
	if !e.enter(ck) {
		return cycleError(reflect.ValueOf(x))
	}
	e.buf = append(e.buf, '{')
	for i, k := range sortedKeys(x) {
		if i > 0 {
			e.buf = append(e.buf, ',')
		}
		e.buf = appendString(e.buf, k)
		e.buf = append(e.buf, ':')
		if err := e.appendAny(x[k]); err != nil {
			return err
		}
	}
	e.buf = append(e.buf, '}')
	e.leave(ck)
	return nil
}

// sortedKeys returns the keys of m in increasing order.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// appendFloat writes f the way encoding/json (and JavaScript) does: plain
// decimal notation for magnitudes in [1e-6, 1e21), exponent notation
// otherwise. NaN and infinities cannot be encoded.
func (e *encoder) appendFloat(f float64, bits int) error {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return &json.UnsupportedValueError{Value: reflect.ValueOf(f), Str: strconv.FormatFloat(f, 'g', -1, bits)}
	}
	format := byte('f')
	if abs := math.Abs(f); abs != 0 {
		if bits == 64 && (abs < 1e-6 || abs >= 1e21) ||
			bits == 32 && (float32(abs) < 1e-6 || float32(abs) >= 1e21) {
			format = 'e'
		}
	}
	e.buf = strconv.AppendFloat(e.buf, f, format, -1, bits)
	if format == 'e' {
		// Shorten a two-digit negative exponent: 1e-07 becomes 1e-7.
		n := len(e.buf)
		if n >= 4 && e.buf[n-4] == 'e' && e.buf[n-3] == '-' && e.buf[n-2] == '0' {
			e.buf[n-2] = e.buf[n-1]
			e.buf = e.buf[:n-1]
		}
	}
	return nil
}

// hexDigits are the digits of \u escapes.
const hexDigits = "0123456789abcdef"

// appendString appends s as a JSON string. Quotes, backslashes and control
// characters are escaped and invalid UTF-8 becomes U+FFFD; everything else,
// including HTML characters, is written as is. Plain ASCII is copied in one
// step.
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i++
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
