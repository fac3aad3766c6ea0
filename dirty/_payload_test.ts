// Copyright 2026 the @sidecar/ipc authors. MIT license.
import assert from "node:assert/strict";
import fc from "fast-check";
import { tlvValue } from "../_test_utils/dirty/values.ts";
import { decodeFramePayload } from "./_payload.ts";
import { decodeMessage } from "./message_decoder.ts";
import { encodeHeader } from "./header.ts";
import { encodeTlv } from "./tlv_encoder.ts";
import type { TlvDecodeOptions } from "./tlv.ts";

const OPTIONS: TlvDecodeOptions[] = [
  {},
  { dict: "object", float: "tagged" },
  { float: "tagged" },
];

/** What a call gives: its value, or its error's class and message. */
function outcome(fn: () => unknown): unknown {
  try {
    return { value: fn() };
  } catch (e) {
    return { error: (e as Error).constructor.name, message: String(e) };
  }
}

Deno.test("_payload: decodeFramePayload gives decodeMessage's payload, or its error", () => {
  fc.assert(
    fc.property(
      tlvValue,
      fc.integer({ min: 0, max: 2 }),
      fc.option(fc.nat(), { nil: undefined }),
      (value, o, cut) => {
        let payload: Uint8Array = encodeTlv(value);
        // A payload cut short (or emptied) as well as whole ones.
        if (cut !== undefined) {
          payload = payload.subarray(0, cut % payload.length);
        }
        const frame = new Uint8Array(16 + payload.length);
        frame.set(encodeHeader("request", 7n, payload.length));
        frame.set(payload, 16);
        const options = OPTIONS[o]!;
        assert.deepEqual(
          outcome(() => decodeFramePayload(frame, options)),
          outcome(() => decodeMessage(frame, options).payload),
        );
      },
    ),
    { numRuns: 500 },
  );
});
