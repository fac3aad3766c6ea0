// Copyright 2026 the @sidecar/ipc authors. MIT license.
// This module is browser compatible.

/**
 * The socket session header codec (BIND 10 `socketsession`): a big-endian
 * `u16` header length (not counting itself), then `u32` family, type,
 * protocol, the local and remote sockaddr images each after its `u32`
 * length, and the `u32` data length.
 *
 * @module
 */

import { SocketSessionError } from "./errors.ts";
import {
  SOCKADDR_IN6_SIZE,
  SOCKADDR_IN_SIZE,
  SOCKADDR_PLATFORMS,
  SOCKADDR_STORAGE_SIZE,
  sockaddrFamily,
  sockaddrLength,
  type SockaddrOptions,
} from "./sockaddr.ts";

/**
 * Largest header length the receiver accepts: 2 + 6 × 4 + 2 × 128 = 282.
 *
 * @example Usage
 * ```ts
 * import { checkHeaderLength, MAX_HEADER_LENGTH } from "@sidecar/ipc/session";
 * import assert from "node:assert/strict";
 *
 * assert.equal(checkHeaderLength(MAX_HEADER_LENGTH), 282);
 * ```
 */
export const MAX_HEADER_LENGTH = 282;
/**
 * Largest (and the receiver's bound for) session data: 65535 bytes.
 *
 * @example Usage
 * ```ts
 * import { MAX_DATA_SIZE } from "@sidecar/ipc/session";
 * import assert from "node:assert/strict";
 *
 * assert.equal(MAX_DATA_SIZE, 0xffff);
 * ```
 */
export const MAX_DATA_SIZE = 65535;
/**
 * BIND 10's `SOCKSESSION_BUFSIZE`: the send/receive buffer floor, 131634.
 *
 * @example Usage
 * ```ts
 * import { SOCKET_SESSION_BUFSIZE } from "@sidecar/ipc/session";
 * import assert from "node:assert/strict";
 *
 * assert.equal(SOCKET_SESSION_BUFSIZE, 131634);
 * ```
 */
export const SOCKET_SESSION_BUFSIZE: number =
  (MAX_HEADER_LENGTH + MAX_DATA_SIZE) * 2;

/** A decoded session header. */
export interface SessionHeader {
  /** Address family of the passed socket (native `AF_*` value). */
  family: number;
  /** Socket type (`SOCK_STREAM` 1, `SOCK_DGRAM` 2). */
  type: number;
  /** Protocol (`IPPROTO_TCP` 6, `IPPROTO_UDP` 17). */
  protocol: number;
  /** Raw local sockaddr image, exactly as on the wire. */
  local: Uint8Array;
  /** Raw remote sockaddr image, exactly as on the wire. */
  remote: Uint8Array;
  /** Length of the data that follows the header. */
  dataLength: number;
}

function familyName(family: number, options?: SockaddrOptions): string {
  const p = SOCKADDR_PLATFORMS[options?.os ?? "linux"];
  return family === p.inet
    ? "IPv4"
    : family === p.inet6
    ? "IPv6"
    : String(family);
}

/**
 * Encodes a session header, with its 2-byte length prefix, after the checks
 * BIND 10's `push()` makes. Each sockaddr is cut to the length its family
 * implies (16 or 28), as BIND 10 sends it.
 *
 * @param header The header fields; `local`/`remote` are raw sockaddr images.
 * @param options The OS layout.
 * @returns The encoded header: 58 bytes for IPv4, 82 for IPv6.
 * @throws {TypeError} When an endpoint is not IPv4/IPv6, too short, or its family differs from `family`.
 * @throws {RangeError} When `dataLength` is not 1..65535.
 *
 * @example Usage
 * ```ts
 * import { encodeSessionHeader, encodeSockaddr } from "@sidecar/ipc/session";
 * import assert from "node:assert/strict";
 *
 * const header = encodeSessionHeader({
 *   family: 2,
 *   type: 2,
 *   protocol: 17,
 *   local: encodeSockaddr({ hostname: "127.0.0.1", port: 53535 }),
 *   remote: encodeSockaddr({ hostname: "192.0.2.2", port: 5300 }),
 *   dataLength: 11,
 * });
 * assert.equal(header.length, 58);
 * assert.deepEqual([...header.subarray(0, 2)], [0x00, 0x38]);
 * ```
 */
export function encodeSessionHeader(
  header: SessionHeader,
  options?: SockaddrOptions,
): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(sessionHeaderLength(header, options));
  writeSessionHeader(header, out, 0, options);
  return out;
}

