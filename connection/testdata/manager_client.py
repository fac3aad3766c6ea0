# CPython BaseManager clients of a Deno ManagerServer, for the manager
# server tests. argv: address JSON, authkey, scenario. Prints one JSON
# line per check; exits non-zero when an assertion fails.
import gc
import json
import queue
import sys
from multiprocessing import AuthenticationError
from multiprocessing.managers import (
    BaseManager, DictProxy, IteratorProxy, RemoteError, dispatch,
)

raw = json.loads(sys.argv[1])
address = raw if isinstance(raw, str) else (raw["hostname"], raw["port"])
authkey = sys.argv[2].encode()
scenario = sys.argv[3]


class M(BaseManager):
    pass


M.register("Queue")
M.register("JoinableQueue")
M.register("dict", proxytype=DictProxy)
M.register("Iterator", proxytype=IteratorProxy, create_method=False)
M.register("Counter")


def out(**kw):
    print(json.dumps(kw), flush=True)


def objects(m):
    gc.collect()
    return m._number_of_objects()


if scenario == "types":
    m = M(address=address, authkey=authkey)
    m.connect()
    q = m.Queue()
    q.put({"job": 1, "scale": 1.0, "pair": (1, 2)})
    q.put_nowait("second")
    item = q.get(timeout=5)
    assert item == {"job": 1, "scale": 1.0, "pair": (1, 2)}, item
    assert isinstance(item["scale"], float) and isinstance(item["pair"], tuple)
    assert q.qsize() == 1 and q.get_nowait() == "second" and q.empty()
    try:
        q.get(timeout=0.05)
        raise AssertionError("no Empty")
    except queue.Empty:
        pass
    try:
        q.get(block=False)
        raise AssertionError("no Empty")
    except queue.Empty:
        pass
    bounded = m.Queue(1)
    bounded.put(1)
    assert bounded.full()
    try:
        bounded.put(2, timeout=0.05)
        raise AssertionError("no Full")
    except queue.Full:
        pass
    jq = m.JoinableQueue()
    jq.put("task")
    jq.get()
    jq.task_done()
    jq.join()
    out(queue="ok")

    d = m.dict({"a": 1})
    d["b"] = [1, 2.5]
    d[(1, 2)] = "tuple key"
    assert d["a"] == 1 and d.get("b") == [1, 2.5] and d.get("zz", 0) == 0
    assert len(d) == 3 and "a" in d and (1, 2) in d
    assert list(d.keys()) == ["a", "b", (1, 2)], d.keys()
    assert dict(d.items())["b"] == [1, 2.5]
    assert sorted(map(str, iter(d))) == ["(1, 2)", "a", "b"]
    d.update({"c": 3}, e=5)
    assert d.pop("e") == 5 and d.pop("e", "dflt") == "dflt"
    assert d.setdefault("n", 0) == 0
    del d["n"]
    try:
        d["missing"]
        raise AssertionError("no KeyError")
    except KeyError as e:
        assert e.args == ("missing",), e.args
    assert d.copy() == {"a": 1, "b": [1, 2.5], (1, 2): "tuple key", "c": 3}
    assert d._getvalue() == d.copy()
    assert "ManagerDict" in str(d)
    out(dict="ok")

    c = m.Counter(10)
    assert c.increment() == 11 and c.increment(by=5) == 16
    assert c.value() == 16
    try:
        c.fail("boom from Python")
        raise AssertionError("no RemoteError")
    except RemoteError as e:
        assert "Error: boom from Python" in str(e), str(e)
    try:
        c.reject(-1)
        raise AssertionError("no ValueError")
    except ValueError as e:
        assert e.args == ("negative: -1",), e.args
    try:
        c.hidden()
        raise AssertionError("hidden is not exposed")
    except AttributeError:
        pass
    try:
        m.Counter(bogus=1)
        raise AssertionError("no RemoteError")
    except RemoteError as e:
        assert "TypeError" in str(e), str(e)
    out(counter="ok")

    try:
        M.register("Nope")
        m.Nope()
        raise AssertionError("no RemoteError")
    except RemoteError as e:
        assert "KeyError: 'Nope'" in str(e), str(e)
    out(objects=objects(m))
    del q, bounded, jq, d, c
    out(objects=objects(m))

elif scenario == "worker":
    # A worker: takes jobs until it gets None, answers on "results".
    m = M(address=address, authkey=authkey)
    m.connect()
    from multiprocessing.managers import Token, AutoProxy
    jobs = AutoProxy(Token("Queue", address, sys.argv[4]), "pickle",
                     manager=m, authkey=authkey)
    results = AutoProxy(Token("Queue", address, sys.argv[5]), "pickle",
                        manager=m, authkey=authkey)
    out(ready=True)
    while True:
        job = jobs.get()
        if job is None:
            break
        results.put({"id": job["id"], "square": job["n"] ** 2})
    out(done=True)

elif scenario == "block":
    # Blocks in get() on an existing queue (the test kills it).
    m = M(address=address, authkey=authkey)
    m.connect()
    from multiprocessing.managers import Token, AutoProxy
    q = AutoProxy(Token("Queue", address, sys.argv[4]), "pickle",
                  manager=m, authkey=authkey)
    out(blocking=True)
    out(got=q.get())

elif scenario == "wrongkey":
    m = M(address=address, authkey=b"not the key")
    try:
        m.connect()
        out(result="connected")
    except AuthenticationError as e:
        out(result="AuthenticationError")

elif scenario == "shutdown":
    m = M(address=address, authkey=authkey)
    m.connect()
    conn = m._Client(address, authkey=authkey)
    dispatch(conn, None, "shutdown")
    conn.close()
    out(shutdown="sent")
