package packet

import (
	"encoding/json"
	"testing"
)

func TestMember(t *testing.T) {
	obj := json.RawMessage(` { "sid" : "abc", "pid":"p\u0041","n":[1,{"sid":"inner"}],"data":{"code":401} } `)
	for _, tc := range []struct {
		key, want string
		ok        bool
	}{
		{"sid", "abc", true},
		{"pid", "pA", true},
		{"n", "", false}, // not a string
		{"missing", "", false},
	} {
		got, ok := StringMember(obj, tc.key)
		if got != tc.want || ok != tc.ok {
			t.Errorf("StringMember(%q) = %q, %v; want %q, %v", tc.key, got, ok, tc.want, tc.ok)
		}
	}
	if raw, ok := Member(obj, "data"); !ok || string(raw) != `{"code":401}` {
		t.Errorf("Member(data) = %s, %v", raw, ok)
	}
	for _, bad := range []string{``, `[]`, `"s"`, `{`, `{"a"`, `{"a":}`, `{"a":1 "sid":"x"}`, `{sid:"x"}`} {
		if _, ok := StringMember(json.RawMessage(bad), "sid"); ok {
			t.Errorf("StringMember(%q) found a sid", bad)
		}
	}
}

func TestObjectMembers(t *testing.T) {
	for in, want := range map[string]string{`{}`: ``, ` { "a" : 1 } `: `"a" : 1`, `{"a":1,"b":[]}`: `"a":1,"b":[]`} {
		got, ok := ObjectMembers(json.RawMessage(in))
		if !ok || string(got) != want {
			t.Errorf("ObjectMembers(%q) = %q, %v", in, got, ok)
		}
	}
	for _, bad := range []string{``, `[]`, `"{}"`, `{`} {
		if _, ok := ObjectMembers(json.RawMessage(bad)); ok {
			t.Errorf("ObjectMembers(%q) ok", bad)
		}
	}
}

func FuzzMember(f *testing.F) {
	for _, s := range []string{`{"sid":"abc"}`, `{"a":[1,2],"sid":"x\"y"}`, `{`, `{"sid":`, `[]`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		raw, ok := Member(b, "sid")
		if ok && !json.Valid(b) {
			return // Member assumes a decoder checked obj; it must only not panic
		}
		if ok && !json.Valid(raw) {
			t.Fatalf("Member returned invalid JSON %q from valid %q", raw, b)
		}
		StringMember(b, "sid")
	})
}
