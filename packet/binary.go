package packet

import (
	"encoding/base64"
	"encoding/json"
	"reflect"
)

// placeholderSpan is the position of a placeholder object in a JSON text
// and the attachment it refers to.
type placeholderSpan struct {
	start, end, index int
}

// unmarshal implements JSON.Unmarshal.
func unmarshal(raw json.RawMessage, attachments [][]byte, dst any) error {
	if len(attachments) == 0 || !mayHavePlaceholder(raw) || !json.Valid(raw) {
		return json.Unmarshal(raw, dst)
	}
	spans, err := findPlaceholders(raw, len(attachments))
	if err != nil {
		return decodeError(err, raw)
	}
	if len(spans) == 0 {
		return json.Unmarshal(raw, dst)
	}
	switch d := dst.(type) {
	case *any:
		if err := json.Unmarshal(raw, d); err != nil {
			return err
		}
		*d, err = resolvePlaceholders(*d, attachments)
		return err
	case *[]any:
		if err := json.Unmarshal(raw, d); err != nil {
			return err
		}
		_, err = resolvePlaceholders(*d, attachments)
		return err
	case *map[string]any:
		if err := json.Unmarshal(raw, d); err != nil {
			return err
		}
		if isPlaceholder(*d) {
			return &json.UnmarshalTypeError{Value: "binary attachment", Type: reflect.TypeFor[map[string]any]()}
		}
		_, err = resolvePlaceholders(*d, attachments)
		return err
	}
	return json.Unmarshal(inlineAttachments(raw, spans, attachments), dst)
}

// findPlaceholders lists the outermost placeholder objects of the valid JSON
// raw, in order, checking that every placeholder refers to one of n
// attachments.
func findPlaceholders(raw []byte, n int) ([]placeholderSpan, error) {
	var spans []placeholderSpan
	err := walkPlaceholders(raw, func(start, end int, num []byte) error {
		idx, ok := attachmentIndex(num, n)
		if !ok {
			return ErrBadAttachment
		}
		// Placeholders are reported innermost first: drop those inside this
		// one.
		for len(spans) > 0 && spans[len(spans)-1].start >= start {
			spans = spans[:len(spans)-1]
		}
		spans = append(spans, placeholderSpan{start, end, idx})
		return nil
	})
	return spans, err
}

// inlineAttachments returns raw with each placeholder replaced by the
// base64 JSON string of its attachment.
func inlineAttachments(raw []byte, spans []placeholderSpan, attachments [][]byte) []byte {
	size := len(raw)
	for _, s := range spans {
		size += base64.StdEncoding.EncodedLen(len(attachments[s.index])) + 2
	}
	out := make([]byte, 0, size)
	last := 0
	for _, s := range spans {
		out = append(out, raw[last:s.start]...)
		out = append(out, '"')
		out = base64.StdEncoding.AppendEncode(out, attachments[s.index])
		out = append(out, '"')
		last = s.end
	}
	return append(out, raw[last:]...)
}

// isPlaceholder reports whether a decoded JSON object is a placeholder.
func isPlaceholder(m map[string]any) bool {
	b, ok := m[placeholderKey].(bool)
	return ok && b
}

// resolvePlaceholders replaces, in a tree decoded by encoding/json, every
// placeholder object by its attachment and returns the new tree.
func resolvePlaceholders(v any, attachments [][]byte) (any, error) {
	switch x := v.(type) {
	case map[string]any:
		if isPlaceholder(x) {
			f, ok := x["num"].(float64)
			if !ok || f < 0 || f >= float64(len(attachments)) || f != float64(int(f)) {
				return nil, &DecodeError{Err: ErrBadAttachment}
			}
			return attachments[int(f)], nil
		}
		for k, e := range x {
			r, err := resolvePlaceholders(e, attachments)
			if err != nil {
				return nil, err
			}
			x[k] = r
		}
	case []any:
		for i, e := range x {
			r, err := resolvePlaceholders(e, attachments)
			if err != nil {
				return nil, err
			}
			x[i] = r
		}
	}
	return v, nil
}
