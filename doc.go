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
// to WebSocket when the server offers it (WithTransports changes that);
// while the upgrade's probe runs nothing is sent over polling, and what was
// emitted meanwhile goes out afterwards, in order. When
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
// in the order the server sent them. The reader never waits for the
// program: pings are answered even when nobody reads Events. A socket's
// events go to its channel directly when there is room, and to a bounded
// queue otherwise (see WithEventQueueLimit); a program that falls behind by
// more than that is disconnected with ErrSlowConsumer rather than stall the
// connection or grow memory without bound.
//
// # How it works
//
// Three layers, each with its own state: the Engine.IO connection
// (engineConn, conn.go and the files beside it: frames and sessions, no
// namespaces), the Socket.IO side of that connection (sioConn: decoding,
// routing packets to sockets, DISCONNECTs on their way), and the Manager
// with its Sockets. Only the owner of a piece of state writes it; the others
// call its methods.
//
// Goroutines and timers, with their owners (who stops each, or waits for
// it):
//
//   - reader, writer and heartbeat of a connection, and the upgrade to
//     WebSocket while it runs (at the end of which the reader hands over to
//     a fresh reader goroutine, so that the stack polling grew is freed; the
//     writer hands over likewise when the connection looks idle),
//     and the handshake's read-ahead of a v4 WebSocket without maxPayload:
//     one errgroup per connection, never reused. The first to fail cancels the connection and aborts its
//     transports; the last out closes them and tells sioConn, and close
//     waits for the group. The Manager owns its connections: Close closes
//     the latest, the reconnection loop those it made.
//   - the reconnection loop, and one goroutine per socket while the
//     sockets join again: the Manager's, which Close cancels and waits for.
//   - a socket's delivery (the mailbox's pump), which runs only while events
//     wait for the program: the socket's, stopped by its Close; the Manager
//     keeps those of sockets that ended until they are drained, and its
//     Close stops them.
//   - acknowledgement timers (WithAckTimeout): the socket's, stopped by the
//     reply, a cancelled Wait, the connection's loss or the socket's end,
//     which also waits for those that fired. A DISCONNECT's wait before the
//     same namespace joins again is the joining caller's own timer.
//
// The lock order, outermost first: Manager.dialMu, sioConn.rootMu,
// Manager.mu, Socket.mu, then mailbox.mu and the ack table's mutex;
// sioConn.leftMu, engineConn.abortMu and Manager.eventsMu are leaves.
//
// One emit: Emit encodes the event and, when the socket is joined, queues
// the message on the connection's writer queue (ctx bounds only this wait),
// tagged with the gate of the socket's current join; otherwise it goes to
// the socket's offline queue, sent in order after the next join. The writer
// takes what is queued in batches, drops messages whose gate a DISCONNECT
// has shut, and writes the rest. EmitWithAck registers a future in the
// socket's ack table first; the server's ACK resolves it.
//
// Everything the writer is asked to do comes through its queue: messages,
// the close after them, the upgrade's hold, and a wake when a pong (or, over
// Engine.IO v3, a ping) is due, which the writer then sends before the
// batch it takes. So an idle writer waits on one channel, as the heartbeat
// waits on its timer alone (the connection's failure fires it).
//
// # Goroutine stacks
//
// Most of an idle client's memory is its goroutines' stacks, and the
// runtime decides their size: a goroutine starts with a stack the size of
// the average stack in use at the last collection (rounded up to a power of
// two, at least 2 KiB), and keeps the largest it grew to while idle (a
// collection halves a stack only when it uses under a quarter). An idle
// reader uses about 1.8 KiB, parked deep in the WebSocket library's read.
// So that the average stays under the 1,120 bytes that let goroutines start
// at 2 KiB rather than 4, the writer and the heartbeat wait on one channel
// each, in small frames: every goroutine's bottom frame only calls its loop
// (spawn), the loops do their work in functions of their own, and the
// writer keeps its state in the connection. An idle writer then uses about
// 0.55 KiB and a heartbeat 0.4, for an average of 0.95 KiB: some room for
// the deeper goroutines of a connection still polling. The reader grows to
// 4 KiB on its first read, as a bare WebSocket connection's reader does;
// the writer grows to 4 KiB when it writes, so when the connection looks
// idle (after its first batch, after a batch of heartbeats only, after the
// upgrade) it hands over to a fresh writer goroutine and its stack is
// freed. The heartbeat hands over too, each time its timer finds the
// connection alive (about once a ping interval): one started while many
// clients were polling may have started at 4 KiB, and its successor starts
// at the size of the moment, 2 KiB once the clients are idle.
//
// One received event: the reader reads a frame and, if it is a message,
// hands it to sioConn, which decodes it and routes the packet to the socket
// of its namespace; the socket puts the event in its mailbox, which sends it
// to Events at once when there is room and queues it otherwise, and the
// reader goes back to the wire.
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
