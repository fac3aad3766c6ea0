# Copyright 2026 the @sidecar/ipc authors. MIT license.
"""Runs gunicorn 26.1.0's DirtyArbiter stand-alone on a fixed socket path.

    GUNICORN_SRC=/path/to/gunicorn python3 -S run_arbiter.py SOCKET TIMEOUT WORKERS

The arbiter is built here and run in a forked child, because it shuts down
when its parent pid changes (it records the constructing process as its
parent). The parent forwards TERM/INT/QUIT and waits.
"""
import os
import signal
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.environ["GUNICORN_SRC"])
sys.path.insert(0, HERE)

from gunicorn import glogging  # noqa: E402
from gunicorn.config import Config  # noqa: E402
from gunicorn.dirty.arbiter import DirtyArbiter  # noqa: E402

sock, timeout, workers = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
cfg = Config()
cfg.set("dirty_workers", workers)
cfg.set("dirty_apps", ["dirty_demo_app:DemoApp"])
cfg.set("dirty_timeout", timeout)
cfg.set("dirty_threads", 1)
cfg.set("dirty_graceful_timeout", 2)
cfg.set("loglevel", os.environ.get("DIRTY_LOGLEVEL", "warning"))
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


for s in (signal.SIGTERM, signal.SIGINT, signal.SIGQUIT):
    signal.signal(s, forward)
while True:
    try:
        _, status = os.waitpid(pid, 0)
        break
    except InterruptedError:
        continue
sys.exit(0)
