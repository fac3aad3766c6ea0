# Copyright 2026 the @sidecar/ipc authors. MIT license.
"""An echo Listener for the `ipc mp` comparison: prints its port, serves
one client at a time (forever), replying ('echo', obj) to every object.

Usage: mp_echo.py AUTHKEY
"""
import sys
from multiprocessing.connection import Listener

with Listener(('127.0.0.1', 0), authkey=sys.argv[1].encode()) as listener:
    print(listener.address[1], flush=True)
    while True:
        with listener.accept() as conn:
            while True:
                try:
                    conn.send(('echo', conn.recv()))
                except EOFError:
                    break
