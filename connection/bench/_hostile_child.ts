// Copyright 2026 the @sidecar/ipc authors. MIT license.
/**
 * Runs one hostile shape once, in its own process, and prints one JSON
 * line: `{ ms, rssBefore, peakRss, outcome }` (bytes; `peakRss` is the
 * process's high-water mark, VmHWM). `outcome` is `"ok"` when the result is
 * exactly the expected value or error, else a description of what came
 * back. Used by hostile_scaling.ts and pickle_hostile_test.ts.
 *
 * Run: `deno run -A connection/bench/_hostile_child.ts <shape> <n>`
 *
 * @module
 */
import { dumps, loads, UnpicklingError } from "../pickle.ts";
import { decodeTlv, encodeTlv } from "../../dirty/mod.ts";
import {
  CborStreamDecoder,
  decodeCbor,
  decodeCborAll,
} from "../../framing/mod.ts";
import { decodeSessionHeader } from "../../session/mod.ts";
import * as P from "./_hostile_payloads.ts";

function peakRss(): number {
  const status = Deno.readTextFileSync("/proc/self/status");
  const m = /VmHWM:\s+(\d+) kB/.exec(status);
  return m ? Number(m[1]) * 1024 : Deno.memoryUsage().rss;
}

function expectError(fn: () => unknown, reason: string): string {
  try {
    fn();
    return "no error";
  } catch (e) {
    if (e instanceof UnpicklingError && e.reason === reason) return "ok";
    return `wrong error: ${e}`;
  }
}

interface Shape {
  /** Builds the input (not timed). */
  make(n: number): unknown;
  /** The timed work; returns "ok" or what went wrong. */
  run(input: unknown, n: number): string;
}

