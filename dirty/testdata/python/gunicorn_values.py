# Copyright 2026 the @sidecar/ipc authors. MIT license.
"""gunicorn's own Python DirtyClient against our arbiter: keyword arguments
and dict key order.

Usage: python3 -S gunicorn_values.py <gunicorn source dir> <socket>
       <EchoApp app path> <OrderedApp app path> <kwargs|order>

Prints one line per check and "ALL OK" at the end; exits non-zero on the
first failure.
"""
import sys

src, sock_path, app, ordered, what = sys.argv[1:6]
sys.path.insert(0, src)

from gunicorn.dirty.client import DirtyClient  # noqa: E402


def same(name, got, want):
    ok = repr(got) == repr(want)
    print(("ok   " if ok else "FAIL ") + name + ": " + repr(got), flush=True)
    if not ok:
        print("     wanted: " + repr(want), flush=True)
        sys.exit(1)


c = DirtyClient(sock_path, timeout=10)
if what == "kwargs":
    same("a positional dict", c.execute(app, "probe", {"a": 1}),
         {"args": [{"a": 1}], "kwargs": {}})
    same("a keyword argument", c.execute(app, "probe", a=1),
         {"args": [], "kwargs": {"a": 1}})
    same("both", c.execute(app, "probe", {"a": 1}, a=2),
         {"args": [{"a": 1}], "kwargs": {"a": 2}})
    same("kwargs read by the action", c.execute(app, "kw", 2, scale=5), 10)
    same("async: kwargs", __import__("asyncio").run(
        c.execute_async(app, "probe", 1, x=[1.5])),
        {"args": [1], "kwargs": {"x": [1.5]}})
else:
    d = {"b": 1, "10": 2, "a": 3, "2": 4}
    same("keys seen by the app", c.execute(ordered, "keys", d),
         ["b", "10", "a", "2"])
    back = c.execute(ordered, "echo", d, [d])
    same("a dict back", list(back[0].keys()), ["b", "10", "a", "2"])
    same("a nested dict back", list(back[1][0].keys()), ["b", "10", "a", "2"])
    kw = c.execute(ordered, "probe", b=1, **{"10": 2}, a=3)
    same("kwargs order", list(kw["kwargs"].keys()), ["b", "10", "a"])
    same("default app: JavaScript's order",
         list(c.execute(app, "echo", d)[0].keys()), ["2", "10", "b", "a"])
c.close()
print("ALL OK", flush=True)
