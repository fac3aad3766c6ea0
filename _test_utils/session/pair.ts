// Copyright 2026 the @sidecar/ipc authors. MIT license.
/**
 * A connected forwarder/receiver pair over a fresh listener, for the
 * session tests (`await using` closes all three: the receiver first, so a
 * forwarder with sessions still queued does not wait for it; what that
 * loses is the test's business, not the disposal's), and a stock UDP
 * session.
 *
 * @module
 */
import {
  type OutgoingSession,
  SocketSessionForwarder,
  type SocketSessionForwarderOptions,
} from "../../session/forwarder.ts";
import { SocketSessionListener } from "../../session/listener.ts";
import { fdTrace, P, setIntOption } from "../../session/_libc.ts";
import type { SocketSessionReceiver } from "../../session/receiver.ts";

/** A listener with one forwarder connected to it and its receiver. */
export interface SessionPair extends AsyncDisposable {
  listener: SocketSessionListener;
  forwarder: SocketSessionForwarder;
  receiver: SocketSessionReceiver;
}

/**
 * Listens on `dir/name`, connects a forwarder and accepts its receiver.
 * `sendBuffer` sets the forwarder socket's `SO_SNDBUF` after it connected
 * (the kernel doubles it), so that how much the kernel takes does not
 * depend on the machine's default.
 */
export async function sessionPair(
  dir: string,
  name = "s.sock",
  options: SocketSessionForwarderOptions = {},
  test: { sendBuffer?: number } = {},
): Promise<SessionPair> {
  const listener = SocketSessionListener.listen(`${dir}/${name}`);
  const forwarder = new SocketSessionForwarder(`${dir}/${name}`, options);
  connectWithSendBuffer(forwarder, test.sendBuffer);
  const receiver = await listener.accept();
  return {
    listener,
    forwarder,
    receiver,
    async [Symbol.asyncDispose]() {
      receiver.close();
      listener.close();
      await forwarder.close().catch(() => {});
    },
  };
}

/**
 * Connects `forwarder`, then (when `sendBuffer` is given) sets its socket's
 * `SO_SNDBUF` (the kernel doubles it), so that how much the kernel takes
 * does not depend on the machine's default.
 */
export function connectWithSendBuffer(
  forwarder: SocketSessionForwarder,
  sendBuffer?: number,
): void {
  const opened: number[] = [];
  fdTrace.hook = (fd) => opened.push(fd);
  try {
    forwarder.connect();
  } finally {
    fdTrace.hook = null;
  }
  if (sendBuffer === undefined) return;
  // connect() opens the forwarder's socket (and maybe the poller's pipe,
  // which is no socket: setsockopt fails there).
  let set = 0;
  for (const fd of opened) {
    try {
      setIntOption(fd, P.SOL_SOCKET, P.SO_SNDBUF, sendBuffer);
      set++;
    } catch {
      // Not a socket.
    }
  }
  if (set !== 1) throw new Error(`expected one forwarder socket, set ${set}`);
}

/**
 * A UDP session from 127.0.0.1:2 to 127.0.0.1:1 carrying `data` and `fd`
 * (by default stdin: any open fd will do, the receiver gets a copy).
 */
export function udpSession(data: Uint8Array, fd = 0): OutgoingSession {
  return {
    fd,
    type: 2,
    protocol: 17,
    local: { hostname: "127.0.0.1", port: 1 },
    remote: { hostname: "127.0.0.1", port: 2 },
    data,
  };
}
