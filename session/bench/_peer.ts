// Copyright 2026 the @sidecar/ipc authors. MIT license.
/**
 * The Deno side of `compare.ts`, run as child processes:
 *
 * - `recv PATH N`: accept one forwarder, pop N sessions (closing each fd),
 *   print `{"n":N,"seconds":S,"cpu":C}` from the first session to the last
 *   (C: CPU seconds this process used meanwhile).
 * - `send PATH N LEN`: push N UDP sessions of LEN bytes (waiting with
 *   `send()` when the receiver lags), print `{"n":N,"seconds":S,"cpu":C}`.
 * - `e2e-front PATH [nodefer]`: forward TCP connections on 127.0.0.1 (port
 *   printed) until stdin ends (`nodefer`: with `deferAccept: false`).
 * - `e2e-front-blocking PATH`: the floor of `compare.ts`: a front built
 *   like the Kea-based peer's, which blocks this process's only thread in
 *   `accept()` and then in `recv()` for each connection (one silent
 *   client stalls it), and pushes each connection through our forwarder;
 *   it runs until it is killed.
 * - `e2e-worker-blocking PATH`: the floor's worker, built like the peer's:
 *   blocking `recvmsg()` on its only thread, "ok" sent on each forwarded
 *   connection, until the forwarder closes.
 * - `e2e-worker PATH`: answer "ok" on each forwarded connection (adopted
 *   with adoptTcpSession) until the forwarder closes.
 *
 * @module
 */
import {
  adoptTcpSession,
  encodeSockaddr,
  forwardTcpConnections,
  SocketSessionForwarder,
  SocketSessionListener,
  WouldBlockError,
} from "../mod.ts";
import process from "node:process";
import { bindSocket } from "../_acceptor.ts";
import {
  acceptSocket,
  closeFd,
  libc,
  openSocket,
  P,
  socketName,
} from "../_libc.ts";
import { decodeSockaddr, encodeUnixSockaddr } from "../sockaddr.ts";
import { SessionDecoder } from "../session_decoder.ts";
import { pointerValue, setU64 } from "../_msg_io.ts";

const [mode, path, a, b] = Deno.args;

/** Makes a socket blocking again (the floor's peers wait in the kernel). */
function clearNonBlocking(fd: number): void {
  libc.fcntl(fd, P.F_SETFL, libc.fcntl(fd, P.F_GETFL, 0) & ~P.O_NONBLOCK);
}

/** CPU time (user + system) this process used so far, in seconds. */
function cpuSeconds(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1e6;
}

