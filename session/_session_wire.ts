// Copyright 2026 the @sidecar/ipc authors. MIT license.
// This module is browser compatible.
/**
 * The bytes of one outgoing socket session, as the forwarder sends them in
 * one `sendmsg`: the dummy byte that carries the fd, the header, the data.
 *
 * @module
 */

import {
  MAX_DATA_SIZE,
  MAX_HEADER_LENGTH,
  writeSessionHeader,
} from "./session_header.ts";
import {
  encodeSockaddr,
  sockaddrFamily,
  type SocketAddress,
} from "./sockaddr.ts";

/** A session to forward. */
export interface OutgoingSession {
  /** The socket fd to pass; the caller keeps its own copy and closes it when it likes. */
  fd: number;
  /** Address family; defaults to the local endpoint's. @default {undefined} */
  family?: number;
  /** Socket type (`SOCK_STREAM` 1, `SOCK_DGRAM` 2). */
  type: number;
  /** Protocol (`IPPROTO_TCP` 6, `IPPROTO_UDP` 17). */
  protocol: number;
  /** Local endpoint: an address or a raw sockaddr image. */
  local: SocketAddress | Uint8Array;
  /** Remote endpoint: an address or a raw sockaddr image. */
  remote: SocketAddress | Uint8Array;
  /** The data already read (1..65535 bytes). */
  data: Uint8Array;
}

/** The most bytes one session takes on the wire. */
export const MAX_SESSION_WIRE_SIZE = 1 + 2 + MAX_HEADER_LENGTH + MAX_DATA_SIZE;

/**
 * Writes `session`'s wire bytes (dummy byte, header, data) at the start of
 * `out` (at least {@linkcode MAX_SESSION_WIRE_SIZE} bytes).
 *
 * @param session The session.
 * @param out Where to write.
 * @returns The byte count.
 * @throws {TypeError} For a bad family, endpoints or fd.
 * @throws {RangeError} When the data is empty or longer than 65535 bytes.
 */
export function writeSessionWire(
  session: OutgoingSession,
  out: Uint8Array,
): number {
  const local = session.local instanceof Uint8Array
    ? session.local
    : encodeSockaddr(session.local);
  const remote = session.remote instanceof Uint8Array
    ? session.remote
    : encodeSockaddr(session.remote);
  const n = writeSessionHeader(
    {
      family: session.family ?? sockaddrFamily(local),
      type: session.type,
      protocol: session.protocol,
      local,
      remote,
      dataLength: session.data.length,
    },
    out,
    1,
  );
  if (!Number.isInteger(session.fd) || session.fd < 0) {
    throw new TypeError(
      `Cannot push socket session: fd ${session.fd} is not a file descriptor`,
    );
  }
  out[0] = 0;
  out.set(session.data, 1 + n);
  return 1 + n + session.data.length;
}
