#!/usr/bin/env node
// Legacy socket.io 3.x interop peer (socket.io 3.1.2: Engine.IO protocol 4, Socket.IO
// protocol 5, Engine.IO 3 with --allow-eio3) for the Go client's tests. Started by
// test/nodeserver with WithVersion("3"), or by hand:
// `npm start --prefix test/node/legacy/v3 -- --port 3000`.
//
// Same flags, events, namespaces, stdout line ("LISTENING <port>") and lifecycle as
// test/node/server.js; the code is shared in ../handlers.js. Differences, all due to 3.x:
//   --recovery        refused (exit status 2): connection state recovery is socket.io 4.6+
//   info              recovered is absent
//   handshake         the EIO=4 open packet has no maxPayload (engine.io 4.1); with
//                     --allow-eio3, an EIO=3 client's "/" is connected without being asked,
//                     asynchronously: "40" comes in the handshake body or in the next poll,
//                     and a namespace query ("40/auth?token=secret,") becomes the auth object
//   /auth             as 4.x: auth {token: "secret"}; refusal is CONNECT_ERROR
//                     {"message":"not authorized","data":{"code":401}} (EIO=4) or
//                     {"code":401} (EIO=3 with --allow-eio3, where 3.x sends only err.data)
"use strict";

const {
  loadSocketIO, parseFlags, fail, num, transports, createHttpServer, stickyCookie, setupNamespaces, listen,
} = require("../handlers");

const { socketio, version: VERSION, Polling } = loadSocketIO(__dirname, 3);
const { Server } = socketio;

const flags = parseFlags(process.argv.slice(2));
if (flags.recovery) fail(`--recovery: connection state recovery needs socket.io 4.6+, this is ${VERSION}`);

const httpServer = createHttpServer(flags);
const io = new Server(httpServer, {
  transports: transports(flags),
  pingInterval: num(flags, "ping-interval"),
  pingTimeout: num(flags, "ping-timeout"),
  maxHttpBufferSize: num(flags, "max-http-buffer-size"),
  allowEIO3: flags["allow-eio3"],
});

stickyCookie(io.engine, Polling, httpServer);

setupNamespaces(io, {
  version: VERSION,
  protocol: undefined, // engine.io 4.x always sets socket.conn.protocol
  authToken: (socket) => socket.handshake.auth && socket.handshake.auth.token,
  authError: () => {
    const err = new Error("not authorized");
    err.data = { code: 401 };
    return err;
  },
});

listen(io, httpServer, flags);
