#!/usr/bin/env python3
"""Create and remove volumes straight through the engine API, over kept-alive
unix-socket connections (no process per request), until a deadline.
Used by scripts/bench-flood.sh: the cheapest event the engine makes.

    flood-api.py PREFIX SECONDS THREADS
"""
import http.client
import json
import socket
import sys
import threading
import time


class UnixConnection(http.client.HTTPConnection):
    def __init__(self, path):
        super().__init__("engine")
        self.path = path

    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.connect(self.path)


def worker(prefix, deadline, n):
    conn = UnixConnection("/var/run/docker.sock")
    i = 0
    while time.time() < deadline:
        i += 1
        name = f"{prefix}-v{n}-{i}"
        body = json.dumps({"Name": name})
        conn.request("POST", "/v1.41/volumes/create", body, {"Content-Type": "application/json"})
        conn.getresponse().read()
        conn.request("DELETE", f"/v1.41/volumes/{name}")
        conn.getresponse().read()


def main():
    prefix, seconds, threads = sys.argv[1], float(sys.argv[2]), int(sys.argv[3])
    deadline = time.time() + seconds
    ts = [threading.Thread(target=worker, args=(prefix, deadline, n)) for n in range(threads)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()


if __name__ == "__main__":
    main()
