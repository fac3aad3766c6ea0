// Copyright 2026 the @sidecar/ipc authors. MIT license.
/**
 * Front process of the two-process session test: accepts TCP connections
 * and UDP datagrams on IPv4 and IPv6 loopback and forwards each to the
 * worker's Unix path. Prints `{"ready":true,"tcp4":P,...,"fds":N}`; on a
 * line on stdin prints `{"fds":N,"forwarded":K,"errors":[...]}`; exits when
 * stdin ends.
 *
 * @module
 */
import {
  forwardTcpConnections,
  forwardUdpDatagrams,
  SocketSessionForwarder,
} from "../../session/mod.ts";
import {
  openRuntimeSignalSockets,
  socketAndPipeCount,
  socketAndPipeCountNear,
} from "../sockets.ts";
import { stdinReadStarted } from "../child.ts";

if (import.meta.main) {
  const forwarder = new SocketSessionForwarder(Deno.args[0]!);
  forwarder.connect();
  const errors: string[] = [];
  const onError = (e: unknown): void => void errors.push(String(e));
  const acceptors = {
    tcp4: forwardTcpConnections({ forwarder, hostname: "127.0.0.1", onError }),
    tcp6: forwardTcpConnections({ forwarder, hostname: "::1", onError }),
    udp4: forwardUdpDatagrams({ forwarder, hostname: "127.0.0.1", onError }),
    udp6: forwardUdpDatagrams({ forwarder, hostname: "::1", onError }),
  };
  // Run until the test closes our stdin (started before counting: reading
  // stdin opens fds of its own).
  const reportNow = Promise.withResolvers<void>();
  const stdinDone = (async () => {
    for await (const chunk of Deno.stdin.readable) {
      if (chunk.includes(10)) reportNow.resolve();
    }
    reportNow.resolve();
  })();
  // Deno opens sockets of its own for signal handling about half a second
  // after it starts, and an fd to read stdin with once the read started:
  // both before the count.
  openRuntimeSignalSockets();
  await stdinReadStarted();
  const ports = Object.fromEntries(
    Object.entries(acceptors).map(([k, a]) => [k, a.addr.port]),
  );
  const ready = socketAndPipeCount();
  console.log(JSON.stringify({ ready: true, ...ports, fds: ready }));
  // A line on stdin asks for the report (stdin stays open, so the fds that
  // reading it uses are the same as at the start); its end stops us.
  await reportNow.promise;
  const forwarded = Object.values(acceptors).reduce(
    (n, a) => n + a.forwarded,
    0,
  );
  console.log(
    JSON.stringify({
      fds: await socketAndPipeCountNear(ready),
      forwarded,
      errors: errors.slice(0, 5),
    }),
  );
  await stdinDone;
  for (const a of Object.values(acceptors)) await a.close();
  forwarder.close();
}
