#!/usr/bin/python3
# python-socketio (5.x, on aiohttp) server for the Go client's interop tests:
# the second peer beside the official Node server (test/node/server.js), with
# the same events where python-socketio can do them.
#
# Started by the Go package test/python (or by hand:
# /usr/bin/python3 test/python/server.py --port 3000). It needs Debian's
# python3-socketio and python3-aiohttp (test/setup.sh installs them), which
# import only under /usr/bin/python3. It listens on 127.0.0.1, prints exactly
# one line "LISTENING <port>" to stdout (logs go to stderr), and exits on
# SIGTERM/SIGINT and when stdin reaches EOF, so an orphaned server dies with
# the process that started it.
#
# Flags (both "--flag value" and "--flag=value"):
#   --port N                    listen port, 0 (default) picks a random one
#   --transports a,b            allowed transports, default "polling,websocket"
#   --ping-interval MS          default 25000
#   --ping-timeout MS           default 20000
#   --max-http-buffer-size N    default 1e6 (python-socketio announces no
#                               maxPayload in the open packet)
#   --debug                     log Engine.IO and Socket.IO traffic to stderr
#
# Differences from server.js:
#   - a handler cannot tell whether the client asked for an ack (it answers
#     with its return value when one was asked for), so "binary" answers only
#     through the ack and "binary-event" emits the event "binary";
#   - no cookie on the handshake, no connection state recovery, no
#     emit-buffer / emit-number / close-transport;
#   - "record"(x) and "recorded"() (ack: the list of every x received on the
#     socket, in order) check the order of what the client sends;
#   - "info" reports headers as a WSGI environ has them (lower case, "_"
#     turned back into "-").
import argparse
import asyncio
import os
import signal
import sys
import urllib.parse

import socketio
from aiohttp import web

NAMESPACES = ["/", "/admin", "/chat", "/auth"]


def parse_args():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--transports", default="polling,websocket")
    p.add_argument("--ping-interval", type=float, default=25000)
    p.add_argument("--ping-timeout", type=float, default=20000)
    p.add_argument("--max-http-buffer-size", type=float, default=1e6)
    p.add_argument("--debug", action="store_true")
    return p.parse_args()


def make_server(args):
    sio = socketio.AsyncServer(
        async_mode="aiohttp",
        transports=[t.strip() for t in args.transports.split(",") if t.strip()],
        ping_interval=args.ping_interval / 1000,
        ping_timeout=args.ping_timeout / 1000,
        max_http_buffer_size=int(args.max_http_buffer_size),
        # One handler at a time per client, in arrival order: "record"
        # checks the order of what the client sends.
        async_handlers=False,
        logger=args.debug,
        engineio_logger=args.debug,
    )
    for ns in NAMESPACES:
        register(sio, ns)
    return sio


