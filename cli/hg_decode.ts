// Copyright 2026 the @sidecar/ipc authors. MIT license.
/**
 * Decoding captured hgrpc byte streams for `ipc hg decode`: frames in
 * Mercurial's human frame form, stream encodings undone (`zlib`,
 * `zstd-8mb`, as announced by `stream-settings` frames), and the CBOR
 * values each frame completes.
 *
 * @module
 */
import {
  BytestringChunk,
  CborStreamDecoder,
  type CborValue,
  createStreamDecoder,
  type Frame,
  FRAME_FLAG,
  FRAME_TYPE,
  FRAME_TYPE_FLAG_NAMES,
  FRAME_TYPE_NAMES,
  FrameDecoder,
  frameToHumanString,
  MAX_PAYLOAD_SIZE_24,
  STREAM_FLAG,
  STREAM_FLAG_NAMES,
  type StreamDecoder,
} from "../framing/mod.ts";
import { concatBytes } from "../_internal/bytes.ts";
import { nameOf, splitFlags } from "../framing/_flag_names.ts";

/** A frame's fields as read from the capture (payload still encoded). */
export type CapturedFrame = Frame;

/** One frame of a capture, decoded. */
export interface DecodedFrame {
  /** Position of the frame in the capture, from 0. */
  index: number;
  /** The frame as read (payload still encoded). */
  frame: CapturedFrame;
  /** Mercurial's human form of the frame as read. */
  human: string;
  /** The stream's encoding when the frame carries the `encoded` flag. */
  encoding: string | null;
  /** The payload after stream decoding (same as the payload when not encoded). */
  payload: Uint8Array;
  /**
   * CBOR values this frame completes (none for `command-data`): maps,
   * arrays, sets, `Uint8Array`s (indefinite byte strings joined),
   * numbers, bigints, booleans and null.
   */
  values: unknown[];
}

/** Names of the flags set in `bits`, as Mercurial spells them. */
export function flagNames(
  bits: number,
  names: Readonly<Record<string, number>>,
): string[] {
  const { names: out, rest } = splitFlags(bits, names);
  if (rest) out.push(`0x${rest.toString(16)}`);
  return out;
}

/** The type name of a frame. */
export function typeName(frame: CapturedFrame): string {
  return nameOf(frame.type, FRAME_TYPE_NAMES) ?? `0x${frame.type.toString(16)}`;
}

/** Frame flag names of a frame. */
export function frameFlagNames(frame: CapturedFrame): string[] {
  return flagNames(frame.flags, FRAME_TYPE_FLAG_NAMES[frame.type] ?? {});
}

/** Stream flag names of a frame. */
export function streamFlagNames(frame: CapturedFrame): string[] {
  return flagNames(frame.streamFlags, STREAM_FLAG_NAMES);
}

const TEXT = new TextDecoder();

/**
 * Decodes one direction of a capture, incrementally: push bytes, get the
 * frames they complete, with stream encodings undone and CBOR decoded;
 * `finish()` checks that the capture ended on a frame boundary. A frame
 * that cannot be decoded throws a `SyntaxError` naming the frame, with the
 * framing module's error as its cause.
 *
 * @example Usage
 * ```ts
 * import { CaptureDecoder } from "@sidecar/ipc/cli";
 * import { frameFromHumanString, encodeFrame } from "@sidecar/ipc/framing";
 * import assert from "node:assert/strict";
 *
 * const bytes = encodeFrame(frameFromHumanString("1 1 stream-begin command-request new cbor:{b'name': b'heads'}"));
 * const d = new CaptureDecoder();
 * const [frame] = d.push(bytes);
 * d.finish();
 * assert.equal(frame?.human, "1 1 stream-begin command-request new cbor:{b'name': b'heads'}");
 * assert.deepEqual(frame?.values, [new Map([["name", new TextEncoder().encode("heads")]])]);
 * ```
 */
export class CaptureDecoder {
  #frames: FrameDecoder;
  #index = 0;
  #streams = new Map<number, StreamDecoder | null>();
  #settings = new Map<number, CborStreamDecoder>();
  #settingValues = new Map<number, CborValue[]>();
  #cbor = new Map<string, CborStreamDecoder>();
  #chunks = new Map<string, Uint8Array[]>();

  /** Creates a decoder (frames up to the 24-bit length limit). */
  constructor() {
    this.#frames = new FrameDecoder({ maxPayloadSize: MAX_PAYLOAD_SIZE_24 });
  }

