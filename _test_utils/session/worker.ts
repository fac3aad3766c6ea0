// Copyright 2026 the @sidecar/ipc authors. MIT license.
/**
 * Worker process of the two-process session test: receives sessions on a
 * Unix path and answers each client with `<length>:<checksum>` of the
 * length-prefixed message it sent (TCP: adopted with node:net, reading the
 * rest after the session's data; UDP: sendto on the passed socket).
 *
 * Prints `{"ready":true,"fds":N}` and, after the forwarder closed and every
 * answer went out, `{"fds":N,"sessions":K,"errors":[...]}`.
 *
 * @module
 */
import {
  adoptTcpSession,
  sendDatagram,
  type SocketSession,
  SocketSessionListener,
} from "../../session/mod.ts";
import {
  openRuntimeSignalSockets,
  socketAndPipeCount,
  socketAndPipeCountNear,
} from "../sockets.ts";
import { concatBytes } from "../../_internal/bytes.ts";

/** `<length>:<checksum>` of a message: u32 length, then that many bytes. */
export function answerFor(message: Uint8Array): string {
  let sum = 0;
  for (let i = 4; i < message.length; i++) sum = (sum * 31 + message[i]!) >>> 0;
  return `${message.length - 4}:${sum}`;
}

function expectedLength(prefix: Uint8Array): number {
  return 4 +
    new DataView(prefix.buffer, prefix.byteOffset, 4).getUint32(0, false);
}

async function answerTcp(session: SocketSession): Promise<void> {
  await using conn = adoptTcpSession(session);
  const parts: Uint8Array[] = [conn.data];
  let have = conn.data.length;
  const reader = conn.readable.getReader();
  while (have < 4 || have < expectedLength(concat(parts))) {
    const r = await reader.read();
    if (r.done) {
      throw new Error(
        `Cannot read message: connection ended after ${have} bytes`,
      );
    }
    parts.push(r.value);
    have += r.value.length;
  }
  reader.releaseLock();
  const writer = conn.writable.getWriter();
  await writer.write(new TextEncoder().encode(answerFor(concat(parts))));
  await writer.close();
}

/** The parts joined, kept as one part for the next call. */
function concat(parts: Uint8Array[]): Uint8Array {
  const out = concatBytes(parts);
  parts.splice(0, parts.length, out);
  return out;
}

if (import.meta.main) {
  const listener = SocketSessionListener.listen(Deno.args[0]!);
  const accepted = listener.accept();
  // Deno opens sockets of its own for signal handling about half a second
  // after it starts: open them now, before the count.
  openRuntimeSignalSockets();
  const ready = socketAndPipeCount();
  console.log(JSON.stringify({ ready: true, fds: ready }));
  const receiver = await accepted;
  const handlers: Promise<void>[] = [];
  const errors: string[] = [];
  let sessions = 0;
  for await (const session of receiver) {
    sessions++;
    if (session.type === 1) {
      handlers.push(
        answerTcp(session).catch((e) => void errors.push(String(e))),
      );
    } else {
      try {
        sendDatagram(
          session,
          new TextEncoder().encode(answerFor(session.data)),
        );
      } catch (e) {
        errors.push(String(e));
      } finally {
        session.close();
      }
    }
  }
  await Promise.all(handlers);
  receiver.close();
  // The state of the ready line again: an accept() pending.
  const accepting = listener.accept().catch(() => {});
  console.log(
    JSON.stringify({
      fds: await socketAndPipeCountNear(ready),
      sessions,
      errors: errors.slice(0, 5),
    }),
  );
  listener.close();
  await accepting;
}
