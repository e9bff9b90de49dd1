package sio

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/sio-go/sio/packet"
	"github.com/sio-go/sio/transport"
	"golang.org/x/sync/errgroup"
)

// dialEngine opens an Engine.IO connection: it connects the first transport
// of cfg.transports that the server accepts, reads the open packet and
// starts the connection's goroutines (and the upgrade to WebSocket, when the
// connection starts on polling and both sides allow it).
//
// Unless cfg pins a version, it asks for Engine.IO v4 and falls back to v3
// when the server shows it speaks only that (Socket.IO 2.x): a v3 polling
// body, an open packet without maxPayload, or "Unsupported protocol
// version". A v3/v4 server that allows both keeps speaking v4.
//
// newHandler makes the handler of the connection, before its goroutines
// start.
func dialEngine(ctx context.Context, cfg *config, tcfg *transport.Config, newHandler func(*engineConn) connHandler) (*engineConn, error) {
	var errs []error // the failures of the transports tried before
	for i, t := range cfg.transports {
		tc := *tcfg
		tc.EIO = cfg.eio
		if tc.EIO == 0 {
			tc.EIO = 4
		}
		g := new(errgroup.Group)
		tr, open, err := handshake(ctx, t, &tc, cfg.webTransport, cfg.eio == 0, g)
		if err != nil && cfg.eio == 0 && speaksV3(err) {
			tc.EIO = 3
			g = new(errgroup.Group)
			tr, open, err = handshake(ctx, t, &tc, cfg.webTransport, false, g)
		}
		var he *HandshakeError
		if errors.As(err, &he) && he.Code == transport.CodeTransportUnknown && i+1 < len(cfg.transports) {
			continue // the server does not offer this one: try the next
		}
		if err != nil && (cfg.tryAllTransports || t == WebTransport) && ctx.Err() == nil && i+1 < len(cfg.transports) {
			errs = append(errs, fmt.Errorf("%v: %w", t, err))
			continue // see WithTryAllTransports, WithWebTransportDialer
		}
		if err != nil && len(errs) > 0 {
			return nil, errors.Join(append(errs, fmt.Errorf("%v: %w", t, err))...)
		}
		if err != nil {
			return nil, err
		}
		var upgradeTo *transport.Config
		if t == Polling && slices.Contains(cfg.transports, WebSocket) && slices.Contains(open.Upgrades, transport.NameWebSocket) {
			upgradeTo = &tc
		}
		cfg.log.handshake(tc.URL, t, tc.EIO, &open)
		return startEngine(g, tr, tc.EIO, open, tc.MaxPayload, newHandler, upgradeTo, cfg.log), nil
	}
	return nil, fmt.Errorf("sio: no transport to try")
}

// errOpenV3 reports a WebSocket session where v4 was asked for but the
// server speaks v3: it ignored EIO=4 (Socket.IO 2.x does).
var errOpenV3 = fmt.Errorf("%w: the server speaks Engine.IO v3 (Socket.IO 2.x)", ErrProtocol)

// speaksV3 reports whether a failed v4 handshake says the server speaks
// only Engine.IO v3.
func speaksV3(err error) bool {
	var he *HandshakeError
	return errors.Is(err, errOpenV3) || errors.Is(err, transport.ErrEIO3) ||
		errors.As(err, &he) && he.Code == transport.CodeUnsupportedVersion
}

// v3Peek bounds the wait for the unasked CONNECT that tells a Socket.IO 2.x
// server over WebSocket (it sends it right after the open packet).
const v3Peek = 250 * time.Millisecond

