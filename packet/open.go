package packet

import (
	"bytes"
	"encoding/json"
	"math"
	"time"
	"unicode/utf8"
)

// maxOpenInterval bounds pingInterval and pingTimeout: anything longer is
// treated as a broken handshake rather than a timer to arm.
const maxOpenInterval = 24 * time.Hour

// Open is the handshake data of an Engine.IO open packet.
type Open struct {
	// SID is the Engine.IO session id.
	SID string
	// Upgrades lists the transports the session may upgrade to
	// (["websocket"] over polling, empty over WebSocket).
	Upgrades []string
	// PingInterval is how often the server pings (v4) or expects a ping
	// (v3).
	PingInterval time.Duration
	// PingTimeout is how long a ping may go unanswered.
	PingTimeout time.Duration
	// MaxPayload is the largest body the server accepts, in bytes; 0 means
	// the server did not say (an Engine.IO v3 server never does).
	MaxPayload int64
}

// ParseOpen parses the payload of an open packet (the bytes after the '0'
// type digit), such as
//
//	{"sid":"lv_VI97HAXpY6yYWAAAC","upgrades":["websocket"],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}
//
// Intervals are in milliseconds. sid must be a non-empty string;
// pingInterval and pingTimeout must be integers greater than zero and at
// most 24 hours; maxPayload, when present and not null, must be a
// non-negative integer. Any violation yields a *DecodeError matching
// ErrBadOpen.
func ParseOpen(payload []byte) (Open, error) {
	raw, ok := scanOpen(payload)
	if !ok {
		raw, ok = unmarshalOpen(payload)
	}
	if !ok {
		return Open{}, decodeError(ErrBadOpen, payload)
	}
	interval, ok1 := parseMillis(raw.PingInterval)
	timeout, ok2 := parseMillis(raw.PingTimeout)
	if raw.SID == "" || !ok1 || !ok2 {
		return Open{}, decodeError(ErrBadOpen, payload)
	}
	var maxPayload int64
	if len(raw.MaxPayload) > 0 && !bytes.Equal(raw.MaxPayload, []byte("null")) {
		n, ok := parseNonNegative(raw.MaxPayload, math.MaxInt64)
		if !ok {
			return Open{}, decodeError(ErrBadOpen, payload)
		}
		maxPayload = n
	}
	return Open{
		SID:          raw.SID,
		Upgrades:     raw.Upgrades,
		PingInterval: interval,
		PingTimeout:  timeout,
		MaxPayload:   maxPayload,
	}, nil
}

// rawOpen is the open packet's members as encoding/json would read them.
type rawOpen struct {
	SID          string          `json:"sid"`
	Upgrades     []string        `json:"upgrades"`
	PingInterval json.RawMessage `json:"pingInterval"`
	PingTimeout  json.RawMessage `json:"pingTimeout"`
	MaxPayload   json.RawMessage `json:"maxPayload"`
}

// unmarshalOpen reads b with encoding/json; in a function of its own, so
// that the rawOpen it decodes into is on the heap for it alone.
func unmarshalOpen(b []byte) (rawOpen, bool) {
	var raw rawOpen
	err := json.Unmarshal(b, &raw)
	return raw, err == nil
}

// The members of an open packet, as bits of scanOpen's set of those seen,
// in the order of openMember's names.
const (
	openSID = 1 << iota
	openUpgrades
	openPingInterval
	openPingTimeout
	openMaxPayload
)

// scanOpen reads an open packet as every server writes it, without
// reflection: 3 allocations and 1.2 µs where json.Unmarshal takes 12 and
// 4.4 µs, on every connection's dial. Where encoding/json has rules of its
// own (a name matched without regard to case, a member given twice, a
// null, an escaped or invalid UTF-8 string, a value that is not an
// object), it reports false, and ParseOpen leaves the payload to
// json.Unmarshal: the two read every payload alike (FuzzParseOpen).
func scanOpen(b []byte) (raw rawOpen, ok bool) {
	it, ok := newObjectIter(b)
	if !ok || !validJSON(b) {
		return rawOpen{}, false
	}
	var seen uint8
	for {
		name, v, more := it.next()
		if !more {
			return raw, true // the end: validJSON leaves no other way out
		}
		bit, known := openMember(name[1 : len(name)-1])
		if !known || bit&seen != 0 {
			return rawOpen{}, false // encoding/json's rules decide
		}
		seen |= bit
		switch bit {
		case openSID:
			if raw.SID, ok = plainString(v); !ok {
				return rawOpen{}, false
			}
		case openUpgrades:
			if raw.Upgrades, ok = plainStrings(v); !ok {
				return rawOpen{}, false
			}
		case openPingInterval:
			raw.PingInterval = v
		case openPingTimeout:
			raw.PingTimeout = v
		case openMaxPayload:
			raw.MaxPayload = v
		}
	}
}

// openMember returns the bit of the member called name (as it appears
// between its quotes), 0 for a member ParseOpen ignores, and known false
// when encoding/json might match it to a member other than by its exact
// name: escaped, not ASCII, or equal to one but for case.
func openMember(name []byte) (bit uint8, known bool) {
	for _, c := range name {
		if c == '\\' || c >= utf8.RuneSelf {
			return 0, false
		}
	}
	names := [...]string{"sid", "upgrades", "pingInterval", "pingTimeout", "maxPayload"}
	for i, m := range names {
		if string(name) == m {
			return 1 << i, true
		}
		if bytes.EqualFold(name, []byte(m)) {
			return 0, false
		}
	}
	return 0, true
}

// plainString returns the JSON string v when it has no escapes and is
// valid UTF-8, which encoding/json would decode as it is.
func plainString(v []byte) (string, bool) {
	if len(v) < 2 || v[0] != '"' {
		return "", false
	}
	body := v[1 : len(v)-1]
	if bytes.IndexByte(body, '\\') >= 0 || !utf8.Valid(body) {
		return "", false
	}
	return string(body), true
}

// plainStrings returns the JSON array v of plain strings (see plainString)
// as encoding/json would decode it into a nil []string: [] is an empty
// slice, not nil.
func plainStrings(v []byte) ([]string, bool) {
	it, ok := newArrayIter(v)
	if !ok {
		return nil, false
	}
	out := []string{}
	for {
		elem, more := it.next()
		if !more {
			return out, true
		}
		s, ok := plainString(elem)
		if !ok {
			return nil, false
		}
		out = append(out, s)
	}
}

// parseMillis parses a JSON integer number of milliseconds in
// (0, maxOpenInterval].
func parseMillis(b []byte) (time.Duration, bool) {
	n, ok := parseNonNegative(b, int64(maxOpenInterval/time.Millisecond))
	if !ok || n == 0 {
		return 0, false
	}
	return time.Duration(n) * time.Millisecond, true
}

// parseNonNegative parses b, which must consist of decimal digits only, as
// an integer no greater than limit.
func parseNonNegative(b []byte, limit int64) (int64, bool) {
	if len(b) == 0 {
		return 0, false
	}
	var n int64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		d := int64(c - '0')
		if n > (limit-d)/10 {
			return 0, false
		}
		n = n*10 + d
	}
	return n, true
}
