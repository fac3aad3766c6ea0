// Copyright 2026 the @sidecar/ipc authors. MIT license.
import assert from "node:assert/strict";
import {
  dumps,
  loads,
  type LoadsOptions,
  type PickleClass,
  pickleReduce,
  PyGlobal,
  PyReduce,
  Tuple,
  UnpicklingError,
} from "./mod.ts";
import { fromHex, toHex } from "../_test_utils/hex.ts";
import { findPython, peerTest } from "../_test_utils/peers.ts";

// Made by CPython 3.11.7 (the same from 3.8 to 3.13):
// pickle.dumps(Token('dict', ('127.0.0.1', 5000), '7f00aa'), protocol).
const TOKEN_P4 = "8004954d000000000000008c186d756c746970726f63657373696e672e" +
  "6d616e6167657273948c05546f6b656e9493942981948c0464696374948c093132372e30" +
  "2e302e31944d881386948c06376630306161948794622e";
// pickle.dumps([t, t], 4): the second is a BINGET of the first.
const TOKEN_TWICE_P4 = "80049553000000000000005d94288c186d756c746970726f6365" +
  "7373696e672e6d616e6167657273948c05546f6b656e9493942981948c0464696374948c" +
  "093132372e302e302e31944d881386948c06376630306161948794626804652e";
const TOKEN_P2 =
  "8002636d756c746970726f63657373696e672e6d616e61676572730a546f6b" +
  "656e0a710029817101580400000064696374710258090000003132372e302e302e317103" +
  "4d881386710458060000003766303061617105877106622e";
// pickle.dumps(slice(1, 3), 4)
const SLICE_P4 =
  "8004951f000000000000008c086275696c74696e73948c05736c69636594" +
  "93944b014b034e879452942e";
// e = ValueError('x'); e.add_note('note'); pickle.dumps(e, 4)
const NOTED_ERROR_P4 =
  "8004953d000000000000008c086275696c74696e73948c0a56616c" +
  "75654572726f729493948c017894859452947d948c095f5f6e6f7465735f5f945d948c04" +
  "6e6f7465946173622e";

const TOKEN = new PyGlobal("multiprocessing.managers", "Token");

function pyToken(typeid: string, address: unknown, id: string): PyReduce {
  return new PyReduce(TOKEN, new Tuple([]), {
    newobj: true,
    state: new Tuple([typeid, address, id]),
  });
}

class FakeToken {
  state: unknown = undefined;
}

const tokenClass: PickleClass = {
  create: (args) => {
    assert.deepEqual(args, []);
    return new FakeToken();
  },
  build: (obj, state) => {
    (obj as FakeToken).state = state;
  },
};

const allowToken: LoadsOptions = {
  reconstruct: (module, name) =>
    module === "multiprocessing.managers" && name === "Token"
      ? tokenClass
      : undefined,
};

function expectRefused(bytes: Uint8Array, opcode: string, options = {}): void {
  assert.throws(
    () => loads(bytes, options),
    (e) =>
      e instanceof UnpicklingError && e.reason === "refused" &&
      e.opcode === opcode,
  );
}

Deno.test("dumps() writes a PyReduce with NEWOBJ and BUILD as CPython pickles a Token", () => {
  const t = pyToken("dict", new Tuple(["127.0.0.1", 5000]), "7f00aa");
  assert.equal(toHex(dumps(t)), TOKEN_P4);
  assert.equal(toHex(dumps(t, { protocol: 2 })), TOKEN_P2);
  // The same object twice is memoized, as in CPython.
  assert.equal(toHex(dumps([t, t])), TOKEN_TWICE_P4);
});

Deno.test("dumps() writes a REDUCE PyReduce and a [pickleReduce]() object as CPython does", () => {
  const slice = new PyReduce(
    new PyGlobal("builtins", "slice"),
    new Tuple([1, 3, null]),
  );
  assert.equal(toHex(dumps(slice)), SLICE_P4);
  class Slice {
    calls = 0;
    [pickleReduce](): PyReduce {
      this.calls++;
      return slice;
    }
  }
  const s = new Slice();
  assert.equal(toHex(dumps(s)), SLICE_P4);
  // Twice in one pickle: reduced once, then fetched from the memo.
  const twice = dumps([s, s]);
  assert.equal(s.calls, 2);
  assert.equal(twice.at(-4), 0x68); // BINGET
});

Deno.test("dumps() refuses a [pickleReduce]() that returns no PyReduce, and bad PyReduce args", () => {
  class Bad {
    [pickleReduce](): unknown {
      return { not: "a reduce" };
    }
  }
  assert.throws(() => dumps(new Bad()), TypeError);
  // A plain object is a dict: its symbol keys are not looked at.
  assert.deepEqual(loads(dumps({ [pickleReduce]: () => null })), {});
  assert.throws(
    () => new PyReduce(TOKEN, [] as unknown as Tuple),
    TypeError,
  );
  assert.throws(
    () => new PyReduce({} as PyGlobal, new Tuple([])),
    TypeError,
  );
  assert.throws(() => new PyGlobal(1 as unknown as string, "x"), TypeError);
});

