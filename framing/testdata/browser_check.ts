// Copyright 2026 the @sidecar/ipc authors. MIT license.
// This module is browser compatible.
/**
 * The round-trip check of `@sidecar/ipc/framing/frames` that
 * `tools/browser_codecs_test.ts` bundles for the browser and runs in Node
 * and in headless Chromium: every frame Mercurial 6.3.2 produced
 * (`framing-vectors.json`) decodes, re-encodes byte for byte, prints in
 * Mercurial's human form and parses back, and goes through the Web
 * Streams; every CBOR payload decodes and re-encodes byte for byte.
 *
 * @module
 */
import vectors from "./framing-vectors.json" with { type: "json" };
import {
  decodeCbor,
  decodeFrames,
  encodeCbor,
  encodeFrame,
  type Frame,
  FrameBatchDecoderStream,
  FrameEncoderStream,
  frameFromHumanString,
  frameToHumanString,
} from "@sidecar/ipc/framing/frames";
import { expectEqual } from "../../_test_utils/codec_check.ts";
import { fromHex, toHex } from "../../_test_utils/hex.ts";

interface Vector {
  name: string;
  human: string;
  hex: string;
}

/** Runs the check; throws on the first mismatch. */
export async function check(): Promise<string> {
  const list = vectors as Vector[];
  const frames: Frame[] = [];
  let cbor = 0;
  for (const v of list) {
    const decoded = decodeFrames(fromHex(v.hex));
    expectEqual(decoded.length, 1, `${v.name}: frame count`);
    const frame = decoded[0]!;
    expectEqual(toHex(encodeFrame(frame)), v.hex, `${v.name}: re-encoded`);
    expectEqual(
      toHex(encodeFrame(frameFromHumanString(v.human))),
      v.hex,
      `${v.name}: built from Mercurial's human form`,
    );
    const text = frameToHumanString(frame);
    expectEqual(
      toHex(encodeFrame(frameFromHumanString(text))),
      v.hex,
      `${v.name}: our human form parsed back`,
    );
    // Hand-written upstream vectors ("ffs ...") use other literal forms.
    if (!v.name.startsWith("ffs")) {
      expectEqual(text, v.human, `${v.name}: human form`);
    }
    if (v.human.includes(" cbor:")) {
      const value = decodeCbor(frame.payload);
      expectEqual(
        toHex(encodeCbor(value)),
        toHex(frame.payload),
        `${v.name}: CBOR re-encoded`,
      );
      cbor++;
    }
    frames.push(frame);
  }
  // All of them through the Web Streams, in one batch.
  const wire = new ReadableStream<Frame[]>({
    start(controller) {
      controller.enqueue(frames);
      controller.close();
    },
  }).pipeThrough(new FrameEncoderStream()).pipeThrough(
    new FrameBatchDecoderStream(),
  );
  const back: Frame[] = [];
  const reader = wire.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    back.push(...value);
  }
  expectEqual(back.length, frames.length, "frames through the streams");
  for (let i = 0; i < frames.length; i++) {
    expectEqual(
      toHex(encodeFrame(back[i]!)),
      list[i]!.hex,
      `${list[i]!.name}: through the streams`,
    );
  }
  return `${list.length} Mercurial frames (${cbor} with CBOR) round-trip through bytes, human form and Web Streams`;
}
