// Copyright 2026 the @sidecar/ipc authors. MIT license.

import { nextBackoff } from "../_internal/accept_error.ts";
import {
  Acceptor,
  bindSocket,
  controllerFor,
  dataLimit,
  errorReporter,
  pause,
  survive,
} from "./_acceptor.ts";
import {
  drainErrorQueue,
  EAGAIN,
  EINTR,
  errno,
  libc,
  P,
  socketName,
} from "./_libc.ts";
import { poller } from "./_poller.ts";
import type { AcceptorOptions, SessionAcceptor } from "./acceptor.ts";
import { MAX_DATA_SIZE } from "./session_header.ts";

/**
 * Receives UDP datagrams on `hostname:port` and forwards each as a session
 * whose fd is the bound UDP socket itself (the receiver answers with
 * `sendto` on its copy), its local address and the sender's address.
 *
 * Like the TCP acceptor it survives receive errors: an ICMP error queued on
 * the socket (`ECONNREFUSED`, ..., reported when a receiver turned on
 * `IP_RECVERR` on its copy and answered a closed port) goes to `onError`
 * and receiving goes on; `ENOMEM`/`ENOBUFS` back off as for TCP; only
 * `EBADF`, `EINVAL` or `ENOTSOCK` stop it (`finished` rejects).
 *
 * @param options Address, forwarder, limits.
 * @returns The running acceptor.
 *
 * @example Usage
 * ```ts
 * import { forwardUdpDatagrams, SocketSessionForwarder, SocketSessionListener } from "@sidecar/ipc/session";
 * import dgram from "node:dgram";
 * import assert from "node:assert/strict";
 *
 * const path = `${await Deno.makeTempDir()}/u.sock`;
 * using listener = SocketSessionListener.listen(path);
 * await using forwarder = new SocketSessionForwarder(path);
 * forwarder.connect();
 * using receiver = await listener.accept();
 * await using acceptor = forwardUdpDatagrams({ forwarder });
 * const client = dgram.createSocket("udp4");
 * client.send("query", acceptor.addr.port, "127.0.0.1");
 * using session = await receiver.pop();
 * assert.equal(new TextDecoder().decode(session.data), "query");
 * assert.equal(session.type, 2);
 * client.close();
 * ```
 */
export function forwardUdpDatagrams(options: AcceptorOptions): SessionAcceptor {
  const max = dataLimit(options);
  const fd = bindSocket(options, P.SOCK_DGRAM);
  const controller = controllerFor(options.signal);
  const signal = controller.signal;
  const { report, rethrow } = errorReporter(options, controller);
  const local = socketName(fd, false);
  const buf = new Uint8Array(MAX_DATA_SIZE);
  const from = new Uint8Array(128);
  const fromLen = new Uint32Array(1);
  return new Acceptor(fd, controller, async (count) => {
    let backoff = 0;
    let lastEvents = 0;
    while (!signal.aborted) {
      fromLen[0] = 128;
      const n = Number(
        libc.recvfrom(
          fd,
          buf,
          BigInt(buf.length),
          P.MSG_DONTWAIT,
          from,
          fromLen,
        ),
      );
      if (n > 0) {
        backoff = 0;
        try {
          await options.forwarder.send({
            fd,
            type: P.SOCK_DGRAM,
            protocol: 17,
            local,
            remote: from.slice(0, fromLen[0]!),
            data: buf.slice(0, Math.min(n, max)),
          }, { signal });
          count();
        } catch (err) {
          if (signal.aborted) break;
          report(err);
        }
        continue;
      }
      if (n === 0) continue;
      const e = errno();
      if (e === EINTR) continue;
      if (e !== EAGAIN) {
        if (survive("receive datagram", e, report) === "backoff") {
          await pause(backoff = nextBackoff(backoff), signal).done;
        }
        continue;
      }
      try {
        // POLLERR with nothing to read: an ICMP error queued on the socket
        // (reported by the receive above): take it off, or every wait
        // would end at once.
        if ((lastEvents & P.POLLERR) !== 0) drainErrorQueue(fd);
        lastEvents = await poller.wait(fd, P.POLLIN, { signal });
      } catch (err) {
        if (signal.aborted) break;
        throw err;
      }
    }
    rethrow();
  });
}
