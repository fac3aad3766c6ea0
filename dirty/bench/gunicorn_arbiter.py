# Copyright 2026 the @sidecar/ipc authors. MIT license.
"""Runs a real gunicorn 26 dirty arbiter stand-alone, for comparisons.

Usage: python3 -S gunicorn_arbiter.py <gunicorn source dir> <socket path>
       <workers> <threads> <app spec>...

The arbiter is forked (it records its creator as its parent and stops when
that parent goes away); this process forwards SIGTERM/SIGINT to it and waits.
Prints "ready" once the socket exists.
"""
import os
import signal
import sys
import time

src, sock, workers, threads = sys.argv[1:5]
apps = sys.argv[5:]
sys.path.insert(0, src)
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from gunicorn.config import Config  # noqa: E402
from gunicorn import glogging  # noqa: E402
from gunicorn.dirty.arbiter import DirtyArbiter  # noqa: E402

cfg = Config()
cfg.set("dirty_workers", int(workers))
cfg.set("dirty_apps", apps)
cfg.set("dirty_timeout", 30)
cfg.set("dirty_threads", int(threads))
cfg.set("loglevel", "warning")
log = glogging.Logger(cfg)
arbiter = DirtyArbiter(cfg, log, socket_path=sock)
pid = os.fork()
if pid == 0:
    arbiter.run()
    os._exit(0)


def forward(signum, _frame):
    try:
        os.kill(pid, signum)
    except ProcessLookupError:
        pass


for s in (signal.SIGTERM, signal.SIGINT):
    signal.signal(s, forward)
for _ in range(300):
    if os.path.exists(sock):
        break
    time.sleep(0.05)
print("ready", flush=True)
os.waitpid(pid, 0)
