// Copyright 2026 the @sidecar/ipc authors. MIT license.
/**
 * A connected forwarder/receiver pair over a fresh listener, for the
 * session tests (disposal closes all three), and a stock UDP session.
 *
 * @module
 */
import {
  type OutgoingSession,
  SocketSessionForwarder,
  type SocketSessionForwarderOptions,
} from "../session/forwarder.ts";
import { SocketSessionListener } from "../session/listener.ts";
import type { SocketSessionReceiver } from "../session/receiver.ts";

/** A listener with one forwarder connected to it and its receiver. */
export interface SessionPair extends Disposable {
  listener: SocketSessionListener;
  forwarder: SocketSessionForwarder;
  receiver: SocketSessionReceiver;
}

/** Listens on `dir/name`, connects a forwarder and accepts its receiver. */
export async function sessionPair(
  dir: string,
  name = "s.sock",
  options: SocketSessionForwarderOptions = {},
): Promise<SessionPair> {
  const listener = SocketSessionListener.listen(`${dir}/${name}`);
  const forwarder = new SocketSessionForwarder(`${dir}/${name}`, options);
  forwarder.connect();
  const receiver = await listener.accept();
  return {
    listener,
    forwarder,
    receiver,
    [Symbol.dispose]() {
      forwarder.close();
      receiver.close();
      listener.close();
    },
  };
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
