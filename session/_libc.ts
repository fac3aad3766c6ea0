// Copyright 2026 the @sidecar/ipc authors. MIT license.
/**
 * libc through `Deno.dlopen` (needs `--allow-ffi`): the socket calls, the
 * per-platform constants and struct layouts (in one table), errno, and small
 * socket helpers. The `sendmsg`/`recvmsg` buffers are in `_msg_io.ts`.
 *
 * Every call that can fail is synchronous (it runs on the JS thread, so
 * `errno` is ours to read), except the one `nonblocking` `epoll_wait` of
 * the shared poller in `_poller.ts`.
 *
 * @module
 */

import { SocketSessionError } from "./errors.ts";
import type { SessionOs } from "./sockaddr.ts";

/** Constants and struct layouts of one platform. */
interface Platform {
  os: SessionOs;
  library: string;
  errnoSymbol: string;
  // struct msghdr
  msghdrSize: number;
  msgName: number;
  msgNameLen: number;
  msgIov: number;
  msgIovLen: number;
  msgControl: number;
  msgControlLen: number;
  msgFlags: number;
  // struct mmsghdr: a msghdr, then msg_len
  mmsghdrSize: number;
  mmsgLen: number;
  // struct epoll_event: size and offset of its data (packed on x86_64)
  epollEventSize: number;
  epollData: number;
  // struct cmsghdr: header size (= CMSG_LEN(0)) and CMSG_ALIGN unit
  cmsgHeader: number;
  cmsgAlign: number;
  // constants
  SOL_SOCKET: number;
  SCM_RIGHTS: number;
  AF_UNIX: number;
  AF_INET: number;
  AF_INET6: number;
  SOCK_STREAM: number;
  SOCK_DGRAM: number;
  SOCK_NONBLOCK: number;
  SOCK_CLOEXEC: number;
  MSG_DONTWAIT: number;
  MSG_NOSIGNAL: number;
  MSG_CMSG_CLOEXEC: number;
  MSG_CTRUNC: number;
  MSG_TRUNC: number;
  MSG_ERRQUEUE: number;
  SO_REUSEADDR: number;
  SO_SNDBUF: number;
  SO_RCVBUF: number;
  IPPROTO_TCP: number;
  TCP_DEFER_ACCEPT: number;
  IPPROTO_IPV6: number;
  IPV6_V6ONLY: number;
  F_GETFD: number;
  F_SETFD: number;
  F_GETFL: number;
  F_SETFL: number;
  FD_CLOEXEC: number;
  O_NONBLOCK: number;
  SHUT_WR: number;
  EPOLL_CLOEXEC: number;
  EPOLL_CTL_ADD: number;
  EPOLL_CTL_DEL: number;
  EPOLL_CTL_MOD: number;
  EFD_NONBLOCK: number;
  EFD_CLOEXEC: number;
  POLLIN: number;
  POLLOUT: number;
  POLLERR: number;
  POLLHUP: number;
  POLLNVAL: number;
  errnos: Record<number, string>;
}

const LINUX_ERRNOS: Record<number, string> = {
  1: "EPERM",
  2: "ENOENT",
  4: "EINTR",
  9: "EBADF",
  11: "EAGAIN",
  12: "ENOMEM",
  13: "EACCES",
  14: "EFAULT",
  17: "EEXIST",
  22: "EINVAL",
  23: "ENFILE",
  24: "EMFILE",
  32: "EPIPE",
  64: "ENONET",
  71: "EPROTO",
  88: "ENOTSOCK",
  92: "ENOPROTOOPT",
  95: "EOPNOTSUPP",
  98: "EADDRINUSE",
  99: "EADDRNOTAVAIL",
  100: "ENETDOWN",
  101: "ENETUNREACH",
  103: "ECONNABORTED",
  104: "ECONNRESET",
  105: "ENOBUFS",
  107: "ENOTCONN",
  109: "ETOOMANYREFS",
  110: "ETIMEDOUT",
  111: "ECONNREFUSED",
  112: "EHOSTDOWN",
  113: "EHOSTUNREACH",
  115: "EINPROGRESS",
};

