// Copyright 2026 the @sidecar/ipc authors. MIT license.
import { assertEquals, fromHex, toHex } from "../_test_utils/assert.ts";
import {
  decodeFrames,
  encodeFrame,
  frameFromHumanString,
  frameToHumanString,
} from "./mod.ts";

interface Vector {
  name: string;
  human: string;
  hex: string;
}
const VECTORS: Vector[] = JSON.parse(
  await Deno.readTextFile(
    new URL("./testdata/framing-vectors.json", import.meta.url),
  ),
);

Deno.test("vectors: human form builds the exact bytes of every vector", () => {
  for (const v of VECTORS) {
    assertEquals(
      toHex(encodeFrame(frameFromHumanString(v.human))),
      v.hex,
      v.name,
    );
  }
});

Deno.test("vectors: every vector decodes and re-encodes byte-identically", () => {
  for (const v of VECTORS) {
    const bytes = fromHex(v.hex);
    const frames = decodeFrames(bytes);
    assertEquals(frames.length, 1, v.name);
    assertEquals(toHex(encodeFrame(frames[0]!)), v.hex, v.name);
  }
});

Deno.test("vectors: our human form parses back to the same bytes, and matches Mercurial's text", () => {
  let exact = 0;
  for (const v of VECTORS) {
    const frame = decodeFrames(fromHex(v.hex))[0]!;
    const text = frameToHumanString(frame);
    assertEquals(toHex(encodeFrame(frameFromHumanString(text))), v.hex, v.name);
    // Vectors named "ffs..." were written by hand upstream (numeric types,
    // unsorted dict literals); every generated one must match exactly.
    if (!v.name.startsWith("ffs")) {
      assertEquals(text, v.human, v.name);
      exact++;
    }
  }
  assertEquals(exact, 36);
});
