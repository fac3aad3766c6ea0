# A CPython SyncManager server for the manager client tests.
# argv[1]: "tcp" or a Unix socket path; argv[2]: the authkey.
# Prints {"address": ...} once listening; exits when stdin closes or a
# client sends shutdown.
import json
import os
import sys
import threading
from multiprocessing.managers import SyncManager


class Box:
    """A custom class: one method returns a shared list (method_to_typeid)."""

    def __init__(self, items=()):
        self.items = list(items)

    def make_list(self):
        return list(self.items)

    def echo(self, *args, **kwargs):
        return [list(args), kwargs]

    def fail(self, message):
        raise ValueError(message)


class TestManager(SyncManager):
    pass


TestManager.register(
    "Box", Box, exposed=("echo", "fail", "make_list"),
    method_to_typeid={"make_list": "list"},
)

where = ("127.0.0.1", 0) if sys.argv[1] == "tcp" else sys.argv[1]
server = TestManager(address=where, authkey=sys.argv[2].encode()).get_server()
address = server.address
if isinstance(address, tuple):
    address = {"hostname": address[0], "port": address[1]}
print(json.dumps({"address": address, "pid": os.getpid()}), flush=True)


def watch_stdin():
    sys.stdin.read()
    os._exit(0)


threading.Thread(target=watch_stdin, daemon=True).start()
server.serve_forever()
