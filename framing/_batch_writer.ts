// Copyright 2026 the @sidecar/ipc authors. MIT license.
// This module is browser compatible.
/**
 * Writes frames to a byte stream, coalescing: the first send goes out at
 * once; frames sent while a write is in progress go out together in the
 * next one (one buffer, one write), so many concurrent requests or
 * responses cost few writes. Used by the client and the server.
 *
 * @module
 */
import { encodeFrames, type Frame } from "./frame_codec.ts";

/** A coalescing frame writer over a stream writer. */
export class BatchWriter {
  #writer: WritableStreamDefaultWriter<Uint8Array>;
  #onError: (error: unknown) => void;
  #queued: Frame[] = [];
  /** Whether the write loop runs (set before it starts). */
  #writing = false;
  #drained: Promise<void> = Promise.resolve();
  #failed = false;

  /**
   * @param writer Where the bytes go.
   * @param onError Called once, when a write fails; later sends are
   * dropped.
   */
  constructor(
    writer: WritableStreamDefaultWriter<Uint8Array>,
    onError: (error: unknown) => void,
  ) {
    this.#writer = writer;
    this.#onError = onError;
  }

  /** Settles once everything sent so far is written (or dropped). */
  get drained(): Promise<void> {
    return this.#drained;
  }

  /** Queues frames; resolves once they are written. */
  send(frames: Iterable<Frame>): Promise<void> {
    if (this.#failed) return this.#drained;
    for (const f of frames) this.#queued.push(f);
    if (!this.#writing) {
      this.#writing = true;
      this.#drained = this.#flush();
    }
    return this.#drained;
  }

  async #flush(): Promise<void> {
    try {
      while (this.#queued.length > 0) {
        const batch = this.#queued;
        this.#queued = [];
        try {
          await this.#writer.write(encodeFrames(batch));
        } catch (e) {
          this.#failed = true;
          this.#queued = [];
          this.#onError(e);
        }
      }
    } finally {
      this.#writing = false;
    }
  }
}