// Linux glibc: x86_64 and aarch64 share every value below (measured with a
// C probe on x86_64, cross-compiled and read back for aarch64; session.md
// §4.2), except struct epoll_event, which the kernel packs on x86_64 only.
const LINUX: Omit<Platform, "library" | "epollEventSize" | "epollData"> = {
  os: "linux",
  errnoSymbol: "__errno_location",
  msghdrSize: 56,
  msgName: 0,
  msgNameLen: 8,
  msgIov: 16,
  msgIovLen: 24,
  msgControl: 32,
  msgControlLen: 40,
  msgFlags: 48,
  mmsghdrSize: 64,
  mmsgLen: 56,
  cmsgHeader: 16,
  cmsgAlign: 8,
  SOL_SOCKET: 1,
  SCM_RIGHTS: 1,
  AF_UNIX: 1,
  AF_INET: 2,
  AF_INET6: 10,
  SOCK_STREAM: 1,
  SOCK_DGRAM: 2,
  SOCK_NONBLOCK: 0x800,
  SOCK_CLOEXEC: 0x80000,
  MSG_DONTWAIT: 0x40,
  MSG_NOSIGNAL: 0x4000,
  MSG_CMSG_CLOEXEC: 0x40000000,
  MSG_CTRUNC: 0x8,
  MSG_TRUNC: 0x20,
  MSG_ERRQUEUE: 0x2000,
  SO_REUSEADDR: 2,
  SO_SNDBUF: 7,
  SO_RCVBUF: 8,
  IPPROTO_TCP: 6,
  TCP_DEFER_ACCEPT: 9,
  IPPROTO_IPV6: 41,
  IPV6_V6ONLY: 26,
  F_GETFD: 1,
  F_SETFD: 2,
  F_GETFL: 3,
  F_SETFL: 4,
  FD_CLOEXEC: 1,
  O_NONBLOCK: 0x800,
  SHUT_WR: 1,
  EPOLL_CLOEXEC: 0x80000,
  EPOLL_CTL_ADD: 1,
  EPOLL_CTL_DEL: 2,
  EPOLL_CTL_MOD: 3,
  EFD_NONBLOCK: 0x800,
  EFD_CLOEXEC: 0x80000,
  POLLIN: 1,
  POLLOUT: 4,
  POLLERR: 8,
  POLLHUP: 0x10,
  POLLNVAL: 0x20,
  errnos: LINUX_ERRNOS,
};

const PLATFORMS: Record<string, Platform> = {
  "linux-x86_64": {
    ...LINUX,
    library: "libc.so.6",
    epollEventSize: 12,
    epollData: 4,
  },
  "linux-aarch64": {
    ...LINUX,
    library: "libc.so.6",
    epollEventSize: 16,
    epollData: 8,
  },
};

const PLATFORM_KEY = `${Deno.build.os}-${Deno.build.arch}`;

function unsupported(): never {
  throw new Error(
    `Cannot load socket sessions: platform ${PLATFORM_KEY} is not supported (Linux x86_64 and aarch64 are)`,
  );
}

/**
 * The running platform's constants and layouts: a plain object (read on
 * every socket call), or, on other platforms, one that throws when read, so
 * that importing the module (for its pure codecs) works anywhere.
 */
export const P: Platform = PLATFORMS[PLATFORM_KEY] ??
  new Proxy({} as Platform, { get: unsupported });

