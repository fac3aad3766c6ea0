// Copyright 2026 the @sidecar/ipc authors. MIT license.
// This module is browser compatible.
/**
 * A safe pickle codec for the values Python programs exchange over
 * `multiprocessing.connection` (`conn.send(obj)` / `conn.recv()`).
 *
 * `loads()` decodes protocols 0-5 as CPython writes them for `None`, `bool`,
 * `int`, `float`, `str`, `bytes`, `bytearray`, `list`, `tuple`, `dict`, `set`
 * and `frozenset`, including shared and recursive references. It never runs
 * code: opcodes that would call code in Python (`GLOBAL`, `REDUCE`, `BUILD`,
 * `NEWOBJ`, ...) are refused with an {@linkcode UnpicklingError}, except the
 * few built-in globals that plain data needs at older protocols, checked by
 * the shape of their arguments.
 *
 * `dumps()` writes protocols 2-5 and produces the same bytes as CPython's C
 * pickler for the same value, up to object identity. JavaScript strings
 * have none: equal `str` keys of plain objects with at most 64 keys are
 * written once and then fetched from the memo (as CPython does for the
 * interned keys that dict literals and attributes share), every other
 * string is written each time. CPython loads the output to an equal value
 * either way. `dumpsChunks()` gives the same pickle as chunks, large
 * `bytes` payloads as views of the caller's buffer.
 *
 * | JavaScript | Python |
 * | --- | --- |
 * | `null` | `None` |
 * | `boolean` | `bool` |
 * | `number`, integer-valued (not `-0`) | `int` |
 * | other `number`, {@linkcode PyFloat} | `float` |
 * | `bigint` | `int` |
 * | `string` | `str` (lone surrogates kept, as Python's `surrogatepass`) |
 * | `Uint8Array` | `bytes` |
 * | {@linkcode ByteArray} | `bytearray` |
 * | `Array` | `list` |
 * | {@linkcode Tuple} | `tuple` |
 * | plain object | `dict` with `str` keys |
 * | `Map`, {@linkcode PyDict} | `dict` with any keys |
 * | `Set` | `set` |
 * | {@linkcode FrozenSet} | `frozenset` |
 *
 * Decoding maps back the same way: `int` gives a `number` when it is a safe
 * integer and a `bigint` otherwise; `float` gives a `number` (or a
 * `PyFloat` with `floats: "wrap"`); `bytes` gives a `Uint8Array` (a view of
 * the input from 64 KiB up, see `bytesViewThreshold`); a `dict` gives a plain
 * object when all its keys are strings and a {@linkcode PyDict} otherwise
 * (or always a `PyDict` with `dicts: "map"`). Plain objects order
 * integer-like keys (`"1"`) first, as JavaScript does; use `dicts: "map"` to
 * keep Python's order for such keys. Shared and recursive references come
 * back as shared and recursive JavaScript objects.
 *
 * Safety: the only globals `loads()` accepts are `builtins.set`,
 * `builtins.frozenset`, `builtins.bytearray`, `builtins.bytes` (also spelt
 * `__builtin__`) and `_codecs.encode` with `'latin1'`, and only when
 * `REDUCE` calls them with plain-data arguments; `resolveGlobal` can allow
 * more. Input size, nesting depth, memo size and container length are
 * limited (see {@linkcode LoadsOptions}), checked before anything is
 * allocated; a declared length beyond the input is a `"truncated"` error.
 *
 * This is the entry point `@sidecar/ipc/connection/pickle`, for any
 * JavaScript runtime (browsers, Node, Deno, Bun, workers): nothing here
 * imports a `node:` module or uses a `Deno` API, directly or through its
 * imports. A CI test bundles it for the browser and round-trips CPython's
 * own pickles with it in Node 20 and in headless Chromium. The same
 * exports are part of `@sidecar/ipc/connection`, whose connections,
 * listeners and managers need Deno 2.9.0 or later.
 *
 * @example Usage
 * ```ts
 * import { dumps, loads, PyDict, Tuple } from "@sidecar/ipc/connection/pickle";
 * import assert from "node:assert/strict";
 *
 * const bytes = dumps(new Tuple(["#RETURN", { result: [1, 2.5, "ok"] }]));
 * const [kind, payload] = loads(bytes) as Tuple<[string, unknown]>;
 * assert.equal(kind, "#RETURN");
 * assert.deepEqual(payload, { result: [1, 2.5, "ok"] });
 *
 * // A dict with int keys comes back as a PyDict.
 * const d = loads(dumps(new Map([[1, "one"]]))) as PyDict<number, string>;
 * assert.equal(d.get(1), "one");
 * ```
 *
 * @module
 */

