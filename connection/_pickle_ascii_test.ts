// Copyright 2026 the @sidecar/ipc authors. MIT license.
import assert from "node:assert/strict";
import { asciiString, cachedAscii, MAX_CACHED } from "./_pickle_ascii.ts";
import { dumps, loads } from "./pickle.ts";

function bytesOf(s: string): Uint8Array {
  return Uint8Array.from(s, (c) => c.charCodeAt(0));
}

Deno.test("cachedAscii() gives the bytes' string at every length, hit or miss", () => {
  // 60000 distinct strings overflow the 16384 slots: lookups hit, miss,
  // and evict in every pattern; each answer must be the bytes' string.
  const strings: string[] = [];
  for (let i = 0; i < 60000; i++) {
    const n = 1 + (i % MAX_CACHED);
    strings.push(
      `${i.toString(36)}${"abcdefghijklmnop".repeat(2)}`.slice(0, n),
    );
  }
  // Strings that differ in one byte only, at each position.
  for (let n = 1; n <= MAX_CACHED; n++) {
    for (let p = 0; p < n; p++) {
      for (const c of "AZaz09_") {
        strings.push("-".repeat(p) + c + "-".repeat(n - p - 1));
      }
    }
  }
  const all = strings.join("");
  const data = bytesOf(all);
  const view = new DataView(data.buffer);
  for (let round = 0; round < 3; round++) {
    let at = 0;
    for (const s of strings) {
      assert.equal(cachedAscii(data, view, at, s.length), s);
      at += s.length;
    }
  }
  // Every position of a non-ASCII byte is found, at every length.
  for (let n = 1; n <= MAX_CACHED; n++) {
    for (let p = 0; p < n; p++) {
      const b = new Uint8Array(n).fill(0x61);
      b[p] = 0xc3;
      assert.equal(
        cachedAscii(b, new DataView(b.buffer), 0, n),
        undefined,
        `n ${n}, non-ASCII at ${p}`,
      );
    }
  }
});

Deno.test("cachedAscii() tells apart lengths whose bytes give the same words", () => {
  // "xyxy" and "xyxyxy" (or any period-2 strings of lengths of the same
  // parity) are covered by the same four words; only the length differs.
  // 162k such pairs: some share a slot pair, and are looked up in a row.
  const chars = Array.from(
    { length: 95 },
    (_, i) => String.fromCharCode(32 + i),
  );
  const buf = new Uint8Array(64);
  const view = new DataView(buf.buffer);
  for (const x of chars) {
    for (const y of chars) {
      for (let n = 4; n <= MAX_CACHED; n++) {
        const s = (x + y).repeat(8).slice(0, n);
        for (let i = 0; i < n; i++) buf[i] = s.charCodeAt(i);
        assert.equal(cachedAscii(buf, view, 0, n), s);
      }
    }
  }
});

Deno.test("asciiString() makes strings of 1 to 16 bytes at any offset", () => {
  const data = bytesOf("0123456789abcdefghijklmnopqrstuv");
  for (let n = 1; n <= MAX_CACHED; n++) {
    for (let at = 0; at + n <= data.length; at += 5) {
      assert.equal(
        asciiString(data, at, n),
        "0123456789abcdefghijklmnopqrstuv".slice(at, at + n),
      );
    }
  }
});

Deno.test("loads() gives the right short strings, keys and values, twice", () => {
  const value: Record<string, unknown> = {};
  for (let i = 0; i < 5000; i++) {
    value[`k${i}`] = [`v${i}`, `é${i}`, `${i}`.padStart(16, "x"), ""];
  }
  const bytes = dumps(value);
  assert.deepEqual(loads(bytes), value);
  assert.deepEqual(loads(bytes), value);
});
