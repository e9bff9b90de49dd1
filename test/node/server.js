#!/usr/bin/env node
// Reference socket.io 4.x server for the Go client's interop tests.
//
// Started by the Go package test/nodeserver (or by hand: `npm start -- --port 3000`).
// It listens on 127.0.0.1, prints exactly one line "LISTENING <port>" to stdout and
// nothing else there (debug output goes to stderr; DEBUG=socket.io*,engine* works too).
// It exits on SIGTERM/SIGINT and when stdin reaches EOF, so an orphaned server dies
// together with the process that started it.
//
// Flags (both "--flag value" and "--flag=value"):
//   --port N                    listen port, 0 (default) picks a random one
//   --transports a,b            allowed transports, default "polling,websocket"
//   --ping-interval MS          default 25000
//   --ping-timeout MS           default 20000
//   --max-http-buffer-size N    default 1e6 (the maxPayload announced in the handshake)
//   --recovery                  enable connectionStateRecovery
//   --tls-cert FILE --tls-key FILE   serve https/wss instead of http/ws
//   --allow-eio3                accept Engine.IO v3 clients (EIO=3)
//   --parser NAME               "json" (default, socket.io-parser) or "msgpack"
//                               (socket.io-msgpack-parser)
//   --per-message-deflate N     turn WebSocket permessage-deflate on, compressing
//                               messages of N bytes or more (ws's default is 1024);
//                               off by default, as in socket.io
"use strict";

const fs = require("fs");
const http = require("http");
const https = require("https");
const { Server } = require("socket.io");

// ---------------------------------------------------------------- flags

const BOOLEAN_FLAGS = new Set(["recovery", "allow-eio3"]);
const flags = {
  port: "0",
  transports: "polling,websocket",
  "ping-interval": "25000",
  "ping-timeout": "20000",
  "max-http-buffer-size": "1e6",
  recovery: false,
  "tls-cert": "",
  "tls-key": "",
  "allow-eio3": false,
  parser: "json",
  "per-message-deflate": "",
};
const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; i++) {
  const m = /^--([a-z0-9-]+)(?:=(.*))?$/.exec(argv[i]);
  if (!m || !(m[1] in flags)) fail(`unknown argument ${JSON.stringify(argv[i])}`);
  const name = m[1];
  if (BOOLEAN_FLAGS.has(name)) flags[name] = m[2] === undefined ? true : m[2] !== "false";
  else if (m[2] !== undefined) flags[name] = m[2];
  else if (i + 1 < argv.length) flags[name] = argv[++i];
  else fail(`flag --${name} needs a value`);
}

function fail(msg) {
  process.stderr.write(`server.js: ${msg}\n`);
  process.exit(2);
}

function num(name) {
  const n = Number(flags[name]);
  if (!Number.isFinite(n) || n < 0) fail(`--${name}: not a number: ${flags[name]}`);
  return n;
}

// ---------------------------------------------------------------- server

let httpServer;
if (flags["tls-cert"] || flags["tls-key"]) {
  if (!flags["tls-cert"] || !flags["tls-key"]) fail("--tls-cert and --tls-key go together");
  httpServer = https.createServer({
    cert: fs.readFileSync(flags["tls-cert"]),
    key: fs.readFileSync(flags["tls-key"]),
  });
} else {
  httpServer = http.createServer();
}

let parser;
if (flags.parser === "msgpack") parser = require("socket.io-msgpack-parser");
else if (flags.parser !== "json") fail(`--parser: unknown parser ${JSON.stringify(flags.parser)}`);

const io = new Server(httpServer, {
  parser,
  perMessageDeflate: flags["per-message-deflate"] === "" ? false : { threshold: num("per-message-deflate") },
  transports: flags.transports.split(",").map((s) => s.trim()).filter(Boolean),
  pingInterval: num("ping-interval"),
  pingTimeout: num("ping-timeout"),
  maxHttpBufferSize: num("max-http-buffer-size"),
  allowEIO3: flags["allow-eio3"],
  // {} takes socket.io's defaults: maxDisconnectionDuration 2 min, skipMiddlewares true.
  connectionStateRecovery: flags.recovery ? {} : undefined,
});

