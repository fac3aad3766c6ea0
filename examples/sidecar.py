# Copyright 2026 the @sidecar/ipc authors. MIT license.
"""A tiny Python sidecar for the demo: a multiprocessing.connection Listener.

It prints its address as one JSON line on stdout, accepts one client
(authenticated with the key in SIDECAR_AUTHKEY), answers requests until it
gets {"op": "shutdown"}, then closes and exits 0. What it receives is logged
on stderr with a "[python]" prefix.
"""
import json
import os
import sys
from multiprocessing.connection import Listener


def log(*args):
    print("[python]", *args, file=sys.stderr, flush=True)


def main():
    authkey = os.environ["SIDECAR_AUTHKEY"].encode()
    address = sys.argv[1] if len(sys.argv) > 1 else ("127.0.0.1", 0)
    with Listener(address, authkey=authkey) as listener:
        addr = listener.address
        if isinstance(addr, tuple):
            addr = {"hostname": addr[0], "port": addr[1]}
        print(json.dumps({"address": addr, "python": sys.version.split()[0]}), flush=True)
        with listener.accept() as conn:
            log("accepted a client, handshake done")
            while True:
                request = conn.recv()
                log("received", repr(request))
                op = request.get("op") if isinstance(request, dict) else None
                if op == "sum":
                    conn.send({"ok": True, "sum": sum(request["values"])})
                elif op == "describe":
                    value = request["value"]
                    conn.send((type(value).__name__, repr(value)))
                elif op == "bytes":
                    data = conn.recv_bytes()
                    log("received raw", len(data), "bytes")
                    conn.send_bytes(data[::-1])
                elif op == "shutdown":
                    conn.send("bye")
                    break
                else:
                    conn.send({"ok": False, "error": f"unknown request {request!r}"})
    log("listener closed, exiting")


if __name__ == "__main__":
    main()
