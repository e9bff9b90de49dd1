package sio

import (
	"context"

	"github.com/sio-go/sio/ack"
)

// DefaultCompressionThreshold is the size from which WithCompression
// compresses a message when given 0: 1024 bytes, the threshold of the
// official client and of the ws library under the Node server.
const DefaultCompressionThreshold = 1024

// WithCompression asks for per-message deflate (permessage-deflate) over
// WebSocket, the official client's perMessageDeflate: messages of at least
// threshold bytes (0 means DefaultCompressionThreshold) are sent
// compressed, smaller ones as they are, and so are emits made through
// Socket.Uncompressed. It is off by default, as in the official server
// (whose perMessageDeflate option must be on too: the server decides in the
// WebSocket handshake, and without it nothing is compressed either way).
// Compression is negotiated without context takeover, so that an idle
// connection keeps no compressor; what the server compresses is
// decompressed whatever this option says.
//
// Long-polling does not use it: net/http asks for gzip and decompresses the
// responses of a server with httpCompression (the Node server's default)
// on its own, and request bodies are sent as they are, as by the official
// client.
func WithCompression(threshold int) Option {
	if threshold <= 0 {
		threshold = DefaultCompressionThreshold
	}
	return optionFunc(func(c *config) { c.compressThreshold = threshold })
}

// Emitter sends events with per-emit settings, the way the official
// client's socket.compress(false).emit(...) does, but with no state left
// behind on the socket: an Emitter is a value that holds its settings.
// Socket.Uncompressed returns one.
//
// An Emitter is immutable and may be used from any goroutine; its methods
// behave as the Socket methods of the same name.
type Emitter struct {
	s     *Socket
	flags emitFlags
}

// Uncompressed returns an Emitter whose events go uncompressed over a
// WebSocket with per-message deflate (WithCompression), whatever their size:
// for data that does not compress (already compressed, random). Without
// compression on the connection it is the same as s.
func (s *Socket) Uncompressed() Emitter {
	return Emitter{s: s, flags: emitFlags{uncompressed: true}}
}

// Emit is Socket.Emit with the Emitter's settings.
func (e Emitter) Emit(ctx context.Context, event string, args ...any) error {
	return e.s.emit(ctx, event, args, e.flags)
}

// EmitVolatile is Socket.EmitVolatile with the Emitter's settings.
func (e Emitter) EmitVolatile(ctx context.Context, event string, args ...any) error {
	f := e.flags
	f.volatile = true
	return e.s.emit(ctx, event, args, f)
}

// EmitWithAck is Socket.EmitWithAck with the Emitter's settings.
func (e Emitter) EmitWithAck(ctx context.Context, event string, args ...any) (*ack.Future[Args], error) {
	return e.s.emitWithAck(ctx, event, args, e.flags)
}