// Every handshake response (polling GET or WebSocket upgrade without sid) sets a cookie,
// so the client's cookie jar can be tested; `info` reports the cookie sent back.
io.engine.on("initial_headers", (headers) => {
  headers["set-cookie"] = "sticky=abc; Path=/";
});
io.engine.on("connection_error", (err) => {
  process.stderr.write(`connection_error: ${err.code} ${err.message}\n`);
});

// ---------------------------------------------------------------- handlers

// Splits an ack callback (always the last argument when the client asked for one) off args.
function splitAck(args) {
  return typeof args[args.length - 1] === "function"
    ? [args.slice(0, -1), args[args.length - 1]]
    : [args, null];
}

function onConnection(socket) {
  const nsp = socket.nsp;
  let transport = socket.conn.transport.name; // kept current across the polling->websocket upgrade
  socket.conn.on("upgrade", (t) => { transport = t.name; });
  socket.on("disconnect", (reason) => {
    process.stderr.write(`disconnect ${nsp.name} ${socket.id}: ${reason}\n`);
  });

  // echo(...args): emits "echo" with the same arguments; an ack, if asked for, gets no arguments.
  socket.on("echo", (...raw) => {
    const [args, cb] = splitAck(raw);
    socket.emit("echo", ...args);
    if (cb) cb();
  });

  // ack(...args, cb): acknowledges with the same arguments.
  socket.on("ack", (...raw) => {
    const [args, cb] = splitAck(raw);
    if (cb) cb(...args);
  });

  // ask(n): the server asks the client for an ack and reports the reply as "answer".
  socket.on("ask", (n) => {
    socket.emit("question", n, (...reply) => socket.emit("answer", ...reply));
  });

  // stream(count, size?): "tick"(i, "x" * size) for i = 0..count-1, then "stream-done"(count).
  socket.on("stream", (count, size) => {
    const payload = "x".repeat(Number(size) || 0);
    for (let i = 0; i < count; i++) socket.emit("tick", i, payload);
    socket.emit("stream-done", count);
  });

  // binary(n, cb?): a Buffer of n bytes (byte i = i % 256), through the ack or as event "binary".
  socket.on("binary", (n, cb) => {
    const buf = Buffer.alloc(Number(n) || 0);
    for (let i = 0; i < buf.length; i++) buf[i] = i % 256;
    if (typeof cb === "function") cb(buf);
    else socket.emit("binary", buf);
  });

  // Events whose first element is not a string. Socket#emit() does no type check on the
  // event name in socket.io 4.8 (it only refuses the reserved *string* names), and the parser
  // encodes packet.data = [ev, ...args] as is, so passing a Buffer or a number as `ev` is enough:
  //   emit-buffer -> 451-[{"_placeholder":true,"num":0}] + one attachment 01 02 03
  //   emit-number -> 42[1,"a"]
  // (With --recovery an offset string is appended as the last element, as for every event.)
  socket.on("emit-buffer", () => socket.emit(Buffer.from([1, 2, 3])));
  socket.on("emit-number", () => socket.emit(1, "a"));

  socket.on("kick", () => socket.disconnect()); // DISCONNECT for this namespace only
  socket.on("kick-all", () => socket.disconnect(true)); // also closes the Engine.IO connection
  socket.on("close-transport", () => socket.conn.close()); // drops the transport, no DISCONNECT

  // info(cb): what the server knows about this socket and its connection.
  socket.on("info", (...raw) => {
    const [, cb] = splitAck(raw);
    if (!cb) return;
    cb({
      id: socket.id,
      nsp: nsp.name,
      engineId: socket.conn.id,
      transport,
      query: socket.handshake.query,
      headers: socket.handshake.headers,
      cookie: socket.handshake.headers.cookie,
      auth: socket.handshake.auth,
      recovered: socket.recovered,
      namespacesOnConnection: [...socket.client.nsps.keys()],
      engineConnections: io.engine.clientsCount,
    });
  });

  // join(room, cb?): joins a room; the ack, if asked for, gets no arguments.
  socket.on("join", (room, cb) => {
    socket.join(String(room));
    if (typeof cb === "function") cb();
  });

  // broadcast(room, count, intervalMs, cb?): every intervalMs, "tick"(i) to the whole room,
  // i = 0..count-1, then "broadcast-done"(count) to the room. The ack (if any) fires at once.
  // Broadcasts carry an offset with --recovery, so missed ticks are replayed on recovery.
  socket.on("broadcast", (room, count, intervalMs, cb) => {
    const target = nsp.to(String(room));
    let i = 0;
    const timer = setInterval(() => {
      if (i < count) {
        target.emit("tick", i++);
      } else {
        clearInterval(timer);
        target.emit("broadcast-done", count);
      }
    }, Number(intervalMs) || 0);
    if (typeof cb === "function") cb();
  });
}

