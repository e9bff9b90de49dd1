package packet

import "encoding/json"

// Member returns the raw value of member key of the JSON object obj, as a
// decoded packet's Data holds it, and whether there was one. It reads obj
// with a scanner rather than reflection: a connection's reader uses it on
// CONNECT replies without growing its stack.
func Member(obj json.RawMessage, key string) (json.RawMessage, bool) {
	it, ok := newObjectIter(obj)
	if !ok {
		return nil, false
	}
	for {
		name, value, ok := it.next()
		if !ok {
			return nil, false
		}
		if keyIs(name, key) {
			return value, true
		}
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

// ObjectMembers returns the members of the JSON object obj without its
// braces and surrounding space ("" for {}), to splice them into another
// object. It reports false when obj is not an object.
func ObjectMembers(obj json.RawMessage) ([]byte, bool) {
	b := trimSpace(obj)
	if len(b) < 2 || b[0] != '{' || b[len(b)-1] != '}' {
		return nil, false
	}
	return trimSpace(b[1 : len(b)-1]), true
}
