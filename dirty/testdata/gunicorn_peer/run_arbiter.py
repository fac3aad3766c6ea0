# Copyright 2026 the @sidecar/ipc authors. MIT license.
"""Runs gunicorn 26.1.0's DirtyArbiter stand-alone on a socket path, for the
interop tests and the benchmark comparison.

    python3 -S run_arbiter.py [--gunicorn SRC] [--app SPEC]... [--path DIR]...
        [--workers N] [--threads N] [--timeout S] [--graceful-timeout S]
        [--log-level LEVEL] SOCKET

--gunicorn defaults to $GUNICORN_SRC, --app to dirty_demo_app:DemoApp (next
to this script, always importable; --path adds directories for other app
modules), --log-level to $DIRTY_LOGLEVEL or "warning".

The arbiter is built here and run in a forked child, because it shuts down
when its parent pid changes (it records the constructing process as its
parent). This process prints "ready" once the socket exists, forwards
TERM/INT/QUIT to the child and exits with it.
"""
import argparse
import os
import signal
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))

p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
p.add_argument("socket")
p.add_argument("--gunicorn", default=os.environ.get("GUNICORN_SRC"))
p.add_argument("--app", action="append", dest="apps")
p.add_argument("--path", action="append", default=[])
p.add_argument("--workers", type=int, default=1)
p.add_argument("--threads", type=int, default=1)
p.add_argument("--timeout", type=int, default=30)
p.add_argument("--graceful-timeout", type=int, default=2)
p.add_argument("--log-level",
               default=os.environ.get("DIRTY_LOGLEVEL", "warning"))
args = p.parse_args()
if not args.gunicorn:
    p.error("no gunicorn source: pass --gunicorn or set GUNICORN_SRC")

sys.path[:0] = [args.gunicorn, HERE] + args.path

from gunicorn import glogging  # noqa: E402
from gunicorn.config import Config  # noqa: E402
from gunicorn.dirty.arbiter import DirtyArbiter  # noqa: E402

cfg = Config()
cfg.set("dirty_workers", args.workers)
cfg.set("dirty_apps", args.apps or ["dirty_demo_app:DemoApp"])
cfg.set("dirty_timeout", args.timeout)
cfg.set("dirty_threads", args.threads)
cfg.set("dirty_graceful_timeout", args.graceful_timeout)
cfg.set("loglevel", args.log_level)
arbiter = DirtyArbiter(cfg, glogging.Logger(cfg), socket_path=args.socket)

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
for _ in range(300):
    if os.path.exists(args.socket):
        print("ready", flush=True)
        break
    time.sleep(0.05)
_, status = os.waitpid(pid, 0)
code = os.waitstatus_to_exitcode(status)
sys.exit(code if code >= 0 else 128 - code)
