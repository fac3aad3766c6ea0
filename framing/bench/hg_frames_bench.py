# Copyright 2026 the @sidecar/ipc authors. MIT license.
"""Times Mercurial's own frame code on the same work as compare.ts.

Arguments are `size:frames:rounds:batch`. For each: build the frames with
wireprotoframing.makeframe, join them into one buffer per batch of `batch`
frames (0: all frames in one buffer), and read each buffer back with
readframe (what Mercurial's peers and server call on incoming bytes before
handing each frame to a reactor). Prints one JSON line per argument.
"""
import io
import json
import sys
import time

from mercurial import wireprotoframing as framing


def run(size, n, rounds, batch):
    payload = bytes((i * 7 + 3) % 251 for i in range(size))
    per = batch or n
    best = None
    for _ in range(rounds):
        t0 = time.perf_counter()
        count = 0
        nbytes = 0
        done = 0
        while done < n:
            k = min(per, n - done)
            frames = [framing.makeframe(1, 1, 0, 3, 1, payload) for _ in range(k)]
            fh = io.BytesIO(b''.join(frames))
            while True:
                f = framing.readframe(fh)
                if f is None:
                    break
                count += 1
                nbytes += len(f.payload)
            done += k
        dt = time.perf_counter() - t0
        assert count == n and nbytes == n * size
        best = dt if best is None else min(best, dt)
    return best


for arg in sys.argv[1:]:
    size, n, rounds, batch = (int(x) for x in arg.split(':'))
    dt = run(size, n, rounds, batch)
    print(json.dumps({'size': size, 'frames': n, 'batch': batch, 'seconds': dt}))
