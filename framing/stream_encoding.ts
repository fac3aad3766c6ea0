// Copyright 2026 the @sidecar/ipc authors. MIT license.
/**
 * Stream content encodings (`identity`, `zlib`, `zstd-8mb`) as Mercurial
 * implements them: one encoder per output stream, alive for the whole stream
 * (across requests), flushed at the end of each response and never finished;
 * one decoder per input stream.
 *
 * @module
 */
import type { CborValue } from "./cbor.ts";
import { ProtocolError } from "./errors.ts";
import {
  availableCodecs,
  flushModes,
  type SyncCodec,
  zlibCompressor,
  zlibDecompressor,
  zstdCompressor,
  zstdDecompressor,
} from "./_zlib_sync.ts";

/**
 * Encoding names, most preferred first (Mercurial's `STREAM_ENCODERS_ORDER`).
 *
 * @example Usage
 * ```ts
 * import { STREAM_ENCODERS_ORDER } from "@sidecar/ipc/framing";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(STREAM_ENCODERS_ORDER, ["zstd-8mb", "zlib", "identity"]);
 * ```
 */
export const STREAM_ENCODERS_ORDER: readonly string[] = [
  "zstd-8mb",
  "zlib",
  "identity",
];

/**
 * The encodings this runtime can really encode and decode, most preferred
 * first: `identity` always, `zlib` and `zstd-8mb` when its `node:zlib` runs
 * them (each is tried once, on first use: Node 20 has no zstd, Deno before
 * 2.7 has one that throws). Servers and clients offer and accept only
 * these, so a runtime without zstd falls back to zlib or identity.
 *
 * @returns A subset of {@linkcode STREAM_ENCODERS_ORDER}, in its order.
 *
 * @example Usage
 * ```ts
 * import { availableStreamEncodings } from "@sidecar/ipc/framing";
 * import assert from "node:assert/strict";
 *
 * // Deno 2.9 has all three.
 * assert.deepEqual(availableStreamEncodings(), ["zstd-8mb", "zlib", "identity"]);
 * ```
 */
export function availableStreamEncodings(): readonly string[] {
  const codecs = availableCodecs() as ReadonlySet<string>;
  return STREAM_ENCODERS_ORDER.filter((n) => n === "identity" || codecs.has(n));
}

/**
 * Keeps the names of `names` this runtime can run, in their order (see
 * {@linkcode availableStreamEncodings}).
 *
 * @param names Encoding names, as configured or as a peer listed them.
 * @returns The available ones.
 *
 * @example Usage
 * ```ts
 * import { onlyAvailableEncodings } from "@sidecar/ipc/framing";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(onlyAvailableEncodings(["br", "zlib", "identity"]), ["zlib", "identity"]);
 * ```
 */
export function onlyAvailableEncodings(
  names: readonly string[],
): readonly string[] {
  const available = availableStreamEncodings();
  return names.filter((n) => available.includes(n));
}

/** The sending side of a stream encoding. */
export interface StreamEncoder {
  /** The profile name (`identity`, `zlib`, `zstd-8mb`). */
  readonly name: string;
  /**
   * Encodes data; may return empty bytes while the context buffers.
   *
   * @param data The bytes to encode.
   * @returns Encoded bytes produced now.
   */
  encode(data: Uint8Array): Uint8Array;
  /**
   * Flushes everything encoded so far (zlib `Z_SYNC_FLUSH`, zstd flush);
   * the stream stays open.
   *
   * @returns The flushed bytes.
   */
  flush(): Uint8Array;
  /** Releases the context. */
  close(): void;
}

/** The receiving side of a stream encoding. */
export interface StreamDecoder {
  /** The profile name. */
  readonly name: string;
  /**
   * Decodes the next encoded bytes of the stream.
   *
   * @param data Encoded bytes.
   * @returns Decoded bytes available now.
   */
  decode(data: Uint8Array): Uint8Array;
  /** Releases the context. */
  close(): void;
}

/** Options of {@linkcode createStreamDecoder}. */
export interface StreamDecoderOptions {
  /**
   * Largest output of one `decode` call, against decompression bombs.
   *
   * @default {67108864}
   */
  maxOutputSize?: number;
}

const EMPTY = new Uint8Array(0);

class IdentityEncoder implements StreamEncoder {
  readonly name = "identity";
  encode(data: Uint8Array): Uint8Array {
    return data;
  }
  flush(): Uint8Array {
    return EMPTY;
  }
  close(): void {}
}

class CodecEncoder implements StreamEncoder {
  readonly name: string;
  #codec: SyncCodec;
  #cont: number;
  #flush: number;
  constructor(name: string, codec: SyncCodec, cont: number, flush: number) {
    this.name = name;
    this.#codec = codec;
    this.#cont = cont;
    this.#flush = flush;
  }
  encode(data: Uint8Array): Uint8Array {
    if (data.length === 0) return EMPTY;
    return this.#codec.process(data, this.#cont);
  }
  flush(): Uint8Array {
    return this.#codec.process(EMPTY, this.#flush);
  }
  close(): void {
    this.#codec.close();
  }
}

class IdentityDecoder implements StreamDecoder {
  readonly name = "identity";
  decode(data: Uint8Array): Uint8Array {
    return data;
  }
  close(): void {}
}

