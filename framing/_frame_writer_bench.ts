// Copyright 2026 the @sidecar/ipc authors. MIT license.
// deno bench -A framing/_frame_writer_bench.ts
//
// Frames into the write queue: headers encoded in place in the queue's
// batch (writeFrames) against encodeFrameChunks output pushed chunk by
// chunk, for a small response and for 32 KiB frames.
import { WriteQueue } from "../_internal/write_queue.ts";
import { writeFrames } from "./_frame_writer.ts";
import type { Frame } from "./frame_codec.ts";
import { encodeFrameChunks } from "./frame_encoder.ts";

/** The other way: encode into chunks, then queue each chunk. */
function pushChunks(queue: WriteQueue, frames: Frame[]): void {
  for (const c of encodeFrameChunks(frames)) queue.push(c);
}

const sink = { write: (p: Uint8Array) => Promise.resolve(p.length) };

function frame(n: number, flags: number): Frame {
  return {
    requestId: 1,
    streamId: 2,
    streamFlags: 0,
    type: 3,
    flags,
    payload: new Uint8Array(n).fill(1),
  };
}
// A ping's response: stream settings, status, value, eos.
const small: Frame[] = [frame(9, 2), frame(12, 1), frame(2, 1), frame(0, 2)];
const large: Frame[] = [frame(32768, 1), frame(32768, 1)];

for (
  const [name, frames] of [["small response", small], [
    "2 x 32 KiB",
    large,
  ]] as const
) {
  for (const chunks of [false, true]) {
    Deno.bench({
      name: `${name}: ${chunks ? "encodeFrameChunks + push" : "in place"}`,
      group: name,
      baseline: !chunks,
      async fn(b) {
        const q = new WriteQueue(sink);
        const write = chunks ? pushChunks : writeFrames;
        b.start();
        for (let i = 0; i < 1000; i++) write(q, frames);
        await q.flush();
        b.end();
      },
    });
  }
}