if (mode === "recv") {
  const n = Number(a);
  using listener = SocketSessionListener.listen(path!, {
    unlinkExisting: true,
  });
  console.log(JSON.stringify({ ready: true }));
  using receiver = await listener.accept();
  let t0 = 0;
  let c0 = 0;
  for (let i = 0; i < n; i++) {
    const s = await receiver.pop();
    if (i === 0) {
      t0 = performance.now();
      c0 = cpuSeconds();
    }
    s.close();
  }
  console.log(
    JSON.stringify({
      n,
      seconds: (performance.now() - t0) / 1000,
      cpu: cpuSeconds() - c0,
    }),
  );
} else if (mode === "send") {
  const n = Number(a);
  await using forwarder = new SocketSessionForwarder(path!);
  forwarder.connect();
  // Raw sockaddr images, as the acceptors pass them (and Kea's peer).
  const session = {
    fd: 0,
    type: 2,
    protocol: 17,
    local: encodeSockaddr({ hostname: "127.0.0.1", port: 53 }),
    remote: encodeSockaddr({ hostname: "192.0.2.2", port: 5300 }),
    data: new Uint8Array(Number(b)).fill(0x78),
  };
  let waits = 0;
  const t0 = performance.now();
  const c0 = cpuSeconds();
  for (let i = 0; i < n; i++) {
    try {
      forwarder.push(session);
    } catch (err) {
      if (!(err instanceof WouldBlockError)) throw err;
      waits++;
      await forwarder.send(session);
    }
  }
  console.log(
    JSON.stringify({
      n,
      seconds: (performance.now() - t0) / 1000,
      cpu: cpuSeconds() - c0,
      waits,
    }),
  );
} else if (mode === "e2e-front") {
  await using forwarder = new SocketSessionForwarder(path!);
  forwarder.connect();
  await using acceptor = forwardTcpConnections({
    forwarder,
    hostname: "127.0.0.1",
    deferAccept: a !== "nodefer",
  });
  console.log(JSON.stringify({ port: acceptor.addr.port }));
  for await (const _ of Deno.stdin.readable) {
    // Run until stdin ends.
  }
} else if (mode === "e2e-front-blocking") {
  const forwarder = new SocketSessionForwarder(path!);
  forwarder.connect();
  const fd = bindSocket({ forwarder, hostname: "127.0.0.1" }, P.SOCK_STREAM);
  // Blocking, as the peer's: accept() and recv() wait in the kernel.
  clearNonBlocking(fd);
  const local = socketName(fd, false);
  console.log(JSON.stringify({ port: decodeSockaddr(local).port }));
  const buf = new Uint8Array(65535);
  const remote = new Uint8Array(128);
  const remoteLength = new Uint32Array(1);
  for (;;) {
    remoteLength[0] = remote.length;
    const conn = acceptSocket(fd, false, remote, remoteLength);
    if (conn < 0) break;
    const n = Number(libc.recvfrom(conn, buf, 65535n, 0, null, null));
    if (n > 0) {
      await forwarder.send({
        fd: conn,
        type: P.SOCK_STREAM,
        protocol: 6,
        local,
        remote: remote.slice(0, remoteLength[0]),
        data: buf.subarray(0, n),
      });
    }
    closeFd(conn);
  }
} else if (mode === "e2e-worker-blocking") {
  // The floor's worker, built like the Kea-based peer's: one blocking
  // recvmsg() after another on its only thread, the sessions cut by
  // SessionDecoder, "ok" sent and the fd closed at once.
  const addr = encodeUnixSockaddr(path!);
  libc.unlink(new TextEncoder().encode(path + "\0"));
  const lfd = openSocket(P.AF_UNIX, P.SOCK_STREAM);
  if (libc.bind(lfd, addr, addr.length) < 0 || libc.listen(lfd, 16) < 0) {
    throw new Error(`Cannot listen on ${path}`);
  }
  console.log(JSON.stringify({ ready: true }));
  clearNonBlocking(lfd);
  const sock = acceptSocket(lfd, false);
  const buf = new Uint8Array(256 * 1024);
  const control = new Uint8Array(P.cmsgHeader + 4 * 64);
  const iov = new Uint8Array(16);
  const msg = new Uint8Array(P.msghdrSize);
  const iovView = new DataView(iov.buffer);
  const controlView = new DataView(control.buffer);
  const msgView = new DataView(msg.buffer);
  setU64(iovView, 0, pointerValue(buf));
  setU64(iovView, 8, buf.length);
  setU64(msgView, P.msgIov, pointerValue(iov));
  setU64(msgView, P.msgIovLen, 1);
  setU64(msgView, P.msgControl, pointerValue(control));
  const decoder = new SessionDecoder();
  const fds: number[] = [];
  const ok = new TextEncoder().encode("ok");
  let sessions = 0;
  for (;;) {
    setU64(msgView, P.msgControlLen, control.length);
    const n = Number(libc.recvmsg(sock, msg, 0));
    if (n <= 0) break;
    const controlLength = Number(msgView.getBigUint64(P.msgControlLen, true));
    if (controlLength >= P.cmsgHeader) {
      const len = Number(controlView.getBigUint64(0, true));
      for (let at = P.cmsgHeader; at + 4 <= len; at += 4) {
        fds.push(controlView.getInt32(at, true));
      }
    }
    let i = 0;
    while (i < n) {
      const take = Math.min(decoder.needed, n - i);
      const session = decoder.feed(buf.subarray(i, i + take));
      i += take;
      if (session === null) continue;
      const fd = fds.shift()!;
      libc.sendto(fd, ok, BigInt(ok.length), P.MSG_NOSIGNAL, null, 0);
      closeFd(fd);
      sessions++;
    }
  }
  console.log(JSON.stringify({ sessions }));
} else if (mode === "e2e-worker") {
  using listener = SocketSessionListener.listen(path!, {
    unlinkExisting: true,
  });
  console.log(JSON.stringify({ ready: true }));
  using receiver = await listener.accept();
  const ok = new TextEncoder().encode("ok");
  let sessions = 0;
  for await (const session of receiver) {
    sessions++;
    (async () => {
      await using conn = adoptTcpSession(session);
      await conn.write(ok);
    })().catch((err) => console.error(err));
  }
  console.log(JSON.stringify({ sessions }));
} else {
  console.error(
    "usage: _peer.ts recv|send|e2e-front|e2e-front-blocking|e2e-worker|e2e-worker-blocking PATH ...",
  );
  Deno.exit(64);
}
