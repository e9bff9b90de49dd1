package webtransport

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net/http"

	"github.com/quic-go/quic-go"
	"github.com/quic-go/webtransport-go"

	"github.com/sio-go/sio"
	"github.com/sio-go/sio/packet"
	"github.com/sio-go/sio/transport"
)

// Enable returns the option that lets a Manager (or Dial) connect over
// WebTransport, tried before the other transports (see the package doc).
// tlsConfig verifies the server (RootCAs for a private CA, ServerName);
// nil means the system's roots. The connection goes to the host and port
// of the URL given to Dial, over UDP, with the scheme https.
func Enable(tlsConfig *tls.Config) sio.Option {
	return sio.WithWebTransportDialer(&Dialer{TLSConfig: tlsConfig})
}

// Dialer opens WebTransport connections for a new Engine.IO session: the
// transport.Dialer Enable registers. It is safe for concurrent use.
type Dialer struct {
	// TLSConfig verifies the server; nil means the system's roots. Its
	// NextProtos, if empty, become HTTP/3's.
	TLSConfig *tls.Config
}

// Compile-time check that Dialer implements transport.Dialer.
var _ transport.Dialer = (*Dialer)(nil)

// ErrEIO3 reports a WebTransport attempt over Engine.IO v3, which has none.
var ErrEIO3 = errors.New("webtransport: Engine.IO v3 has no WebTransport")

// Name returns "webtransport".
func (d *Dialer) Name() string { return transport.NameWebTransport }

// Dial opens a session on cfg's endpoint with transport=webtransport, opens
// its stream and sends the Engine.IO open packet. The first Read of the
// returned Conn gives the server's open packet. ctx bounds the dial.
func (d *Dialer) Dial(ctx context.Context, cfg transport.Config) (transport.Conn, error) {
	if cfg.EIO == 3 {
		return nil, ErrEIO3
	}
	cfg.EIO = 4
	u := cfg.Endpoint(transport.NameWebTransport, "")
	switch u.Scheme {
	case "http", "https", "ws", "wss":
		u.Scheme = "https"
	default:
		return nil, fmt.Errorf("webtransport: unsupported URL scheme %q", u.Scheme)
	}
	t := &webtransport.Transport{
		TLSClientConfig: d.TLSConfig,
		QUICConfig:      &quic.Config{EnableDatagrams: true, EnableStreamResetPartialDelivery: true},
	}
	defer t.Close() // only stops waiting for settings: the session lives on
	resp, sess, err := t.Dial(ctx, u.String(), cfg.Header)
	if err != nil {
		if resp != nil && resp.StatusCode >= http.StatusMultipleChoices {
			return nil, &transport.HandshakeError{Transport: transport.NameWebTransport, StatusCode: resp.StatusCode, Code: -1,
				Message: http.StatusText(resp.StatusCode)}
		}
		return nil, fmt.Errorf("webtransport: dial: %w", err)
	}
	str, err := sess.OpenStreamSync(ctx)
	if err != nil {
		_ = sess.CloseWithError(0, "")
		return nil, fmt.Errorf("webtransport: open stream: %w", err)
	}
	c := newConn(sess, str, cfg.ReadLimit)
	if err := c.Write(ctx, []packet.Frame{packet.TextFrame(packet.FrameOpen, "")}); err != nil {
		c.Abort()
		return nil, fmt.Errorf("webtransport: open packet: %w", err)
	}
	return c, nil
}
