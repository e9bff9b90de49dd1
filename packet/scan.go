package packet

import (
	"bytes"
	"encoding/json"
)

// This file holds a small JSON value skipper. It is only used on input that
// json.Valid accepted (which also bounds nesting depth), but it never reads
// out of bounds on any input.

// skipSpace returns the index of the first non-whitespace byte of b at or
// after i.
func skipSpace(b []byte, i int) int {
	for i < len(b) {
		switch b[i] {
		case ' ', '\t', '\n', '\r':
			i++
		default:
			return i
		}
	}
	return i
}

// trimSpace returns b without surrounding JSON whitespace.
func trimSpace(b []byte) []byte {
	b = b[skipSpace(b, 0):]
	for len(b) > 0 {
		switch b[len(b)-1] {
		case ' ', '\t', '\n', '\r':
			b = b[:len(b)-1]
			continue
		}
		break
	}
	return b
}

// skipString returns the index just past the string starting at b[i] == '"'.
func skipString(b []byte, i int) int {
	for i++; i < len(b); i++ {
		switch b[i] {
		case '\\':
			i++
		case '"':
			return i + 1
		}
	}
	return len(b)
}

// skipValue returns the index just past the JSON value starting at b[i].
func skipValue(b []byte, i int) int {
	if i >= len(b) {
		return len(b)
	}
	switch b[i] {
	case '"':
		return skipString(b, i)
	case '{', '[':
		depth := 0
		for i < len(b) {
			switch b[i] {
			case '"':
				i = skipString(b, i)
				continue
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return i + 1
				}
			}
			i++
		}
		return len(b)
	}
	for i < len(b) {
		switch b[i] {
		case ',', ']', '}', ' ', '\t', '\n', '\r':
			return i
		}
		i++
	}
	return len(b)
}

// arrayIter walks the elements of a JSON array.
type arrayIter struct {
	b     []byte
	i     int
	first bool
}

// newArrayIter starts iterating the array b (surrounding whitespace
// allowed); ok is false when b is not an array.
func newArrayIter(b []byte) (arrayIter, bool) {
	i := skipSpace(b, 0)
	if i >= len(b) || b[i] != '[' {
		return arrayIter{}, false
	}
	return arrayIter{b: b, i: i + 1, first: true}, true
}

// next returns the next element, trimmed and with its capacity limited to
// its length, or ok false at the end of the array.
func (it *arrayIter) next() (elem json.RawMessage, ok bool) {
	i := skipSpace(it.b, it.i)
	if i >= len(it.b) || it.b[i] == ']' {
		return nil, false
	}
	if !it.first {
		if it.b[i] != ',' {
			return nil, false
		}
		i = skipSpace(it.b, i+1)
	}
	it.first = false
	end := skipValue(it.b, i)
	if end <= i {
		return nil, false
	}
	it.i = end
	return it.b[i:end:end], true
}

// objectIter walks the members of a JSON object.
type objectIter struct {
	b     []byte
	i     int
	first bool
}

// newObjectIter starts iterating the object b (surrounding whitespace
// allowed); ok is false when b is not an object.
func newObjectIter(b []byte) (objectIter, bool) {
	i := skipSpace(b, 0)
	if i >= len(b) || b[i] != '{' {
		return objectIter{}, false
	}
	return objectIter{b: b, i: i + 1, first: true}, true
}

// next returns the next member: its name, quoted as it appears, and its
// value, trimmed and with its capacity limited to its length. ok is false
// at the end of the object, or where it is malformed.
func (it *objectIter) next() (name, value []byte, ok bool) {
	b := it.b
	i := skipSpace(b, it.i)
	if i >= len(b) || b[i] == '}' {
		return nil, nil, false
	}
	if !it.first {
		if b[i] != ',' {
			return nil, nil, false
		}
		i = skipSpace(b, i+1)
	}
	it.first = false
	if i >= len(b) || b[i] != '"' {
		return nil, nil, false
	}
	end := skipString(b, i)
	name = b[i:end]
	i = skipSpace(b, end)
	if i >= len(b) || b[i] != ':' {
		return nil, nil, false
	}
	i = skipSpace(b, i+1)
	end = skipValue(b, i)
	if end <= i {
		return nil, nil, false
	}
	it.i = end
	return name, b[i:end:end], true
}

// placeholderKey is the member marking an attachment placeholder.
const placeholderKey = "_placeholder"

// keyIs reports whether the raw JSON string key decodes to name.
func keyIs(key []byte, name string) bool {
	if len(key) < 2 {
		return false
	}
	if bytes.IndexByte(key, '\\') < 0 {
		return string(key[1:len(key)-1]) == name
	}
	var s string
	return json.Unmarshal(key, &s) == nil && s == name
}

// visitFunc receives a placeholder object spanning b[start:end] and its
// "num" member as raw JSON (nil when absent).
type visitFunc func(start, end int, num []byte) error

// walkPlaceholders calls visit for every object of the valid JSON value b
// that has a member "_placeholder" equal to true (the official test),
// innermost first.
func walkPlaceholders(b []byte, visit visitFunc) error {
	_, err := walkValue(b, skipSpace(b, 0), visit)
	return err
}

// walkValue walks the value at b[i] and returns the index just past it.
func walkValue(b []byte, i int, visit visitFunc) (int, error) {
	if i >= len(b) {
		return len(b), nil
	}
	switch b[i] {
	case '[':
		i = skipSpace(b, i+1)
		for i < len(b) && b[i] != ']' {
			var err error
			if i, err = walkValue(b, i, visit); err != nil {
				return i, err
			}
			i = skipSpace(b, i)
			if i < len(b) && b[i] == ',' {
				i = skipSpace(b, i+1)
			} else if i < len(b) && b[i] != ']' {
				return len(b), nil // not valid JSON
			}
		}
		return min(i+1, len(b)), nil
	case '{':
		return walkObject(b, i, visit)
	}
	return skipValue(b, i), nil
}

// walkObject walks the object at b[start] and reports it to visit when it
// is a placeholder.
func walkObject(b []byte, start int, visit visitFunc) (int, error) {
	isPlaceholder := false
	var num []byte
	i := skipSpace(b, start+1)
	for i < len(b) && b[i] != '}' {
		if b[i] != '"' {
			return len(b), nil // not valid JSON
		}
		keyEnd := skipString(b, i)
		key := b[i:keyEnd]
		i = skipSpace(b, keyEnd)
		if i >= len(b) || b[i] != ':' {
			return len(b), nil
		}
		i = skipSpace(b, i+1)
		valStart := i
		var err error
		if i, err = walkValue(b, i, visit); err != nil {
			return i, err
		}
		val := b[valStart:i]
		switch {
		case keyIs(key, placeholderKey):
			isPlaceholder = string(val) == "true"
		case keyIs(key, "num"):
			num = val
		}
		i = skipSpace(b, i)
		if i < len(b) && b[i] == ',' {
			i = skipSpace(b, i+1)
		} else if i < len(b) && b[i] != '}' {
			return len(b), nil
		}
	}
	end := min(i+1, len(b))
	if isPlaceholder {
		if err := visit(start, end, num); err != nil {
			return end, err
		}
	}
	return end, nil
}

// attachmentIndex parses a placeholder's raw "num" member, which must be a
// plain non-negative integer below n.
func attachmentIndex(num []byte, n int) (int, bool) {
	if len(num) == 0 {
		return 0, false
	}
	idx := 0
	for _, c := range num {
		if c < '0' || c > '9' {
			return 0, false
		}
		idx = idx*10 + int(c-'0')
		if idx >= n {
			return 0, false
		}
	}
	return idx, true
}
