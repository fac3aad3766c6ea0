# Copyright 2026 the @sidecar/ipc authors. MIT license.
"""The reference for `ipc mp connect`: read JSON lines, send each as a
pickle, print each reply's repr (a thread receives while the main thread
sends, as `ipc mp` does).

Usage: mp_client.py PORT AUTHKEY COUNT < lines.json
"""
import json
import sys
import threading
from multiprocessing.connection import Client


def main():
    port, key, count = int(sys.argv[1]), sys.argv[2].encode(), int(sys.argv[3])
    with Client(('127.0.0.1', port), authkey=key) as conn:
        out = sys.stdout

        def receive():
            for _ in range(count):
                out.write(repr(conn.recv()) + '\n')

        t = threading.Thread(target=receive)
        t.start()
        for line in sys.stdin:
            if line.strip():
                conn.send(json.loads(line))
        t.join()


if __name__ == '__main__':
    main()
