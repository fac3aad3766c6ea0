// Copyright 2026 the @sidecar/ipc authors. MIT license.
/**
 * Response bytes into frames: Mercurial's `bufferingcommandresponseemitter`
 * (buffer up to the frame size, cut larger chunks).
 *
 * @module
 */
import { allocBytes } from "./_byte_pool.ts";
import { type Frame, FRAME_FLAG, FRAME_TYPE } from "./frame_codec.ts";
import type { OutputStream } from "./output_stream.ts";

const EMPTY = new Uint8Array(0);

/**
 * Buffers encoded response bytes into frames exactly as Mercurial's
 * `bufferingcommandresponseemitter` does.
 */
export class Emitter {
  #stream: OutputStream;
  #rid: number;
  #max: number;
  /** Buffered output; grows on demand up to `max` (most responses are small). */
  #buf: Uint8Array = EMPTY;
  #n = 0;
  constructor(stream: OutputStream, rid: number, max: number) {
    this.#stream = stream;
    this.#rid = rid;
    this.#max = max;
  }
  send(d: Uint8Array, out: Frame[]): void {
    if (d.length === 0) return;
    if (d.length > this.#max) {
      this.flush(out);
      for (let o = 0; o < d.length; o += this.#max) {
        out.push(this.#frame(d.slice(o, o + this.#max)));
      }
      return;
    }
    if (d.length + this.#n >= this.#max) this.flush(out);
    this.#room(this.#n + d.length);
    this.#buf.set(d, this.#n);
    this.#n += d.length;
  }
  #room(need: number): void {
    if (need <= this.#buf.length) return;
    let size = Math.max(256, this.#buf.length * 2);
    while (size < need) size *= 2;
    const next = allocBytes(Math.min(size, this.#max));
    next.set(this.#buf.subarray(0, this.#n));
    this.#buf = next;
  }
  flush(out: Frame[]): void {
    if (this.#n === 0) return;
    const payload = allocBytes(this.#n);
    payload.set(this.#buf.subarray(0, this.#n));
    out.push(this.#frame(payload));
    this.#n = 0;
  }
  #frame(payload: Uint8Array): Frame {
    return this.#stream.makeFrame(
      this.#rid,
      FRAME_TYPE.COMMAND_RESPONSE,
      FRAME_FLAG.COMMAND_RESPONSE_CONTINUATION,
      payload,
      true,
    );
  }
}