class CodecDecoder implements StreamDecoder {
  readonly name: string;
  #codec: SyncCodec;
  #mode: number;
  constructor(name: string, codec: SyncCodec, mode: number) {
    this.name = name;
    this.#codec = codec;
    this.#mode = mode;
  }
  decode(data: Uint8Array): Uint8Array {
    if (data.length === 0) return EMPTY;
    try {
      return this.#codec.process(data, this.#mode);
    } catch (e) {
      throw new ProtocolError(
        `Cannot decode ${this.name} stream: ${
          e instanceof Error ? e.message : String(e)
        }`,
        { cause: e, code: "STREAM_DECODE_ERROR" },
      );
    }
  }
  close(): void {
    this.#codec.close();
  }
}

/**
 * Creates the encoder for a profile.
 *
 * @param name `identity`, `zlib` or `zstd-8mb`.
 * @returns A fresh encoder context.
 * @throws {ProtocolError} `unknown stream encoder: <name>`, also for an
 * encoding this runtime cannot run (see {@linkcode availableStreamEncodings}).
 *
 * @example Usage
 * ```ts
 * import { createStreamDecoder, createStreamEncoder } from "@sidecar/ipc/framing";
 * import assert from "node:assert/strict";
 *
 * const enc = createStreamEncoder("zlib");
 * const dec = createStreamDecoder("zlib");
 * const a = enc.encode(new TextEncoder().encode("hello"));
 * const wire = new Uint8Array([...a, ...enc.flush()]);
 * assert.equal(new TextDecoder().decode(dec.decode(wire)), "hello");
 * enc.close();
 * dec.close();
 * ```
 */
export function createStreamEncoder(name: string): StreamEncoder {
  if (name !== "identity" && !availableStreamEncodings().includes(name)) {
    throw new ProtocolError(`unknown stream encoder: ${name}`);
  }
  const Z = flushModes();
  switch (name) {
    case "identity":
      return new IdentityEncoder();
    case "zlib":
      return new CodecEncoder(name, zlibCompressor(), Z.NO_FLUSH, Z.SYNC_FLUSH);
    case "zstd-8mb":
      return new CodecEncoder(
        name,
        zstdCompressor(),
        Z.ZSTD_CONTINUE,
        Z.ZSTD_FLUSH,
      );
    default:
      throw new ProtocolError(`unknown stream encoder: ${name}`);
  }
}

/**
 * Creates the decoder for a profile named in a stream-settings frame.
 *
 * @param name The profile name.
 * @param extra Further values of the stream-settings frame (none allowed).
 * @param options Limits.
 * @returns A fresh decoder context.
 * @throws {ProtocolError} With Mercurial's messages (`unknown stream
 * decoder: <name>`, also for an encoding this runtime cannot run,
 * `<profile> decoder received unexpected additional values`).
 *
 * @example Usage
 * ```ts
 * import { createStreamDecoder, ProtocolError } from "@sidecar/ipc/framing";
 * import assert from "node:assert/strict";
 *
 * assert.throws(() => createStreamDecoder("br"), ProtocolError);
 * assert.equal(createStreamDecoder("identity").name, "identity");
 * ```
 */
export function createStreamDecoder(
  name: string,
  extra: readonly CborValue[] = [],
  options: StreamDecoderOptions = {},
): StreamDecoder {
  const max = options.maxOutputSize ?? 64 * 1024 * 1024;
  const label =
    { identity: "identity", zlib: "zlib", "zstd-8mb": "zstd8mb" }[name];
  if (label === undefined) {
    throw new ProtocolError(`unknown stream decoder: ${name}`);
  }
  if (extra.length > 0) {
    throw new ProtocolError(
      `${label} decoder received unexpected additional values`,
    );
  }
  // A runtime without the codec knows no such decoder, as Mercurial
  // without the zstandard module does.
  if (name !== "identity" && !availableStreamEncodings().includes(name)) {
    throw new ProtocolError(`unknown stream decoder: ${name}`);
  }
  const Z = flushModes();
  switch (name) {
    case "identity":
      return new IdentityDecoder();
    case "zlib":
      return new CodecDecoder(name, zlibDecompressor(max), Z.SYNC_FLUSH);
    default:
      return new CodecDecoder(name, zstdDecompressor(max), Z.ZSTD_CONTINUE);
  }
}

/**
 * Picks the encoding for an output stream as Mercurial's server does: the
 * first entry of the server's order that the client listed.
 *
 * @param clientEncodings The client's `contentencodings` (order ignored).
 * @param serverOrder The server's preference order.
 * @returns The chosen name, or `null` when nothing matches.
 *
 * @example Usage
 * ```ts
 * import { chooseStreamEncoding } from "@sidecar/ipc/framing";
 * import assert from "node:assert/strict";
 *
 * assert.equal(chooseStreamEncoding(["identity", "zlib"]), "zlib");
 * ```
 */
export function chooseStreamEncoding(
  clientEncodings: readonly string[],
  serverOrder: readonly string[] = STREAM_ENCODERS_ORDER,
): string | null {
  for (const name of serverOrder) {
    if (clientEncodings.includes(name)) return name;
  }
  return null;
}
