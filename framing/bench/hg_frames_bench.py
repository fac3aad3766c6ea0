# Copyright 2026 the @sidecar/ipc authors. MIT license.
"""Times Mercurial's own frame code on the same work as compare.ts.

For each payload size: build N frames with wireprotoframing.makeframe, join
them, then read them back with readframe. Prints JSON lines.
"""
import io
import json
import sys
import time

from mercurial import wireprotoframing as framing


def run(size, n, rounds):
    payload = bytes((i * 7 + 3) % 251 for i in range(size))
    best = None
    for _ in range(rounds):
        t0 = time.perf_counter()
        frames = [framing.makeframe(1, 1, 0, 3, 1, payload) for _ in range(n)]
        data = b''.join(frames)
        fh = io.BytesIO(data)
        count = 0
        nbytes = 0
        while True:
            f = framing.readframe(fh)
            if f is None:
                break
            count += 1
            nbytes += len(f.payload)
        dt = time.perf_counter() - t0
        assert count == n and nbytes == n * size
        best = dt if best is None else min(best, dt)
    return best


for arg in sys.argv[1:]:
    size, n, rounds = (int(x) for x in arg.split(':'))
    dt = run(size, n, rounds)
    print(json.dumps({'size': size, 'frames': n, 'seconds': dt}))
