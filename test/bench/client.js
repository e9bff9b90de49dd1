#!/usr/bin/env node
// The official socket.io-client 4.x as the baseline of the polling benchmarks
// (polling_test.go): it runs the same workload as the Go client against the
// same server and prints its figures as one JSON line on stdout.
//
//   node test/bench/client.js --url http://127.0.0.1:PORT --mode stream|ack \
//        --count N [--transports polling] [--warmup M]
//
// stream: emits N "echo" events carrying a 100-byte string, all at once (the
//         client batches them into POSTs as fast as it can), counts the
//         "echo" events the server sends back, and times first emit to last
//         echo.
// ack:    N sequential emitWithAck("ack", payload) round trips, each timed.
//
// --warmup M first runs M untimed events (or round trips) of the same mode on
// the same connection, so that this process's JIT has settled before the
// timed part, as the Go side is compiled ahead of time.
//
// Output: {"events":N,"seconds":S,"eventsPerSec":X,"p50us":..,"p99us":..}
// (the latencies only in ack mode). Any error, a disconnection, or a run
// longer than 60 s exits non-zero with a message on stderr.
//
// bench: the workload of `sio bench` (cmd/sio), to compare its figures with
// the official client's: --clients C sockets, each on its own connection,
// each emitting --event E (default "ack") --rate R times a second with a
// --size B string argument, for --duration S seconds; with --ack=1 every
// emit asks for an acknowledgement and its round trip is timed. After the
// run it waits (up to 5 s) for the acknowledgements still due.
//
//   node test/bench/client.js --mode bench --url URL --clients 200 --rate 10 \
//        --duration 10 --ack=1 [--event ack] [--size 100] [--transports polling,websocket]
//
// Output: {"clients":C,"connected":N,"emits":N,"emitsPerSec":X,"acks":N,
// "connectP50ms":..,"p50ms":..,"p99ms":..} (emitsPerSec over the duration).
"use strict";

const path = require("path");
const { io } = require(path.join(__dirname, "..", "node", "node_modules", "socket.io-client"));

const TIMEOUT_MS = 60000;
const PAYLOAD = "x".repeat(100);

const flags = {
  url: "", mode: "", count: "", transports: "polling", warmup: "0",
  clients: "1", rate: "1", duration: "10", event: "ack", size: "0", ack: "0",
};
const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; i++) {
  const m = /^--([a-z]+)(?:=(.*))?$/.exec(argv[i]);
  if (!m || !(m[1] in flags)) fail(`unknown argument ${JSON.stringify(argv[i])}`);
  if (m[2] !== undefined) flags[m[1]] = m[2];
  else if (i + 1 < argv.length) flags[m[1]] = argv[++i];
  else fail(`flag --${m[1]} needs a value`);
}
if (flags.mode === "bench") return bench();
const count = Number(flags.count);
const warmup = Number(flags.warmup);
if (!flags.url) fail("--url is required");
if (flags.mode !== "stream" && flags.mode !== "ack") fail(`--mode: want stream or ack, got ${JSON.stringify(flags.mode)}`);
if (!Number.isInteger(count) || count < 1) fail(`--count: want a positive integer, got ${JSON.stringify(flags.count)}`);
if (!Number.isInteger(warmup) || warmup < 0) fail(`--warmup: want an integer >= 0, got ${JSON.stringify(flags.warmup)}`);
const transports = flags.transports.split(",").map((s) => s.trim()).filter(Boolean);

function fail(msg) {
  process.stderr.write(`client.js: ${msg}\n`);
  process.exit(1);
}

const timer = setTimeout(() => fail(`timed out after ${TIMEOUT_MS / 1000} s`), TIMEOUT_MS);

const socket = io(flags.url, {
  transports,
  upgrade: false,
  reconnection: false,
  forceNew: true,
});
let finished = false;
socket.on("connect_error", (err) => fail(`connect_error: ${err.message}`));
socket.on("disconnect", (reason) => {
  if (!finished) fail(`disconnected: ${reason}`);
});
socket.once("connect", () => {
  run().then(
    (result) => {
      finished = true;
      clearTimeout(timer);
      process.stdout.write(JSON.stringify(result) + "\n");
      socket.disconnect();
    },
    (err) => fail(err && err.stack ? err.stack : String(err)),
  );
});

async function run() {
  if (flags.mode === "stream") {
    if (warmup > 0) await stream(warmup);
    return stream(count);
  }
  if (warmup > 0) await acks(warmup);
  return acks(count);
}

