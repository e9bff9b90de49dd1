package packet

import "encoding/binary"

// This file holds validJSON, which accepts exactly what json.Valid accepts
// (FuzzValidJSON checks it against encoding/json): decoding validates the
// payload of every packet read, and encoding/json's scanner, a function
// call per byte, was a twentieth of a streaming client's CPU.

// maxJSONDepth is encoding/json's limit on nesting: deeper input is
// invalid.
const maxJSONDepth = 10000

// validJSON reports whether b is one JSON value, with optional whitespace
// around it. Like json.Valid, it does not check UTF-8.
func validJSON(b []byte) bool {
	var v validator
	return v.valid(b)
}

// validator is the state of one validJSON call: the containers open
// around the current position, innermost last. The first 64 live in a
// bit set (1: object), which is all the payloads of real applications
// need; deeper ones spill into a slice.
type validator struct {
	depth   int
	objects uint64
	deep    []bool // object or not, for depths beyond 64
}

func (v *validator) push(object bool) bool {
	if v.depth >= maxJSONDepth {
		return false
	}
	if v.depth < 64 {
		v.objects &^= 1 << v.depth
		if object {
			v.objects |= 1 << v.depth
		}
	} else {
		v.deep = append(v.deep[:v.depth-64], object)
	}
	v.depth++
	return true
}

// inObject reports whether the innermost open container is an object.
func (v *validator) inObject() bool {
	d := v.depth - 1
	if d < 64 {
		return v.objects&(1<<d) != 0
	}
	return v.deep[d-64]
}

func (v *validator) valid(b []byte) bool {
	i := skipSpace(b, 0)
	for {
		// A value starts at i.
		if i >= len(b) {
			return false
		}
		var ok bool
		switch c := b[i]; c {
		case '{', '[':
			if !v.push(c == '{') {
				return false
			}
			i = skipSpace(b, i+1)
			if i < len(b) && (c == '{' && b[i] == '}' || c == '[' && b[i] == ']') {
				v.depth--
				i++
				break // an empty container is a whole value
			}
			if c == '{' {
				if i, ok = member(b, i); !ok {
					return false
				}
			}
			continue // its first value
		case '"':
			if i, ok = scanString(b, i); !ok {
				return false
			}
		case 't':
			if i, ok = literal(b, i, "true"); !ok {
				return false
			}
		case 'f':
			if i, ok = literal(b, i, "false"); !ok {
				return false
			}
		case 'n':
			if i, ok = literal(b, i, "null"); !ok {
				return false
			}
		default:
			if i, ok = scanNumber(b, i); !ok {
				return false
			}
		}
		// A value ended at i: close containers until one goes on.
		for {
			i = skipSpace(b, i)
			if v.depth == 0 {
				return i == len(b)
			}
			if i >= len(b) {
				return false
			}
			object := v.inObject()
			if b[i] == ',' {
				i = skipSpace(b, i+1)
				if object {
					if i, ok = member(b, i); !ok {
						return false
					}
				}
				break // the next value
			}
			if object && b[i] != '}' || !object && b[i] != ']' {
				return false
			}
			v.depth--
			i++
		}
	}
}

// member scans an object member's name and colon at b[i] and the
// whitespace after them, and returns where its value starts.
func member(b []byte, i int) (int, bool) {
	if i >= len(b) || b[i] != '"' {
		return i, false
	}
	i, ok := scanString(b, i)
	if !ok {
		return i, false
	}
	i = skipSpace(b, i)
	if i >= len(b) || b[i] != ':' {
		return i, false
	}
	return skipSpace(b, i+1), true
}

// scanString returns the index just past the string starting at
// b[i] == '"', and whether it is valid: no control characters, and only
// JSON's escapes.
func scanString(b []byte, i int) (int, bool) {
	for i++; i < len(b); i++ {
		i = plainRun(b, i)
		if i >= len(b) {
			break
		}
		switch c := b[i]; {
		case c == '"':
			return i + 1, true
		case c < 0x20:
			return i, false
		case c == '\\':
			i++
			if i >= len(b) {
				return i, false
			}
			switch b[i] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
			case 'u':
				if i+4 >= len(b) {
					return i, false
				}
				for _, h := range b[i+1 : i+5] {
					if !isHex(h) {
						return i, false
					}
				}
				i += 4
			default:
				return i, false
			}
		}
	}
	return i, false
}

// plainRun returns the index of the first byte at or after i that ends a
// run of plain string bytes: a quote, a backslash or a control character.
// It looks at eight bytes at a time.
func plainRun(b []byte, i int) int {
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	for ; i+8 <= len(b); i += 8 {
		x := binary.LittleEndian.Uint64(b[i:])
		// A byte of zero in x^quote, in x^backslash, or of x under 0x20
		// sets the high bit of its byte in hit (bytes of 0x80 and over
		// are left out by &^ x).
		q, bs := x^(ones*'"'), x^(ones*'\\')
		hit := ((q - ones) &^ q) | ((bs - ones) &^ bs) | (x - ones*0x20)
		if hit&^x&highs != 0 {
			break
		}
	}
	for ; i < len(b); i++ {
		if c := b[i]; c == '"' || c == '\\' || c < 0x20 {
			return i
		}
	}
	return i
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

// scanNumber returns the index just past the number starting at b[i], and
// whether it follows JSON's grammar: -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?
func scanNumber(b []byte, i int) (int, bool) {
	if i < len(b) && b[i] == '-' {
		i++
	}
	switch {
	case i >= len(b):
		return i, false
	case b[i] == '0':
		i++
	case b[i] >= '1' && b[i] <= '9':
		i = digits(b, i+1)
	default:
		return i, false
	}
	if i < len(b) && b[i] == '.' {
		j := digits(b, i+1)
		if j == i+1 {
			return j, false
		}
		i = j
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		j := digits(b, i)
		if j == i {
			return j, false
		}
		i = j
	}
	return i, true
}

// digits returns the index of the first byte at or after i that is not a
// decimal digit.
func digits(b []byte, i int) int {
	for i < len(b) && isDigit(b[i]) {
		i++
	}
	return i
}

// literal checks that b holds word at i.
func literal(b []byte, i int, word string) (int, bool) {
	if len(b)-i < len(word) || string(b[i:i+len(word)]) != word {
		return i, false
	}
	return i + len(word), true
}