const SYMBOLS = {
  socket: { parameters: ["i32", "i32", "i32"], result: "i32" },
  socketpair: { parameters: ["i32", "i32", "i32", "buffer"], result: "i32" },
  bind: { parameters: ["i32", "buffer", "u32"], result: "i32" },
  connect: { parameters: ["i32", "buffer", "u32"], result: "i32" },
  listen: { parameters: ["i32", "i32"], result: "i32" },
  shutdown: { parameters: ["i32", "i32"], result: "i32" },
  accept4: { parameters: ["i32", "buffer", "buffer", "i32"], result: "i32" },
  close: { parameters: ["i32"], result: "i32" },
  fcntl: { parameters: ["i32", "i32", "i32"], result: "i32" },
  setsockopt: {
    parameters: ["i32", "i32", "i32", "buffer", "u32"],
    result: "i32",
  },
  getsockopt: {
    parameters: ["i32", "i32", "i32", "buffer", "buffer"],
    result: "i32",
  },
  getsockname: { parameters: ["i32", "buffer", "buffer"], result: "i32" },
  getpeername: { parameters: ["i32", "buffer", "buffer"], result: "i32" },
  sendmsg: { parameters: ["i32", "buffer", "i32"], result: "isize" },
  recvmsg: { parameters: ["i32", "buffer", "i32"], result: "isize" },
  recvmmsg: {
    parameters: ["i32", "buffer", "u32", "i32", "pointer"],
    result: "i32",
  },
  sendto: {
    parameters: ["i32", "buffer", "usize", "i32", "buffer", "u32"],
    result: "isize",
  },
  recvfrom: {
    parameters: ["i32", "buffer", "usize", "i32", "buffer", "buffer"],
    result: "isize",
  },
  read: { parameters: ["i32", "buffer", "usize"], result: "isize" },
  write: { parameters: ["i32", "buffer", "usize"], result: "isize" },
  unlink: { parameters: ["buffer"], result: "i32" },
  epoll_create1: { parameters: ["i32"], result: "i32" },
  epoll_ctl: { parameters: ["i32", "i32", "i32", "buffer"], result: "i32" },
  epollWaitBlocking: {
    name: "epoll_wait",
    parameters: ["i32", "buffer", "i32", "i32"],
    result: "i32",
    nonblocking: true,
  },
  eventfd: { parameters: ["u32", "i32"], result: "i32" },
  strerror: { parameters: ["i32"], result: "pointer" },
} as const;

/** `errno`'s address; its symbol name depends on the platform. */
const ERRNO_LOCATION = { parameters: [], result: "pointer" } as const;

type Symbols = Deno.DynamicLibrary<
  typeof SYMBOLS & { errnoLocation: typeof ERRNO_LOCATION }
>["symbols"];
let symbols: Symbols | null = null;
let errnoView: Deno.UnsafePointerView | null = null;

function load(): Symbols {
  if (symbols === null) {
    const lib = Deno.dlopen(P.library, {
      ...SYMBOLS,
      errnoLocation: { ...ERRNO_LOCATION, name: P.errnoSymbol },
    }).symbols;
    errnoView = new Deno.UnsafePointerView(lib.errnoLocation()!);
    symbols = lib;
  }
  return symbols;
}

/**
 * The libc symbols, opened on first use: importing this module needs no
 * `--allow-ffi`, calling into it does. Each property starts as a getter
 * that opens the library and then turns every property into a plain value,
 * so that calls after the first pay nothing for the laziness.
 */
export const libc: Symbols = {} as Symbols;
for (const name of [...Object.keys(SYMBOLS), "errnoLocation"]) {
  Object.defineProperty(libc, name, {
    configurable: true,
    enumerable: true,
    get(): unknown {
      const lib = load();
      for (const [key, value] of Object.entries(lib)) {
        Object.defineProperty(libc, key, {
          value,
          enumerable: true,
          writable: false,
        });
      }
      return Reflect.get(lib, name);
    },
  });
}

/**
 * The calling thread's `errno`; read it right after a failed sync call.
 *
 * @returns The errno value.
 */
export function errno(): number {
  if (errnoView === null) load();
  return errnoView!.getInt32();
}

/**
 * The symbolic name of an errno value (`"EAGAIN"`), or `"E<n>"`.
 *
 * @param e The errno value.
 * @returns Its name.
 */
export function errnoName(e: number): string {
  return P.errnos[e] ?? `E${e}`;
}

/**
 * A {@linkcode SocketSessionError} for a failed system call.
 *
 * @param action What failed, for `Cannot <action>: <strerror>`.
 * @param e The errno value.
 * @param bytesWritten Bytes already written, if any.
 * @returns The error.
 */
export function sysError(
  action: string,
  e: number = errno(),
  bytesWritten = 0,
): SocketSessionError {
  const p = libc.strerror(e);
  const text = p === null ? `errno ${e}` : Deno.UnsafePointerView.getCString(p);
  return new SocketSessionError(errnoName(e), `Cannot ${action}: ${text}`, {
    errno: e,
    bytesWritten,
  });
}

/** `EAGAIN` / `EWOULDBLOCK`. */
export const EAGAIN = 11;
/** `EINTR`. */
export const EINTR = 4;
/** `EBADF`. */
export const EBADF = 9;

/**
 * Closes an fd, ignoring errors (`EINTR` on Linux still closes it).
 *
 * @param fd The fd.
 */
