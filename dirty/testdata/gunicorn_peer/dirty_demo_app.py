# Copyright 2026 the @sidecar/ipc authors. MIT license.
"""A dirty app for interop tests against gunicorn 26.1.0's own dirty arbiter."""
import time

from gunicorn.dirty.app import DirtyApp


class DemoApp(DirtyApp):
    def init(self):
        self.calls = 0

    def add(self, *args):
        return sum(args)

    def echo(self, *args, **kwargs):
        return {"args": list(args), "kwargs": kwargs}

    def probe(self, *args, **kwargs):
        return {"args": list(args), "kwargs": kwargs}

    def types(self):
        return {"int": 1, "float": 1.0, "big": 2**62, "neg": -5, "bytes": b"\x00\xff",
                "none": None, "list": [True, False], "nested": {"a": [1.5]}}

    def fail(self, msg="kaput"):
        raise ValueError(msg)

    def sleep(self, seconds):
        time.sleep(seconds)
        return "slept"

    def stream(self, n):
        for i in range(n):
            yield f"tok{i}"

    def stream_slow(self, n, gap):
        for i in range(n):
            if i:
                time.sleep(gap)
            yield f"tok{i}"

    def stream_fail(self, n):
        for i in range(n):
            yield f"tok{i}"
        raise RuntimeError("stream broke")

    def big(self):
        return 2**64

    def unsupported(self):
        return {1, 2}
