// Copyright 2026 the @sidecar/ipc authors. MIT license.
// deno bench -A framing/frame_codec_bench.ts
import {
  type CborValue,
  createStreamDecoder,
  createStreamEncoder,
  decodeCborAll,
  encodeCbor,
  encodeFrameChunks,
  encodeFrameParts,
  encodeFrames,
  type Frame,
  FrameBatchDecoderStream,
  FrameDecoder,
  FrameDecoderStream,
  FrameEncoder,
  FrameEncoderStream,
  scanFrames,
} from "./mod.ts";

function frames(size: number, n: number): Frame[] {
  const payload = new Uint8Array(size).map((_, i) => (i * 7 + 3) % 251);
  return Array.from(
    { length: n },
    () => ({
      requestId: 1,
      streamId: 1,
      streamFlags: 0,
      type: 3,
      flags: 1,
      payload,
    }),
  );
}

for (const size of [64, 32768]) {
  const list = frames(size, 100);
  const bytes = encodeFrames(list);
  const encoder = new FrameEncoder();
  Deno.bench({
    name: `encodeFrames 100 x ${size} B`,
    group: `encode ${size}`,
    baseline: true,
    fn: () => void encodeFrames(list),
  });
  Deno.bench({
    name: `FrameEncoder 100 x ${size} B`,
    group: `encode ${size}`,
    fn: () => void encoder.encode(list),
  });
  Deno.bench({
    name: `encodeFrameChunks 100 x ${size} B`,
    group: `encode ${size}`,
    fn: () => void encodeFrameChunks(list),
  });
  Deno.bench({
    name: `encodeFrameParts 100 x ${size} B`,
    group: `encode ${size}`,
    fn: () => list.forEach((f) => encodeFrameParts(f)),
  });
  Deno.bench({
    name: `FrameDecoder 100 x ${size} B`,
    group: `decode ${size}`,
    baseline: true,
    fn: () => void new FrameDecoder().push(bytes),
  });
  Deno.bench({
    name:
      `encodeFrameChunks + FrameDecoder, 4 frames per batch, 100 x ${size} B`,
    group: `default path ${size}`,
    baseline: true,
    fn: () => {
      const d = new FrameDecoder();
      for (let i = 0; i < list.length; i += 4) {
        for (const c of encodeFrameChunks(list.slice(i, i + 4))) d.push(c);
      }
    },
  });
  Deno.bench({
    name: `encodeFrames + FrameDecoder, 4 frames per buffer, 100 x ${size} B`,
    group: `default path ${size}`,
    fn: () => {
      const d = new FrameDecoder();
      for (let i = 0; i < list.length; i += 4) {
        d.push(encodeFrames(list.slice(i, i + 4)));
      }
    },
  });
  Deno.bench({
    name: `FrameEncoderStream -> FrameDecoderStream 100 x ${size} B`,
    group: `default path ${size}`,
    fn: async () => {
      const out = ReadableStream.from(list)
        .pipeThrough(new FrameEncoderStream())
        .pipeThrough(new FrameDecoderStream());
      for await (const _ of out) { /* drain */ }
    },
  });
  Deno.bench({
    name:
      `FrameEncoderStream (arrays) -> FrameBatchDecoderStream 100 x ${size} B`,
    group: `default path ${size}`,
    fn: async () => {
      const out = ReadableStream.from([list.slice(0, 50), list.slice(50)])
        .pipeThrough(new FrameEncoderStream())
        .pipeThrough(new FrameBatchDecoderStream());
      for await (const _ of out) { /* drain */ }
    },
  });
  Deno.bench({
    name: `scanFrames 100 x ${size} B`,
    group: `decode ${size}`,
    fn: () => void scanFrames(bytes, () => {}),
  });
}

const obj = new Map<string, CborValue>([["status", "ok"], [
  "list",
  Array.from({ length: 50 }, (_, i) => i * 1000),
], ["blob", new Uint8Array(1024)]]);
const cbor = encodeCbor(obj);
Deno.bench({
  name: "encodeCbor status map + 50 ints + 1 KiB",
  group: "cbor",
  fn: () => void encodeCbor(obj),
});
Deno.bench({
  name: "decodeCborAll status map + 50 ints + 1 KiB",
  group: "cbor",
  fn: () => void decodeCborAll(cbor),
});

const text = new TextEncoder().encode(
  "changeset manifest filelog revlog node parent branch ".repeat(600),
);
for (const name of ["zlib", "zstd-8mb"]) {
  const enc = createStreamEncoder(name);
  const dec = createStreamDecoder(name);
  Deno.bench({
    name: `${name} encode+flush+decode 32 KiB`,
    group: "stream encodings",
    fn: () => {
      const a = enc.encode(text);
      const b = enc.flush();
      dec.decode(a);
      dec.decode(b);
    },
  });
}
