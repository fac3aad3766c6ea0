// Copyright 2026 the @sidecar/ipc authors. MIT license.
import assert from "node:assert/strict";
import fc from "fast-check";
import {
  decodeReply,
  encodeReply,
  encodeRequest,
  isBuiltToken,
  lastException,
  managerLoadsOptions,
  parseReply,
  parseRequest,
  type ProxyClassRef,
} from "./_manager_protocol.ts";
import {
  dumps,
  loads,
  ManagerError,
  ManagerProtocolError,
  PyDict,
  PyException,
  Token,
  Tuple,
} from "./mod.ts";
import { fromHex, toHex } from "../_test_utils/hex.ts";

const V: Record<string, string> = JSON.parse(
  await Deno.readTextFile(
    new URL("./testdata/manager-vectors.json", import.meta.url),
  ),
);

interface Rebuilt {
  token: Token;
  exposed: readonly string[] | undefined;
  cls: ProxyClassRef;
}

function decoder(): {
  options: ReturnType<typeof managerLoadsOptions>;
  rebuilt: Rebuilt[];
} {
  const rebuilt: Rebuilt[] = [];
  const options = managerLoadsOptions({}, (token, exposed, cls) => {
    const r = { token, exposed, cls };
    rebuilt.push(r);
    return r;
  });
  return { options, rebuilt };
}

Deno.test("encodeRequest() writes CPython's bytes for a request", () => {
  assert.equal(toHex(encodeRequest("7f00", "get", ["k", null])), V.request);
  assert.equal(toHex(encodeRequest(null, "create", ["dict"])), V.create);
  assert.throws(
    () => encodeRequest("1", "put", [() => {}]),
    (e) => e instanceof ManagerError && e.code === "UNPICKLABLE",
  );
});

Deno.test("parseRequest() accepts CPython's requests and refuses other shapes", () => {
  assert.deepEqual(parseRequest(loads(fromHex(V.request!))), {
    id: "7f00",
    method: "get",
    args: ["k", null],
    kwargs: {},
  });
  assert.deepEqual(parseRequest(loads(fromHex(V.create!), { dicts: "map" })), {
    id: null,
    method: "create",
    args: ["dict"],
    kwargs: {},
  });
  const bad = [
    42,
    new Tuple([null, "m", new Tuple([])]),
    new Tuple([1, "m", new Tuple([]), {}]),
    new Tuple([null, 3, new Tuple([]), {}]),
    new Tuple([null, "m", "args", {}]),
    new Tuple([null, "m", new Tuple([]), new PyDict([[1, 2]])]),
    new Tuple([null, "m", new Tuple([]), []]),
  ];
  for (const value of bad) {
    assert.throws(() => parseRequest(value), ManagerProtocolError);
  }
});

Deno.test("decodeReply() reads a #PROXY token built by NEWOBJ and BUILD", () => {
  const r = decodeReply(fromHex(V.proxy!), decoder().options);
  assert.equal(r.kind, "#PROXY");
  if (r.kind !== "#PROXY") return;
  assert.deepEqual(r.exposed, ["__next__", "send", "throw", "close"]);
  assert.ok(isBuiltToken(r.token));
  assert.equal(r.token.typeid, "Iterator");
  assert.deepEqual(r.token.address, { hostname: "127.0.0.1", port: 40000 });
  assert.equal(r.token.id, "7f1");
});

Deno.test("decodeReply() hands each RebuildProxy to the hook, never building a proxy class", () => {
  const { options, rebuilt } = decoder();
  const r = decodeReply(fromHex(V.rebuild!), options);
  assert.equal(r.kind, "#RETURN");
  assert.equal(rebuilt.length, 2);
  if (r.kind !== "#RETURN") return;
  assert.deepEqual(r.value, rebuilt);
  const [dict, queue] = rebuilt;
  assert.equal(dict!.cls.name, "DictProxy");
  assert.equal(dict!.token.typeid, "dict");
  // DictProxy's exposed come from CPython's class; AutoProxy's from kwds.
  assert.ok(dict!.exposed?.includes("__getitem__"));
  assert.equal(queue!.cls.name, "AutoProxy");
  assert.deepEqual(queue!.exposed, ["get", "put"]);
  // Without a hook (the server), RebuildProxy is refused.
  assert.throws(
    () => decodeReply(fromHex(V.rebuild!), managerLoadsOptions({}, undefined)),
    ManagerProtocolError,
  );
});

Deno.test("decodeReply() turns exceptions into inert PyException records", () => {
  const opts = decoder().options;
  const k = decodeReply(fromHex(V.keyerror!), opts);
  assert.ok(k.kind === "#ERROR" && k.error instanceof PyException);
  assert.equal(k.error.qualname, "KeyError");
  assert.deepEqual(k.error.args, ["k"]);
  const e = decodeReply(fromHex(V.empty!), opts);
  assert.ok(e.kind === "#ERROR");
  assert.equal(`${e.error.module}.${e.error.qualname}`, "_queue.Empty");
  const n = decodeReply(fromHex(V.noted!), opts);
  assert.ok(n.kind === "#ERROR");
  assert.deepEqual(n.error.state, { __notes__: ["note"] });
  const t = decodeReply(fromHex(V.traceback!), opts);
  assert.ok(t.kind === "#TRACEBACK");
  assert.deepEqual(lastException(t.text), ["KeyError", "'nope'"]);
});