/** Checks `header` and returns its encoded length (58 or 82 bytes). */
function sessionHeaderLength(
  header: SessionHeader,
  options?: SockaddrOptions,
): number {
  const localFamily = sockaddrFamily(header.local, options);
  const remoteFamily = sockaddrFamily(header.remote, options);
  const localLength = sockaddrLength(localFamily, options);
  const remoteLength = sockaddrLength(remoteFamily, options);
  if (localLength < 0 || remoteLength < 0) {
    throw new TypeError(
      `Cannot push socket session: invalid address family ${localFamily}, ${remoteFamily}, must be IPv4 or IPv6`,
    );
  }
  if (header.family !== localFamily || header.family !== remoteFamily) {
    throw new TypeError(
      `Cannot push socket session: inconsistent address family ${localFamily}, ${remoteFamily}, must be ${
        familyName(header.family, options)
      }`,
    );
  }
  if (
    header.local.length < localLength || header.remote.length < remoteLength
  ) {
    throw new TypeError(
      `Cannot push socket session: sockaddr of ${header.local.length}/${header.remote.length} bytes is too short`,
    );
  }
  const n = header.dataLength;
  if (!Number.isInteger(n) || n < 1 || n > MAX_DATA_SIZE) {
    throw new RangeError(
      `Cannot push socket session: data size ${n}, must be > 0 and <= ${MAX_DATA_SIZE}`,
    );
  }
  return 2 + 4 * 6 + localLength + remoteLength;
}

function putU32(out: Uint8Array, o: number, v: number): void {
  out[o] = v >>> 24;
  out[o + 1] = (v >>> 16) & 0xff;
  out[o + 2] = (v >>> 8) & 0xff;
  out[o + 3] = v & 0xff;
}

/**
 * Encodes a session header into `out` at `offset`, with the same checks
 * as {@linkcode encodeSessionHeader}, without allocating (the forwarder
 * writes each session straight into its send buffer this way).
 *
 * @param header The header fields; `local`/`remote` are raw sockaddr images.
 * @param out Where to write (room for 58 or 82 bytes at `offset`).
 * @param offset Where the header starts in `out`.
 * @param options The OS layout.
 * @returns The header's length in bytes.
 * @throws {TypeError} When an endpoint is not IPv4/IPv6, too short, or its family differs from `family`.
 * @throws {RangeError} When `dataLength` is not 1..65535, or `out` is too short.
 *
 * @example Usage
 * ```ts
 * import { encodeSessionHeader, encodeSockaddr, writeSessionHeader } from "@sidecar/ipc/session";
 * import assert from "node:assert/strict";
 *
 * const header = {
 *   family: 2,
 *   type: 2,
 *   protocol: 17,
 *   local: encodeSockaddr({ hostname: "127.0.0.1", port: 53535 }),
 *   remote: encodeSockaddr({ hostname: "192.0.2.2", port: 5300 }),
 *   dataLength: 11,
 * };
 * const out = new Uint8Array(100);
 * const n = writeSessionHeader(header, out, 1);
 * assert.equal(n, 58);
 * assert.deepEqual(out.subarray(1, 1 + n), encodeSessionHeader(header));
 * ```
 */
export function writeSessionHeader(
  header: SessionHeader,
  out: Uint8Array,
  offset: number,
  options?: SockaddrOptions,
): number {
  const total = sessionHeaderLength(header, options);
  if (offset < 0 || offset + total > out.length) {
    throw new RangeError(
      `Cannot encode session header: ${total} bytes do not fit at ${offset} of ${out.length}`,
    );
  }
  // Both endpoints have the header's family (checked), so one length.
  const localLength = (total - 2 - 24) / 2;
  const remoteLength = localLength;
  let o = offset;
  out[o] = (total - 2) >> 8;
  out[o + 1] = (total - 2) & 0xff;
  putU32(out, o + 2, header.family >>> 0);
  putU32(out, o + 6, header.type >>> 0);
  putU32(out, o + 10, header.protocol >>> 0);
  o += 14;
  putU32(out, o, localLength);
  out.set(
    localLength === header.local.length
      ? header.local
      : header.local.subarray(0, localLength),
    o + 4,
  );
  o += 4 + localLength;
  putU32(out, o, remoteLength);
  out.set(
    remoteLength === header.remote.length
      ? header.remote
      : header.remote.subarray(0, remoteLength),
    o + 4,
  );
  o += 4 + remoteLength;
  putU32(out, o, header.dataLength);
  return total;
}

