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

/**
 * The parts of `node:zlib` the codecs use. Runtimes differ: Node 20's has
 * no `createZstdCompress` (zstd came in Node 22.15/23.8), and Deno before
 * 2.7 has one that throws when called.
 */
export interface ZlibModule {
  /** Makes a deflate (zlib) engine. */
  createDeflate(options?: object): unknown;
  /** Makes an inflate (zlib) engine. */
  createInflate(options?: object): unknown;
  /** Makes a zstd compression engine, where the runtime has one. */
  createZstdCompress?: ((options?: object) => unknown) | undefined;
  /** Makes a zstd decompression engine, where the runtime has one. */
  createZstdDecompress?: ((options?: object) => unknown) | undefined;
  /** The flush modes and parameters. */
  constants: Readonly<Record<string, number>>;
}

const NODE_ZLIB = zlib as unknown as ZlibModule;
let backend: ZlibModule = NODE_ZLIB;
let available: ReadonlySet<CodecName> | undefined;

/** The compressed encodings this file provides. */
export type CodecName = "zlib" | "zstd-8mb";

/** zlib flush and zstd end-directive constants (of the codecs in use). */
export interface FlushModes {
  /** `Z_NO_FLUSH`. */
  NO_FLUSH: number;
  /** `Z_SYNC_FLUSH`. */
  SYNC_FLUSH: number;
  /** `ZSTD_e_continue`. */
  ZSTD_CONTINUE: number;
  /** `ZSTD_e_flush`. */
  ZSTD_FLUSH: number;
}

/** The flush modes of the `node:zlib` in use. */
export function flushModes(): FlushModes {
  const c = backend.constants;
  return {
    NO_FLUSH: c.Z_NO_FLUSH ?? 0,
    SYNC_FLUSH: c.Z_SYNC_FLUSH ?? 2,
    ZSTD_CONTINUE: c.ZSTD_e_continue ?? 0,
    ZSTD_FLUSH: c.ZSTD_e_flush ?? 1,
  };
}

/** A zlib (RFC 1950) compressor: level 6, window 15, memLevel 8. */
export function zlibCompressor(level = 6): SyncCodec {
  return new SyncCodec(
    backend.createDeflate({ level, windowBits: 15, memLevel: 8 }),
  );
}

/** A zlib (RFC 1950) decompressor. */
export function zlibDecompressor(maxOutput?: number): SyncCodec {
  return new SyncCodec(backend.createInflate(), maxOutput);
}

/** A zstd compressor with Mercurial's settings (level 3, window <= 8 MiB). */
export function zstdCompressor(level = 3): SyncCodec {
  const c = backend.constants;
  if (typeof backend.createZstdCompress !== "function") {
    throw new TypeError("Cannot create zstd compressor: node:zlib has no zstd");
  }
  return new SyncCodec(
    backend.createZstdCompress({
      params: {
        [c.ZSTD_c_compressionLevel!]: level,
        [c.ZSTD_c_windowLog!]: 21,
      },
    }),
  );
}

/** A zstd decompressor refusing windows above 8 MiB. */
export function zstdDecompressor(maxOutput?: number): SyncCodec {
  const c = backend.constants;
  if (typeof backend.createZstdDecompress !== "function") {
    throw new TypeError(
      "Cannot create zstd decompressor: node:zlib has no zstd",
    );
  }
  return new SyncCodec(
    backend.createZstdDecompress({ params: { [c.ZSTD_d_windowLogMax!]: 23 } }),
    maxOutput,
  );
}

const PROBE = new TextEncoder().encode("hgrpc stream encoding probe");

/** Whether a compressor/decompressor pair round-trips a flushed message. */
function works(
  compressor: () => SyncCodec,
  decompressor: () => SyncCodec,
  cont: number,
  flush: number,
  decode: number,
): boolean {
  let c: SyncCodec | undefined;
  let d: SyncCodec | undefined;
  try {
    c = compressor();
    d = decompressor();
    const wire = concatBytes([c.process(PROBE, cont), c.process(EMPTY, flush)]);
    const back = d.process(wire, decode);
    return back.length === PROBE.length && back.every((b, i) => b === PROBE[i]);
  } catch {
    return false;
  } finally {
    c?.close();
    d?.close();
  }
}

/**
 * Which compressed encodings the `node:zlib` in use really runs: each one
 * is tried once (a compressor and a decompressor made, a flushed message
 * sent through), so a runtime without zstd, or with a zstd that throws, is
 * found out here and never during a connection.
 *
 * @returns The working encodings (cached until the backend changes).
 */
export function availableCodecs(): ReadonlySet<CodecName> {
  if (available !== undefined) return available;
  const m = flushModes();
  const found = new Set<CodecName>();
  if (
    works(
      zlibCompressor,
      zlibDecompressor,
      m.NO_FLUSH,
      m.SYNC_FLUSH,
      m.SYNC_FLUSH,
    )
  ) {
    found.add("zlib");
  }
  if (
    works(
      zstdCompressor,
      zstdDecompressor,
      m.ZSTD_CONTINUE,
      m.ZSTD_FLUSH,
      m.ZSTD_CONTINUE,
    )
  ) {
    found.add("zstd-8mb");
  }
  available = found;
  return found;
}

/**
 * Makes the codecs use another `node:zlib`-shaped module, as a runtime
 * with a different `node:zlib` would (`null` restores the real one). For
 * tests that simulate a runtime without zstd.
 *
 * @param module The module to use, or `null`.
 */
export function useZlibModule(module: ZlibModule | null): void {
  backend = module ?? NODE_ZLIB;
  available = undefined;
}