Deno.test("decodeReply() reads dict views and arrays as a manager's pickler writes them", () => {
  const opts = decoder().options;
  const items = decodeReply(fromHex(V.items!), opts);
  assert.ok(items.kind === "#RETURN");
  assert.deepEqual(items.value, [
    new Tuple(["a", 1]),
    new Tuple([new Tuple([1, 2]), "t"]),
  ]);
  const arr = decodeReply(fromHex(V.array!), opts);
  assert.ok(arr.kind === "#RETURN");
  assert.deepEqual(arr.value, [1, -2, 3]);
});

Deno.test("decodeReply() refuses code, other classes and bad tokens, for the right reason", () => {
  const opts = decoder().options;
  // [vector, what the error (or its cause) says]
  const cases: [string, RegExp][] = [
    [
      "hostile_evil_system",
      /global 'posix\.system' is not allowed.*STACK_GLOBAL/,
    ],
    // Named like an exception, but pickled with NEWOBJ + BUILD: refused.
    [
      "hostile_newobj_error_named",
      /NEWOBJ of 'mymod\.BadError' is not allowed/,
    ],
    ["hostile_token_built_twice", /BUILD failed/],
    ["hostile_token_bad_address", /BUILD failed/],
    ["hostile_token_unbuilt_in_proxy", /#PROXY is not \(exposed, Token\)/],
    ["hostile_list_of_str", /REDUCE of 'builtins\.list' failed/],
  ];
  for (const [name, why] of cases) {
    assert.throws(
      () => decodeReply(fromHex(V[name]!), opts),
      (e) => e instanceof ManagerProtocolError && why.test(e.message),
      name,
    );
  }
  let exists = true;
  try {
    Deno.statSync("/tmp/pwned-by-manager");
  } catch {
    exists = false;
  }
  assert.equal(exists, false);
});

Deno.test("a RebuildProxy whose token names another manager reaches the hook, which may refuse it", () => {
  const refuse = managerLoadsOptions({}, (token) => {
    if (typeof token.address === "object" && token.address.port !== 40000) {
      throw new TypeError("another manager");
    }
    return token;
  });
  assert.throws(
    () => decodeReply(fromHex(V.rebuild_foreign!), refuse),
    (e) =>
      e instanceof ManagerProtocolError &&
      /RebuildProxy.*failed/.test(e.message),
  );
});

Deno.test("parseReply() refuses every wrong shape with a typed error", () => {
  const token = loads(dumps(new Token("x", "/p", "1")), decoder().options);
  assert.ok(isBuiltToken(token));
  const bad = [
    42,
    new Tuple(["#RETURN"]),
    new Tuple(["#RETURN", 1, 2]),
    new Tuple(["#WHAT", 1]),
    new Tuple([7, 1]),
    new Tuple(["#TRACEBACK", 5]),
    new Tuple(["#UNSERIALIZABLE", null]),
    new Tuple(["#ERROR", "not an exception"]),
    new Tuple(["#PROXY", "x"]),
    new Tuple(["#PROXY", new Tuple([new Tuple([1]), token])]),
    new Tuple([
      "#PROXY",
      new Tuple([new Tuple(["m"]), new Token("x", "/p", "1")]),
    ]),
  ];
  for (const value of bad) {
    assert.throws(() => parseReply(value), ManagerProtocolError);
  }
  assert.deepEqual(parseReply(new Tuple(["#RETURN", null])), {
    kind: "#RETURN",
    value: null,
  });
});

Deno.test("encodeReply() sends an unpicklable result as #UNSERIALIZABLE", () => {
  const r = loads(encodeReply("#RETURN", { f: Symbol("x") })) as Tuple;
  assert.equal(r.items[0], "#UNSERIALIZABLE");
  assert.match(String(r.items[1]), /TypeError: Cannot pickle value/);
});

Deno.test("lastException() names the exception of a traceback's last line", () => {
  assert.deepEqual(lastException("x\nValueError: bad\n"), [
    "ValueError",
    "bad",
  ]);
  assert.deepEqual(lastException("queue.Empty"), ["queue.Empty", ""]);
  assert.deepEqual(lastException("  not a name: x"), ["", "  not a name: x"]);
  assert.deepEqual(lastException(""), ["", ""]);
});

Deno.test("decodeReply() and parseRequest() fail only with typed errors on any input (fuzz)", () => {
  const opts = decoder().options;
  const vectors = Object.entries(V).filter(([k]) => k !== "_comment").map((
    [, hex],
  ) => fromHex(hex));
  fc.assert(
    fc.property(
      fc.constantFrom(...vectors),
      fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), {
        maxLength: 4,
      }),
      fc.nat(),
      (base, flips, cut) => {
        const bytes = base.slice(0, Math.max(1, base.length - (cut % 8)));
        for (const [i, b] of flips) bytes[i % bytes.length] = b;
        try {
          decodeReply(bytes, opts);
        } catch (e) {
          assert.ok(e instanceof ManagerProtocolError, String(e));
        }
        let value: unknown;
        try {
          value = loads(bytes, opts);
        } catch {
          return;
        }
        try {
          parseRequest(value);
        } catch (e) {
          assert.ok(e instanceof ManagerProtocolError, String(e));
        }
      },
    ),
    { numRuns: 3000 },
  );
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
      try {
        decodeReply(bytes, opts);
      } catch (e) {
        assert.ok(e instanceof ManagerProtocolError, String(e));
      }
    }),
    { numRuns: 2000 },
  );
});