/**
 * Checks the 2-byte header length field as the BIND 10 receiver does.
 *
 * @param value The decoded header length.
 * @returns The same value.
 * @throws {SocketSessionError} `HEADER_TOO_LARGE` when it exceeds 282.
 *
 * @example Usage
 * ```ts
 * import { checkHeaderLength, SocketSessionError } from "@sidecar/ipc/session";
 * import assert from "node:assert/strict";
 *
 * assert.equal(checkHeaderLength(56), 56);
 * assert.throws(() => checkHeaderLength(0xffff), SocketSessionError);
 * ```
 */
export function checkHeaderLength(value: number): number {
  if (value > MAX_HEADER_LENGTH) {
    throw new SocketSessionError(
      "HEADER_TOO_LARGE",
      `Cannot receive session: too large header length ${value}`,
    );
  }
  return value;
}

/**
 * Decodes and validates a header body (the bytes after the length field),
 * in the order and with the error kinds of BIND 10's `pop()`.
 *
 * @param body The header body.
 * @param options The OS layout.
 * @returns The header; the sockaddr images are copies.
 * @throws {SocketSessionError} With code `HEADER_TOO_LARGE`, `UNSUPPORTED_FAMILY`,
 * `INVALID_LOCAL_LENGTH`, `INVALID_REMOTE_LENGTH`, `FAMILY_INCONSISTENT`,
 * `INVALID_DATA_SIZE` or `BOGUS_HEADER` (a field runs past the body).
 *
 * @example Usage
 * ```ts
 * import { decodeSessionHeader, encodeSessionHeader, encodeSockaddr } from "@sidecar/ipc/session";
 * import assert from "node:assert/strict";
 *
 * const local = encodeSockaddr({ hostname: "::1", port: 53 });
 * const remote = encodeSockaddr({ hostname: "2001:db8::1", port: 5300 });
 * const bytes = encodeSessionHeader({ family: 10, type: 1, protocol: 6, local, remote, dataLength: 3 });
 * const header = decodeSessionHeader(bytes.subarray(2));
 * assert.equal(header.dataLength, 3);
 * assert.deepEqual(header.remote, remote);
 * ```
 */
export function decodeSessionHeader(
  body: Uint8Array,
  options?: SockaddrOptions,
): SessionHeader {
  checkHeaderLength(body.length);
  const p = SOCKADDR_PLATFORMS[options?.os ?? "linux"];
  const view = new DataView(body.buffer, body.byteOffset, body.byteLength);
  let o = 0;
  const bogus = (): SocketSessionError =>
    new SocketSessionError(
      "BOGUS_HEADER",
      `Cannot receive session: bogus header, read beyond end of ${body.length}-byte buffer`,
    );
  const u32 = (): number => {
    if (o + 4 > body.length) throw bogus();
    const v = view.getUint32(o, false);
    o += 4;
    return v;
  };
  const bytes = (n: number): Uint8Array => {
    if (o + n > body.length) throw bogus();
    const v = body.slice(o, o + n);
    o += n;
    return v;
  };
  const family = u32();
  if (family !== p.inet && family !== p.inet6) {
    throw new SocketSessionError(
      "UNSUPPORTED_FAMILY",
      `Cannot receive session: unsupported address family ${family}`,
    );
  }
  const type = u32();
  const protocol = u32();
  const minLength = family === p.inet ? SOCKADDR_IN_SIZE : SOCKADDR_IN6_SIZE;
  const localLength = u32();
  if (localLength < minLength || localLength > SOCKADDR_STORAGE_SIZE) {
    throw new SocketSessionError(
      "INVALID_LOCAL_LENGTH",
      `Cannot receive session: invalid local sockaddr length ${localLength}`,
    );
  }
  const local = bytes(localLength);
  const remoteLength = u32();
  if (remoteLength < minLength || remoteLength > SOCKADDR_STORAGE_SIZE) {
    throw new SocketSessionError(
      "INVALID_REMOTE_LENGTH",
      `Cannot receive session: invalid remote sockaddr length ${remoteLength}`,
    );
  }
  const remote = bytes(remoteLength);
  const lf = sockaddrFamily(local, options);
  const rf = sockaddrFamily(remote, options);
  if (lf !== family || rf !== family) {
    throw new SocketSessionError(
      "FAMILY_INCONSISTENT",
      `Cannot receive session: sockaddr families ${lf}, ${rf} given, must be ${family}`,
    );
  }
  const dataLength = u32();
  if (dataLength === 0 || dataLength > MAX_DATA_SIZE) {
    throw new SocketSessionError(
      "INVALID_DATA_SIZE",
      `Cannot receive session: invalid data size ${dataLength}, must be > 0 and <= ${MAX_DATA_SIZE}`,
    );
  }
  return { family, type, protocol, local, remote, dataLength };
}
