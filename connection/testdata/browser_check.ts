// Copyright 2026 the @sidecar/ipc authors. MIT license.
// This module is browser compatible.
/**
 * The round-trip check of `@sidecar/ipc/connection/pickle` that
 * `tools/browser_codecs_test.ts` bundles for the browser and runs in Node
 * and in headless Chromium, on the pickles CPython made
 * (`pickle-vectors.json`, protocols 2 to 5): each decodes to the value
 * CPython pickled, pickles back to CPython's bytes (all but the two whose
 * shared `str` JavaScript cannot express), also as `dumpsChunks()`, and
 * fails with a typed `"truncated"` error when cut short.
 *
 * @module
 */
import vectors from "./pickle-vectors.json" with { type: "json" };
import {
  ByteArray,
  dumps,
  dumpsChunks,
  FrozenSet,
  loads,
  PyDict,
  PyFloat,
  Tuple,
  UnpicklingError,
} from "@sidecar/ipc/connection/pickle";
import { canonicalJson, expectEqual } from "../../_test_utils/codec_check.ts";
import { fromHex, toHex } from "../../_test_utils/hex.ts";
import { concatBytes } from "../../_internal/bytes.ts";
import {
  normalizeTagged,
  type Tagged,
  toTagged,
} from "../../_test_utils/connection/pickle_tagged.ts";

interface Vector {
  name: string;
  protocol: 2 | 3 | 4 | 5;
  hex: string;
  expected: Tagged;
}

/** One str object referenced twice: JavaScript strings have no identity. */
const NOT_LOSS_FREE = new Set(["shared_str_twice_p3", "shared_str_twice_p5"]);

const EXACT = { floats: "wrap", dicts: "map" } as const;

function truncatedReason(bytes: Uint8Array): string {
  try {
    loads(bytes);
  } catch (e) {
    if (e instanceof UnpicklingError) return e.reason;
    throw e;
  }
  return "decoded";
}

/** Runs the check; throws on the first mismatch. */
export function check(): string {
  const list = vectors as Vector[];
  let same = 0;
  for (const v of list) {
    const bytes = fromHex(v.hex);
    const value = loads(bytes, EXACT);
    const expected = canonicalJson(normalizeTagged(v.expected));
    expectEqual(canonicalJson(toTagged(value)), expected, `${v.name}: value`);
    loads(bytes); // the default (natural) representation decodes too
    const again = dumps(value, { protocol: v.protocol });
    if (NOT_LOSS_FREE.has(v.name)) {
      expectEqual(toHex(again) === v.hex, false, `${v.name}: differs`);
    } else {
      expectEqual(toHex(again), v.hex, `${v.name}: pickled again`);
      same++;
    }
    expectEqual(
      canonicalJson(toTagged(loads(again, EXACT))),
      expected,
      `${v.name}: our pickle decoded`,
    );
    expectEqual(
      toHex(concatBytes(dumpsChunks(value, { protocol: v.protocol }))),
      toHex(again),
      `${v.name}: dumpsChunks()`,
    );
    for (const cut of new Set([bytes.length - 1, bytes.length >> 1, 1])) {
      expectEqual(
        truncatedReason(bytes.subarray(0, cut)),
        "truncated",
        `${v.name} cut to ${cut} bytes`,
      );
    }
  }
  // The value types, by their classes.
  const byName = new Map(list.map((v) => [v.name, fromHex(v.hex)]));
  const get = (name: string): Uint8Array => {
    const b = byName.get(name);
    if (b === undefined) throw new Error(`Missing vector ${name}`);
    return b;
  };
  expectEqual(loads(get("int_2p64_p4")), 2n ** 64n, "int_2p64_p4");
  expectEqual(loads(get("str_surrogate_p5")), "\ud800", "str_surrogate_p5");
  expectEqual(loads(get("float_neg0_p4")), -0, "float_neg0_p4");
  expectEqual(
    loads(get("float_1_5_p4"), EXACT) instanceof PyFloat,
    true,
    "floats: wrap gives a PyFloat",
  );
  expectEqual(
    loads(get("tuple_4_p4")) instanceof Tuple,
    true,
    "a tuple is a Tuple",
  );
  expectEqual(
    loads(get("bytearray_xyz_p5")) instanceof ByteArray,
    true,
    "a bytearray is a ByteArray",
  );
  expectEqual(
    loads(get("frozenset_12_p4")) instanceof FrozenSet,
    true,
    "a frozenset is a FrozenSet",
  );
  const ints = loads(get("dict_int_keys_p5"));
  expectEqual(ints instanceof PyDict, true, "int keys give a PyDict");
  expectEqual((ints as PyDict).get(1), "one", "PyDict lookup by int");
  const shared = loads(get("shared_list_twice_p5")) as unknown[][];
  expectEqual(shared[0], shared[1], "a shared list stays shared");
  expectEqual(
    toHex(dumps(new Tuple(["#RETURN", { result: [1, 2.5, "ok"], id: 42 }]))),
    toHex(get("mp_style_message_p4")),
    "a multiprocessing reply pickles as CPython's",
  );
  return `${list.length} CPython pickles (protocols 2-5) decode to CPython's values, ${same} pickle back byte for byte, all fail typed when cut`;
}