import { decodePickle, type GlobalFunction } from "./_pickle_decoder.ts";
import {
  encodePickle,
  encodePickleChunks,
  encodePickleInto,
  type EncoderSettings,
} from "./_pickle_encoder.ts";
import type { MessageCodec } from "./codec.ts";
import type { PickleClass } from "./pickle_reduce.ts";

export * from "./pickle_types.ts";
export * from "./pickle_dict.ts";
export * from "./pickle_reduce.ts";
export type { MessageCodec } from "./codec.ts";

/** Options of {@linkcode dumps}. */
export interface DumpsOptions {
  /**
   * Pickle protocol, 2 to 5. Python 3.8-3.13 send 4; 3.14 sends 5.
   *
   * @default {4}
   */
  protocol?: 2 | 3 | 4 | 5;
  /**
   * Maximum nesting depth of containers; deeper values throw a `RangeError`.
   *
   * @default {1000}
   */
  maxDepth?: number;
}

/**
 * A caller-supplied global: called by `REDUCE` with the argument tuple's
 * items; its return value becomes the decoded object.
 */
export type PickleGlobal = GlobalFunction;

/** Options of {@linkcode loads}. */
export interface LoadsOptions {
  /**
   * Largest accepted input in bytes (the same as `Connection`'s default
   * `maxMessageSize`).
   *
   * @default {268435456}
   */
  maxBytes?: number;
  /**
   * Largest nesting depth of containers.
   *
   * @default {1000}
   */
  maxDepth?: number;
  /**
   * Largest memo index (Python's memo holds every shared object).
   *
   * @default {16777216}
   */
  maxMemo?: number;
  /**
   * Largest number of items in one list, tuple, dict, set or frozenset.
   *
   * @default {16777216}
   */
  maxContainerLength?: number;
  /**
   * How dicts decode: `"object"` gives a plain object when every key is a
   * string and a {@linkcode PyDict} otherwise; `"map"` always gives a
   * `PyDict`.
   *
   * @default {"object"}
   */
  dicts?: "object" | "map";
  /**
   * How floats decode: `"number"` gives a `number`; `"wrap"` gives a
   * {@linkcode PyFloat}, so that `1.0` stays a float when sent back.
   *
   * @default {"number"}
   */
  floats?: "number" | "wrap";
  /**
   * `bytes` values of at least this many bytes are views of the input (no
   * copy: a 1 MiB payload decodes in constant time); shorter ones are
   * copied, so that small values neither alias nor keep alive a large input
   * buffer. Views change when the input buffer is later modified: pass
   * `Infinity` to copy every value, `0` to copy none. `bytearray` values are
   * always copies.
   *
   * @default {65536}
   */
  bytesViewThreshold?: number;
  /**
   * Allows more globals than the built-in allow-list (`set`, `frozenset`,
   * `bytearray`, `bytes`, `_codecs.encode`). Called with the module and
   * name of each other global; return a function to allow it (`REDUCE`
   * calls it with the arguments) or `undefined` to refuse it. Opcodes other
   * than `REDUCE` that call code (`BUILD`, `NEWOBJ`, ...) stay refused.
   *
   * @default {undefined}
   */
  resolveGlobal?: (module: string, name: string) => PickleGlobal | undefined;
  /**
   * Allows `NEWOBJ` and `BUILD` (and more `REDUCE`s) for the classes it
   * names, and nothing else: called with the module and name of each
   * global that neither the built-in list nor `resolveGlobal` allows;
   * return a {@linkcode PickleClass} to allow it, or `undefined` to refuse
   * it. `BUILD` is allowed only on an object that such a class made. The
   * manager client and server use it for `Token` and `RebuildProxy`.
   *
   * @default {undefined}
   */
  reconstruct?: (module: string, name: string) => PickleClass | undefined;
}

