# Copyright 2026 the @sidecar/ipc authors. MIT license.
"""The echo app of the comparison, on gunicorn's side."""
from gunicorn.dirty.app import DirtyApp


class EchoApp(DirtyApp):
    def echo(self, *args):
        return list(args)
