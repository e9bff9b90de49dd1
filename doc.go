// Package sio is a Socket.IO client: it connects to Socket.IO servers (the
// official Node.js server 4.x and 3.x over Engine.IO v4, and 2.x over
// Engine.IO v3, told apart with no option) and lets a program exchange
// events with them from a select loop.
//
// # Use
//
// Dial joins one namespace and returns a Socket. Everything that happens to
// the socket arrives on its Events channel: events the server emits, and
// connect and disconnect notices. Emit sends an event; EmitWithAck sends one
// and returns an ack.Future that resolves with the server's reply, to wait on
// or select on. An event that asks for an acknowledgement is answered with
// Event.Ack. There are no callbacks.
//
//	s, err := sio.Dial(ctx, "http://localhost:3000/chat", sio.WithAuth(map[string]string{"token": tok}))
//	if err != nil { ... }
//	defer s.Close()
//	for ev := range s.Events() {
//		switch ev.Type {
//		case sio.EventMessage:
//			var msg string
//			ev.Args.Decode(&msg)
//		case sio.EventDisconnect:
//			log.Print(ev.Err)
//		}
//	}
//
// Arguments are encoded as JSON, except []byte values (anywhere in an
// argument), which travel as binary attachments and come back as []byte.
//
// A Manager shares one connection among sockets of several namespaces.
//
// # Transports and reconnection
//
// Like the JS client, a connection starts on HTTP long-polling and upgrades
// to WebSocket when the server offers it (WithTransports changes that). When
// the connection is lost, the Manager reconnects with backoff and every
// socket joins its namespace again; emits made meanwhile are queued and sent
// in order. Manager.Events reports the attempts.
//
// # Contexts
//
// Every call that can block takes a context first. The context bounds the
// wait (for room in the send queue, for an acknowledgement, for the server
// to accept a socket), never the write to the wire: a message that was
// queued is written, or the connection ends, whatever happens to the
// context afterwards. No context is kept after a call returns.
//
// # Concurrency
//
// Socket, Manager and ack.Future may be used from any number of goroutines.
// Emits from one goroutine reach the server in order; events are delivered
// in the order the server sent them.
//
// Each connection runs three goroutines, under one errgroup: a reader, the
// only one that reads the wire; a writer, the only one that writes it; and a
// heartbeat (a fourth exists during the upgrade to WebSocket). A Manager
// runs a goroutine of its own only while it reconnects. The reader never waits for the program: pings are answered
// even when nobody reads Events. A socket's events go to its channel
// directly when there is room, and to a bounded queue otherwise (see
// WithEventQueueLimit); a program that falls behind by more than that is
// disconnected with ErrSlowConsumer rather than stall the connection or
// grow memory without bound.
//
// # Close
//
// Close is idempotent and safe from any goroutine. Socket.Close leaves the
// namespace, fails the socket's pending acknowledgements with
// ErrClientDisconnect, discards undelivered events and closes Events; the
// socket of Dial also closes its connection. Close returns once every
// goroutine it owned has returned.
//
// # Logging
//
// The client logs nothing unless WithLogger gives it a *slog.Logger: then
// the life of each connection at Info and every packet at Debug, never the
// auth payload, a header value or the URL's query.
//
// # Errors
//
// Disconnect reasons are sentinel errors (ErrServerDisconnect,
// ErrTransportClose, ErrPingTimeout, …) that the errors of a disconnected
// socket match with errors.Is; a server's refusal of a namespace is a
// *ConnectError and a refused HTTP request a *HandshakeError, both for
// errors.As.
package sio
