package packet

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"
)

// This file holds the differential harness shared by TestEncodeMatchesJSON
// and FuzzEncodeMatchesJSON: Encode must write every argument as
// json.Marshal does, with each []byte replaced by its placeholder.

// markerPrefix starts every []byte the differential tests build, so that
// its base64 form, markerB64, finds them in json.Marshal's output. Six bytes
// keep the prefix's base64 independent of what follows.
var markerPrefix = []byte{0, 's', 'i', 'o', 0xff, 0xfe}

const markerB64 = "AHNpb//+"

// marked returns a []byte holding the marker and s.
func marked(s string) []byte { return append(markerPrefix[:len(markerPrefix):len(markerPrefix)], s...) }

// encodeArg encodes v as the only argument of an ACK and returns its JSON
// and attachments.
func encodeArg(v any) (payload []byte, atts [][]byte, err error) {
	m, err := JSON{}.Encode(Header{Type: Ack, ID: 1, HasID: true}, "", []any{v})
	if err != nil {
		return nil, nil, err
	}
	data := m.Head.Data
	switch {
	case bytes.HasPrefix(data, []byte("43")):
		data = data[2:]
	case bytes.HasPrefix(data, []byte("46")):
		n := bytes.IndexByte(data, '-')
		if n < 0 {
			return nil, nil, fmt.Errorf("bad binary head %q", m.Head.Data)
		}
		if c, _ := strconv.Atoi(string(data[2:n])); c != len(m.Attachments) || c == 0 {
			return nil, nil, fmt.Errorf("head %q announces %d, has %d attachments", m.Head.Data, c, len(m.Attachments))
		}
		data = data[n+1:]
	default:
		return nil, nil, fmt.Errorf("bad head %q", m.Head.Data)
	}
	if !bytes.HasPrefix(data, []byte("1[")) || !bytes.HasSuffix(data, []byte("]")) {
		return nil, nil, fmt.Errorf("bad head %q", m.Head.Data)
	}
	return data[2 : len(data)-1], m.Attachments, nil
}

// errPanicked stands for a json.Marshal that panicked.
var errPanicked = errors.New("json.Marshal panicked")

// referenceArg is what encodeArg must return for v: json.Marshal's output
// with each marked []byte (a base64 string starting with markerB64)
// replaced by a placeholder numbered in order of appearance.
func referenceArg(v any) (payload []byte, atts [][]byte, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%w: %v", errPanicked, r)
		}
	}()
	b, err := json.Marshal(v)
	if err != nil {
		return nil, nil, err
	}
	for {
		i := bytes.Index(b, []byte(`"`+markerB64))
		if i < 0 {
			return append(payload, b...), atts, nil
		}
		end := i + 1 + bytes.IndexByte(b[i+1:], '"')
		att, err := base64.StdEncoding.DecodeString(string(b[i+1 : end]))
		if err != nil {
			return nil, nil, fmt.Errorf("marker %q: %v", b[i:end+1], err)
		}
		payload = append(payload, b[:i]...)
		payload = fmt.Appendf(payload, `{"_placeholder":true,"num":%d}`, len(atts))
		atts = append(atts, att)
		b = b[end+1:]
	}
}

// errorClass names the kind of an encoding error, for comparing errors of
// Encode and json.Marshal.
func errorClass(err error) string {
	var (
		typeErr  *json.UnsupportedTypeError
		valueErr *json.UnsupportedValueError
		marshErr *json.MarshalerError
	)
	switch {
	case err == nil:
		return "none"
	case errors.As(err, &typeErr):
		return "unsupported type"
	case errors.As(err, &valueErr):
		return "unsupported value"
	case errors.As(err, &marshErr):
		return "marshaler error"
	}
	return "other"
}

