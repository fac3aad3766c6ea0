// Copyright 2026 the @sidecar/ipc authors. MIT license.
/**
 * A connected forwarder/receiver pair over a fresh listener, for the
 * session tests; disposal closes all three.
 *
 * @module
 */
import {
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
