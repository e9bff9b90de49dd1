package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"strconv"
	"sync"
	"time"

	"github.com/sio-go/sio"
)

// lockedWriter serialises writes from several goroutines (event printers,
// the library's logger, the bench status line), so that lines never
// interleave.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// line builds one JSON object with its fields in the order they are added.
type line struct {
	buf bytes.Buffer
}

func newLine(now time.Time, nsp, typ string) *line {
	l := &line{}
	l.buf.WriteString(`{"time":`)
	l.buf.WriteString(strconv.Quote(now.UTC().Format(time.RFC3339Nano)))
	if nsp != "" {
		l.str("ns", nsp)
	}
	l.str("type", typ)
	return l
}

func (l *line) key(k string) {
	l.buf.WriteByte(',')
	l.buf.WriteString(strconv.Quote(k))
	l.buf.WriteByte(':')
}

func (l *line) str(k, v string) {
	l.key(k)
	b, _ := json.Marshal(v) // a string always marshals
	l.buf.Write(b)
}

func (l *line) raw(k string, v []byte) {
	l.key(k)
	l.buf.Write(v)
}

func (l *line) int(k string, v int) {
	l.key(k)
	l.buf.WriteString(strconv.Itoa(v))
}

func (l *line) bytes() []byte {
	l.buf.WriteString("}\n")
	return l.buf.Bytes()
}

// eventLine renders a socket's event as a JSON line.
func eventLine(now time.Time, nsp string, ev sio.Event) []byte {
	switch ev.Type {
	case sio.EventMessage:
		l := newLine(now, nsp, "event")
		if ev.Name != "" {
			l.str("event", ev.Name)
		}
		l.raw("args", argsJSON(ev.Args))
		if ev.WantsAck() {
			l.raw("ack", []byte("true"))
		}
		return l.bytes()
	case sio.EventConnect:
		l := newLine(now, nsp, "connect")
		if ev.Recovered {
			l.raw("recovered", []byte("true"))
		}
		return l.bytes()
	case sio.EventConnectError:
		return connectErrorLine(now, nsp, ev.Err)
	default:
		l := newLine(now, nsp, "disconnect")
		l.str("reason", reason(ev.Err))
		if ev.Err != nil {
			l.str("error", ev.Err.Error())
		}
		return l.bytes()
	}
}

// connectErrorLine renders a server's refusal.
func connectErrorLine(now time.Time, nsp string, err error) []byte {
	l := newLine(now, nsp, "connect_error")
	var ce *sio.ConnectError
	if errors.As(err, &ce) {
		l.str("message", ce.Message)
		if len(ce.Data) > 0 {
			l.raw("data", compact(ce.Data))
		}
	} else if err != nil {
		l.str("message", err.Error())
	}
	return l.bytes()
}

// managerLine renders a step of reconnection as a "reconnect" line whose
// "step" is "attempt" (with its delay), "error" (the attempt failed) or
// "failed" (reconnection gave up); it returns nil for a reconnection that
// succeeded, which shows as the sockets' connect.
func managerLine(now time.Time, ev sio.ManagerEvent) []byte {
	var step string
	switch ev.Type {
	case sio.ReconnectAttempt:
		step = "attempt"
	case sio.ReconnectError:
		step = "error"
	case sio.ReconnectFailed:
		step = "failed"
	default:
		return nil
	}
	l := newLine(now, "", "reconnect")
	l.str("step", step)
	l.int("attempt", ev.Attempt)
	if ev.Type == sio.ReconnectAttempt {
		l.str("delay", ev.Delay.Round(time.Millisecond).String())
	}
	if ev.Err != nil {
		l.str("reason", reason(ev.Err))
		l.str("error", ev.Err.Error())
	}
	return l.bytes()
}

// ackLine renders the reply to an emit.
func ackLine(now time.Time, nsp string, args sio.Args) []byte {
	l := newLine(now, nsp, "ack")
	l.raw("args", argsJSON(args))
	return l.bytes()
}

