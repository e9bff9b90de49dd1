package packet

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestValidJSON(t *testing.T) {
	deep := func(n int) string { return strings.Repeat("[", n) + strings.Repeat("]", n) }
	deepObj := func(n int) string { return strings.Repeat(`{"a":`, n) + "1" + strings.Repeat("}", n) }
	for _, s := range []string{
		``, ` `, `1`, ` 1 `, `-`, `-0`, `01`, `-01`, `1.`, `1.5`, `.5`, `1e`, `1e+`, `1E-2`, `1e5x`,
		`true`, `tru`, `truex`, `null`, `nul`, `false`, `"`, `""`, `"a`, `"\"`, `"\\"`, `"\u00e9"`,
		`"\u00g9"`, `"\u00e"`, `"\x"`, "\"a\tb\"", "\"a\x7fb\"", "\"\xff\"", `"\/"`,
		`[]`, `[`, `]`, `[1,]`, `[,1]`, `[1 2]`, `[1,2]`, ` [ 1 , [ ] , { } ] `, `{}`, `{`, `{"a"}`,
		`{"a":}`, `{"a":1,}`, `{"a":1 "b":2}`, `{"a":1,"b":[{"c":null}]}`, `{1:2}`, `{"a":1}}`,
		`[1]]`, `[1}`, `{"a":1]`, `1 2`, `"a" "b"`, "\n\t\r{\"a\" :\n[true ,false]}\r\n",
		deep(64), deep(65), deep(200), deep(maxJSONDepth), deep(maxJSONDepth + 1),
		deepObj(70), deepObj(maxJSONDepth), deepObj(maxJSONDepth + 1), deep(70)[:139],
		`[` + deepObj(100) + `,` + deep(100) + `]`,
	} {
		if got, want := validJSON([]byte(s)), json.Valid([]byte(s)); got != want {
			t.Errorf("validJSON(%.40q) = %v, json.Valid says %v", s, got, want)
		}
	}
}

// validJSON accepts exactly what encoding/json does.
func FuzzValidJSON(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) {
		if got, want := validJSON(data), json.Valid(data); got != want {
			t.Fatalf("validJSON(%q) = %v, json.Valid says %v", data, got, want)
		}
	})
}

func BenchmarkValidJSON(b *testing.B) {
	payload := []byte(`["echo","` + strings.Repeat("x", 100) + `",{"n":12.5,"ok":true,"list":[1,2,3]}]`)
	b.Run("sio", func(b *testing.B) {
		b.SetBytes(int64(len(payload)))
		for range b.N {
			validJSON(payload)
		}
	})
	b.Run("encoding/json", func(b *testing.B) {
		b.SetBytes(int64(len(payload)))
		for range b.N {
			json.Valid(payload)
		}
	})
}