// canonical returns the token sequence of the JSON text b with every string
// decoded and encoded again the same way, numbers as written and no
// whitespace: two texts with the same canonical form differ only in
// whitespace, escaping and invalid UTF-8 (which json.Marshal lets through
// from a MarshalJSON method).
func canonical(b []byte) (string, error) {
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	var out []byte
	for {
		tok, err := d.Token()
		if err == io.EOF {
			return string(out), nil
		}
		if err != nil {
			return "", fmt.Errorf("%v in %q", err, b)
		}
		switch x := tok.(type) {
		case json.Delim:
			out = append(out, x.String()...)
		case string:
			out = strconv.AppendQuoteToASCII(out, x)
		case json.Number:
			out = append(out, x...)
		case bool:
			out = strconv.AppendBool(out, x)
		case nil:
			out = append(out, "null"...)
		}
		out = append(out, ' ')
	}
}

// normalize returns the valid JSON text b without whitespace, with invalid
// UTF-8 as \ufffd and the escapes of <, >, &, U+2028 and U+2029 undone:
// the cheap common case of canonical.
func normalize(b []byte) []byte {
	var c bytes.Buffer
	if json.Compact(&c, appendValidUTF8(nil, b)) != nil {
		return nil
	}
	b = c.Bytes()
	out := make([]byte, 0, len(b))
	for i := 0; i < len(b); i++ {
		if b[i] != '\\' || i+1 >= len(b) {
			out = append(out, b[i])
			continue
		}
		if b[i+1] == 'u' && i+6 <= len(b) {
			switch string(b[i+2 : i+6]) {
			case "003c", "003e", "0026", "2028", "2029":
				n, _ := strconv.ParseUint(string(b[i+2:i+6]), 16, 32)
				out = utf8.AppendRune(out, rune(n))
				i += 5
				continue
			}
		}
		out = append(out, b[i], b[i+1]) // any other escape stays as it is
		i++
	}
	return out
}

// diffEncoding returns "" when Encode writes v as json.Marshal does (the
// same tokens, the same attachments, or errors of the same class), else a
// description of the difference.
func diffEncoding(v any) (diff string) {
	defer func() {
		if r := recover(); r != nil {
			diff = fmt.Sprintf("Encode panicked: %v", r)
		}
	}()
	want, wantAtts, wantErr := referenceArg(v)
	got, gotAtts, gotErr := encodeArg(v)
	if wantErr != nil || gotErr != nil {
		wantClass := errorClass(wantErr)
		if errors.Is(wantErr, errPanicked) {
			wantClass = "any" // Encode must return an error instead
		}
		switch {
		case gotErr == nil:
			return fmt.Sprintf("no error, wrote %.300s; json.Marshal: %v", got, wantErr)
		case wantErr == nil:
			return fmt.Sprintf("error %v; json.Marshal wrote %.300s", gotErr, want)
		case wantClass != "any" && errorClass(gotErr) != wantClass:
			return fmt.Sprintf("error %v (%s); json.Marshal: %v (%s)", gotErr, errorClass(gotErr), wantErr, wantClass)
		case !strings.HasPrefix(gotErr.Error(), "packet: "):
			return fmt.Sprintf("error %q lacks the package prefix", gotErr)
		}
		return ""
	}
	if !utf8.Valid(got) {
		return fmt.Sprintf("wrote invalid UTF-8: %q", got)
	}
	if string(got) == string(want) || string(normalize(got)) == string(normalize(want)) {
		return diffAttachments(gotAtts, wantAtts)
	}
	cg, err := canonical(got)
	if err != nil {
		return fmt.Sprintf("wrote invalid JSON: %v", err)
	}
	cw, err := canonical(want)
	if err != nil {
		return fmt.Sprintf("json.Marshal wrote invalid JSON: %v", err)
	}
	if cg != cw {
		return fmt.Sprintf("wrote\n\t%.300s\njson.Marshal (placeholders put in)\n\t%.300s", got, want)
	}
	return diffAttachments(gotAtts, wantAtts)
}

// diffAttachments returns "" when got and want hold the same bytes, else a
// description of the difference.
func diffAttachments(got, want [][]byte) string {
	if len(got) != len(want) {
		return fmt.Sprintf("%d attachments %q, want %q", len(got), got, want)
	}
	for i := range got {
		if !bytes.Equal(got[i], want[i]) {
			return fmt.Sprintf("attachment %d is %q, want %q", i, got[i], want[i])
		}
	}
	return ""
}
