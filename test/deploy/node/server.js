#!/usr/bin/env node
// One node of the deployment tests' socket.io 4.8 cluster (test/deploy).
//
// Started by the Go tests, several at once behind HAProxy or nginx, sharing
// rooms through Redis with @socket.io/redis-adapter as in the socket.io docs
// ("Using multiple nodes"); alone over HTTPS, with or without a required
// client certificate. It listens on 127.0.0.1, prints exactly one line
// "LISTENING <port>" to stdout, and exits on SIGTERM and when stdin reaches
// EOF, so that it never outlives the test that started it.
//
// Flags ("--flag value"):
//   --port N           listen port, 0 (default) picks a free one
//   --name NAME        the node's name, reported with every answer (default "node")
//   --redis URL        use the Redis adapter, and Redis for the receipts of "work"
//   --tls-cert FILE --tls-key FILE   serve https/wss
//   --client-ca FILE   require a client certificate signed by this CA (mutual TLS)
//
// Which node served each request: GET /deploy/stats (outside the Engine.IO
// path) answers {"name", "sessions": {engine id: requests served, the
// handshake, polls and the WebSocket upgrade}, "unknown": requests for a
// session this node does not know}. A request that a balancer sent to the
// wrong node counts in "unknown" there.
//
// Events (all answer through the acknowledgement):
//   info                  -> {node, id, engineId, transport}
//   join ROOM             -> ROOM, once the socket is in the room
//   broadcast ROOM DATA   -> sends "news" DATA NODE to the room's other sockets, on every node
//   work CLIENT SEQ       -> SEQ, after recording "CLIENT SEQ NODE" in Redis
//   receipts              -> every recorded "CLIENT SEQ NODE" line, in order
"use strict";

const fs = require("fs");
const http = require("http");
const https = require("https");
const { Server } = require("socket.io");

const flags = { port: "0", name: "node", redis: "", "tls-cert": "", "tls-key": "", "client-ca": "" };
const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; i += 2) {
  const m = /^--([a-z-]+)$/.exec(argv[i]);
  if (!m || !(m[1] in flags) || i + 1 >= argv.length) fail(`bad argument ${JSON.stringify(argv[i])}`);
  flags[m[1]] = argv[i + 1];
}

function fail(msg) {
  process.stderr.write(`server.js: ${msg}\n`);
  process.exit(2);
}

const name = flags.name;
const sessions = new Map(); // engine id -> requests served
let unknown = 0;

function route(req, res) {
  if (req.url === "/deploy/stats") {
    res.setHeader("Content-Type", "application/json");
    res.end(JSON.stringify({ name, sessions: Object.fromEntries(sessions), unknown }));
    return;
  }
  count(req);
}

// count records a request for a session: one this node knows, or not.
function count(req) {
  const sid = new URL(req.url, "http://x").searchParams.get("sid");
  if (!sid) return; // a handshake: counted once the session exists
  if (io.engine.clients[sid]) sessions.set(sid, (sessions.get(sid) || 0) + 1);
  else unknown++;
}

let httpServer;
if (flags["tls-cert"]) {
  const opts = { cert: fs.readFileSync(flags["tls-cert"]), key: fs.readFileSync(flags["tls-key"]) };
  if (flags["client-ca"]) {
    opts.ca = fs.readFileSync(flags["client-ca"]);
    opts.requestCert = true;
    opts.rejectUnauthorized = true;
  }
  httpServer = https.createServer(opts);
} else {
  httpServer = http.createServer();
}

const io = new Server(httpServer);
// Before engine.io's own listeners: stats, and the header on every answer.
// engine.io's listener, attached by new Server, passes other paths on to
// earlier listeners only: ours goes first and answers /deploy/stats itself.
httpServer.prependListener("request", route);
httpServer.prependListener("upgrade", (req) => count(req));
io.engine.on("connection", (conn) => sessions.set(conn.id, 1));

let data = null; // the Redis client for receipts
async function setupRedis() {
  if (!flags.redis) return;
  const { createClient } = require("redis");
  const { createAdapter } = require("@socket.io/redis-adapter");
  const pub = createClient({ url: flags.redis });
  const sub = pub.duplicate();
  data = pub.duplicate();
  for (const c of [pub, sub, data]) c.on("error", (err) => process.stderr.write(`redis: ${err.message}\n`));
  await Promise.all([pub.connect(), sub.connect(), data.connect()]);
  io.adapter(createAdapter(pub, sub));
}

io.on("connection", (socket) => {
  socket.on("info", (ack) =>
    ack({ node: name, id: socket.id, engineId: socket.conn.id, transport: socket.conn.transport.name }),
  );
  socket.on("join", async (room, ack) => {
    await socket.join(room);
    ack(room);
  });
  socket.on("broadcast", (room, payload, ack) => {
    socket.to(room).emit("news", payload, name);
    ack(true);
  });
  socket.on("work", async (client, seq, ack) => {
    if (!data) return ack({ error: "no redis" });
    await data.rPush("receipts", `${client} ${seq} ${name}`);
    ack(seq);
  });
  socket.on("receipts", async (ack) => {
    if (!data) return ack({ error: "no redis" });
    ack(await data.lRange("receipts", 0, -1));
  });
});

function shutdown() {
  process.exit(0);
}
process.on("SIGTERM", shutdown);
process.stdin.on("end", shutdown);
process.stdin.on("close", shutdown);
process.stdin.on("error", shutdown);
process.stdin.resume();

setupRedis()
  .then(() => {
    httpServer.on("error", (err) => fail(`listen: ${err.message}`));
    httpServer.listen(Number(flags.port), "127.0.0.1", () => {
      process.stdout.write(`LISTENING ${httpServer.address().port}\n`);
    });
  })
  .catch((err) => fail(`redis: ${err.message}`));
