# Copyright 2026 the @sidecar/ipc authors. MIT license.
"""gunicorn's own Python clients against our arbiter.

Usage: python3 -S gunicorn_clients.py <gunicorn source dir> <socket> <app path>

<app path> is the wire app_path of testdata/apps/echo.ts:EchoApp as the
arbiter was started with. Prints one line per check and "ALL OK" at the
end; exits non-zero on the first failure.
"""
import asyncio
import socket
import sys

src, sock_path, app = sys.argv[1:4]
sys.path.insert(0, src)

from gunicorn.dirty.client import DirtyClient  # noqa: E402
from gunicorn.dirty.errors import (  # noqa: E402
    DirtyAppError,
    DirtyNoWorkersAvailableError,
    DirtyTimeoutError,
)
from gunicorn.dirty.protocol import (  # noqa: E402
    BinaryProtocol,
    MANAGE_OP_ADD,
    MANAGE_OP_REMOVE,
)
from gunicorn.dirty.stash import (  # noqa: E402
    StashClient,
    StashKeyNotFoundError,
    StashTableNotFoundError,
)


def check(name, got, want=None, pred=None):
    ok = pred(got) if pred else got == want
    print(("ok   " if ok else "FAIL ") + name + ": " + repr(got), flush=True)
    if not ok:
        print("     wanted: " + repr(want), flush=True)
        sys.exit(1)


def raises(name, fn, cls, text=None):
    try:
        got = fn()
    except cls as e:
        check(name, type(e).__name__ + ": " + str(e),
              pred=lambda s: text is None or text in s)
        return
    except Exception as e:  # noqa: BLE001
        check(name, type(e).__name__ + ": " + str(e), cls.__name__)
    check(name, got, "an exception " + cls.__name__)


c = DirtyClient(sock_path, timeout=10)
check("execute add", c.execute(app, "add", 2, 3), 5)
check("execute echo", c.execute(app, "echo", 1, "two", b"\x03", None, 1.5),
      [1, "two", b"\x03", None, 1.5])
check("execute kwargs", c.execute(app, "kw", 2, scale=5), 10)
check("stream sync gen", list(c.stream(app, "stream", 3)),
      ["tok0", "tok1", "tok2"])
check("stream async gen", list(c.stream(app, "astream", 2)),
      [{"i": 0}, {"i": 1}])
raises("app error", lambda: c.execute(app, "fail", "kaput"), DirtyAppError,
       "kaput")
raises("private action", lambda: c.execute(app, "_secret"), DirtyAppError,
       "Unknown action: _secret")
raises("unknown app", lambda: c.execute("nope:Nope", "x"),
       DirtyNoWorkersAvailableError, "No workers available for app: nope:Nope")
got = []
try:
    for x in c.stream(app, "streamFail", 2):
        got.append(x)
except DirtyAppError as e:
    got.append("error: " + str(e).split(":")[0])
check("stream error mid-way", got, ["tok0", "tok1", "error stream broke"],
      pred=lambda g: g[:2] == ["tok0", "tok1"] and "stream broke" in g[2])


async def run_async():
    ac = DirtyClient(sock_path, timeout=10)
    r = await ac.execute_async(app, "add", 40, 2)
    chunks = [x async for x in ac.stream_async(app, "stream", 2)]
    await ac.close_async()
    return r, chunks


check("async execute + stream", asyncio.run(run_async()),
      (42, ["tok0", "tok1"]))
c.close()

s = StashClient(sock_path, timeout=10)
s.put("sessions", "user:1", {"name": "Alice"})
s.put("sessions", "user:2", {"name": "Bob"})
s.put("sessions", "admin:1", "root")
check("stash get", s.get("sessions", "user:1"), {"name": "Alice"})
check("stash get default", s.get("sessions", "nope", "DEFAULT"), "DEFAULT")
raises("stash info missing", lambda: s.info("missing"),
       StashTableNotFoundError)
check("stash keys pattern", sorted(s.keys("sessions", pattern="user:*")),
      ["user:1", "user:2"])
check("stash exists", (s.exists("sessions"), s.exists("sessions", "user:1"),
                       s.exists("sessions", "zz"), s.exists("missing")),
      (True, True, False, False))
check("stash info", s.info("sessions"), {"size": 3, "table": "sessions"})
check("stash tables", s.tables(), ["sessions"])
t = s.table("sessions")
t["k"] = [1, 2]
check("stash table view", (t["k"], "k" in t, len(t)), ([1, 2], True, 4))
raises("stash table missing key", lambda: t["zz"], KeyError)
check("stash delete", (s.delete("sessions", "k"), s.delete("sessions", "k")),
      (True, False))
s.clear("sessions")
check("stash clear", s.keys("sessions"), [])
s.delete_table("sessions")
check("stash delete_table", s.tables(), [])
s.close()


def raw(frame):
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sk:
        sk.connect(sock_path)
        sk.sendall(frame)
        return BinaryProtocol.read_message(sk)


st = raw(BinaryProtocol.encode_status(13))
check("status shape", sorted(st["result"].keys()),
      pred=lambda k: {"arbiter_pid", "workers", "worker_count",
                      "apps"} <= set(k))
w0 = st["result"]["workers"][0]
check("status worker", (sorted(w0.keys()), w0["booted"],
                        0 <= w0["last_heartbeat"] < 10),
      pred=lambda g: g[1] is True and g[2] and
      {"pid", "age", "apps", "booted", "last_heartbeat"} <= set(g[0]))
add = raw(BinaryProtocol.encode_manage(1, MANAGE_OP_ADD, 1))["result"]
check("manage add", (add["operation"], add["spawned"]), ("add", 1))
rm = raw(BinaryProtocol.encode_manage(1, MANAGE_OP_REMOVE, 5))["result"]
check("manage remove floor", (rm["operation"], rm["removed"],
                              rm["target_workers"]), ("remove", 1, 1))

t2 = DirtyClient(sock_path, timeout=10)
raises("arbiter timeout", lambda: t2.execute(app, "sleep", 4000),
       DirtyTimeoutError, "Worker timeout")
t2.close()
print("ALL OK", flush=True)
