// Copyright 2026 the @sidecar/ipc authors. MIT license.
// Round trips through real CPython: Python loads and checks what dumps()
// writes (and compares the bytes with its own pickle.dumps), and loads()
// decodes what Python's multiprocessing Connection.send() writes (over a
// pipe; pickle_connection_test.ts has the socket pair and the 10 MB value).
import assert from "node:assert/strict";
import fc from "fast-check";
import { dumps, loads } from "./pickle.ts";
import { fromHex, toHex } from "../_test_utils/hex.ts";
import { findPython, peerTest, type Python } from "../_test_utils/peers.ts";
import {
  identityFree,
  normalizeTagged,
  picklableValue,
  PICKLE_VECTORS as VECTORS,
  type Tagged,
  toPyExpr,
  toTagged,
} from "../_test_utils/connection/pickle.ts";

const PEER = new URL("./testdata/pickle_peer.py", import.meta.url).pathname;
const EXACT = { floats: "wrap", dicts: "map" } as const;
const PROTOCOLS = [2, 3, 4, 5] as const;

/** Python expressions for values that exercise frames and big payloads. */
const LARGE_EXPRS = [
  "list(range(70000, 110000))",
  "[b'a' * 70000, 'x', 1]",
  "[b'a' * 33000, b'b' * 33000]",
  "['x' * 70000, 'é' * 40000, '😀' * 20000]",
  "{'a': [1] * 20000, 'b': [2] * 30000}",
  "[bytearray(b'z' * 66000), 1.5]",
  "{i: str(i) for i in range(2500)}",
  "set(range(3000))",
  "frozenset(range(1000))",
  "tuple(range(2001))",
  // Plain values written inline by save() (lists, dicts, scalars in them)
  // across frame boundaries, and its exits near each boundary.
  "[[i, str(i), i / 2, None, True, -i, 2 ** 40 + i] for i in range(6000)]",
  "[{'k': i, 'v': [i, 'é' * (i % 3)], 'f': i % 2 == 0} for i in range(8000)]",
];

interface Case {
  name: string;
  hex: string;
  expr: string;
  protocol: number;
  exact: boolean;
}

function sampleValues(): unknown[] {
  return fc.sample(picklableValue(), { seed: 20261122, numRuns: 150 });
}

/**
 * Runs the peer script with `input` on stdin (read and written at once: the
 * peer answers as it reads) and returns its stdout; fails on a non-zero exit.
 */
