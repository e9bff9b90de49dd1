package sio

import (
	"context"
	"log/slog"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/sio-go/sio/packet"
)

// WithLogger makes the client log to l: the life of a connection at Info
// (the handshake, the upgrade to WebSocket, a socket joining, refused or
// disconnected with its reason, the connection's end with its reason, and
// each reconnection attempt with its delay), and every Engine.IO packet
// sent and received at Debug, cut to logPacketMax bytes. It never logs the
// auth payload (a CONNECT packet the client sends is logged without it),
// header values, or the URL's query.
//
// Without WithLogger the client logs nothing, and logging costs a nil check.
// l is called from the connection's reader and writer goroutines (slog
// handlers are safe for concurrent use), so a handler that blocks holds up
// the connection: at Debug, give it a fast writer.
func WithLogger(l *slog.Logger) Option {
	return optionFunc(func(c *config) {
		if l == nil {
			c.log = nil
			return
		}
		c.log = &logger{sl: l}
	})
}

// logPacketMax bounds the bytes of one packet shown in a Debug record.
const logPacketMax = 200

// logger is the client's logger. A nil *logger is silent: every method
// starts with the nil check, is small enough to inline, and formats
// nothing unless the logger is set and enabled for the level.
//
// A logger is immutable and used from any goroutine.
type logger struct {
	sl *slog.Logger
}

// The directions of a packet, for packets.
const (
	dirSend = "send"
	dirRecv = "recv"
)

// handshake logs an Engine.IO session opened over transport t.
func (l *logger) handshake(u *url.URL, t Transport, eio int, open *packet.Open) {
	if l != nil {
		l.logHandshake(u, t, eio, open)
	}
}

func (l *logger) logHandshake(u *url.URL, t Transport, eio int, open *packet.Open) {
	l.sl.Info("sio: handshake", "url", safeURL(u), "transport", t.String(), "eio", eio,
		"sid", open.SID, "upgrades", open.Upgrades, "pingInterval", open.PingInterval,
		"pingTimeout", open.PingTimeout, "maxPayload", open.MaxPayload)
}

// upgraded logs the end of an upgrade to WebSocket.
func (l *logger) upgraded(sid string) {
	if l != nil {
		l.logUpgraded(sid)
	}
}

func (l *logger) logUpgraded(sid string) {
	l.sl.Info("sio: upgraded", "sid", sid, "transport", WebSocket.String())
}

// connEnded logs the end of an Engine.IO connection and why.
func (l *logger) connEnded(sid string, err error) {
	if l != nil {
		l.logConnEnded(sid, err)
	}
}

func (l *logger) logConnEnded(sid string, err error) {
	l.sl.Info("sio: connection closed", "sid", sid, "reason", errString(err))
}

// socketEvent logs a socket's lifecycle event (EventConnect,
// EventDisconnect, EventConnectError) in namespace nsp.
func (l *logger) socketEvent(nsp string, ev Event) {
	if l != nil {
		l.logSocketEvent(nsp, &ev)
	}
}

func (l *logger) logSocketEvent(nsp string, ev *Event) {
	switch ev.Type {
	case EventConnect:
		l.sl.Info("sio: connected", "ns", nsp, "recovered", ev.Recovered)
	case EventConnectError:
		l.sl.Info("sio: connect refused", "ns", nsp, "reason", errString(ev.Err))
	default:
		l.sl.Info("sio: disconnected", "ns", nsp, "reason", errString(ev.Err))
	}
}

// managerEvent logs a step of reconnection.
func (l *logger) managerEvent(ev ManagerEvent) {
	if l != nil {
		l.logManagerEvent(&ev)
	}
}

func (l *logger) logManagerEvent(ev *ManagerEvent) {
	attrs := []any{"attempt", ev.Attempt}
	if ev.Type == ReconnectAttempt {
		attrs = append(attrs, "delay", ev.Delay.Round(time.Millisecond))
	}
	if ev.Err != nil {
		attrs = append(attrs, "reason", errString(ev.Err))
	}
	l.sl.Info("sio: "+ev.Type.String(), attrs...)
}

// packets logs frames sent or received at Debug.
func (l *logger) packets(dir string, frames ...packet.Frame) {
	if l != nil {
		l.logPackets(dir, frames)
	}
}

func (l *logger) logPackets(dir string, frames []packet.Frame) {
	ctx := context.Background()
	if !l.sl.Enabled(ctx, slog.LevelDebug) {
		return
	}
	for _, f := range frames {
		l.sl.Log(ctx, slog.LevelDebug, "sio: "+dir, "packet", packetText(dir, f))
	}
}

// packetText shows a frame in a log record: text as it is, cut to
// logPacketMax bytes, binary as its size. A Socket.IO CONNECT the client
// sends loses its payload and its namespace's query, which carry the auth.
func packetText(dir string, f packet.Frame) string {
	if f.Binary {
		return "<binary " + strconv.Itoa(len(f.Data)) + " bytes>"
	}
	s := string(f.Data[:min(len(f.Data), logPacketMax+1)])
	if dir == dirSend && strings.HasPrefix(s, "40") {
		ns := s[2:]
		if i := strings.IndexAny(ns, "?,{"); i >= 0 {
			ns = ns[:i]
		}
		if !strings.HasPrefix(ns, "/") {
			ns = ""
		}
		if rest := string(f.Data[2+len(ns):]); rest != "" && rest != "," {
			return "40" + ns + " <auth withheld>"
		}
		return string(f.Data)
	}
	if len(f.Data) > logPacketMax {
		return s[:logPacketMax] + "…(" + strconv.Itoa(len(f.Data)) + " bytes)"
	}
	return s
}

// safeURL is u without its query (which may carry credentials) and user.
func safeURL(u *url.URL) string {
	if u == nil {
		return ""
	}
	v := *u
	v.RawQuery, v.User, v.Fragment = "", nil, ""
	return v.String()
}

// errString is err's message for a record, with the query of every URL
// in it (net/http quotes the request's URL in its errors) withheld.
func errString(err error) string {
	if err == nil {
		return ""
	}
	return withoutQueries(err.Error())
}

// withoutQueries replaces the query of each URL in s by "?…".
func withoutQueries(s string) string {
	var b strings.Builder
	for {
		i := strings.Index(s, "://")
		if i < 0 {
			break
		}
		end := i + 3 + strings.IndexFunc(s[i+3:]+" ", func(r rune) bool { return r == ' ' || r == '"' || r == '\'' || r == '?' })
		b.WriteString(s[:end])
		s = s[end:]
		if strings.HasPrefix(s, "?") {
			b.WriteString("?…")
			stop := strings.IndexAny(s, " \"'")
			if stop < 0 {
				stop = len(s)
			}
			s = s[stop:]
		}
	}
	b.WriteString(s)
	return b.String()
}
