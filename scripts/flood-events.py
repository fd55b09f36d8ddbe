#!/usr/bin/env python3
"""A unix-socket engine that floods `/events` (issue 39, D10): every other
request is passed to the real engine (with `Connection: close`, so each
request is seen), and `GET …/events` is answered with `exec_start` events
for as long as the client reads, as fast as it reads or at a given rate.

    flood-events.py LISTEN_SOCKET [--mode one|mixed] [--rate EVENTS_PER_S]
                    [--upstream /var/run/docker.sock] [--count-file FILE]

Modes: `one` — every event is an exec_start in one container (someone
looping `docker exec`, as in D10); `mixed` — half of them in that one
container, half each in a container of its own, with a long command line
(a flood spread over many containers: no two events alike).
The number of events sent so far is written to --count-file every second.
Used by tests/audit_flood.rs and scripts/bench-audit-flood.sh.
"""
import argparse
import asyncio
import json
import os
import signal
import time

TARGET = "f1" * 32
sent = 0


def event(i, mode):
    now = time.time_ns()
    if mode == "mixed" and i % 2:
        cid = f"{i:064x}"
        name = f"flood-many-{i}"
        detail = "sh -c 'echo " + "x" * 1500 + f" {i}'"
    else:
        cid, name, detail = TARGET, "flood-target", f"sh -c 'echo {i}'"
    return {
        "status": f"exec_start: {detail}",
        "id": cid,
        "from": "flood/image:1",
        "Type": "container",
        "Action": f"exec_start: {detail}",
        "Actor": {
            "ID": cid,
            "Attributes": {"execID": f"{i:064x}", "image": "flood/image:1", "name": name},
        },
        "scope": "local",
        "time": now // 1_000_000_000,
        "timeNano": now,
    }


async def flood(writer, mode, rate):
    global sent
    writer.write(
        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nApi-Version: 1.41\r\n"
        b"Transfer-Encoding: chunked\r\n\r\n"
    )
    batch = 200 if rate == 0 else max(1, rate // 100)
    start = time.monotonic()
    try:
        while True:
            body = "".join(json.dumps(event(sent + k, mode)) + "\n" for k in range(batch))
            data = body.encode()
            writer.write(b"%x\r\n%s\r\n" % (len(data), data))
            await writer.drain()
            sent += batch
            if rate:
                ahead = sent / rate - (time.monotonic() - start)
                if ahead > 0:
                    await asyncio.sleep(ahead)
    except (ConnectionError, asyncio.CancelledError):
        pass
    finally:
        writer.close()


async def pipe(reader, writer):
    try:
        while True:
            chunk = await reader.read(65536)
            if not chunk:
                break
            writer.write(chunk)
            await writer.drain()
    except ConnectionError:
        pass
    finally:
        writer.close()


async def handle(reader, writer, args):
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError):
        writer.close()
        return
    line = head.split(b"\r\n", 1)[0]
    if b"/events" in line:
        await flood(writer, args.mode, args.rate)
        return
    lines = [
        l for l in head.rstrip(b"\r\n").split(b"\r\n") if not l.lower().startswith(b"connection:")
    ]
    lines.append(b"Connection: close")
    try:
        ur, uw = await asyncio.open_unix_connection(args.upstream)
    except OSError:
        writer.close()
        return
    uw.write(b"\r\n".join(lines) + b"\r\n\r\n")
    await asyncio.gather(pipe(reader, uw), pipe(ur, writer))


async def count(path):
    while True:
        await asyncio.sleep(1)
        with open(path + ".tmp", "w") as f:
            f.write(str(sent))
        os.replace(path + ".tmp", path)


async def main():
    p = argparse.ArgumentParser()
    p.add_argument("listen")
    p.add_argument("--mode", choices=["one", "mixed"], default="one")
    p.add_argument("--rate", type=int, default=0)
    p.add_argument("--upstream", default="/var/run/docker.sock")
    p.add_argument("--count-file")
    args = p.parse_args()
    if os.path.exists(args.listen):
        os.unlink(args.listen)
    server = await asyncio.start_unix_server(lambda r, w: handle(r, w, args), path=args.listen)
    if args.count_file:
        asyncio.ensure_future(count(args.count_file))
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for s in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(s, stop.set)
    async with server:
        await stop.wait()
    if args.count_file:
        with open(args.count_file, "w") as f:
            f.write(str(sent))


if __name__ == "__main__":
    asyncio.run(main())