  /**
   * Feeds captured bytes.
   *
   * @param bytes The next bytes of the capture.
   * @returns The frames they complete.
   * @throws {SyntaxError} For a frame that cannot be decoded.
   *
   * @example Usage
   * ```ts
   * import { CaptureDecoder } from "@sidecar/ipc/cli";
   * import assert from "node:assert/strict";
   *
   * assert.deepEqual(new CaptureDecoder().push(new Uint8Array(4)), []);
   * ```
   */
  push(bytes: Uint8Array): DecodedFrame[] {
    return this.#frames.push(bytes).map((f) => this.#decode(f));
  }

  /**
   * Checks that no partial frame is left, and releases stream decoders.
   *
   * @throws {Error} The framing module's `FramingError` for a partial frame.
   *
   * @example Usage
   * ```ts
   * import { CaptureDecoder } from "@sidecar/ipc/cli";
   * import assert from "node:assert/strict";
   *
   * const d = new CaptureDecoder();
   * d.push(new Uint8Array(3));
   * assert.throws(() => d.finish(), /incomplete frame/);
   * ```
   */
  finish(): void {
    try {
      this.#frames.finish();
    } finally {
      for (const d of this.#streams.values()) d?.close();
      this.#streams.clear();
    }
  }

  #decode(frame: Frame): DecodedFrame {
    const index = this.#index++;
    try {
      return this.#decodeFrame(frame, index);
    } catch (e) {
      const msg = e instanceof Error ? e.message : String(e);
      throw new SyntaxError(
        `Cannot decode frame ${index} (${
          typeName(frame)
        } on stream ${frame.streamId}): ${msg}`,
        { cause: e },
      );
    }
  }

  #decodeFrame(frame: Frame, index: number): DecodedFrame {
    const human = frameToHumanString(frame);
    if (frame.streamFlags & STREAM_FLAG.BEGIN) {
      this.#streams.get(frame.streamId)?.close();
      this.#streams.set(frame.streamId, null);
    }
    const stream = this.#streams.get(frame.streamId) ?? null;
    let payload = frame.payload;
    let encoding: string | null = null;
    if (frame.streamFlags & STREAM_FLAG.ENCODED) {
      if (stream === null) {
        throw new SyntaxError(
          `stream ${frame.streamId} has the encoded flag but no stream-settings frame came first`,
        );
      }
      encoding = stream.name;
      payload = stream.decode(payload);
    }
    const values: CborValue[] = [];
    if (frame.type === FRAME_TYPE.STREAM_SETTINGS) {
      let d = this.#settings.get(frame.streamId);
      if (d === undefined) {
        d = new CborStreamDecoder({ maxByteStringSize: 65536 });
        this.#settings.set(frame.streamId, d);
        this.#settingValues.set(frame.streamId, []);
      }
      const got = d.decode(payload);
      values.push(...got);
      this.#settingValues.get(frame.streamId)!.push(...got);
      if (!(frame.flags & FRAME_FLAG.STREAM_SETTINGS_CONTINUATION)) {
        const all = this.#settingValues.get(frame.streamId)!;
        this.#settings.delete(frame.streamId);
        this.#settingValues.delete(frame.streamId);
        const name = all[0];
        const decoder = createStreamDecoder(
          name instanceof Uint8Array ? TEXT.decode(name) : String(name),
          all.slice(1),
        );
        this.#streams.get(frame.streamId)?.close();
        this.#streams.set(frame.streamId, decoder);
      }
    } else if (frame.type !== FRAME_TYPE.COMMAND_DATA) {
      const key = `${frame.streamId}/${frame.requestId}/${frame.type}`;
      let d = this.#cbor.get(key);
      if (d === undefined) {
        d = new CborStreamDecoder();
        this.#cbor.set(key, d);
      }
      for (const v of d.decode(payload)) {
        if (v instanceof BytestringChunk) {
          const parts = this.#chunks.get(key) ?? [];
          parts.push(v.bytes);
          if (v.isLast) {
            this.#chunks.delete(key);
            values.push(concatBytes(parts));
          } else this.#chunks.set(key, parts);
        } else values.push(v);
      }
      const last = frame.type === FRAME_TYPE.COMMAND_RESPONSE
        ? frame.flags & FRAME_FLAG.COMMAND_RESPONSE_EOS
        : frame.type === FRAME_TYPE.COMMAND_REQUEST
        ? !(frame.flags & FRAME_FLAG.COMMAND_REQUEST_MORE_FRAMES)
        : true;
      if (last) {
        if (d.inValue) {
          throw new SyntaxError(
            "the frame ends its message inside a CBOR value",
          );
        }
        this.#cbor.delete(key);
      }
    }
    if (frame.streamFlags & STREAM_FLAG.END) {
      this.#streams.get(frame.streamId)?.close();
      this.#streams.delete(frame.streamId);
    }
    return { index, frame, human, encoding, payload, values };
  }
}
