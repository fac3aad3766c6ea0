// Copyright 2026 the @sidecar/ipc authors. MIT license.
// deno bench -A framing/client_server_bench.ts
//
// FramingClient against serveConnection over a Unix socket: many small
// calls in flight at once (requests and responses are coalesced into few
// writes), one call at a time, and a response streamed in 32 KiB objects.
import { connect, serve } from "./mod.ts";

const dir = Deno.makeTempDirSync();
const path = `${dir}/bench.sock`;
const blob = new Uint8Array(32768).fill(7);
const server = serve({ transport: "unix", path }, {
  *ping() {
    yield 1;
  },
  *blobs(args) {
    for (let i = 0; i < Number(args.get("n")); i++) yield blob;
  },
}, { encoders: ["identity"] });
const client = await connect({ transport: "unix", path });

async function drain(it: AsyncIterable<unknown>): Promise<void> {
  for await (const _ of it) { /* drain */ }
}

Deno.bench({
  name: "1000 concurrent ping calls",
  group: "calls",
  baseline: true,
  fn: async () => {
    await Promise.all(
      Array.from({ length: 1000 }, () => drain(client.call("ping", {}))),
    );
  },
});
Deno.bench({
  name: "100 sequential ping calls",
  group: "calls",
  fn: async () => {
    for (let i = 0; i < 100; i++) await drain(client.call("ping", {}));
  },
});
Deno.bench({
  name: "one call streaming 100 x 32 KiB",
  group: "stream",
  fn: async () => {
    await drain(client.call("blobs", { n: 100 }));
  },
});

globalThis.addEventListener("unload", () => {
  void client.close();
  void server.close();
});
