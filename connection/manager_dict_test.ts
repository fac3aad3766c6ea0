// Copyright 2026 the @sidecar/ipc authors. MIT license.
import assert from "node:assert/strict";
import {
  ManagerDict,
  ManagerIterator,
  PyDict,
  PyException,
  PyFloat,
  Tuple,
} from "./mod.ts";

function isPy(type: string): (e: unknown) => boolean {
  return (e) => e instanceof PyException && e.qualname === type;
}

Deno.test("ManagerDict: Python key equality, item access and KeyError", () => {
  const d = new ManagerDict({ a: 1 });
  d.__setitem__(1, "int");
  d.__setitem__(new PyFloat(1), "float one"); // 1.0 == 1 in Python
  d.__setitem__(new Tuple([1, 2]), "pair");
  assert.equal(d.__len__(), 3);
  assert.equal(d.__getitem__(1), "float one");
  assert.equal(d.get(new Tuple([1, 2])), "pair");
  assert.ok(d.__contains__(true)); // True == 1 too
  assert.throws(() => d.__getitem__("zz"), isPy("KeyError"));
  assert.throws(() => d.__delitem__("zz"), isPy("KeyError"));
  assert.throws(() => d.__setitem__([1], "list key"), isPy("TypeError"));
  d.__delitem__(1);
  assert.equal(d.get(1, "gone"), "gone");
});

Deno.test("ManagerDict: keys, values, items, pop, popitem, setdefault, update, copy", () => {
  const d = new ManagerDict(new PyDict([["x", 1]]), { y: 2 });
  assert.deepEqual(d.keys(), ["x", "y"]);
  assert.deepEqual(d.values(), [1, 2]);
  assert.deepEqual(d.items(), [new Tuple(["x", 1]), new Tuple(["y", 2])]);
  d.update([new Tuple(["z", 3]), ["w", 4]]);
  d.update(new Map([["v", 5]]));
  assert.throws(() => d.update([[1, 2, 3]]), isPy("ValueError"));
  assert.throws(() => d.update(7), isPy("TypeError"));
  assert.equal(d.pop("w"), 4);
  assert.equal(d.pop("w", "dflt"), "dflt");
  assert.throws(() => d.pop("w"), isPy("KeyError"));
  assert.deepEqual(d.popitem(), new Tuple(["v", 5]));
  assert.equal(d.setdefault("n"), null);
  assert.equal(d.setdefault("n", 1), null);
  const copy = d.copy();
  assert.ok(copy instanceof PyDict);
  copy.set("only in copy", 1);
  assert.equal(d.__contains__("only in copy"), false);
  assert.equal(d.valueOf().get("x"), 1);
  d.clear();
  assert.throws(() => d.popitem(), isPy("KeyError"));
  assert.equal(String(d), "<ManagerDict of 0 keys>");
});

Deno.test("ManagerDict: __iter__ iterates a snapshot of the keys", () => {
  const d = new ManagerDict({ a: 1, b: 2 });
  const it = d.__iter__();
  assert.ok(it instanceof ManagerIterator);
  d.__setitem__("c", 3);
  assert.equal(it.__next__(), "a");
  assert.equal(it.__next__(), "b");
  assert.throws(() => it.__next__(), isPy("StopIteration"));
  assert.throws(() => it.__next__(), isPy("StopIteration"));
  const it2 = d.__iter__();
  it2.close();
  assert.throws(() => it2.__next__(), isPy("StopIteration"));
  assert.deepEqual(ManagerDict.methodToTypeid, { __iter__: "Iterator" });
});
