// Copyright 2026 the @sidecar/ipc authors. MIT license.
// This module is browser compatible.
/**
 * What the server reactor reads from the client: sender protocol settings
 * (decoded as their frames come), partially received requests (their
 * bytes copied out of the input and counted against the limits), and
 * complete requests (decoded and checked, with Mercurial's messages).
 *
 * @module
 */
import { ByteBuffer } from "../_internal/byte_buffer.ts";
import { BytestringChunk, type CborKey, type CborValue } from "./cbor.ts";
import { CborStreamDecoder } from "./cbor_decoder.ts";
import { type Frame, FRAME_FLAG } from "./frame_codec.ts";
import { settingsFlagsError } from "./_settings.ts";

/**
 * What a partially received request is counted for beyond its bytes (its
 * record and buffers), against `maxBufferedSize`.
 *
 * @example Usage
 * ```ts
 * import { PARTIAL_REQUEST_OVERHEAD } from "@sidecar/ipc/framing";
 * import assert from "node:assert/strict";
 *
 * assert.equal(PARTIAL_REQUEST_OVERHEAD, 512);
 * ```
 */
export const PARTIAL_REQUEST_OVERHEAD = 512;

/** A refusal: Mercurial's message where it has one, and the error code. */
export interface Refusal {
  message: string;
  code: "PROTOCOL_ERROR" | "LIMIT_EXCEEDED";
}

function refuse(message: string): Refusal {
  return { message, code: "PROTOCOL_ERROR" };
}

function overLimit(message: string): Refusal {
  return { message, code: "LIMIT_EXCEEDED" };
}

/** Whether `x` is a refusal. */
export function isRefusal(x: unknown): x is Refusal {
  return typeof x === "object" && x !== null && "code" in x &&
    "message" in x;
}

const TEXT_DECODER = new TextDecoder();

/** A byte string (or string) as text, else `null`. */
export function asText(v: CborValue | undefined): string | null {
  if (v instanceof Uint8Array) return TEXT_DECODER.decode(v);
  if (typeof v === "string") return v;
  return null;
}

/**
 * The sender protocol settings, as their frames come: at most one CBOR
 * value, refused as soon as a second one starts.
 */
export class SettingsReceiver {
  #decoder = new CborStreamDecoder({ maxByteStringSize: 1024 * 1024 });
  #values: CborValue[] = [];
  #bytes = 0;
  #max: number;

  /** @param maxBytes Most bytes of settings accepted. */
  constructor(maxBytes: number) {
    this.#max = maxBytes;
  }

  /**
   * Takes a settings frame: a refusal, `null` while more frames are due,
   * or the client's encodings (`undefined` when it listed none).
   */
  push(frame: Frame): Refusal | null | { encodings: string[] | undefined } {
    const bad = settingsFlagsError(
      frame.flags,
      "sender protocol settings frame",
    );
    if (bad !== null) return refuse(bad);
    const more = frame.flags & FRAME_FLAG.SENDER_PROTOCOL_SETTINGS_CONTINUATION;
    this.#bytes += frame.payload.length;
    if (this.#bytes > this.#max) {
      return overLimit(
        `Cannot receive sender protocol settings: ${this.#bytes} bytes exceed the maximum of ${this.#max} bytes`,
      );
    }
    let values: CborValue[];
    try {
      values = this.#decoder.decode(frame.payload);
    } catch (e) {
      return refuse(
        `error decoding CBOR from sender protocol settings frame: ${
          e instanceof Error ? e.message : String(e)
        }`,
      );
    }
    for (const v of values) this.#values.push(v);
    if (this.#values.length > 1) {
      // Refused now rather than at the last frame: nothing more is kept.
      this.#values = [];
      return refuse(
        "sender protocol settings frame contained multiple CBOR values",
      );
    }
    if (more) return null;
    const decoded = this.#values;
    this.#values = [];
    if (decoded.length === 0 || this.#decoder.inValue) {
      return refuse("sender protocol settings frame did not contain CBOR data");
    }
    const d = decoded[0];
    if (d instanceof Map && d.has("contentencodings")) {
      const list = d.get("contentencodings");
      if (!Array.isArray(list)) {
        return refuse(
          "sender protocol settings contentencodings is not a list",
        );
      }
      return { encodings: list.map((v) => asText(v as CborValue) ?? "") };
    }
    return { encodings: undefined };
  }
}

/** A partially received request. */
export interface Receiving {
  /** The request's CBOR bytes so far. */
  payload: ByteBuffer;
  /** The command data so far, or `null`. */
  data: ByteBuffer | null;
  /** What the request is counted for now. */
  counted: number;
  requestDone: boolean;
  expectingData: boolean;
}

/** Partially received requests and the memory they hold, with the limits. */
export class PartialRequests {
  #receiving = new Map<number, Receiving>();
  #buffered = 0;
  #maxRequest: number;
  #maxData: number;
  #maxBuffered: number;

