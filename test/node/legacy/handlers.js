// Code shared by the legacy interop peers, legacy/v2/server.js (socket.io 2.5) and
// legacy/v3/server.js (socket.io 3.1). It mirrors test/node/server.js (socket.io 4.x):
// the same flags, the same events and namespaces, the same "LISTENING <port>" line and
// the same lifecycle, written against the server API common to socket.io 2.x, 3.x and 4.x.
//
// This file must not require() socket.io or engine.io: it lives outside both packages, so
// Node would resolve such a require from test/node/node_modules (socket.io 4.x). Each
// server.js requires its own socket.io and hands the pieces in.
"use strict";

const fs = require("fs");
const http = require("http");
const https = require("https");
const path = require("path");

// ---------------------------------------------------------------- flags

const BOOLEAN_FLAGS = new Set(["recovery", "allow-eio3"]);

// parseFlags parses argv like test/node/server.js: "--flag value" and "--flag=value".
function parseFlags(argv) {
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
  };
  for (let i = 0; i < argv.length; i++) {
    const m = /^--([a-z0-9-]+)(?:=(.*))?$/.exec(argv[i]);
    if (!m || !(m[1] in flags)) fail(`unknown argument ${JSON.stringify(argv[i])}`);
    const name = m[1];
    if (BOOLEAN_FLAGS.has(name)) flags[name] = m[2] === undefined ? true : m[2] !== "false";
    else if (m[2] !== undefined) flags[name] = m[2];
    else if (i + 1 < argv.length) flags[name] = argv[++i];
    else fail(`flag --${name} needs a value`);
  }
  return flags;
}

function fail(msg) {
  process.stderr.write(`server.js: ${msg}\n`);
  process.exit(2);
}

function num(flags, name) {
  const n = Number(flags[name]);
  if (!Number.isFinite(n) || n < 0) fail(`--${name}: not a number: ${flags[name]}`);
  return n;
}

function transports(flags) {
  return flags.transports.split(",").map((s) => s.trim()).filter(Boolean);
}

// ---------------------------------------------------------------- modules

// loadSocketIO loads socket.io from dir/node_modules, never from a parent directory (a bare
// require("socket.io") from a package without node_modules would silently find
// test/node/node_modules, i.e. socket.io 4.x), and checks its major version. It returns
// socket.io's exports, its version and engine.io's polling transport class (the one that
// socket.io's own require("engine.io") resolves to).
function loadSocketIO(dir, major) {
  const pkgDir = path.resolve(dir, "node_modules", "socket.io");
  let version;
  try {
    version = JSON.parse(fs.readFileSync(path.join(pkgDir, "package.json"), "utf8")).version;
  } catch (err) {
    const rel = path.relative(path.resolve(__dirname, "..", "..", ".."), dir); // test/node/legacy/vN
    fail(`socket.io is not installed in ${dir} (${err.message}); ` +
      `from the repository root run: npm ci --prefix ${rel}`);
  }
  if (!version.startsWith(`${major}.`)) fail(`${pkgDir} is socket.io ${version}, want ${major}.x`);
  const engineMain = require.resolve("engine.io", { paths: [pkgDir] });
  return {
    socketio: require(pkgDir), // a path: package.json "main", not "exports"
    version,
    Polling: require(path.join(path.dirname(engineMain), "transports", "polling")),
  };
}

// ---------------------------------------------------------------- server

function createHttpServer(flags) {
  if (flags["tls-cert"] || flags["tls-key"]) {
    if (!flags["tls-cert"] || !flags["tls-key"]) fail("--tls-cert and --tls-key go together");
    return https.createServer({
      cert: fs.readFileSync(flags["tls-cert"]),
      key: fs.readFileSync(flags["tls-key"]),
    });
  }
  return http.createServer();
}

const STICKY_COOKIE = "sticky=abc; Path=/";

// stickyCookie makes every handshake response (polling GET or WebSocket upgrade without
// sid) set the cookie "sticky=abc; Path=/", as test/node/server.js does with the
// "initial_headers" event that engine.io 3.x/4.1 lack. Polling is engine.io's
// lib/transports/polling.js class (its headers() method builds every polling response's
// headers); the WebSocket handshake goes through the "headers" event of engine.ws, the ws
// server, which engine.io replaces each time httpServer emits "listening" (its listener
// was added by the socket.io constructor, so ours, added later, runs after it).
function stickyCookie(engine, Polling, httpServer) {
  const orig = Polling.prototype.headers;
  Polling.prototype.headers = function (req, headers) {
    headers = orig.call(this, req, headers);
    if (!(req._query && req._query.sid)) headers["Set-Cookie"] = STICKY_COOKIE;
    return headers;
  };
  const hooked = new WeakSet();
  function hookWs() {
    const ws = engine.ws;
    if (!ws || hooked.has(ws)) return;
    hooked.add(ws);
    ws.on("headers", (headers, req) => {
      if (!(req._query && req._query.sid)) headers.push(`Set-Cookie: ${STICKY_COOKIE}`);
    });
  }
  hookWs();
  httpServer.on("listening", hookWs);
}

