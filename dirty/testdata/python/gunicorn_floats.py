# Copyright 2026 the @sidecar/ipc authors. MIT license.
"""gunicorn's own Python DirtyClient against our arbiter: ints and floats.

Usage: python3 -S gunicorn_floats.py <gunicorn source dir> <socket>
       <EchoApp app path> <ExactEchoApp app path>

Compares reprs (Python's 1 == 1.0, its repr does not). Prints one line per
check and "ALL OK" at the end; exits non-zero on the first failure.
"""
import sys

src, sock_path, app, exact = sys.argv[1:5]
sys.path.insert(0, src)

from gunicorn.dirty.client import DirtyClient  # noqa: E402


def same(name, got, want):
    ok = repr(got) == repr(want)
    print(("ok   " if ok else "FAIL ") + name + ": " + repr(got), flush=True)
    if not ok:
        print("     wanted: " + repr(want), flush=True)
        sys.exit(1)


NESTED = [1.0, 1, [1.0, 1, 2.5], {"f": 1.0, "i": 1, "deep": [{"x": -3.0}]}]
c = DirtyClient(sock_path, timeout=10)
# "tagged" app: everything keeps its type, top-level arguments included.
same("tagged echo", c.execute(exact, "echo", *NESTED, -0.0, 2.5), NESTED + [-0.0, 2.5])
same("tagged probe kwargs", c.execute(exact, "probe", 1.0, s=1.0, t=1),
     {"args": [1.0], "kwargs": {"s": 1.0, "t": 1}})
same("tagged double", [c.execute(exact, "double", 2.0), c.execute(exact, "double", 2)],
     [4.0, 4.0])
# Default app: lists and dicts passed through keep their types; a bare
# top-level number is a plain JS number (1.0 -> 1).
same("default echo nested", c.execute(app, "echo", *NESTED, -0.0),
     [1] + NESTED[1:] + [-0.0])
same("default probe kwargs", c.execute(app, "probe", 2, scale=1.0),
     {"args": [2], "kwargs": {"scale": 1.0}})
same("default keep", c.execute(app, "keep", {"a": [1.0, 2], "b": 3.0}), None)
same("default recall from state", c.execute(app, "recall"), {"a": [1.0, 2], "b": 3.0})
same("default changed slot", c.execute(app, "bump", {"n": 1.0, "m": 1.0}),
     {"n": 2, "m": 1.0})
same("default stream", list(c.stream(app, "each", [{"v": 1.0}, [1.0, 1], 1.0])),
     [{"v": 1.0}, [1.0, 1], 1])
c.close()
print("ALL OK", flush=True)
