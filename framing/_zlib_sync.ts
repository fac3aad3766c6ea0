// Copyright 2026 the @sidecar/ipc authors. MIT license.
/**
 * Synchronous, long-lived zlib and zstd contexts on top of `node:zlib`.
 *
 * `node:zlib` only offers one-shot synchronous calls (`deflateSync`), which
 * start a fresh context each time, and asynchronous streams. hgrpc needs one
 * context per stream that lives across many requests and is flushed (never
 * finished) at the end of each response, from inside a synchronous reactor.
 * This drives the engine's native handle with `writeSync`, the same call
 * Node's own `*Sync` helpers make, but without closing the handle.
 *
 * @module
 */
import * as zlib from "node:zlib";
import { concatBytes } from "../_internal/bytes.ts";

interface NativeHandle {
  writeSync(
    flush: number,
    input: Uint8Array,
    inOff: number,
    inLen: number,
    out: Uint8Array,
    outOff: number,
    outLen: number,
  ): void;
  close(): void;
  onerror: ((message: string, errno: number) => void) | undefined;
}

interface Engine {
  _handle: NativeHandle | null;
  _writeState: Uint32Array;
  close(): void;
}

const OUT_CHUNK = 64 * 1024;
const EMPTY = new Uint8Array(0);

/** A synchronous zlib/zstd context; one per direction and stream. */
export class SyncCodec {
  #engine: Engine;
  #out = new Uint8Array(OUT_CHUNK);
  #maxOutput: number;
  /** Wraps a `node:zlib` engine. */
  constructor(engine: unknown, maxOutput = Number.MAX_SAFE_INTEGER) {
    const e = engine as Engine;
    if (
      !e._handle || typeof e._handle.writeSync !== "function" ||
      !(e._writeState instanceof Uint32Array)
    ) {
      throw new TypeError(
        "Cannot create stream codec: node:zlib lacks synchronous handles here",
      );
    }
    this.#engine = e;
    this.#maxOutput = maxOutput;
    // Report codec errors synchronously instead of as stream 'error' events.
    e._handle.onerror = (message: string) => {
      this.#error ??= new Error(message);
    };
  }
  #error: Error | undefined;

  /** Runs `input` through the context with the given flush mode. */
  process(input: Uint8Array, flush: number): Uint8Array {
    const h = this.#engine._handle;
    if (h === null || this.#closed) {
      throw new TypeError("Cannot process data: the codec is closed");
    }
    const st = this.#engine._writeState;
    // Output goes into parts of doubling size (64 KiB up to 4 MiB), joined
    // once at the end: two copies at most, no repeated regrowth.
    const parts: Uint8Array[] = [];
    let out = this.#out;
    let have = 0;
    let total = 0;
    let inOff = 0;
    let inLen = input.length;
    for (;;) {
      const room = out.length - have;
      h.writeSync(flush, input, inOff, inLen, out, have, room);
      if (this.#error !== undefined) {
        const err = this.#error;
        this.close();
        throw err;
      }
      const availOut = st[0]!;
      const availIn = st[1]!;
      have += room - availOut;
      inOff += inLen - availIn;
      inLen = availIn;
      if (total + have > this.#maxOutput) {
        throw new RangeError(
          `Cannot decode stream: output exceeds the maximum of ${this.#maxOutput} bytes`,
        );
      }
      if (availOut !== 0) break;
      parts.push(out === this.#out ? out.slice(0, have) : out);
      total += have;
      out = new Uint8Array(Math.min(out.length * 2, 4 * 1024 * 1024));
      have = 0;
    }
    if (parts.length === 0) {
      if (have === 0) return EMPTY;
      return out === this.#out ? out.slice(0, have) : out.subarray(0, have);
    }
    if (have > 0) {
      parts.push(
        out === this.#out ? out.slice(0, have) : out.subarray(0, have),
      );
    }
    return concatBytes(parts, total + have);
  }

  /** Releases the native context (idempotent). */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    try {
      this.#engine.close();
    } catch {
      // Already torn down by an error.
    }
  }
  #closed = false;
}

/** zlib flush and zstd end-directive constants. */
export const Z = {
  NO_FLUSH: zlib.constants.Z_NO_FLUSH,
  SYNC_FLUSH: zlib.constants.Z_SYNC_FLUSH,
  FINISH: zlib.constants.Z_FINISH,
  ZSTD_CONTINUE: zlib.constants.ZSTD_e_continue,
  ZSTD_FLUSH: zlib.constants.ZSTD_e_flush,
  ZSTD_END: zlib.constants.ZSTD_e_end,
} as const;

/** A zlib (RFC 1950) compressor: level 6, window 15, memLevel 8. */
export function zlibCompressor(level = 6): SyncCodec {
  return new SyncCodec(
    zlib.createDeflate({ level, windowBits: 15, memLevel: 8 }),
  );
}

/** A zlib (RFC 1950) decompressor. */
export function zlibDecompressor(maxOutput?: number): SyncCodec {
  return new SyncCodec(zlib.createInflate(), maxOutput);
}

/** A zstd compressor with Mercurial's settings (level 3, window <= 8 MiB). */
export function zstdCompressor(level = 3): SyncCodec {
  const c = zlib.constants;
  return new SyncCodec(
    zlib.createZstdCompress({
      params: { [c.ZSTD_c_compressionLevel]: level, [c.ZSTD_c_windowLog]: 21 },
    }),
  );
}

/** A zstd decompressor refusing windows above 8 MiB. */
export function zstdDecompressor(maxOutput?: number): SyncCodec {
  const c = zlib.constants;
  return new SyncCodec(
    zlib.createZstdDecompress({ params: { [c.ZSTD_d_windowLogMax]: 23 } }),
    maxOutput,
  );
}