/** Options of {@linkcode pickleCodec}: those of `dumps()` and `loads()`. */
export interface PickleCodecOptions extends DumpsOptions, LoadsOptions {}

/**
 * Pickles `value` the way CPython's `pickle.dumps(value, protocol)` does;
 * see the module documentation for the type mapping.
 *
 * @param value The value to pickle.
 * @param options The protocol and depth limit.
 * @returns The pickle bytes.
 * @throws {TypeError} For values with no Python equivalent (`undefined`,
 * functions, symbols, class instances other than the supported ones).
 * @throws {RangeError} For a bad protocol or nesting deeper than `maxDepth`.
 *
 * @example Usage
 * ```ts
 * import { dumps } from "@sidecar/ipc/connection";
 * import assert from "node:assert/strict";
 *
 * // The same bytes as Python's pickle.dumps(256) (protocol 4).
 * assert.deepEqual(
 *   dumps(256),
 *   new Uint8Array([0x80, 4, 0x95, 4, 0, 0, 0, 0, 0, 0, 0, 0x4d, 0, 1, 0x2e]),
 * );
 * ```
 */
export function dumps(
  value: unknown,
  options: DumpsOptions = {},
): Uint8Array<ArrayBuffer> {
  return encodePickle(value, encoderSettings(options));
}

function encoderSettings(options: DumpsOptions): EncoderSettings {
  const protocol = options.protocol ?? 4;
  if (protocol !== 2 && protocol !== 3 && protocol !== 4 && protocol !== 5) {
    throw new RangeError(
      `Cannot pickle value: protocol ${protocol} is not supported (use 2 to 5)`,
    );
  }
  return { protocol, maxDepth: options.maxDepth ?? 1000 };
}

/**
 * Pickles `value` into `target`, like {@linkcode dumps} but without
 * allocating the result: the bytes are the same, written at the start of
 * `target` (Python has no equivalent; think of `TextEncoder.encodeInto`).
 * Reusing one buffer avoids the cost of fresh memory for large pickles, as
 * `Connection.recvBytesInto()` does on the receiving side.
 *
 * @param value The value to pickle.
 * @param target Where to write the pickle.
 * @param options The protocol and depth limit.
 * @returns The number of bytes written.
 * @throws {RangeError} When `target` is too small (the message names the
 * size needed and `target` is unchanged), for a bad protocol, or for
 * nesting deeper than `maxDepth`.
 * @throws {TypeError} For values with no Python equivalent.
 *
 * @example Usage
 * ```ts
 * import { dumps, dumpsInto, loads } from "@sidecar/ipc/connection";
 * import assert from "node:assert/strict";
 *
 * const buffer = new Uint8Array(1024);
 * const n = dumpsInto({ id: 7, tags: ["a", "b"] }, buffer);
 * assert.deepEqual(buffer.subarray(0, n), dumps({ id: 7, tags: ["a", "b"] }));
 * assert.deepEqual(loads(buffer.subarray(0, n)), { id: 7, tags: ["a", "b"] });
 * assert.throws(() => dumpsInto("x".repeat(2000), buffer), RangeError);
 * ```
 */
export function dumpsInto(
  value: unknown,
  target: Uint8Array,
  options: DumpsOptions = {},
): number {
  return encodePickleInto(value, encoderSettings(options), target);
}

/**
 * Pickles `value` like {@linkcode dumps}, as a list of chunks whose
 * concatenation is exactly `dumps(value, options)`. A `bytes`
 * (`Uint8Array`) or `bytearray` payload of 64 KiB or more is returned as
 * the caller's own buffer (a view, not a copy): the header before it and
 * the tail after it are separate chunks. Write the chunks in order (for
 * example with a vectored write) to send a large payload without copying
 * it. The payload must not change until the chunks are written.
 *
 * @param value The value to pickle.
 * @param options Protocol and depth limit.
 * @returns The pickle's chunks, in order.
 * @throws {TypeError} For a value with no Python equivalent.
 * @throws {RangeError} For a value nested deeper than `maxDepth`.
 *
 * @example Usage
 * ```ts
 * import { dumps, dumpsChunks } from "@sidecar/ipc/connection";
 * import assert from "node:assert/strict";
 *
 * const payload = new Uint8Array(1 << 20);
 * const chunks = dumpsChunks(payload);
 * assert.equal(chunks.length, 3);
 * assert.equal(chunks[1], payload); // the payload itself, not a copy
 * const joined = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
 * let at = 0;
 * for (const c of chunks) {
 *   joined.set(c, at);
 *   at += c.length;
 * }
 * assert.deepEqual(joined, dumps(payload));
 * ```
 */
