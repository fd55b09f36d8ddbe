#!/usr/bin/env python3
# A fake engine for measurements (scripts/bench-hostile-engine.sh): it
# listens on SOCK and forwards every request to the real engine, except
# the paths its MODE rewrites, as the proxy of the hostile-input report of
# 2026-12-07 did:
#   hugeinfo          /info announces 2 GB (Content-Length) and sends until the client goes
#   hugeinfo_chunked  /info chunked, endless
#   endless           /containers/json chunked, endless
#   huge_list         200,000 containers in /containers/json (their inspects: 404 here)
#   drip              /containers/json: Content-Length 100000, one byte a second
#
#   scripts/hostile-engine.py MODE SOCK
import asyncio, json, sys, os
MODE, SOCK = sys.argv[1], sys.argv[2]
REAL = "/var/run/docker.sock"
N = 200_000
HUGE = None
if MODE == "huge_list":
    HUGE = json.dumps([{"Id": f"{i:064x}", "Names": [f"/h{i}"], "State": "exited"} for i in range(N)]).encode()

def route(t):
    if t.startswith("/v"):
        i = t.find("/", 1)
        return t[i:]
    return t

async def handle(r, w):
    head = b""
    while b"\r\n\r\n" not in head:
        d = await r.read(65536)
        if not d:
            w.close(); return
        head += d
    line = head.split(b"\r\n")[0].decode()
    method, target = line.split(" ")[:2]
    p = route(target)
    try:
        if MODE in ("hugeinfo", "hugeinfo_chunked") and p == "/info":
            if MODE == "hugeinfo":
                w.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2000000000\r\n\r\n")
                chunk = b" " * 65536
                while True:
                    w.write(chunk); await w.drain()
            else:
                w.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n")
                chunk = b"10000\r\n" + b" " * 65536 + b"\r\n"
                while True:
                    w.write(chunk); await w.drain()
        if MODE == "endless" and p.startswith("/containers/json"):
            w.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n")
            chunk = b"10000\r\n" + b" " * 65536 + b"\r\n"
            while True:
                w.write(chunk); await w.drain()
        if MODE == "drip" and p.startswith("/containers/json"):
            w.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n")
            while True:
                w.write(b" "); await w.drain(); await asyncio.sleep(1)
        if MODE == "huge_list" and p.startswith("/containers/json"):
            w.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n" % len(HUGE) + HUGE)
            await w.drain(); w.close(); return
        if MODE == "huge_list" and p.startswith("/containers/"):
            b = b'{"message":"No such container"}'
            w.write(b"HTTP/1.1 404 Not Found\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n" % len(b) + b)
            await w.drain(); w.close(); return
        er, ew = await asyncio.open_unix_connection(REAL)
        end = head.index(b"\r\n\r\n")
        ew.write(head[:end] + b"\r\nConnection: close\r\n\r\n" + head[end+4:])
        await ew.drain()
        while True:
            d = await er.read(65536)
            if not d: break
            w.write(d); await w.drain()
        w.close()
    except (ConnectionError, BrokenPipeError):
        pass

async def main():
    if os.path.exists(SOCK): os.unlink(SOCK)
    s = await asyncio.start_unix_server(handle, SOCK, backlog=1024)
    async with s: await s.serve_forever()
asyncio.run(main())
