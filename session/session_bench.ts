// Copyright 2026 the @sidecar/ipc authors. MIT license.
// In-process benchmarks: the codecs, and push + pop over a Unix socket.
// Process-to-process numbers and the Kea comparison: bench/compare.ts.
import { SocketSessionForwarder } from "./forwarder.ts";
import { SocketSessionListener } from "./listener.ts";
import { SessionDecoder } from "./session_decoder.ts";
import { encodeSessionHeader } from "./session_header.ts";
import { encodeSockaddr } from "./sockaddr.ts";

const local = encodeSockaddr({ hostname: "127.0.0.1", port: 53 });
const remote = encodeSockaddr({ hostname: "192.0.2.2", port: 5300 });
const header = encodeSessionHeader({
  family: 2,
  type: 2,
  protocol: 17,
  local,
  remote,
  dataLength: 64,
});
const wire = new Uint8Array([0, ...header, ...new Uint8Array(64)]);

Deno.bench({
  group: "codec",
  name: "encodeSessionHeader (IPv4)",
  fn: () => {
    encodeSessionHeader({
      family: 2,
      type: 2,
      protocol: 17,
      local,
      remote,
      dataLength: 64,
    });
  },
});

Deno.bench({
  group: "codec",
  name: "SessionDecoder, one 64 B session",
  fn: () => {
    const d = new SessionDecoder();
    let o = 0;
    while (o < wire.length) {
      const n = d.needed;
      d.feed(wire.subarray(o, o + n));
      o += n;
    }
  },
});

const dir = Deno.makeTempDirSync();
const listener = SocketSessionListener.listen(`${dir}/bench.sock`);
const forwarder = new SocketSessionForwarder(`${dir}/bench.sock`);
forwarder.connect();
const receiver = await listener.accept();

for (const size of [64, 4096]) {
  const session = {
    fd: 0,
    type: 2,
    protocol: 17,
    local,
    remote,
    data: new Uint8Array(size),
  };
  Deno.bench({
    group: "socket",
    name: `push + pop, ${size} B data (same process)`,
    async fn() {
      forwarder.push(session);
      (await receiver.pop()).close();
    },
  });
}

globalThis.addEventListener("unload", () => {
  forwarder.close();
  receiver.close();
  listener.close();
  Deno.removeSync(dir, { recursive: true });
});