// reason names err: a disconnect reason as the official client names it,
// "connect refused", "timeout", or the error's message cut short.
func reason(err error) string {
	switch {
	case err == nil:
		return ""
	case errors.Is(err, sio.ErrServerDisconnect):
		return "io server disconnect"
	case errors.Is(err, sio.ErrClientDisconnect):
		return "io client disconnect"
	case errors.Is(err, sio.ErrPingTimeout):
		return "ping timeout"
	case errors.Is(err, sio.ErrTransportClose):
		return "transport close"
	case errors.Is(err, sio.ErrTransportError):
		return "transport error"
	case errors.Is(err, sio.ErrParse):
		return "parse error"
	case errors.Is(err, sio.ErrSlowConsumer):
		return "slow consumer"
	case errors.Is(err, sio.ErrReconnectFailed):
		return "reconnect failed"
	case errors.Is(err, sio.ErrProtocol):
		return "unsupported protocol"
	case errors.Is(err, sio.ErrAckTimeout):
		return "ack timeout"
	}
	var ce *sio.ConnectError
	var he *sio.HandshakeError
	switch {
	case errors.As(err, &ce):
		return "connect refused: " + cut(ce.Message, 60)
	case errors.As(err, &he):
		return "handshake refused: " + cut(he.Error(), 60)
	case errors.Is(err, context.DeadlineExceeded):
		return "timeout"
	}
	return cut(err.Error(), 60)
}

func cut(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// argsJSON renders arguments as a JSON array, as the server encoded them
// (its key order and numbers kept), with each binary attachment as
// {"$binary":"<base64>"} at its place.
func argsJSON(a sio.Args) []byte {
	var b bytes.Buffer
	b.WriteByte('[')
	for i := range a.Len() {
		if i > 0 {
			b.WriteByte(',')
		}
		raw := a.Raw(i)
		if !bytes.Contains(raw, []byte(`"_placeholder"`)) {
			b.Write(compact(raw))
			continue
		}
		var decoded any
		if err := a.Decode(skip(i, &decoded)...); err != nil {
			b.Write(compact(raw)) // a placeholder with no attachment: shown as sent
			continue
		}
		writeBinary(&b, raw, decoded)
	}
	b.WriteByte(']')
	return b.Bytes()
}

// skip returns Decode destinations that decode argument i into dst only.
func skip(i int, dst any) []any {
	d := make([]any, i+1)
	d[i] = dst
	return d
}

// writeBinary writes raw, a JSON value, with its members in their order,
// taking binary values from decoded, the same value decoded by Args.Decode
// (where attachments are []byte).
func writeBinary(b *bytes.Buffer, raw json.RawMessage, decoded any) {
	switch d := decoded.(type) {
	case []byte:
		b.WriteString(`{"$binary":"`)
		b.WriteString(base64.StdEncoding.EncodeToString(d))
		b.WriteString(`"}`)
		return
	case map[string]any:
		var members []struct {
			k string
			v json.RawMessage
		}
		if decodeObject(raw, func(k string, v json.RawMessage) {
			members = append(members, struct {
				k string
				v json.RawMessage
			}{k, v})
		}) == nil {
			b.WriteByte('{')
			for i, m := range members {
				if i > 0 {
					b.WriteByte(',')
				}
				kb, _ := json.Marshal(m.k)
				b.Write(kb)
				b.WriteByte(':')
				writeBinary(b, m.v, d[m.k])
			}
			b.WriteByte('}')
			return
		}
	case []any:
		var elems []json.RawMessage
		if json.Unmarshal(raw, &elems) == nil && len(elems) == len(d) {
			b.WriteByte('[')
			for i, e := range elems {
				if i > 0 {
					b.WriteByte(',')
				}
				writeBinary(b, e, d[i])
			}
			b.WriteByte(']')
			return
		}
	}
	b.Write(compact(raw))
}

// decodeObject calls fn for each member of the JSON object raw, in order.
func decodeObject(raw json.RawMessage, fn func(k string, v json.RawMessage)) error {
	dec := json.NewDecoder(bytes.NewReader(raw))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return errors.New("not an object")
	}
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return err
		}
		k, _ := t.(string)
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return err
		}
		fn(k, v)
	}
	return nil
}

// compact returns raw without insignificant spaces (as it is when it has
// none, or is not valid JSON).
func compact(raw []byte) []byte {
	var b bytes.Buffer
	if json.Compact(&b, raw) != nil {
		return raw
	}
	return b.Bytes()
}
