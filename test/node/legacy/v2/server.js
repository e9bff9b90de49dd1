#!/usr/bin/env node
// Legacy socket.io 2.x interop peer (socket.io 2.5.1: Engine.IO protocol 3, Socket.IO
// protocol 4) for the Go client's tests. Started by test/nodeserver with WithVersion("2"),
// or by hand: `npm start --prefix test/node/legacy/v2 -- --port 3000`.
//
// Same flags, events, namespaces, stdout line ("LISTENING <port>") and lifecycle as
// test/node/server.js; the code is shared in ../handlers.js. Differences, all due to 2.x:
//   --allow-eio3      accepted and ignored: 2.x speaks only Engine.IO 3 (it ignores the EIO
//                     query parameter and answers EIO=4 with a v3 handshake too)
//   --recovery        refused (exit status 2): connection state recovery is socket.io 4.6+
//   /auth             the token is read from the namespace query (client: connect to
//                     "/auth?token=secret", i.e. the packet 40/auth?token=secret,), since 2.x
//                     has no auth object; refusal is the bare string CONNECT_ERROR
//                     44/auth,"not authorized" (no data object)
//   info              protocol is always 3; auth and recovered are absent; id is the Engine.IO
//                     id for "/" and "<nsp>#<engine id>" for other namespaces
//   handshake         "/" is connected without being asked: the handshake body (polling) or
//                     the second frame (WebSocket) is "40"
//   cookie            engine.io 3.x's default "io=<sid>" cookie is off; the handshake sets
//                     "sticky=abc; Path=/" as 4.x does
//   The client sends the pings (every pingInterval) and the server answers with pongs.
"use strict";

const {
  loadSocketIO, parseFlags, fail, num, transports, createHttpServer, stickyCookie, setupNamespaces, listen,
} = require("../handlers");

const { socketio, version: VERSION, Polling } = loadSocketIO(__dirname, 2);

const flags = parseFlags(process.argv.slice(2));
if (flags.recovery) fail(`--recovery: connection state recovery needs socket.io 4.6+, this is ${VERSION}`);

const httpServer = createHttpServer(flags);
const io = socketio(httpServer, {
  transports: transports(flags),
  pingInterval: num(flags, "ping-interval"),
  pingTimeout: num(flags, "ping-timeout"),
  maxHttpBufferSize: num(flags, "max-http-buffer-size"),
  cookie: false, // engine.io 3.x sets "io=<sid>" by default; stickyCookie sets sticky=abc instead
});

stickyCookie(io.engine, Polling, httpServer);

setupNamespaces(io, {
  version: VERSION,
  protocol: 3,
  // 2.x merges the namespace query over the URL query into socket.handshake.query.
  authToken: (socket) => socket.handshake.query && socket.handshake.query.token,
  // 2.x sends err.data if set, else err.message, as the CONNECT_ERROR payload.
  authError: () => new Error("not authorized"),
});

listen(io, httpServer, flags);
