// Copyright 2026 the @sidecar/ipc authors. MIT license.
/**
 * Raw socket helpers for the session tests: a fake forwarder that sends any
 * bytes with any number of fds, FFI UDP/TCP sockets, fd inspection.
 *
 * @module
 */
import {
  acceptSocket,
  closeFd,
  EAGAIN,
  errno,
  fdTrace,
  libc,
  openSocket,
  P,
  socketName,
  sysError,
} from "../../session/_libc.ts";
import { poller } from "../../session/_poller.ts";
import {
  decodeSockaddr,
  encodeSockaddr,
  encodeUnixSockaddr,
} from "../../session/sockaddr.ts";
import { turn, waitFor } from "../wait.ts";

/** Connects a raw Unix stream socket to `path`. */
export function rawConnect(path: string): number {
  const fd = openSocket(P.AF_UNIX, P.SOCK_STREAM);
  const sa = encodeUnixSockaddr(path);
  if (libc.connect(fd, sa, sa.length) < 0) {
    const err = sysError("connect");
    closeFd(fd);
    throw err;
  }
  return fd;
}

function ptr(buf: Uint8Array): bigint {
  return BigInt(Deno.UnsafePointer.value(Deno.UnsafePointer.of(buf)));
}

/** Sends `bytes` in one `sendmsg` with `fds` in one SCM_RIGHTS message. */
export function sendRaw(
  sock: number,
  bytes: Uint8Array,
  fds: number[] = [],
): number {
  const data = new Uint8Array(new ArrayBuffer(Math.max(1, bytes.length)));
  data.set(bytes);
  const iov = new Uint8Array(new ArrayBuffer(16));
  const iv = new DataView(iov.buffer);
  iv.setBigUint64(0, ptr(data), true);
  iv.setBigUint64(8, BigInt(bytes.length), true);
  const clen = fds.length ? P.cmsgHeader + 4 * fds.length : 0;
  const control = new Uint8Array(new ArrayBuffer(Math.max(8, (clen + 7) & ~7)));
  const cv = new DataView(control.buffer);
  if (fds.length) {
    cv.setBigUint64(0, BigInt(clen), true);
    cv.setInt32(8, P.SOL_SOCKET, true);
    cv.setInt32(12, P.SCM_RIGHTS, true);
    fds.forEach((fd, i) => cv.setInt32(P.cmsgHeader + 4 * i, fd, true));
  }
  const msg = new Uint8Array(new ArrayBuffer(P.msghdrSize));
  const mv = new DataView(msg.buffer);
  mv.setBigUint64(P.msgIov, ptr(iov), true);
  mv.setBigUint64(P.msgIovLen, 1n, true);
  if (fds.length) {
    mv.setBigUint64(P.msgControl, ptr(control), true);
    mv.setBigUint64(P.msgControlLen, BigInt((clen + 7) & ~7), true);
  }
  const n = Number(libc.sendmsg(sock, msg, P.MSG_NOSIGNAL));
  if (n < 0) throw sysError("sendmsg");
  return n;
}

/** A bound FFI socket and its port. */
export interface BoundSocket {
  fd: number;
  port: number;
}

/** Binds a UDP (or TCP, listening) socket on `hostname`, port 0. */
export function bindSocket(hostname: string, tcp: boolean): BoundSocket {
  const sa = encodeSockaddr({ hostname, port: 0 });
  const fd = openSocket(
    sa[0] === P.AF_INET ? P.AF_INET : P.AF_INET6,
    tcp ? P.SOCK_STREAM : P.SOCK_DGRAM,
  );
  if (libc.bind(fd, sa, sa.length) < 0 || (tcp && libc.listen(fd, 1024) < 0)) {
    const err = sysError("bind");
    closeFd(fd);
    throw err;
  }
  return { fd, port: decodeSockaddr(socketName(fd, false)).port };
}

/** Waits for and accepts one connection on a listening FFI socket. */
export async function acceptOne(fd: number): Promise<number> {
  while (true) {
    const c = acceptSocket(fd, true);
    if (c >= 0) return c;
    if (errno() !== EAGAIN) throw sysError("accept");
    await poller.wait(fd, P.POLLIN);
  }
}

/** `sendto` on a UDP fd. */
export function sendTo(
  fd: number,
  data: Uint8Array,
  to: { hostname: string; port: number },
): number {
  const sa = encodeSockaddr(to);
  const n = Number(
    libc.sendto(fd, data, BigInt(data.length), P.MSG_NOSIGNAL, sa, sa.length),
  );
  if (n < 0) throw sysError("sendto");
  return n;
}