// stream emits n echo events at once and resolves when n have come back.
function stream(n) {
  return new Promise((resolve) => {
    let got = 0;
    let start;
    const onEcho = () => {
      if (++got < n) return;
      const seconds = Number(process.hrtime.bigint() - start) / 1e9;
      socket.off("echo", onEcho);
      resolve({ events: n, seconds, eventsPerSec: n / seconds });
    };
    socket.on("echo", onEcho);
    start = process.hrtime.bigint();
    for (let i = 0; i < n; i++) socket.emit("echo", PAYLOAD);
  });
}

// acks makes n acknowledged round trips one after the other.
async function acks(n) {
  const lat = new Float64Array(n); // microseconds
  const start = process.hrtime.bigint();
  for (let i = 0; i < n; i++) {
    const t0 = process.hrtime.bigint();
    await socket.emitWithAck("ack", PAYLOAD);
    lat[i] = Number(process.hrtime.bigint() - t0) / 1e3;
  }
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  lat.sort();
  // The same percentiles as reportLatency in stream_test.go (truncated to whole µs).
  return {
    events: n,
    seconds,
    eventsPerSec: n / seconds,
    p50us: Math.trunc(lat[Math.floor(n / 2)]),
    p99us: Math.trunc(lat[Math.floor((n * 99) / 100)]),
  };
}

// bench runs the workload of `sio bench` (see the top of this file).
function bench() {
  const clients = Number(flags.clients);
  const rate = Number(flags.rate);
  const duration = Number(flags.duration);
  const size = Number(flags.size);
  const withAck = flags.ack !== "0" && flags.ack !== "false";
  if (!flags.url) fail("--url is required");
  if (!Number.isInteger(clients) || clients < 1) fail(`--clients: want a positive integer, got ${JSON.stringify(flags.clients)}`);
  if (!(rate > 0)) fail(`--rate: want a positive number, got ${JSON.stringify(flags.rate)}`);
  if (!(duration > 0)) fail(`--duration: want seconds > 0, got ${JSON.stringify(flags.duration)}`);
  if (!Number.isInteger(size) || size < 0) fail(`--size: want an integer >= 0, got ${JSON.stringify(flags.size)}`);
  const transports = flags.transports.split(",").map((s) => s.trim()).filter(Boolean);
  const payload = size > 0 ? ["x".repeat(size)] : [];
  const now = () => Number(process.hrtime.bigint()) / 1e6; // ms
  const connectMs = [];
  const ackMs = [];
  let emits = 0;
  let pending = 0;
  let connected = 0;
  const sockets = [];
  const timers = [];
  let stopped = false;
  const killer = setTimeout(() => fail(`timed out after ${duration + 60} s`), (duration + 60) * 1000);

  const start = now();
  for (let i = 0; i < clients; i++) {
    const t0 = now();
    const socket = io(flags.url, { transports, reconnection: false, forceNew: true });
    sockets.push(socket);
    socket.on("connect_error", (err) => fail(`connect_error: ${err.message}`));
    socket.on("disconnect", (reason) => {
      if (!stopped) fail(`disconnected: ${reason}`);
    });
    socket.once("connect", () => {
      connected++;
      connectMs.push(now() - t0);
      if (stopped) return;
      timers.push(setInterval(() => {
        if (stopped) return;
        emits++;
        if (!withAck) {
          socket.emit(flags.event, ...payload);
          return;
        }
        pending++;
        const e0 = now();
        socket.emitWithAck(flags.event, ...payload).then(() => {
          ackMs.push(now() - e0);
          pending--;
        });
      }, 1000 / rate));
    });
  }
  setTimeout(() => {
    stopped = true;
    timers.forEach(clearInterval);
    const deadline = now() + 5000;
    const finish = () => {
      if (pending > 0 && now() < deadline) return setTimeout(finish, 10);
      clearTimeout(killer);
      const q = (a, p) => {
        if (a.length === 0) return 0;
        const s = Float64Array.from(a).sort();
        return Math.round(s[Math.min(s.length - 1, Math.ceil(p * s.length) - 1)] * 1000) / 1000;
      };
      process.stdout.write(JSON.stringify({
        clients,
        connected,
        emits,
        emitsPerSec: emits / duration,
        acks: ackMs.length,
        connectP50ms: q(connectMs, 0.5),
        p50ms: q(ackMs, 0.5),
        p99ms: q(ackMs, 0.99),
      }) + "\n");
      sockets.forEach((s) => s.disconnect());
    };
    finish();
  }, Math.max(0, start + duration * 1000 - now()));
}
