// Package testserver is a small, scriptable Engine.IO v4 / Socket.IO v5
// server over WebSocket on loopback, written by hand so that it can
// cross-check the client of this module: it imports none of the module's
// other packages.
//
// Start listens on 127.0.0.1 on a random port and serves
//
//	ws://127.0.0.1:PORT/socket.io/?EIO=4&transport=websocket
//
// Without WithHandler every connection gets the default behaviour described
// on Conn.Serve: the open packet, server-driven heartbeats, namespaces with
// optional authentication (WithAuth) and a handful of test events (echo, ack,
// ask, stream, chat, kick, close-transport). With WithHandler a script drives
// each connection frame by frame (see Conn, Script and the Step helpers, in
// the manner of pgconn's pgmock), and may hand over to the default behaviour
// with Conn.Serve.
//
// Only the WebSocket transport is served. Requests for another transport get
// HTTP 400 with the body {"code":0,"message":"Transport unknown"}, a missing or
// other EIO version gets {"code":5,"message":"Unsupported protocol version"}.
//
// Concurrency: all methods of Server may be called concurrently. A Conn's
// writes are serialised (each packet and its binary attachments go out
// together, in order); Read, Expect and Serve must be used by one goroutine
// at a time, as with coder/websocket. Every goroutine the server starts has
// ended when Server.Close returns.
package testserver