/** `send` on a connected fd (waits for writability). */
export async function sendAll(fd: number, data: Uint8Array): Promise<void> {
  let o = 0;
  while (o < data.length) {
    const part = data.slice(o);
    const n = Number(
      libc.sendto(
        fd,
        part,
        BigInt(part.length),
        P.MSG_NOSIGNAL | P.MSG_DONTWAIT,
        null,
        0,
      ),
    );
    if (n >= 0) {
      o += n;
      continue;
    }
    if (errno() !== EAGAIN) throw sysError("send");
    await poller.wait(fd, P.POLLOUT);
  }
}

/** Receives one datagram (or stream chunk) with a wait. */
export async function recvSome(fd: number, max = 65536): Promise<Uint8Array> {
  const buf = new Uint8Array(max);
  while (true) {
    const n = Number(
      libc.recvfrom(fd, buf, BigInt(max), P.MSG_DONTWAIT, null, null),
    );
    if (n >= 0) return buf.slice(0, n);
    if (errno() !== EAGAIN) throw sysError("recv");
    await poller.wait(fd, P.POLLIN);
  }
}

let pollLib:
  | Deno.DynamicLibrary<{
    poll: { parameters: ["buffer", "u64", "i32"]; result: "i32" };
  }>
  | null = null;

/** `poll(fd, events, 0)`: the events `fd` reports right now. */
export function pollNow(fd: number, events: number): number {
  pollLib ??= Deno.dlopen("libc.so.6", {
    poll: { parameters: ["buffer", "u64", "i32"], result: "i32" },
  });
  const pfd = new Uint8Array(new ArrayBuffer(8));
  const v = new DataView(pfd.buffer);
  v.setInt32(0, fd, true);
  v.setInt16(4, events, true);
  if (pollLib.symbols.poll(pfd, 1n, 0) < 0) throw new Error("poll failed");
  return v.getInt16(6, true);
}

/**
 * Resolves once the shared poller delivered an event made after the call,
 * and the code it woke ran: any fd that was ready before (a listener with a
 * connection waiting, say) was reported to its waiter by then.
 */
export async function pollerRoundTrip(): Promise<void> {
  const pair = new Int32Array(2);
  if (
    libc.socketpair(
      P.AF_UNIX,
      P.SOCK_STREAM | P.SOCK_NONBLOCK | P.SOCK_CLOEXEC,
      0,
      new Uint8Array(pair.buffer),
    ) < 0
  ) {
    throw sysError("socketpair");
  }
  try {
    libc.write(pair[1]!, new Uint8Array(1), 1n);
    await poller.wait(pair[0]!, P.POLLIN);
    // The continuations of waits resolved in the same wake-up run first.
    await turn();
  } finally {
    closeFd(pair[0]!);
    closeFd(pair[1]!);
  }
}

/** Whether an fd number is open in this process. */
export function fdIsOpen(fd: number): boolean {
  return libc.fcntl(fd, P.F_GETFD, 0) >= 0;
}

/** Whether an fd has close-on-exec. */
export function hasCloexec(fd: number): boolean {
  return (libc.fcntl(fd, P.F_GETFD, 0) & P.FD_CLOEXEC) !== 0;
}

/** The local address of a socket. */
export function localAddress(fd: number): { hostname: string; port: number } {
  return decodeSockaddr(socketName(fd, false));
}

export { closeFd, poller };

/** Records every fd the session code opens or receives; see {@linkcode trackFds}. */
export interface FdTracker extends Disposable {
  /**
   * Waits for the shared poller to go idle (and closes its wake pipe), then
   * returns the tracked sockets and pipes that are still open anywhere in
   * this process: each fd is identified by its inode, so fds that other test
   * files open meanwhile (with `--parallel`) cannot confuse it.
   */
  leaks(): Promise<string[]>;
}

/** Starts recording the inode of every fd the session code opens or receives. */
export function trackFds(): FdTracker {
  const links = new Set<string>();
  fdTrace.hook = (fd) => {
    try {
      links.add(Deno.readLinkSync(`/proc/self/fd/${fd}`));
    } catch {
      // Already closed again.
    }
  };
  return {
    async leaks() {
      await waitFor("the poller to go idle", () => !poller.running, 1000)
        .catch(() => {});
      poller.closeIdle();
      const open = new Set<string>();
      for await (const e of Deno.readDir("/proc/self/fd")) {
        try {
          open.add(await Deno.readLink(`/proc/self/fd/${e.name}`));
        } catch {
          // The directory's own fd, or one closed meanwhile.
        }
      }
      // Sockets and pipes only: a passed copy of, say, /dev/null shares its
      // link with the original, which stays open.
      return [...links].filter((l) => /^(socket|pipe):/.test(l) && open.has(l));
    },
    [Symbol.dispose]() {
      fdTrace.hook = null;
    },
  };
}
