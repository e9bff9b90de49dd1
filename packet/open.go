package packet

import (
	"bytes"
	"encoding/json"
	"math"
	"time"
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
	var raw struct {
		SID          string          `json:"sid"`
		Upgrades     []string        `json:"upgrades"`
		PingInterval json.RawMessage `json:"pingInterval"`
		PingTimeout  json.RawMessage `json:"pingTimeout"`
		MaxPayload   json.RawMessage `json:"maxPayload"`
	}
	if err := json.Unmarshal(payload, &raw); err != nil || raw.SID == "" {
		return Open{}, decodeError(ErrBadOpen, payload)
	}
	interval, ok1 := parseMillis(raw.PingInterval)
	timeout, ok2 := parseMillis(raw.PingTimeout)
	if !ok1 || !ok2 {
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
