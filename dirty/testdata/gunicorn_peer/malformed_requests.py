# Copyright 2026 the @sidecar/ipc authors. MIT license.
"""Sends the malformed REQUESTs of testdata/malformed_requests.json to a dirty
arbiter (gunicorn's, or ours) and prints its answers as JSON, normalised for
comparison: error type, message (a Python object repr with its address, as in
"<m.C object at 0x7f...>", becomes "<APP object>"), sorted detail keys, or
the result.

    python3 -S malformed_requests.py <gunicorn source> <socket> <app path> <cases.json>
"""
import json
import re
import socket
import sys

src, sock_path, app, cases_path = sys.argv[1:5]
sys.path.insert(0, src)

from gunicorn.dirty.protocol import BinaryProtocol, MSG_TYPE_REQUEST  # noqa: E402
from gunicorn.dirty.tlv import TLVEncoder  # noqa: E402


def value(v):
    if isinstance(v, dict):
        if "$app" in v:
            return app
        if "$bytes" in v:
            return v["$bytes"].encode()
        return {k: value(x) for k, x in v.items()}
    if isinstance(v, list):
        return [value(x) for x in v]
    return v


def plain(v):
    if isinstance(v, bytes):
        return {"$bytes": v.decode("latin-1")}
    if isinstance(v, dict):
        return {k: plain(x) for k, x in v.items()}
    if isinstance(v, list):
        return [plain(x) for x in v]
    return v


def normalise(msg):
    if msg["type"] == "response":
        return {"result": plain(msg.get("result"))}
    if msg["type"] == "error":
        e = msg["error"]
        text = re.sub(r"<[^<>]* object at 0x[0-9a-f]+>", "<APP object>",
                      e.get("message", ""))
        return {"error_type": e.get("error_type"), "message": text,
                "details": sorted(e.get("details", {}).keys())}
    return {"type": msg["type"]}


out = []
for i, case in enumerate(json.load(open(cases_path))):
    payload = TLVEncoder.encode({k: value(v) for k, v in case["payload"]})
    frame = BinaryProtocol.encode_header(MSG_TYPE_REQUEST, 100 + i,
                                         len(payload)) + payload
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sk:
        sk.settimeout(10)
        sk.connect(sock_path)
        sk.sendall(frame)
        try:
            reply = normalise(BinaryProtocol.read_message(sk))
        except Exception as e:  # noqa: BLE001
            reply = {"closed": type(e).__name__}
    out.append({"name": case["name"], "reply": reply})
print(json.dumps(out, indent=1))