Deno.test("loads() refuses a Token without reconstruct, and builds it with it", () => {
  for (const hex of [TOKEN_P4, TOKEN_P2]) {
    const bytes = fromHex(hex);
    // Without the hook: the global itself is refused.
    expectRefused(bytes, hex === TOKEN_P4 ? "STACK_GLOBAL" : "GLOBAL");
    const t = loads(bytes, allowToken);
    assert.ok(t instanceof FakeToken);
    assert.deepEqual(
      t.state,
      new Tuple(["dict", new Tuple(["127.0.0.1", 5000]), "7f00aa"]),
    );
  }
  const both = loads(fromHex(TOKEN_TWICE_P4), allowToken) as FakeToken[];
  assert.equal(both.length, 2);
  assert.equal(both[0], both[1]);
});

Deno.test("loads() allows NEWOBJ and BUILD only where the hook says so", () => {
  const bytes = fromHex(TOKEN_P4);
  // A class with call only: NEWOBJ is refused.
  expectRefused(bytes, "NEWOBJ", {
    reconstruct: () => ({ call: () => ({}) }),
  });
  // A class without build: BUILD is refused.
  expectRefused(bytes, "BUILD", {
    reconstruct: () => ({ create: () => ({}) }),
  });
  // BUILD on an object no allowed class made (a list) stays refused.
  expectRefused(fromHex("80025d4e622e"), "BUILD", allowToken);
  // x.y.__new__() made an object, but BUILD's target is a plain dict.
  expectRefused(
    fromHex("80048c0178948c017994932981" + "7d7d622e"),
    "BUILD",
    { reconstruct: () => ({ create: () => ({}), build: () => {} }) },
  );
  // NEWOBJ on a non-global is refused even with a hook.
  expectRefused(fromHex("80024e29812e"), "NEWOBJ", allowToken);
  // NEWOBJ_EX stays refused.
  expectRefused(
    fromHex(
      "80048c186d756c746970726f63657373696e672e6d616e6167657273948c05546f6b656e949394297d922e",
    ),
    "NEWOBJ_EX",
    allowToken,
  );
});

Deno.test("loads() reports a failing or misbehaving hook as invalid, with the cause", () => {
  const boom = new Error("boom");
  const cases: PickleClass[] = [
    {
      create: () => {
        throw boom;
      },
    },
    { create: () => 42 as unknown as object },
    {
      create: () => ({}),
      build: () => {
        throw boom;
      },
    },
  ];
  for (const cls of cases) {
    assert.throws(
      () => loads(fromHex(TOKEN_P4), { reconstruct: () => cls }),
      (e) => e instanceof UnpicklingError && e.reason === "invalid",
    );
  }
  assert.throws(
    () =>
      loads(fromHex(TOKEN_P4), {
        reconstruct: () => {
          throw boom;
        },
      }),
    (e) =>
      e instanceof UnpicklingError && e.reason === "invalid" &&
      e.cause === boom,
  );
});

Deno.test("loads() decodes a global with a value as that value, never callable", () => {
  // (builtins.slice, 1): the class as data inside a tuple.
  const asData = fromHex(
    "80048c086275696c74696e73948c05736c69636594939" +
      "44b018694" + "2e",
  );
  const marker = { slice: true };
  const value = loads(asData, {
    reconstruct: (m, n) =>
      m === "builtins" && n === "slice" ? { value: marker } : undefined,
  }) as Tuple;
  assert.ok(value instanceof Tuple);
  assert.equal(value.items[0], marker);
  // The same global called by REDUCE is refused: a value is not callable.
  expectRefused(fromHex(SLICE_P4), "REDUCE", {
    reconstruct: () => ({ value: marker }),
  });
});

Deno.test("loads() calls a class's call for REDUCE and lets its build set the state", () => {
  class Exc {
    state: unknown;
    constructor(readonly type: string, readonly args: unknown[]) {}
  }
  const value = loads(fromHex(NOTED_ERROR_P4), {
    reconstruct: (m, n) => ({
      call: (args) => new Exc(`${m}.${n}`, args),
      build: (obj, state) => {
        (obj as Exc).state = state;
      },
    }),
  });
  assert.ok(value instanceof Exc);
  assert.equal(value.type, "builtins.ValueError");
  assert.deepEqual(value.args, ["x"]);
  assert.deepEqual(value.state, { __notes__: ["note"] });
  // Without the hook, the exception global is refused.
  expectRefused(fromHex(NOTED_ERROR_P4), "STACK_GLOBAL");
});

peerTest(
  "CPython loads our Token and slice pickles to equal objects",
  findPython("3.11"),
  "python3.11",
  async (py) => {
    const t = pyToken("Queue", "/tmp/x.sock", "abc");
    const slice = new PyReduce(
      new PyGlobal("builtins", "slice"),
      new Tuple([1, null, 2]),
    );
    const script = [
      "import pickle, sys",
      "from multiprocessing.managers import Token",
      "t, s = pickle.loads(bytes.fromhex(sys.argv[1]))",
      "assert isinstance(t, Token), t",
      "print(t.typeid, t.address, t.id, s == slice(1, None, 2))",
    ].join("\n");
    const out = await new Deno.Command(py.path, {
      args: ["-c", script, toHex(dumps(new Tuple([t, slice])))],
      stdout: "piped",
    }).output();
    assert.ok(out.success);
    assert.equal(
      new TextDecoder().decode(out.stdout).trim(),
      "Queue /tmp/x.sock abc True",
    );
  },
);
