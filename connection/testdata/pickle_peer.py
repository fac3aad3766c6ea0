# Copyright 2026 the @sidecar/ipc authors. MIT license.
# Python side of connection/pickle_python_test.ts.
#
#   check: reads JSON lines {"name", "hex", "expr", "protocol", "exact"} on
#          stdin; pickle.loads(hex) is compared with eval(expr) (tagged form,
#          so int/float/bool and shared/recursive references are strict);
#          when "exact", pickle.dumps(eval(expr), protocol) must equal hex.
#          Prints one JSON verdict per line.
#   send:  reads a JSON list of expressions on stdin; for each value, writes
#          on fd 1 through multiprocessing.connection.Connection: the tagged
#          JSON (send_bytes), the value (conn.send, the default protocol),
#          then pickle.dumps(value, p) for p in 0, 1, 2, 3, 5 (send_bytes).
#          An entry {"expr", "protocols", "tag"} picks the protocols, and
#          sends null instead of the tagged JSON when "tag" is false.
import json
import pickle
import sys
from multiprocessing.connection import Connection


def tag(obj, with_ids=True):
    ids = {}
    counter = [0]

    def walk(o):
        t = type(o)
        if o is None:
            return {"t": "none"}
        if t is bool:
            return {"t": "bool", "v": o}
        if t is int:
            return {"t": "int", "v": str(o)}
        if t is float:
            return {"t": "float", "v": repr(o)}
        if t is str:
            return {"t": "str", "v": o}
        if t is bytes:
            return {"t": "bytes", "hex": o.hex()}
        if t is bytearray:
            return {"t": "bytearray", "hex": o.hex()}
        if t in (list, tuple, set, frozenset, dict):
            if with_ids and id(o) in ids:
                return {"t": "ref", "id": ids[id(o)]}
            counter[0] += 1
            i = counter[0] if with_ids else 0
            if with_ids and not (t is tuple and len(o) == 0):
                ids[id(o)] = i  # () is never memoized
            if t in (set, frozenset):
                # Hashable members: tagged without ids, in a stable order.
                items = [tag(x, False) for x in o]
                items.sort(key=lambda x: json.dumps(x, sort_keys=True))
                return {"t": t.__name__, "id": i, "items": items}
            if t is dict:
                return {"t": "dict", "id": i,
                        "items": [[walk(k), walk(v)] for k, v in o.items()]}
            return {"t": t.__name__, "id": i, "items": [walk(x) for x in o]}
        raise TypeError(f"cannot tag {t!r}")

    return walk(obj)


def check():
    n = 0
    for line in sys.stdin:
        case = json.loads(line)
        verdict = {"name": case["name"], "ok": True}
        try:
            data = bytes.fromhex(case["hex"])
            got = pickle.loads(data)
            want = eval(case["expr"])
            if tag(got) != tag(want):
                verdict = {"name": case["name"], "ok": False,
                           "why": "value differs", "got": repr(got)[:300],
                           "want": repr(want)[:300]}
            elif case.get("exact"):
                ours = pickle.dumps(want, case["protocol"])
                if ours != data:
                    verdict = {"name": case["name"], "ok": False,
                               "why": "bytes differ", "python": ours.hex()[:400],
                               "ours": case["hex"][:400]}
        except Exception as e:  # noqa: BLE001 - report, do not crash
            verdict = {"name": case["name"], "ok": False,
                       "why": f"{type(e).__name__}: {e}"}
        print(json.dumps(verdict), flush=True)
        n += 1
    print(json.dumps({"done": n}), flush=True)


def send():
    exprs = json.loads(sys.stdin.read())
    conn = Connection(sys.stdout.fileno(), readable=False)
    for expr in exprs:
        protocols = (0, 1, 2, 3, 5)
        with_tag = True
        if isinstance(expr, dict):  # {"expr", "protocols", "tag"}
            protocols = expr["protocols"]
            with_tag = expr["tag"]
            expr = expr["expr"]
        value = eval(expr)
        conn.send_bytes(json.dumps(tag(value) if with_tag else None).encode())
        conn.send(value)
        for p in protocols:
            conn.send_bytes(pickle.dumps(value, p))
    conn.close()


if __name__ == "__main__":
    {"check": check, "send": send}[sys.argv[1]]()
