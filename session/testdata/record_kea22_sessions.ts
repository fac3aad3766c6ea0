// Copyright 2026 the @sidecar/ipc authors. MIT license.
/**
 * Records `kea22_sessions.json`: socket sessions as Kea 2.2's own
 * `SocketSessionForwarder` (Debian 12's `libkea-util-io.so.0`, through
 * `_test_utils/session/kea_peer.cc` in `send` mode) writes them, captured
 * by a raw CPython receiver (`recvmsg` with `SCM_RIGHTS`, no code of this
 * package), with the endpoints Kea was given. The browser check of
 * `@sidecar/ipc/session/header` (`browser_check.ts`) reads the file.
 *
 * ```sh
 * deno run -A session/testdata/record_kea22_sessions.ts > session/testdata/kea22_sessions.json
 * ```
 *
 * @module
 */
import { keaPeer, startPeer } from "../../_test_utils/session/kea.ts";
import { findPython } from "../../_test_utils/peers.ts";
import { Lines } from "../../_test_utils/connection/python.ts";

/** What Kea pushes: kind and data length (the peer fills `a`..`z`). */
const SPECS = ["tcp4:5", "tcp6:1000", "udp4:1", "udp6:300", "udp4:65535"];

// Accepts one forwarder, reads everything, answers on each passed socket
// (what Kea's peer waits for before its next push), and prints the bytes
// with the offset of each byte that carried an fd: the kernel ends a read
// after the byte an fd came with, so that is the last byte read.
const RECEIVER = `
import json, socket, sys
path = sys.argv[1]
server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
server.bind(path)
server.listen(1)
print(json.dumps({"ready": True}), flush=True)
conn, _ = server.accept()
wire = bytearray()
starts = []
while True:
    data, fds, flags, _ = socket.recv_fds(conn, 1 << 20, 4)
    wire += data
    if fds:
        starts.append(len(wire) - 1)
    for fd in fds:
        s = socket.socket(fileno=fd)
        if s.type == socket.SOCK_STREAM:
            s.send(b"ok")
        else:
            s.sendto(b"ok", s.getsockname())
        s.close()
    if not data and not fds:
        break
print(json.dumps({"wire": wire.hex(), "starts": starts}), flush=True)
`;

const peer = keaPeer();
const python = findPython("3.11");
if (peer === null || python === null) {
  throw new Error("Cannot record: needs kea-common, g++ and python3");
}
const dir = await Deno.makeTempDir({ prefix: "kea22-sessions-" });
try {
  const path = `${dir}/sessions.sock`;
  const receiver = new Deno.Command(python.path, {
    args: ["-c", RECEIVER, path],
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const lines = new Lines(receiver.stdout);
  await lines.next(); // ready
  await using kea = startPeer(peer, ["send", path, ...SPECS]);
  const pushed: Record<string, unknown>[] = [];
  for (const _ of SPECS) pushed.push(await kea.next());
  const { wire, starts } = await lines.json<
    { wire: string; starts: number[] }
  >();
  await receiver.status;
  if (
    starts.length !== SPECS.length ||
    starts.some((at) => wire.slice(at * 2, at * 2 + 2) !== "00")
  ) {
    throw new Error(`Cannot record: fds at ${starts} in ${SPECS.length}`);
  }
  const sessions = pushed.map((p, i) => {
    if (p.reply !== "6f6b") {
      throw new Error(`Kea saw no reply: ${JSON.stringify(p)}`);
    }
    const spec = String(p.spec);
    return {
      spec,
      // The dummy byte that carried the fd, the header, the data.
      wire: wire.slice(starts[i]! * 2, (starts[i + 1] ?? wire.length / 2) * 2),
      family: spec.endsWith("6", 4) ? 10 : 2,
      type: spec.startsWith("tcp") ? 1 : 2,
      protocol: spec.startsWith("tcp") ? 6 : 17,
      // The sockaddrs Kea's peer passed to push(), as it printed them.
      local: p.local,
      remote: p.remote,
      dataLength: Number(spec.slice(5)),
    };
  });
  console.log(JSON.stringify(
    {
      source:
        "Kea 2.2.0 (Debian 12 kea-common) SocketSessionForwarder::push() through _test_utils/session/kea_peer.cc send mode, captured by a raw CPython recvmsg receiver on Linux x86_64 (record_kea22_sessions.ts); data is 'a'..'z' repeated",
      sessions,
    },
    null,
    2,
  ));
} finally {
  await Deno.remove(dir, { recursive: true });
}
