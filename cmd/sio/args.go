package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"unicode"
)

// maxFileArg bounds a file sent with @FILE.
const maxFileArg = 64 << 20

// parseArg turns one command-line argument into an emit argument: a JSON
// value as it is; "@FILE" as the file's bytes (binary); a word that is not
// JSON as a string. A word that starts like JSON ({, [ or ") and does not
// parse is an error, as is an unreadable file.
func parseArg(a string) (any, error) {
	if name, ok := strings.CutPrefix(a, "@"); ok {
		return readFileArg(name)
	}
	if json.Valid([]byte(a)) {
		return json.RawMessage(compact([]byte(a))), nil
	}
	if t := strings.TrimLeftFunc(a, unicode.IsSpace); t != "" && strings.ContainsRune(`{["`, rune(t[0])) {
		var v any
		err := json.Unmarshal([]byte(a), &v)
		return nil, fmt.Errorf("argument %.40q is not valid JSON: %v", a, err)
	}
	return a, nil
}

func readFileArg(name string) ([]byte, error) {
	if name == "" {
		return nil, fmt.Errorf("@: no file name")
	}
	f, err := os.Open(name)
	if err != nil {
		return nil, fmt.Errorf("@%s: %w", name, err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxFileArg+1))
	if err != nil {
		return nil, fmt.Errorf("@%s: %w", name, err)
	}
	if len(b) > maxFileArg {
		return nil, fmt.Errorf("@%s: larger than %d bytes", name, maxFileArg)
	}
	if b == nil {
		b = []byte{} // an empty file is an empty binary, not null
	}
	return b, nil
}

// parseArgList turns command-line arguments into emit arguments.
func parseArgList(words []string) ([]any, error) {
	args := make([]any, 0, len(words))
	for _, w := range words {
		v, err := parseArg(w)
		if err != nil {
			return nil, err
		}
		args = append(args, v)
	}
	return args, nil
}

// parseLine splits a line typed to "sio connect" into an event name and its
// arguments: either a JSON array ["event", args…], or "EVENT ARG…" where
// each ARG is a JSON value (which may hold spaces), @FILE, or a word.
func parseLine(text string) (string, []any, error) {
	text = strings.TrimSpace(text)
	if strings.HasPrefix(text, "[") {
		var elems []json.RawMessage
		if err := json.Unmarshal([]byte(text), &elems); err != nil {
			return "", nil, fmt.Errorf("not a JSON array: %v", err)
		}
		if len(elems) == 0 {
			return "", nil, fmt.Errorf("an empty array has no event name")
		}
		var name string
		if err := json.Unmarshal(elems[0], &name); err != nil {
			return "", nil, fmt.Errorf("the event name must be a string, not %s", elems[0])
		}
		args := make([]any, len(elems)-1)
		for i, e := range elems[1:] {
			args[i] = e
		}
		return name, args, nil
	}
	name, rest, _ := strings.Cut(text, " ")
	var words []string
	for rest = strings.TrimSpace(rest); rest != ""; rest = strings.TrimSpace(rest) {
		if strings.ContainsRune(`{["`, rune(rest[0])) {
			// One JSON value, which may contain spaces.
			dec := json.NewDecoder(strings.NewReader(rest))
			var v json.RawMessage
			if err := dec.Decode(&v); err != nil {
				return "", nil, fmt.Errorf("argument %.40q is not valid JSON: %v", rest, err)
			}
			n := dec.InputOffset()
			words, rest = append(words, rest[:n]), rest[n:]
			continue
		}
		w, r, _ := strings.Cut(rest, " ")
		words, rest = append(words, w), r
	}
	args, err := parseArgList(words)
	return name, args, err
}

// parseAckArgs parses --ack's JSON: an array is the list of arguments, any
// other value the one argument.
func parseAckArgs(s string) ([]any, error) {
	b := bytes.TrimSpace([]byte(s))
	if !json.Valid(b) {
		return nil, usagef("--ack: not valid JSON: %.40q", s)
	}
	if len(b) > 0 && b[0] == '[' {
		var elems []json.RawMessage
		if err := json.Unmarshal(b, &elems); err != nil {
			return nil, usagef("--ack: %v", err)
		}
		args := make([]any, len(elems))
		for i, e := range elems {
			args[i] = e
		}
		return args, nil
	}
	return []any{json.RawMessage(b)}, nil
}
