// Copyright 2026 the @sidecar/ipc authors. MIT license.
/**
 * The malformed socket sessions of BIND 10's `ForwardTest.badPop`, as wire
 * bytes, with the error code our receiver must give. Shared by the decoder,
 * receiver and Kea interop tests.
 *
 * @module
 */

/** One malformed session. */
export interface BadSessionCase {
  /** What the reference test calls it. */
  name: string;
  /** Whether the dummy byte carries an fd. */
  fd: boolean;
  /** Bytes sent after the dummy byte (then the sender closes). */
  rest: Uint8Array;
  /** Our `SocketSessionError.code`. */
  code: string;
  /** Text the Kea 2.2 receiver's error message contains. */
  kea: string;
}

function u16(n: number): number[] {
  return [n >> 8, n & 0xff];
}
function u32(n: number): number[] {
  return [(n >>> 24) & 0xff, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff];
}

/** Linux `sockaddr_in` 192.0.2.1:53535. */
const SA_LOCAL = [2, 0, 0xd1, 0x1f, 192, 0, 2, 1, 0, 0, 0, 0, 0, 0, 0, 0];
/** Linux `sockaddr_in` 192.0.2.2:53536. */
const SA_REMOTE = [2, 0, 0xd1, 0x20, 192, 0, 2, 2, 0, 0, 0, 0, 0, 0, 0, 0];
/** Linux `sockaddr_in6` [2001:db8::1]:53537. */
const SA6 = [
  10,
  0,
  0xd1,
  0x21,
  0,
  0,
  0,
  0,
  0x20,
  0x01,
  0x0d,
  0xb8,
  ...new Array<number>(11).fill(0),
  1,
  0,
  0,
  0,
  0,
];
/** The reference's `TEST_DATA` ("BIND10 test" and its NUL). */
const TEST_DATA = [...new TextEncoder().encode("BIND10 test"), 0];

function session(
  family: number,
  localLen: number,
  local: number[],
  remoteLen: number,
  remote: number[],
  dataLen = TEST_DATA.length,
): Uint8Array {
  const body = [
    ...u32(family),
    ...u32(2),
    ...u32(17),
    ...u32(localLen),
    ...local.slice(0, Math.min(localLen, local.length)),
    ...u32(remoteLen),
    ...remote.slice(0, Math.min(remoteLen, remote.length)),
    ...u32(dataLen),
  ];
  return new Uint8Array([...u16(body.length), ...body, ...TEST_DATA]);
}

/** The cases, in the reference's order. */
export const BAD_SESSION_CASES: readonly BadSessionCase[] = [
  {
    name: "dummy byte without fd",
    fd: false,
    rest: new Uint8Array(),
    code: "NO_FD",
    kea: "Receiving a forwarded FD failed",
  },
  {
    name: "1-byte header length",
    fd: true,
    rest: new Uint8Array([0]),
    code: "INCOMPLETE",
    kea: "Incomplete data from SocketSessionForwarder: 1/2",
  },
  {
    name: "header length 0xffff",
    fd: true,
    rest: new Uint8Array(u16(0xffff)),
    code: "HEADER_TOO_LARGE",
    kea: "Too large header length: 65535",
  },
  {
    name: "header length 4 without header",
    fd: true,
    rest: new Uint8Array(u16(4)),
    code: "INCOMPLETE",
    kea: "Incomplete data from SocketSessionForwarder: 0/4",
  },
  {
    name: "header length 1 and 1 byte",
    fd: true,
    rest: new Uint8Array([...u16(1), 0]),
    code: "BOGUS_HEADER",
    kea: "bogus socket session header",
  },
  {
    name: "AF_UNSPEC",
    fd: true,
    rest: session(0, 16, SA_LOCAL, 16, SA_REMOTE),
    code: "UNSUPPORTED_FAMILY",
    kea: "Unsupported address family is passed: 0",
  },
  {
    name: "IPv6 local with AF_INET",
    fd: true,
    rest: session(2, 28, SA6, 16, SA_REMOTE),
    code: "FAMILY_INCONSISTENT",
    kea: "SA family inconsistent: 10, 2 given, must be 2",
  },
  {
    name: "IPv6 remote with AF_INET",
    fd: true,
    rest: session(2, 16, SA_LOCAL, 28, SA6),
    code: "FAMILY_INCONSISTENT",
    kea: "SA family inconsistent: 2, 10 given, must be 2",
  },
  {
    name: "local length 129",
    fd: true,
    rest: session(2, 129, SA_LOCAL, 16, SA_REMOTE),
    code: "INVALID_LOCAL_LENGTH",
    kea: "Invalid local SA length: 129",
  },
  {
    name: "remote length 129",
    fd: true,
    rest: session(2, 16, SA_LOCAL, 129, SA_REMOTE),
    code: "INVALID_REMOTE_LENGTH",
    kea: "Invalid remote SA length: 129",
  },
  {
    name: "local IPv4 length 15",
    fd: true,
    rest: session(2, 15, SA_LOCAL, 16, SA_REMOTE),
    code: "INVALID_LOCAL_LENGTH",
    kea: "Invalid local SA length: 15",
  },
  {
    name: "remote IPv6 length 27",
    fd: true,
    rest: session(10, 28, SA6, 27, SA6),
    code: "INVALID_REMOTE_LENGTH",
    kea: "Invalid remote SA length: 27",
  },
  {
    name: "data length 65536",
    fd: true,
    rest: session(2, 16, SA_LOCAL, 16, SA_REMOTE, 65536),
    code: "INVALID_DATA_SIZE",
    kea: "Invalid socket session data size: 65536",
  },
  {
    name: "data length 0",
    fd: true,
    rest: session(2, 16, SA_LOCAL, 16, SA_REMOTE, 0),
    code: "INVALID_DATA_SIZE",
    kea: "Invalid socket session data size: 0",
  },
  {
    name: "data one byte short",
    fd: true,
    rest: session(2, 16, SA_LOCAL, 16, SA_REMOTE, TEST_DATA.length + 1),
    code: "INCOMPLETE",
    kea: "Incomplete data from SocketSessionForwarder: 12/13",
  },
];
