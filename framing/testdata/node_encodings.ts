// Copyright 2026 the @sidecar/ipc authors. MIT license.
/**
 * Run by `framing/node_runtime_test.ts` in Node (bundled): which stream
 * encodings this runtime has, and which one a server picks for a client
 * that offers zstd first (as Mercurial's client does). Prints one JSON
 * line.
 *
 * @module
 */
import {
  availableStreamEncodings,
  decodeCborAll,
  decodeFrames,
  encodeFrame,
  FRAME_TYPE,
  frameFromHumanString,
  serveConnection,
} from "../mod.ts";
import { createStreamDecoder } from "../stream_encoding.ts";

const up = new TransformStream<Uint8Array, Uint8Array>();
const down = new TransformStream<Uint8Array, Uint8Array>();
const served = serveConnection(
  { readable: up.readable, writable: down.writable },
  {
    async *count(args) {
      for (let i = 0; i < Number(args.get("n")); i++) yield i;
    },
  },
);
const writer = up.writable.getWriter();
for (
  const h of [
    "1 1 stream-begin sender-protocol-settings eos cbor:{b'contentencodings': [b'zstd-8mb', b'zlib', b'identity']}",
    "1 1 0 command-request new cbor:{b'name': b'count', b'args': {b'n': 3}}",
  ]
) await writer.write(encodeFrame(frameFromHumanString(h)));
await writer.close();
const frames = decodeFrames(
  new Uint8Array(await new Response(down.readable).arrayBuffer()),
);
await served;
const settings = frames.find((f) => f.type === FRAME_TYPE.STREAM_SETTINGS);
const chosen = settings === undefined
  ? null
  : new TextDecoder().decode(decodeCborAll(settings.payload)[0] as Uint8Array);
const decoder = createStreamDecoder(chosen ?? "identity");
const values = frames
  .filter((f) => f.type === FRAME_TYPE.COMMAND_RESPONSE)
  .flatMap((f) => decodeCborAll(decoder.decode(f.payload)));
console.log(JSON.stringify({
  available: availableStreamEncodings(),
  chosen,
  values: values.slice(1),
}));
