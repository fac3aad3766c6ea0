// Copyright 2026 the @sidecar/ipc authors. MIT license.
// This module is browser compatible.
/**
 * The round-trip check of `@sidecar/ipc/dirty/tlv` that
 * `tools/browser_codecs_test.ts` bundles for the browser and runs in Node
 * and in headless Chromium, on what gunicorn 26.1.0 produced
 * (`dirty-vectors.json`): every TLV value and every whole message decodes
 * and re-encodes byte for byte (also through the push decoder fed one byte
 * at a time), and every malformed TLV input fails with gunicorn's message.
 *
 * @module
 */
import vectors from "./dirty-vectors.json" with { type: "json" };
import {
  decodeMessage,
  decodeTlv,
  DirtyFloat,
  DirtyMessageDecoder,
  DirtyProtocolError,
  encodeFrame,
  encodeTlv,
  parseFrame,
} from "@sidecar/ipc/dirty/tlv";
import { expectEqual } from "../../_test_utils/codec_check.ts";
import { fromHex, toHex } from "../../_test_utils/hex.ts";

interface Vector {
  kind: string;
  name: string;
  hex: string;
  "decoded_type"?: string;
  "error_message"?: string;
}

const EXACT = { float: "tagged" } as const;

/** Runs the check; throws on the first mismatch. */
export function check(): string {
  const list = vectors as Vector[];
  let values = 0;
  let messages = 0;
  let errors = 0;
  for (const v of list) {
    const bytes = fromHex(v.hex);
    if (v.kind === "tlv") {
      const value = decodeTlv(bytes, EXACT);
      expectEqual(toHex(encodeTlv(value)), v.hex, `${v.name}: re-encoded`);
      values++;
    } else if (v.kind === "message") {
      const frame = decodeMessage(bytes, EXACT);
      expectEqual(frame.type, v.decoded_type, `${v.name}: type`);
      expectEqual(
        frame.id,
        new DataView(bytes.buffer).getBigUint64(8),
        `${v.name}: id`,
      );
      const again = frame.type === "end" || frame.type === "status"
        ? encodeFrame(frame.type, frame.id)
        : encodeFrame(frame.type, frame.id, frame.payload);
      expectEqual(toHex(again), v.hex, `${v.name}: re-encoded`);
      const decoder = new DirtyMessageDecoder(EXACT);
      const pushed = [];
      for (let i = 0; i < bytes.length; i++) {
        pushed.push(...decoder.push(bytes.subarray(i, i + 1)));
      }
      expectEqual(pushed.length, 1, `${v.name}: frames pushed byte by byte`);
      expectEqual(pushed[0]!.type, frame.type, `${v.name}: pushed type`);
      messages++;
    } else if (v.kind === "tlv_decode_error") {
      let error: unknown = null;
      try {
        decodeTlv(bytes);
      } catch (e) {
        error = e;
      }
      expectEqual(
        error instanceof DirtyProtocolError,
        true,
        `${v.name}: throws DirtyProtocolError (${String(error)})`,
      );
      expectEqual(
        (error as Error).message,
        v.error_message,
        `${v.name}: message`,
      );
      errors++;
    }
  }
  // Integral floats keep their type; int64 beyond 2^53 stays a bigint.
  const float = decodeTlv(fromHex("063ff0000000000000"), EXACT);
  expectEqual(float instanceof DirtyFloat, true, "1.0 decodes as DirtyFloat");
  expectEqual(
    decodeTlv(fromHex("057fffffffffffffff")),
    2n ** 63n - 1n,
    "int64",
  );
  const request = parseFrame(decodeMessage(fromHex(
    list.find((v) => v.name === "request_full")?.hex ?? "",
  )));
  expectEqual(request.type, "request", "request_full parses as a request");
  return `${values} TLV values, ${messages} messages and ${errors} malformed inputs from gunicorn 26.1.0 behave byte for byte`;
}