// ---------------------------------------------------------------- handlers

// Splits an ack callback (always the last argument when the client asked for one) off args.
function splitAck(args) {
  return typeof args[args.length - 1] === "function"
    ? [args.slice(0, -1), args[args.length - 1]]
    : [args, null];
}

// socket.client.nsps is a plain object keyed by namespace name in 2.x, a Map since 3.x.
function namespaceNames(nsps) {
  return nsps instanceof Map ? [...nsps.keys()] : Object.keys(nsps || {});
}

// setupNamespaces registers the namespaces "/", "/admin", "/chat" and "/auth" and their events.
//   opts.version      socket.io version string, reported by info as serverVersion
//   opts.protocol     Engine.IO protocol to report when socket.conn.protocol is undefined
//                     (engine.io 3.x, i.e. socket.io 2.x, has no such field and speaks only 3)
//   opts.authToken    socket => the token offered for /auth
//   opts.authError    () => the Error given to next() when /auth refuses
function setupNamespaces(io, opts) {
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

    // Events whose first element is not a string (see test/node/server.js); 2.x and 3.x do
    // not type-check the event name either:
    //   emit-buffer -> 451-[{"_placeholder":true,"num":0}] + one attachment 01 02 03
    //   emit-number -> 42[1,"a"]
    socket.on("emit-buffer", () => socket.emit(Buffer.from([1, 2, 3])));
    socket.on("emit-number", () => socket.emit(1, "a"));

    socket.on("kick", () => socket.disconnect()); // DISCONNECT for this namespace only
    socket.on("kick-all", () => socket.disconnect(true)); // also closes the Engine.IO connection
    socket.on("close-transport", () => socket.conn.close()); // drops the transport, no DISCONNECT

    // info(cb): what the server knows about this socket and its connection. Fields the
    // version lacks (auth and recovered on 2.x, recovered on 3.x) are left out.
    socket.on("info", (...raw) => {
      const [, cb] = splitAck(raw);
      if (!cb) return;
      cb({
        id: socket.id,
        nsp: nsp.name,
        engineId: socket.conn.id,
        transport,
        protocol: socket.conn.protocol !== undefined ? socket.conn.protocol : opts.protocol,
        serverVersion: opts.version,
        query: socket.handshake.query,
        headers: socket.handshake.headers,
        cookie: socket.handshake.headers.cookie,
        auth: socket.handshake.auth,
        recovered: socket.recovered,
        namespacesOnConnection: namespaceNames(socket.client.nsps),
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
    // nsp.to() is called for every emit: in 2.x it sets state on the namespace that the next
    // emit consumes, so a kept `nsp.to(room)` would broadcast later ticks to everyone.
    socket.on("broadcast", (room, count, intervalMs, cb) => {
      let i = 0;
      const timer = setInterval(() => {
        if (i < count) {
          nsp.to(String(room)).emit("tick", i++);
        } else {
          clearInterval(timer);
          nsp.to(String(room)).emit("broadcast-done", count);
        }
      }, Number(intervalMs) || 0);
      if (typeof cb === "function") cb();
    });
  }

  for (const name of ["/", "/admin", "/chat", "/auth"]) {
    io.of(name).on("connection", onConnection);
  }

  io.of("/auth").use((socket, next) => {
    if (opts.authToken(socket) === "secret") return next();
    next(opts.authError());
  });
}

// ---------------------------------------------------------------- lifecycle

// listen starts httpServer on 127.0.0.1, prints "LISTENING <port>" and arranges for the
// process to exit on SIGTERM/SIGINT and when stdin reaches EOF.
function listen(io, httpServer, flags) {
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
  httpServer.listen(num(flags, "port"), "127.0.0.1", () => {
    process.stdout.write(`LISTENING ${httpServer.address().port}\n`);
  });
}

module.exports = {
  loadSocketIO,
  parseFlags,
  fail,
  num,
  transports,
  createHttpServer,
  stickyCookie,
  setupNamespaces,
  listen,
};
