# Copyright 2026 the @sidecar/ipc authors. MIT license.
"""Connects N TCP clients to HOST:PORT and resets each (SO_LINGER 0, close)
before the server accepts it: the kernel completes the handshakes, so the
connections wait in the listener's backlog, already reset.

Usage: reset_clients.py HOST PORT N
"""
import socket
import struct
import sys


def main():
    host, port, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    socks = []
    for _ in range(n):
        s = socket.create_connection((host, port))
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack('ii', 1, 0))
        socks.append(s)
    for s in socks:
        s.close()


if __name__ == '__main__':
    main()