async function runPeer(
  python: Python,
  mode: "check" | "send",
  input: string,
): Promise<Uint8Array> {
  const child = new Deno.Command(python.path, {
    args: [PEER, mode],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const output = child.output();
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode(input));
  await writer.close();
  const out = await output;
  assert.ok(out.success, new TextDecoder().decode(out.stderr));
  return out.stdout;
}

async function runCheck(python: Python, cases: Case[]): Promise<void> {
  const stdout = await runPeer(
    python,
    "check",
    cases.map((c) => JSON.stringify(c)).join("\n") + "\n",
  );
  const lines = new TextDecoder().decode(stdout).trim().split("\n")
    .map((l) => JSON.parse(l));
  const failures = lines.filter((l) => l.ok === false);
  assert.deepEqual(failures, []);
  assert.deepEqual(lines.at(-1), { done: cases.length });
}

for (const minor of ["3.11", "3.13"] as const) {
  const python = findPython(minor);

  peerTest(
    `dumps() output is loaded by CPython ${minor} and equals its own pickle.dumps`,
    python,
    `python${minor}`,
    async (py) => {
      const cases: Case[] = [];
      // Every vector value, at every protocol.
      for (const v of VECTORS) {
        const value = loads(fromHex(v.hex), EXACT);
        const sharedStr = v.name.startsWith("shared_str_twice");
        for (const protocol of PROTOCOLS) {
          cases.push({
            name: `${v.name}@p${protocol}`,
            hex: toHex(dumps(value, { protocol })),
            expr: v.python_expr,
            protocol,
            exact: !sharedStr && identityFree(value, protocol, true),
          });
        }
      }
      // Generated values.
      sampleValues().forEach((value, i) => {
        for (const protocol of PROTOCOLS) {
          cases.push({
            name: `generated_${i}@p${protocol}`,
            hex: toHex(dumps(value, { protocol })),
            expr: toPyExpr(value),
            protocol,
            exact: identityFree(value, protocol),
          });
        }
      });
      const exact = cases.filter((c) => c.exact).length;
      assert.ok(exact > cases.length * 0.6, `only ${exact} exact cases`);
      await runCheck(py, cases);
    },
  );

  peerTest(
    `dumps() frames large values exactly like CPython ${minor}`,
    python,
    `python${minor}`,
    async (py) => {
      // Build each value from Python's own pickle (protocol 5 keeps
      // bytearray), then re-encode it here at every protocol.
      const child = new Deno.Command(py.path, {
        args: [
          "-c",
          `import pickle,sys\nfor e in ${
            JSON.stringify(LARGE_EXPRS)
          }: print(pickle.dumps(eval(e), 5).hex())`,
        ],
        stdout: "piped",
      }).output();
      const out = await child;
      assert.ok(out.success);
      const hexes = new TextDecoder().decode(out.stdout).trim().split("\n");
      const cases: Case[] = [];
      LARGE_EXPRS.forEach((expr, i) => {
        const value = loads(fromHex(hexes[i]!), EXACT);
        for (const protocol of PROTOCOLS) {
          cases.push({
            name: `${expr.slice(0, 30)}@p${protocol}`,
            hex: toHex(dumps(value, { protocol })),
            expr,
            protocol,
            exact: identityFree(value, protocol),
          });
        }
      });
      assert.ok(cases.filter((c) => c.exact).length >= 30);
      await runCheck(py, cases);
    },
  );

  peerTest(
    `dumps() writes plain objects of more than 64 keys exactly like CPython ${minor}`,
    python,
    `python${minor}`,
    async (py) => {
      // The big-record loop writes short keys and float values itself and
      // hands the rest (long or non-ASCII keys, other values, a full
      // frame) to the general path: cover each of its exits, and frames
      // closed in the middle of a batch.
      const values: Record<string, unknown>[] = [];
      const floats: Record<string, unknown> = {};
      for (let i = 0; i < 5000; i++) floats[`key${i}`] = i * 1.5 + 0.25;
      values.push(floats);
      const mixed: Record<string, unknown> = {};
      for (let i = 0; i < 2100; i++) {
        const key = i % 7 === 0
          ? `${"x".repeat(80 + (i % 11))}${i}`
          : i % 11 === 0
          ? `${"€".repeat(80 + (i % 17))}${i}`
          : i % 5 === 0
          ? `clé-${i}-${"é".repeat(i % 40)}`
          : i % 13 === 0
          ? `\u{1F600}${i}`
          : `k${i}`;
        mixed[key] = i % 3 === 0
          ? i + 0.5
          : i % 3 === 1
          ? [i, `v${i}`, -0.0]
          : i % 2 === 0
          ? 2 ** 40 + i
          : -0.0;
      }
      values.push(mixed);
      const long: Record<string, unknown> = {};
      for (let i = 0; i < 600; i++) long[`${"y".repeat(200)}${i}`] = i / 3;
      values.push(long);
      const cases: Case[] = [];
      values.forEach((value, i) => {
        for (const protocol of PROTOCOLS) {
          cases.push({
            name: `big record ${i}@p${protocol}`,
            hex: toHex(dumps(value, { protocol })),
            expr: toPyExpr(value),
            protocol,
            exact: true,
          });
        }
      });
      assert.ok(values.every((v) => identityFree(v, 4)));
      await runCheck(py, cases);
    },
  );

  peerTest(
    `loads() decodes what CPython ${minor} Connection.send() writes`,
    python,
    `python${minor}`,
    async (py) => {
      const exprs = [
        ...new Set(VECTORS.map((v) => v.python_expr)),
        ...LARGE_EXPRS,
        ...sampleValues().map(toPyExpr),
      ];
      const frames = await pythonSend(py, exprs);
      assert.equal(frames.length, exprs.length * 7);
      for (let i = 0; i < exprs.length; i++) {
        const expected = normalizeTagged(
          JSON.parse(new TextDecoder().decode(frames[i * 7]!)) as Tagged,
        );
        for (let j = 1; j < 7; j++) {
          const got = toTagged(loads(frames[i * 7 + j]!, EXACT));
          assert.deepEqual(
            got,
            expected,
            `${exprs[i]!.slice(0, 60)} frame ${j}`,
          );
        }
        // conn.send() uses the default protocol, 4 on these versions.
        assert.equal(frames[i * 7 + 1]![1], 4);
      }
    },
  );
}

/** Splits multiprocessing.connection frames (4-byte big-endian length). */
function parseFrames(bytes: Uint8Array): Uint8Array[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const frames: Uint8Array[] = [];
  let pos = 0;
  while (pos < bytes.length) {
    let n = view.getInt32(pos, false);
    pos += 4;
    if (n === -1) {
      n = Number(view.getBigUint64(pos, false));
      pos += 8;
    }
    frames.push(bytes.subarray(pos, pos + n));
    pos += n;
  }
  return frames;
}

async function pythonSend(
  python: Python,
  exprs: string[],
): Promise<Uint8Array[]> {
  return parseFrames(await runPeer(python, "send", JSON.stringify(exprs)));
}
