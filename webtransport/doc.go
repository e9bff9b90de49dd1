// Package webtransport lets sio connect over WebTransport (HTTP/3 over
// QUIC), the third transport of engine.io-client since 4.7:
//
//	s, err := sio.Dial(ctx, "https://example.com/", webtransport.Enable(nil))
//
// It lives in a module of its own (github.com/sio-go/sio/webtransport) so that
// programs that do not use it do not download QUIC: it is built on
// github.com/quic-go/webtransport-go and implements the core's transport seam
// (transport.Dialer and transport.Conn).
//
// With Enable, WebTransport is tried first; when it fails (a server without
// WebTransport, a network that drops UDP), the client goes on to the
// transports of sio.WithTransports (by default polling, then the upgrade to
// WebSocket). sio.WithTransports(sio.WebTransport, sio.WebSocket) sets another
// order. There is no upgrade from polling to WebTransport, and WebTransport
// speaks Engine.IO v4 only (Socket.IO 3.x and 4.x servers that offer it).
//
// On the wire, the client opens one bidirectional stream of a WebTransport
// session on https://host/socket.io/?EIO=4&transport=webtransport and sends
// the Engine.IO open packet on it; every Engine.IO packet then travels on that
// stream with a header like WebSocket's: one byte whose top bit says binary
// and whose other bits give the length (126: a 16-bit length follows; 127: a
// 64-bit one), then the packet.
package webtransport