  /**
   * @param maxRequest Largest request CBOR.
   * @param maxData Largest command data.
   * @param maxBuffered Most memory of all partial requests together.
   */
  constructor(maxRequest: number, maxData: number, maxBuffered: number) {
    this.#maxRequest = maxRequest;
    this.#maxData = maxData;
    this.#maxBuffered = maxBuffered;
  }

  /** Number of partial requests. */
  get size(): number {
    return this.#receiving.size;
  }

  /** Memory they are counted for. */
  get bufferedSize(): number {
    return this.#buffered;
  }

  /** The partial request `rid`, if any. */
  get(rid: number): Receiving | undefined {
    return this.#receiving.get(rid);
  }

  /** A refusal when a request of `n` bytes is too large. */
  checkSize(rid: number, n: number): Refusal | null {
    return n > this.#maxRequest
      ? overLimit(
        `Cannot receive request ${rid}: request of ${n} bytes exceeds the maximum of ${this.#maxRequest} bytes`,
      )
      : null;
  }

  /** Starts request `rid` with its first frame's payload. */
  start(
    rid: number,
    requestDone: boolean,
    expectingData: boolean,
    payload: Uint8Array,
  ): Refusal | null {
    const entry: Receiving = {
      payload: new ByteBuffer(),
      data: null,
      counted: PARTIAL_REQUEST_OVERHEAD,
      requestDone,
      expectingData,
    };
    this.#receiving.set(rid, entry);
    this.#buffered += PARTIAL_REQUEST_OVERHEAD;
    return this.addPayload(rid, entry, payload);
  }

  /** Adds request bytes. */
  addPayload(
    rid: number,
    entry: Receiving,
    payload: Uint8Array,
  ): Refusal | null {
    const over = this.checkSize(rid, entry.payload.length + payload.length);
    if (over !== null) return over;
    return this.#append(rid, entry, entry.payload, payload);
  }

  /** Adds command data. */
  addData(rid: number, entry: Receiving, payload: Uint8Array): Refusal | null {
    entry.data ??= new ByteBuffer();
    const size = entry.data.length + payload.length;
    if (size > this.#maxData) {
      return overLimit(
        `Cannot receive request ${rid}: command data of ${size} bytes exceeds the maximum of ${this.#maxData} bytes`,
      );
    }
    return this.#append(rid, entry, entry.data, payload);
  }

  /**
   * Copies `bytes` into `buffer` (so the input chunk they are a view of is
   * not pinned) and counts what the buffers of `entry` hold now.
   */
  #append(
    rid: number,
    entry: Receiving,
    buffer: ByteBuffer,
    bytes: Uint8Array,
  ): Refusal | null {
    buffer.append(bytes);
    const counted = PARTIAL_REQUEST_OVERHEAD + entry.payload.capacity +
      (entry.data?.capacity ?? 0);
    this.#buffered += counted - entry.counted;
    entry.counted = counted;
    if (this.#buffered > this.#maxBuffered) {
      return overLimit(
        `Cannot receive request ${rid}: ${this.#buffered} buffered bytes exceed the maximum of ${this.#maxBuffered} bytes`,
      );
    }
    return null;
  }

  /** Removes request `rid` and returns its bytes. */
  take(rid: number): { payload: Uint8Array; data: Uint8Array | null } {
    const entry = this.#receiving.get(rid)!;
    this.#receiving.delete(rid);
    this.#buffered -= entry.counted;
    const data = entry.data;
    return {
      payload: entry.payload.bytes,
      data: data === null
        ? null
        : data.capacity === data.length
        ? data.bytes
        : data.take(data.length),
    };
  }

  /** Drops every partial request. */
  clear(): void {
    this.#receiving.clear();
    this.#buffered = 0;
  }
}

/** A complete request, decoded. */
export interface Request {
  command: string;
  args: Map<CborKey, CborValue>;
  redirect: CborValue | null;
  /** Its CBOR bytes plus 64 per item. */
  size: number;
}

/** Decodes and checks a complete request's CBOR. */
export function decodeRequest(payload: Uint8Array): Request | Refusal {
  let values: CborValue[];
  const sizes: number[] = [];
  try {
    const decoder = new CborStreamDecoder();
    values = decoder.decode(payload, sizes);
    if (decoder.inValue) {
      return refuse(
        "error decoding CBOR from command request: input data not complete",
      );
    }
  } catch (e) {
    return refuse(
      `error decoding CBOR from command request: ${
        e instanceof Error ? e.message : String(e)
      }`,
    );
  }
  const request = values[0];
  if (!(request instanceof Map)) {
    return refuse("command request is not a CBOR map");
  }
  if (values.length > 1 || request instanceof BytestringChunk) {
    return refuse("command request contains more than one CBOR value");
  }
  if (!request.has("name")) {
    return refuse('command request missing "name" field');
  }
  const command = asText(request.get("name"));
  if (command === null) {
    return refuse('command request "name" field is not a byte string');
  }
  const args = request.get("args") ?? new Map();
  if (!(args instanceof Map)) {
    return refuse('command request "args" field is not a map');
  }
  return {
    command,
    args: args as Map<CborKey, CborValue>,
    redirect: (request.get("redirect") as CborValue | undefined) ?? null,
    size: sizes[0]!,
  };
}