export const SHAPES: Record<string, Shape> = {
  "nested tuple keys": {
    make: (n) => P.nestedTupleKeys(n, 6),
    run: (input, n) => {
      const d = loads(input as Uint8Array) as Map<unknown, unknown>;
      return d.size === 6 && P.nestedKeyFound(d, n, 5) ? "ok" : "wrong value";
    },
  },
  "sparse memo re-keys": {
    make: (n) => P.sparseMemoRekeys(n),
    run: (input, n) => {
      const list = loads(input as Uint8Array) as Map<unknown, unknown>[];
      for (let i = 0; i < n; i++) {
        if (list[2 * i] !== list[2 * i + 1] || list[2 * i]!.get(1) !== null) {
          return "wrong value";
        }
      }
      return list.length === 2 * n ? "ok" : "wrong length";
    },
  },
  "FLOAT digits + x": {
    make: (n) => P.floatBacktrack(n),
    run: (input) => expectError(() => loads(input as Uint8Array), "invalid"),
  },
  "LONG4 bytes": {
    make: (n) => ({ bytes: P.long4(n), want: (1n << BigInt(8 * n - 1)) - 1n }),
    run: (input) => {
      const { bytes, want } = input as { bytes: Uint8Array; want: bigint };
      return loads(bytes) === want ? "ok" : "wrong value";
    },
  },
  "V ASCII chars": {
    make: (n) => P.unicodeLine(n),
    run: (input, n) => {
      const s = loads(input as Uint8Array) as string;
      return s.length === n && s === "a".repeat(n) ? "ok" : "wrong value";
    },
  },
  "V \\u20ac escapes": {
    make: (n) => P.unicodeEscapes(n),
    run: (input, n) => {
      const s = loads(input as Uint8Array) as string;
      return s === "\u20ac".repeat(n) ? "ok" : "wrong value";
    },
  },
  "LONG text digits": {
    make: (n) => P.textLong(n),
    run: (input) => expectError(() => loads(input as Uint8Array), "limit"),
  },
  "BINUNICODE bytes": {
    make: (n) => P.binUnicode(n),
    run: (input, n) =>
      (loads(input as Uint8Array) as string).length === Math.floor(n / 2)
        ? "ok"
        : "wrong value",
  },
  "dumps bigint bytes": {
    make: (n) => P.bigIntOfBytes(n),
    run: (input, n) => {
      const out = dumps(input);
      // PROTO 4, FRAME, LONG4 n+1, n bytes 0xff, 0x00, STOP.
      return out.length === 2 + 9 + 5 + n + 1 + 1 && out[16] === 0xff &&
          out[16 + n] === 0 && loads(out) === input
        ? "ok"
        : "wrong bytes";
    },
  },
  "TLV nested lists": {
    make: (n) => P.tlvNestedLists(n),
    run: (input, n) => {
      const v = decodeTlv(input as Uint8Array, { maxDepth: n + 10 });
      return Array.isArray(v) ? "ok" : "wrong value";
    },
  },
  "TLV list of strings": {
    make: (n) => encodeTlv(Array.from({ length: n }, (_, i) => `s${i}`)),
    run: (input, n) =>
      (decodeTlv(input as Uint8Array) as unknown[]).length === n
        ? "ok"
        : "wrong value",
  },
  "TLV dict of n keys (map)": {
    make: (n) => P.tlvDict(n),
    run: (input, n) =>
      (decodeTlv(input as Uint8Array) as Map<string, unknown>).size === n
        ? "ok"
        : "wrong value",
  },
  "TLV dict of n int-like keys (object)": {
    make: (n) => P.tlvDict(n),
    run: (input, n) =>
      Object.keys(decodeTlv(input as Uint8Array, { dict: "object" }) as object)
          .length === n
        ? "ok"
        : "wrong value",
  },
  "CBOR array of n ints": {
    make: (n) => P.cborArray(n),
    run: (input, n) =>
      (decodeCbor(input as Uint8Array) as unknown[]).length === n
        ? "ok"
        : "wrong value",
  },
  "CBOR map of n keys": {
    make: (n) => P.cborMap(n),
    run: (input) => {
      decodeCbor(input as Uint8Array);
      return "ok";
    },
  },
  "CBOR indefinite bytes": {
    make: (n) => P.cborIndefiniteBytes(n),
    run: (input, n) =>
      decodeCborAll(input as Uint8Array).length === n + 1 ? "ok" : "wrong",
  },
  "CBOR stream: n ints, 1-byte chunks": {
    make: (n) => P.cborArray(n),
    run: (input, n) => {
      const bytes = input as Uint8Array;
      const d = new CborStreamDecoder();
      let out: unknown[] = [];
      for (let i = 0; i < bytes.length; i++) {
        out = out.concat(d.decode(bytes.subarray(i, i + 1)));
      }
      return out.length === 1 && (out[0] as unknown[]).length === n
        ? "ok"
        : "wrong value";
    },
  },
  "CBOR stream: n ints, 64-byte chunks": {
    make: (n) => P.cborArray(n),
    run: (input, n) => {
      const bytes = input as Uint8Array;
      const d = new CborStreamDecoder();
      let out: unknown[] = [];
      for (let i = 0; i < bytes.length; i += 64) {
        out = out.concat(d.decode(bytes.subarray(i, i + 64)));
      }
      return out.length === 1 && (out[0] as unknown[]).length === n
        ? "ok"
        : "wrong value";
    },
  },
  "session headers x n": {
    make: (n) => P.sessionHeaders(n),
    run: (input) => {
      for (const h of input as Uint8Array[]) decodeSessionHeader(h);
      return "ok";
    },
  },
};

if (import.meta.main) {
  const [name, size] = Deno.args;
  const shape = SHAPES[name!];
  if (shape === undefined) throw new Error(`Cannot run shape: ${name}`);
  const n = Number(size);
  const input = shape.make(n);
  const rssBefore = peakRss();
  const t0 = performance.now();
  let outcome: string;
  try {
    outcome = shape.run(input, n);
  } catch (e) {
    outcome = `threw ${e instanceof Error ? e.name : typeof e}: ${
      String(e instanceof Error ? e.message : e).slice(0, 200)
    }`;
  }
  const ms = performance.now() - t0;
  console.log(JSON.stringify({ ms, rssBefore, peakRss: peakRss(), outcome }));
}