for (const name of ["/", "/admin", "/chat", "/auth", "/greet"]) {
  io.of(name).on("connection", onConnection);
}

// ---------------------------------------------------------------- for cmd/sio

// /greet greets every socket that joins (after the usual handlers are set up), in order:
//   "welcome"("hello", {"n":1,"z":[true,null],"a":"é"})
//   "blob"(Buffer 00 01 02 ff, {"name":"b","data":Buffer 2a})    (binary, nested too)
//   "question"("ready?") asking for an ack; the reply comes back as "answer"(...reply)
io.of("/greet").on("connection", (socket) => {
  socket.emit("welcome", "hello", { n: 1, z: [true, null], a: "é" });
  socket.emit("blob", Buffer.from([0, 1, 2, 255]), { name: "b", data: Buffer.from([42]) });
  socket.emit("question", "ready?", (...reply) => socket.emit("answer", ...reply));
});

// Counters, for checking a load generator's figures (every namespace; server-wide):
//   count(...args, cb?): counted, answered with "counted"(n) to the sender (n: the server-wide
//                        count so far), then acknowledged with no arguments
//   counts(cb):          cb({connections, count, counted}): sockets that joined any namespace,
//                        "count" events received, "counted" events sent
const counters = { connections: 0, count: 0, counted: 0 };
for (const name of ["/", "/admin", "/chat", "/greet"]) {
  io.of(name).on("connection", (socket) => {
    counters.connections++;
    socket.on("count", (...raw) => {
      const [, cb] = splitAck(raw);
      counters.count++;
      socket.emit("counted", counters.count);
      counters.counted++;
      if (cb) cb();
    });
    socket.on("counts", (cb) => {
      if (typeof cb === "function") cb({ ...counters });
    });
  });
}

// /auth accepts only auth {token: "secret"}; others get CONNECT_ERROR
// {"message":"not authorized","data":{"code":401}}.
io.of("/auth").use((socket, next) => {
  if (socket.handshake.auth && socket.handshake.auth.token === "secret") return next();
  const err = new Error("not authorized");
  err.data = { code: 401 };
  next(err);
});

// ---------------------------------------------------------------- lifecycle

let closing = false;
function shutdown(why) {
  if (closing) return;
  closing = true;
  process.stderr.write(`server.js: shutting down (${why})\n`);
  setTimeout(() => process.exit(0), 2000); // in case a connection keeps the HTTP server open
  io.close(() => process.exit(0));
}
process.on("SIGTERM", () => shutdown("SIGTERM"));
process.on("SIGINT", () => shutdown("SIGINT"));
process.stdin.on("end", () => shutdown("stdin closed"));
process.stdin.on("close", () => shutdown("stdin closed"));
process.stdin.on("error", () => shutdown("stdin error"));
process.stdin.resume();

httpServer.on("error", (err) => fail(`listen: ${err.message}`));
httpServer.listen(num("port"), "127.0.0.1", () => {
  process.stdout.write(`LISTENING ${httpServer.address().port}\n`);
});
