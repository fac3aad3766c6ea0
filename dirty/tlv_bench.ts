// Copyright 2026 the @sidecar/ipc authors. MIT license.
import { typicalRequest, typicalResponse } from "./bench/typical.ts";
import { decodeMessage } from "./message_decoder.ts";
import { encodeFrame } from "./message_encoders.ts";
import { decodeTlv } from "./tlv_decoder.ts";
import { encodeTlv } from "./tlv_encoder.ts";

const request = typicalRequest();
const response = typicalResponse();
const requestBytes = encodeTlv(request);
const responseBytes = encodeTlv(response);
const frameBytes = encodeFrame("response", 1n, response);

Deno.bench(
  "encodeTlv typical request",
  { group: "encode", baseline: true },
  () => {
    encodeTlv(request);
  },
);
Deno.bench("encodeTlv typical response", { group: "encode" }, () => {
  encodeTlv(response);
});
Deno.bench("encodeFrame typical response", { group: "encode" }, () => {
  encodeFrame("response", 1n, response);
});
Deno.bench("decodeTlv typical request (Map)", {
  group: "decode",
  baseline: true,
}, () => {
  decodeTlv(requestBytes);
});
Deno.bench("decodeTlv typical response (object)", { group: "decode" }, () => {
  decodeTlv(responseBytes, { dict: "object" });
});
Deno.bench("decodeMessage typical response", { group: "decode" }, () => {
  decodeMessage(frameBytes);
});