export function closeFd(fd: number): void {
  if (fd >= 0) libc.close(fd);
}

/**
 * Sets `O_NONBLOCK` on an fd.
 *
 * @param fd The fd.
 */
export function setNonBlocking(fd: number): void {
  const flags = libc.fcntl(fd, P.F_GETFL, 0);
  if (flags < 0 || libc.fcntl(fd, P.F_SETFL, flags | P.O_NONBLOCK) < 0) {
    throw sysError("set O_NONBLOCK");
  }
}

/**
 * Reads an `int` socket option.
 *
 * @param fd The socket.
 * @param level The level.
 * @param name The option.
 * @returns The value.
 */
export function getIntOption(fd: number, level: number, name: number): number {
  const v = new Int32Array(1);
  const len = new Uint32Array([4]);
  if (libc.getsockopt(fd, level, name, v, len) < 0) {
    throw sysError("read socket option");
  }
  return v[0]!;
}

/**
 * Sets an `int` socket option.
 *
 * @param fd The socket.
 * @param level The level.
 * @param name The option.
 * @param value The value.
 */
export function setIntOption(
  fd: number,
  level: number,
  name: number,
  value: number,
): void {
  if (libc.setsockopt(fd, level, name, new Int32Array([value]), 4) < 0) {
    throw sysError("set socket option");
  }
}

/**
 * `getsockname`/`getpeername` as a raw sockaddr image.
 *
 * @param fd The socket.
 * @param peer True for the peer's address.
 * @returns The sockaddr bytes.
 */
export function socketName(fd: number, peer: boolean): Uint8Array<ArrayBuffer> {
  const buf = new Uint8Array(128);
  const len = new Uint32Array([128]);
  const rc = peer
    ? libc.getpeername(fd, buf, len)
    : libc.getsockname(fd, buf, len);
  if (rc < 0) {
    throw sysError(peer ? "read peer address" : "read socket address");
  }
  return buf.slice(0, Math.min(len[0]!, 128));
}

/**
 * Creates a nonblocking, close-on-exec socket.
 *
 * @param family The address family.
 * @param type The socket type.
 * @returns The fd.
 */
export function openSocket(family: number, type: number): number {
  const fd = libc.socket(family, type | P.SOCK_NONBLOCK | P.SOCK_CLOEXEC, 0);
  if (fd < 0) throw sysError("create socket");
  fdTrace.hook?.(fd);
  return fd;
}

const errScratch = new Uint8Array(512);

/**
 * Empties a socket's error queue (`MSG_ERRQUEUE`): ICMP errors that a UDP
 * socket keeps once someone turned on `IP_RECVERR` on it. While the queue
 * holds one, the socket reports `POLLERR` and every wait ends at once;
 * each error was already reported once by a failed receive.
 *
 * @param fd The socket.
 */
export function drainErrorQueue(fd: number): void {
  const flags = P.MSG_ERRQUEUE | P.MSG_DONTWAIT;
  while (
    Number(
      libc.recvfrom(
        fd,
        errScratch,
        BigInt(errScratch.length),
        flags,
        null,
        null,
      ),
    ) >= 0
  ) {
    // One error dequeued; look for the next.
  }
}

/**
 * `accept4` with close-on-exec (and non-blocking when asked).
 *
 * @param fd The listening socket.
 * @param nonBlocking Whether the new socket is non-blocking.
 * @param peer Where to put the peer's sockaddr (`peerLength[0]` holds its
 * size before the call, the sockaddr's length after), or null.
 * @param peerLength The length cell, or null.
 * @returns The new fd, or -1 with `errno` set.
 */
export function acceptSocket(
  fd: number,
  nonBlocking: boolean,
  peer: Uint8Array | null = null,
  peerLength: Uint32Array | null = null,
): number {
  const c = libc.accept4(
    fd,
    peer,
    peerLength,
    P.SOCK_CLOEXEC | (nonBlocking ? P.SOCK_NONBLOCK : 0),
  );
  if (c >= 0) fdTrace.hook?.(c);
  return c;
}

/**
 * Test hook: when set, it is called with every fd this module opens or
 * receives (the tests record each one's inode to prove none leaks, which
 * works even while other test files share the process).
 */
export const fdTrace: { hook: ((fd: number) => void) | null } = { hook: null };
