package packet

import "encoding/json"

// Member returns the raw value of member key of the JSON object obj, as a
// decoded packet's Data holds it, and whether there was one. It reads obj
// with a scanner rather than reflection: a connection's reader uses it on
// CONNECT replies without growing its stack.
func Member(obj json.RawMessage, key string) (json.RawMessage, bool) {
	b := obj
	i := skipSpace(b, 0)
	if i >= len(b) || b[i] != '{' {
		return nil, false
	}
	i++
	for {
		i = skipSpace(b, i)
		if i >= len(b) || b[i] != '"' {
			return nil, false
		}
		end := skipString(b, i)
		k := b[i:end]
		i = skipSpace(b, end)
		if i >= len(b) || b[i] != ':' {
			return nil, false
		}
		i = skipSpace(b, i+1)
		end = skipValue(b, i)
		if end <= i {
			return nil, false
		}
		if keyIs(k, key) {
			return b[i:end:end], true
		}
		i = skipSpace(b, end)
		if i >= len(b) || b[i] != ',' {
			return nil, false
		}
		i++
	}
}

// StringMember returns the value of member key of the JSON object obj when
// it is a string, like Member.
func StringMember(obj json.RawMessage, key string) (string, bool) {
	raw, ok := Member(obj, key)
	if !ok || len(raw) < 2 || raw[0] != '"' {
		return "", false
	}
	s, err := unquote(raw)
	return s, err == nil
}
