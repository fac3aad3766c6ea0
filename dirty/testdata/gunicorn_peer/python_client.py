# Copyright 2026 the @sidecar/ipc authors. MIT license.
"""Drives gunicorn 26.1.0's own DirtyClient and StashClient against a socket
and prints one JSON line of results (for the interop test).

    GUNICORN_SRC=/path/to/gunicorn python3 -S python_client.py SOCKET
"""
import json
import os
import sys

sys.path.insert(0, os.environ["GUNICORN_SRC"])

from gunicorn.dirty.client import DirtyClient  # noqa: E402
from gunicorn.dirty.errors import DirtyError  # noqa: E402
from gunicorn.dirty.stash import StashClient, StashError  # noqa: E402

sock = sys.argv[1]
out = {}
c = DirtyClient(sock, timeout=5.0)
out["add"] = c.execute("fake:App", "add", 2, 3)
echo = c.execute("fake:App", "echo", 1, 2.5, "s", b"\x00\xff", None, True, [1.0], k={"n": -7})
out["echo"] = repr(echo)
try:
    c.execute("fake:App", "fail", "kaput")
except DirtyError as e:
    out["fail"] = [type(e).__name__, e.message, sorted(e.details)]
try:
    c.execute("missing:App", "f")
except DirtyError as e:
    out["missing"] = [type(e).__name__, e.message, e.app_path]
out["stream"] = list(c.stream("fake:App", "stream", 3))
try:
    list(c.stream("fake:App", "stream_fail", 2))
except DirtyError as e:
    out["stream_fail"] = [type(e).__name__, e.message]
out["replay"] = repr(c.execute("fake:App", "replay", "response_float_list"))
c.close()
s = StashClient(sock, timeout=5.0)
s.put("sessions", "user:1", {"name": "Alice"})
out["stash_get"] = s.get("sessions", "user:1")
out["stash_keys"] = s.keys("sessions", "user:*")
out["stash_info"] = s.info("sessions")
try:
    s.get("sessions", "nope", "DEFAULT")
    out["stash_missing"] = "default"
except StashError as e:
    out["stash_missing"] = ["StashError", str(e)]
s.close()
print(json.dumps(out))