// handshake connects one transport for a new session and reads its open
// packet.
// With peek, a WebSocket open packet without maxPayload is checked for a v3
// server (see peekV3), whose read-ahead runs in g: the errgroup of the
// connection to be.
func handshake(ctx context.Context, t Transport, tc *transport.Config, wt transport.Dialer, peek bool, g *errgroup.Group) (transport.Conn, packet.Open, error) {
	var tr transport.Conn
	var err error
	switch t {
	case Polling:
		tr, err = transport.DialPolling(ctx, *tc) // tells a v3 body itself
	case WebTransport:
		tr, err = wt.Dial(ctx, *tc)
	default:
		tr, err = transport.DialWebSocket(ctx, *tc, "")
	}
	if err != nil {
		return nil, packet.Open{}, err
	}
	open, err := readOpen(ctx, tr)
	if err == nil && t == WebSocket && tc.EIO == 4 && open.MaxPayload == 0 && peek {
		// No maxPayload: Socket.IO 3.x (v4) or 2.x (v3, which ignored
		// EIO=4). Only 2.x sends a CONNECT nobody asked for, at once.
		tr, err = peekV3(ctx, tr, g)
	}
	if err != nil {
		tr.Close()
		return nil, packet.Open{}, fmt.Errorf("sio: handshake over %s: %w", tr.Name(), err)
	}
	return tr, open, nil
}

// peekV3 waits a short while for what follows an open packet without
// maxPayload: a CONNECT means a v3 server (errOpenV3). Otherwise the server
// speaks v4 and tr comes back wrapped in a readAhead that hands the frame,
// or the read still pending, to the connection's reader: the read is never
// cancelled, since cancelling a WebSocket read closes the WebSocket.
func peekV3(ctx context.Context, tr transport.Conn, g *errgroup.Group) (transport.Conn, error) {
	ra := newReadAhead(tr, g)
	timer := time.NewTimer(v3Peek)
	defer timer.Stop()
	select {
	case r := <-ra.res:
		switch {
		case r.err != nil:
			return ra, r.err
		case r.f.Type() == packet.FrameMessage && string(r.f.Payload()) == "0":
			return ra, errOpenV3
		}
		ra.res <- r // for the reader
	case <-timer.C:
	case <-ctx.Done():
		return ra, ctx.Err()
	}
	return ra, nil
}

// readAhead is a transport whose first frame is read by a goroutine of the
// connection's errgroup, started before the connection's reader exists. The
// reader takes that frame first; Close ends the goroutine and waits for it
// (so does the errgroup's Wait).
type readAhead struct {
	transport.Conn
	res  chan readResult // the first read's result, buffered
	done chan struct{}   // closed when the goroutine has returned
	took bool            // the reader has taken the first result
}

type readResult struct {
	f   packet.Frame
	err error
}

func newReadAhead(tr transport.Conn, g *errgroup.Group) *readAhead {
	ra := &readAhead{Conn: tr, res: make(chan readResult, 1), done: make(chan struct{})}
	g.Go(func() error {
		defer close(ra.done)
		f, err := tr.Read(context.Background()) // ended by Close at the latest
		ra.res <- readResult{f, err}
		return nil
	})
	return ra
}

func (ra *readAhead) Read(ctx context.Context) (packet.Frame, error) {
	if ra.took {
		return ra.Conn.Read(ctx)
	}
	select {
	case r := <-ra.res:
		ra.took = true
		return r.f, r.err
	case <-ctx.Done():
		return packet.Frame{}, ctx.Err()
	}
}

// Close closes the transport and waits for the read ahead to return.
func (ra *readAhead) Close() error {
	err := ra.Conn.Close()
	<-ra.done
	return err
}

// Abort aborts the transport and waits for the read ahead to return.
func (ra *readAhead) Abort() {
	ra.Conn.Abort()
	<-ra.done
}

// readOpen reads and checks the open packet that starts a session.
func readOpen(ctx context.Context, tr transport.Conn) (packet.Open, error) {
	f, err := tr.Read(ctx)
	if err != nil {
		return packet.Open{}, err
	}
	if f.Type() != packet.FrameOpen {
		return packet.Open{}, fmt.Errorf("%w: expected the open packet, got %s", ErrProtocol, f.Type())
	}
	return packet.ParseOpen(f.Payload())
}
