// Package testserver is a small, scriptable Engine.IO v4 / Socket.IO v5
// server on loopback, written by hand so that it can cross-check the client
// of this module: it imports none of the module's other packages.
//
// Start listens on 127.0.0.1 on a random port (StartTLS: with a self-signed
// certificate, see Server.Client and Server.CertPool) and serves
//
//	ws://127.0.0.1:PORT/socket.io/?EIO=4&transport=websocket
//	http://127.0.0.1:PORT/socket.io/?EIO=4&transport=polling
//
// # Sessions and transports
//
// Each handshake opens an Engine.IO session, a Conn, which reads and writes
// Engine.IO packets whatever carries them: a WebSocket (one packet per
// message) or HTTP long-polling (GETs held until packets are queued, then
// answered with all of them joined by "\x1e"; POSTs answered "ok"; binary as
// "b" + base64). A polling session is upgraded, as by the official server,
// when a WebSocket request carries its sid: "2probe" is answered "3probe",
// GETs are then answered with noops "6" (the pending one at once, later ones
// after 100ms), and on "5" the session moves to the WebSocket, which first
// carries what was still queued for polling. The session, its handler and
// its state live across the switch; nothing is lost or reordered.
//
// As in the official server, over polling a second GET (or POST) while one is
// in flight closes the session (the pending GET gets "1", the second request
// a bare 400), and so does a pending GET whose client goes away; a client "1"
// closes it (the pending GET gets "6"). Where the official server differs: a
// POST body over maxPayload gets 413 and closes the session (the official
// server only answers 413), and a malformed body (an empty packet, an
// unknown type, bad base64) gets 400 {"code":3,"message":"Bad request"} and
// closes the session (the official server answers "ok" and closes it).
// Requests for a session that has ended get 400 {"code":1,...}; polling
// requests for a session on WebSocket, and upgrades of a session not on
// polling or already probing, get 400 {"code":3,...}. Server.Sessions tells
// which transport each session ended on.
//
// # Default behaviour and scripts
//
// Without WithHandler every session gets the default behaviour described on
// Conn.Serve: the open packet, server-driven heartbeats, namespaces with
// optional authentication (WithAuth) and a handful of test events (echo, ack,
// ask, stream, chat, kick, close-transport), the same over both transports.
// With WithHandler a script drives each session packet by packet (see Conn,
// Script and the Step helpers, in the manner of pgconn's pgmock), over either
// transport, and may hand over to the default behaviour with Conn.Serve.
//
// # Errors
//
// Transports not served (WithTransports) get HTTP 400 with the body
// {"code":0,"message":"Transport unknown"}, a missing or other EIO version
// {"code":5,"message":"Unsupported protocol version"}.
//
// # Concurrency
//
// All methods of Server may be called concurrently. A Conn's writes are
// serialised (each packet and its binary attachments go out together, in
// order); Read, Expect and Serve must be used by one goroutine at a time, as
// with coder/websocket. Every goroutine the server starts has ended when
// Server.Close returns.
package testserver