export function dumpsChunks(
  value: unknown,
  options: DumpsOptions = {},
): Uint8Array[] {
  return encodePickleChunks(value, encoderSettings(options));
}

/**
 * Unpickles `bytes` safely (nothing is executed); see the module
 * documentation for the type mapping.
 *
 * @param bytes One complete pickle (bytes after its STOP are ignored).
 * @param options Limits, representation choices and the global hook.
 * @returns The decoded value.
 * @throws {UnpicklingError} For truncated, malformed, refused or over-limit
 * input; `reason`, `opcode` and `offset` say which.
 *
 * @example Usage
 * ```ts
 * import { loads, Tuple } from "@sidecar/ipc/connection";
 * import assert from "node:assert/strict";
 *
 * // Python: pickle.dumps(('#RETURN', {'id': 42}))
 * const bytes = Uint8Array.from(
 *   atob("gASVFwAAAAAAAACMByNSRVRVUk6UfZSMAmlklEsqc4aULg=="),
 *   (c) => c.charCodeAt(0),
 * );
 * const value = loads(bytes);
 * assert.ok(value instanceof Tuple);
 * assert.deepEqual(value.items, ["#RETURN", { id: 42 }]);
 * ```
 */
export function loads(bytes: Uint8Array, options: LoadsOptions = {}): unknown {
  if (!(bytes instanceof Uint8Array)) {
    throw new TypeError("Cannot unpickle: input is not a Uint8Array");
  }
  return decodePickle(bytes, {
    maxBytes: options.maxBytes ?? 268435456,
    maxDepth: options.maxDepth ?? 1000,
    maxMemo: options.maxMemo ?? 16777216,
    maxContainerLength: options.maxContainerLength ?? 16777216,
    dicts: options.dicts ?? "object",
    floats: options.floats ?? "number",
    bytesViewThreshold: options.bytesViewThreshold ?? 65536,
    resolveGlobal: options.resolveGlobal,
    reconstruct: options.reconstruct,
  });
}

/**
 * The pickle codec for `Connection`: `encode` is {@linkcode dumps},
 * `encodeChunks` is {@linkcode dumpsChunks} (so `send()` writes a large
 * `bytes` payload without copying it) and `decode` is {@linkcode loads}
 * with the given options.
 *
 * @param options Protocol (default 4, as Python 3.8-3.13 send), limits,
 * representation choices and the global hook.
 * @returns A {@linkcode MessageCodec} with `encode` and `decode`.
 *
 * @example Usage
 * ```ts
 * import { pickleCodec } from "@sidecar/ipc/connection";
 * import assert from "node:assert/strict";
 *
 * const codec = pickleCodec({ protocol: 5 });
 * const bytes = codec.encode({ answer: [1, 2.5, "x"] });
 * assert.equal(bytes[1], 5);
 * assert.deepEqual(codec.decode(bytes), { answer: [1, 2.5, "x"] });
 * ```
 */
export function pickleCodec(
  options: PickleCodecOptions = {},
): MessageCodec<unknown> {
  const dumpOptions: DumpsOptions = {};
  if (options.protocol !== undefined) dumpOptions.protocol = options.protocol;
  if (options.maxDepth !== undefined) dumpOptions.maxDepth = options.maxDepth;
  dumps(null, dumpOptions); // validates the protocol now
  return {
    encode: (value: unknown): Uint8Array => dumps(value, dumpOptions),
    encodeChunks: (value: unknown): Uint8Array[] =>
      dumpsChunks(value, dumpOptions),
    decode: (bytes: Uint8Array): unknown => loads(bytes, options),
  };
}
