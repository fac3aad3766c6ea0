// Copyright 2026 the @sidecar/ipc authors. MIT license.
/**
 * The Deno side of `compare.ts`, run as child processes:
 *
 * - `recv PATH N`: accept one forwarder, pop N sessions (closing each fd),
 *   print `{"n":N,"seconds":S}` from the first session to the last.
 * - `send PATH N LEN`: push N UDP sessions of LEN bytes (waiting with
 *   `send()` when the receiver lags), print `{"n":N,"seconds":S}`.
 * - `e2e-front PATH`: forward TCP connections on 127.0.0.1 (port printed)
 *   until stdin ends.
 * - `e2e-worker PATH`: answer "ok" on each forwarded connection (adopted
 *   with adoptTcpSession) until the forwarder closes.
 *
 * @module
 */
import {
  adoptTcpSession,
  forwardTcpConnections,
  SocketSessionForwarder,
  SocketSessionListener,
  WouldBlockError,
} from "../mod.ts";

const [mode, path, a, b] = Deno.args;

if (mode === "recv") {
  const n = Number(a);
  using listener = SocketSessionListener.listen(path!, {
    unlinkExisting: true,
  });
  console.log(JSON.stringify({ ready: true }));
  using receiver = await listener.accept();
  let t0 = 0;
  for (let i = 0; i < n; i++) {
    const s = await receiver.pop();
    if (i === 0) t0 = performance.now();
    s.close();
  }
  console.log(JSON.stringify({ n, seconds: (performance.now() - t0) / 1000 }));
} else if (mode === "send") {
  const n = Number(a);
  await using forwarder = new SocketSessionForwarder(path!);
  forwarder.connect();
  const session = {
    fd: 0,
    type: 2,
    protocol: 17,
    local: { hostname: "127.0.0.1", port: 53 },
    remote: { hostname: "192.0.2.2", port: 5300 },
    data: new Uint8Array(Number(b)).fill(0x78),
  };
  let waits = 0;
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    try {
      forwarder.push(session);
    } catch (err) {
      if (!(err instanceof WouldBlockError)) throw err;
      waits++;
      await forwarder.send(session);
    }
  }
  console.log(
    JSON.stringify({ n, seconds: (performance.now() - t0) / 1000, waits }),
  );
} else if (mode === "e2e-front") {
  await using forwarder = new SocketSessionForwarder(path!);
  forwarder.connect();
  await using acceptor = forwardTcpConnections({
    forwarder,
    hostname: "127.0.0.1",
  });
  console.log(JSON.stringify({ port: acceptor.addr.port }));
  for await (const _ of Deno.stdin.readable) {
    // Run until stdin ends.
  }
} else if (mode === "e2e-worker") {
  using listener = SocketSessionListener.listen(path!, {
    unlinkExisting: true,
  });
  console.log(JSON.stringify({ ready: true }));
  using receiver = await listener.accept();
  const ok = new TextEncoder().encode("ok");
  let sessions = 0;
  for await (const session of receiver) {
    sessions++;
    (async () => {
      await using conn = adoptTcpSession(session);
      await conn.write(ok);
    })().catch((err) => console.error(err));
  }
  console.log(JSON.stringify({ sessions }));
} else {
  console.error("usage: _peer.ts recv|send|e2e-front|e2e-worker PATH ...");
  Deno.exit(64);
}