def register(sio, ns):
    def on(event):
        def deco(fn):
            sio.on(event, fn, namespace=ns)
            return fn

        return deco

    @on("connect")
    async def connect(sid, environ, auth):
        if ns == "/auth" and not (isinstance(auth, dict) and auth.get("token") == "secret"):
            raise socketio.exceptions.ConnectionRefusedError("not authorized", {"code": 401})
        await sio.save_session(sid, {"auth": auth, "recorded": []}, namespace=ns)

    @on("disconnect")
    def disconnect(sid):
        print(f"disconnect {ns} {sid}", file=sys.stderr, flush=True)

    # echo(...args): emits "echo" with the same arguments; an ack gets none.
    @on("echo")
    async def echo(sid, *args):
        await sio.emit("echo", args, to=sid, namespace=ns)

    # ack(...args): acknowledges with the same arguments.
    @on("ack")
    def ack(sid, *args):
        return args

    # ask(n): asks the client for an ack and reports its reply as "answer".
    @on("ask")
    async def ask(sid, n):
        async def reply(*answer):
            await sio.emit("answer", answer, to=sid, namespace=ns)

        await sio.emit("question", n, to=sid, namespace=ns, callback=reply)

    # stream(count, size?): "tick"(i, "x" * size) for i < count, then
    # "stream-done"(count).
    @on("stream")
    async def stream(sid, count, size=0):
        payload = "x" * int(size or 0)
        for i in range(int(count)):
            await sio.emit("tick", (i, payload), to=sid, namespace=ns)
        await sio.emit("stream-done", count, to=sid, namespace=ns)

    # binary(n): acknowledges with n bytes, byte i = i % 256.
    @on("binary")
    def binary(sid, n):
        return pattern(n)

    # binary-event(n): emits "binary" with n bytes, byte i = i % 256.
    @on("binary-event")
    async def binary_event(sid, n):
        await sio.emit("binary", pattern(n), to=sid, namespace=ns)

    # record(x) keeps x; recorded() acknowledges with all of them, in order.
    @on("record")
    async def record(sid, x):
        async with sio.session(sid, namespace=ns) as s:
            s["recorded"].append(x)

    @on("recorded")
    async def recorded(sid):
        s = await sio.get_session(sid, namespace=ns)
        return s["recorded"]  # one argument: the list

    @on("kick")  # DISCONNECT for this namespace only
    async def kick(sid):
        await sio.disconnect(sid, namespace=ns)

    @on("kick-all")  # DISCONNECT, then the Engine.IO connection is closed
    async def kick_all(sid):
        eio_sid = sio.manager.eio_sid_from_sid(sid, ns)
        await sio.disconnect(sid, namespace=ns)
        await sio.eio.disconnect(eio_sid)

    # info(): what the server knows about this socket and its connection.
    @on("info")
    async def info(sid):
        eio_sid = sio.manager.eio_sid_from_sid(sid, ns)
        environ = sio.get_environ(sid, namespace=ns) or {}
        s = await sio.get_session(sid, namespace=ns)
        query = {k: v[-1] for k, v in urllib.parse.parse_qs(environ.get("QUERY_STRING", "")).items()}
        headers = {
            k[5:].lower().replace("_", "-"): v for k, v in environ.items() if k.startswith("HTTP_")
        }
        return {
            "id": sid,
            "nsp": ns,
            "engineId": eio_sid,
            "transport": sio.eio.transport(eio_sid),
            "query": query,
            "headers": headers,
            "auth": s["auth"],
            "engineConnections": len(sio.eio.sockets),
        }

    # join(room): joins a room; the ack gets no arguments.
    @on("join")
    def join(sid, room):
        sio.enter_room(sid, str(room), namespace=ns)

    # broadcast(room, count, intervalMs): every intervalMs, "tick"(i) to the
    # whole room, i < count, then "broadcast-done"(count). The ack comes at
    # once.
    @on("broadcast")
    def broadcast(sid, room, count, interval_ms):
        async def run():
            for i in range(int(count)):
                await asyncio.sleep(float(interval_ms) / 1000)
                await sio.emit("tick", i, room=str(room), namespace=ns)
            await sio.emit("broadcast-done", count, room=str(room), namespace=ns)

        sio.start_background_task(run)


def pattern(n):
    return bytes(i % 256 for i in range(int(n)))


async def main():
    args = parse_args()
    sio = make_server(args)
    app = web.Application()
    sio.attach(app)
    runner = web.AppRunner(app, handle_signals=False)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", args.port)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]

    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)

    def on_stdin():
        if not os.read(sys.stdin.fileno(), 4096):
            stop.set()

    loop.add_reader(sys.stdin.fileno(), on_stdin)
    print(f"LISTENING {port}", flush=True)
    await stop.wait()
    print("server.py: shutting down", file=sys.stderr, flush=True)
    loop.remove_reader(sys.stdin.fileno())
    try:
        await asyncio.wait_for(runner.cleanup(), 2)
    except Exception:
        pass


if __name__ == "__main__":
    asyncio.run(main())
    sys.stdout.flush()
    os._exit(0)  # background tasks of open sessions must not hold the exit
