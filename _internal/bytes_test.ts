// Copyright 2026 the @sidecar/ipc authors. MIT license.
import assert from "node:assert/strict";
import {
  asBytes,
  concatBytes,
  equalBytes,
  growBytes,
  timingSafeEqual,
  toHex,
} from "./bytes.ts";

Deno.test("concatBytes() joins parts and returns a single part as it is", () => {
  const a = new Uint8Array([1, 2]);
  assert.equal(concatBytes([a]), a);
  assert.deepEqual(
    concatBytes([a, new Uint8Array([3]), new Uint8Array(0)]),
    new Uint8Array([1, 2, 3]),
  );
  assert.deepEqual(concatBytes([a, a], 4), new Uint8Array([1, 2, 1, 2]));
  assert.deepEqual(concatBytes([]), new Uint8Array(0));
});

Deno.test("equalBytes() and timingSafeEqual() compare contents", () => {
  for (const eq of [equalBytes, timingSafeEqual]) {
    assert.equal(eq(new Uint8Array([1, 2]), new Uint8Array([1, 2])), true);
    assert.equal(eq(new Uint8Array([1, 2]), new Uint8Array([1, 3])), false);
    assert.equal(eq(new Uint8Array([1, 2]), new Uint8Array([1])), false);
    assert.equal(eq(new Uint8Array(0), new Uint8Array(0)), true);
  }
});

Deno.test("asBytes() views any buffer without copying", () => {
  const buf = new ArrayBuffer(8);
  const u16 = new Uint16Array(buf, 2, 2);
  const v = asBytes(u16)!;
  assert.equal(v.buffer, buf);
  assert.equal(v.byteOffset, 2);
  assert.equal(v.length, 4);
  assert.equal(asBytes(buf)!.length, 8);
  assert.equal(asBytes("x" as unknown as ArrayBuffer), undefined);
});

Deno.test("toHex() writes two lower-case digits a byte", () => {
  assert.equal(toHex(new Uint8Array(0)), "");
  assert.equal(
    toHex(new Uint8Array([0, 1, 0x0f, 0x10, 0xab, 0xff])),
    "00010f10abff",
  );
  const all = Uint8Array.from({ length: 256 }, (_, i) => i);
  const hex = toHex(all);
  assert.equal(hex.length, 512);
  for (let i = 0; i < 256; i++) {
    assert.equal(Number.parseInt(hex.slice(2 * i, 2 * i + 2), 16), i);
  }
  assert.equal(toHex(all.subarray(254)), "feff");
});

Deno.test("growBytes() keeps a large enough buffer, else doubles and copies the used bytes", () => {
  const buf = new Uint8Array([1, 2, 3, 4]);
  assert.equal(growBytes(buf, 4, 4), buf);
  const grown = growBytes(buf, 3, 5);
  assert.equal(grown.length, 64);
  assert.deepEqual(grown.subarray(0, 4), new Uint8Array([1, 2, 3, 0]));
  const big = new Uint8Array(100);
  big[99] = 7;
  assert.equal(growBytes(big, 100, 101).length, 200);
  assert.equal(growBytes(big, 100, 1000).length, 1600);
  assert.equal(growBytes(big, 100, 1000)[99], 7);
  // The limit caps the doubling, never below what is needed.
  assert.equal(growBytes(big, 100, 150, 120).length, 150);
  assert.equal(growBytes(big, 100, 101, 120).length, 120);
  assert.equal(growBytes(new Uint8Array(0), 0, 1).length, 64);
});
