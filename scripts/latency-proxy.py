#!/usr/bin/env python3
"""A unix-socket forwarder that adds a fixed delay to each engine answer, to
stand in for an engine on another machine (network round trip, no shared
CPU). Used by scripts/bench-fleet.sh to show how a scan of several engines
behaves when the engines do not compete for this machine's cores.

    latency-proxy.py LISTEN_SOCKET UPSTREAM_SOCKET DELAY_MS
"""
import asyncio
import os
import sys


async def pipe(reader, writer, delay):
    try:
        while True:
            chunk = await reader.read(65536)
            if not chunk:
                break
            if delay:
                await asyncio.sleep(delay)
            writer.write(chunk)
            await writer.drain()
    except (ConnectionError, asyncio.CancelledError):
        pass
    finally:
        try:
            writer.close()
        except Exception:
            pass


async def main(listen, upstream, delay_ms):
    delay = delay_ms / 1000.0
    # The round trip is paid once per answer: half on the way in, half out.

    async def handle(creader, cwriter):
        try:
            ureader, uwriter = await asyncio.open_unix_connection(upstream)
        except OSError:
            cwriter.close()
            return
        await asyncio.gather(
            pipe(creader, uwriter, delay / 2), pipe(ureader, cwriter, delay / 2)
        )

    if os.path.exists(listen):
        os.unlink(listen)
    server = await asyncio.start_unix_server(handle, path=listen)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2], float(sys.argv[3])))
