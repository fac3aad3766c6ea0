// Copyright 2026 the @sidecar/ipc authors. MIT license.
/**
 * The `sendmsg`/`recvmmsg` memory for `SCM_RIGHTS`: message headers, iovecs
 * and control buffers in explicit `ArrayBuffer`s (kept referenced, their
 * addresses computed once), reused for every call on one socket.
 *
 * - {@linkcode MsgIo}: one `sendmsg` of a buffer region, with or without an
 *   fd attached (the forwarder).
 * - {@linkcode RecvBatch}: one `recvmmsg` of up to 32 reads on a stream
 *   socket into a {@linkcode SessionStream}, each read with its own control
 *   buffer (the receiver): one FFI call takes every session that is ready.
 *
 * @module
 */

import { errno, fdTrace, libc, P } from "./_libc.ts";
import type { SessionStream } from "./_session_stream.ts";

/** The address of a buffer's first byte, for the structs FFI calls read. */
export function pointerValue(buf: Uint8Array): number {
  return Number(Deno.UnsafePointer.value(Deno.UnsafePointer.of(buf)));
}

/** Writes a 64-bit little-endian unsigned value below 2^53 without BigInt. */
export function setU64(view: DataView, offset: number, value: number): void {
  view.setUint32(offset, value >>> 0, true);
  view.setUint32(offset + 4, Math.floor(value / 0x100000000), true);
}

function align(n: number): number {
  return (n + P.cmsgAlign - 1) & ~(P.cmsgAlign - 1);
}

const NO_FDS: number[] = [];

/** Room for this many fds in one read: more is `MSG_CTRUNC`. */
const MAX_RECEIVED_FDS = 16;

/**
 * Reusable `sendmsg` buffers for one socket: a message buffer, a `msghdr`,
 * an `iovec` and a control buffer for one fd.
 */
export class MsgIo {
  #buf: Uint8Array<ArrayBuffer>;
  #bufPtr: number;
  #msg = new Uint8Array(new ArrayBuffer(P.msghdrSize));
  #msgView = new DataView(this.#msg.buffer);
  #iov = new Uint8Array(new ArrayBuffer(16));
  #iovView = new DataView(this.#iov.buffer);
  #control = new Uint8Array(new ArrayBuffer(align(P.cmsgHeader + 4)));
  #controlView = new DataView(this.#control.buffer);

  /**
   * Allocates the buffers.
   *
   * @param size The message buffer size.
   */
  constructor(size: number) {
    this.#buf = new Uint8Array(new ArrayBuffer(size));
    this.#bufPtr = pointerValue(this.#buf);
    const v = this.#msgView;
    setU64(v, P.msgIov, pointerValue(this.#iov));
    setU64(v, P.msgIovLen, 1);
    setU64(v, P.msgControl, pointerValue(this.#control));
    const cv = this.#controlView;
    setU64(cv, 0, P.cmsgHeader + 4);
    cv.setInt32(8, P.SOL_SOCKET, true);
    cv.setInt32(12, P.SCM_RIGHTS, true);
  }

  /**
   * The message buffer: fill it before {@linkcode MsgIo.send}.
   *
   * @returns The buffer.
   */
  get buffer(): Uint8Array<ArrayBuffer> {
    return this.#buf;
  }

  /**
   * Sends `buffer[offset, offset + length)` with `fd` attached when `fd >= 0`.
   *
   * @param sock The Unix socket.
   * @param offset Start in the message buffer.
   * @param length Byte count.
   * @param fd The fd to pass, or -1.
   * @returns Bytes sent, or `-errno`.
   */
  send(sock: number, offset: number, length: number, fd: number): number {
    setU64(this.#iovView, 0, this.#bufPtr + offset);
    setU64(this.#iovView, 8, length);
    const v = this.#msgView;
    if (fd >= 0) {
      this.#controlView.setInt32(P.cmsgHeader, fd, true);
      setU64(v, P.msgControlLen, this.#control.length);
    } else {
      setU64(v, P.msgControlLen, 0);
    }
    const n = Number(
      libc.sendmsg(sock, this.#msg, P.MSG_DONTWAIT | P.MSG_NOSIGNAL),
    );
    return n < 0 ? -errno() : n;
  }
}

/** Most reads one {@linkcode RecvBatch.read} asks the kernel for. */
const BATCH = 32;
/** Smallest buffer region offered to one read. */
const MIN_REGION = 2048;
/** Control buffer of one read: room for `MAX_RECEIVED_FDS` fds. */
const CONTROL_SIZE = 16 + 4 * MAX_RECEIVED_FDS;

/**
 * One `recvmmsg` of up to 32 reads on a stream socket, each into its own
 * region of a {@linkcode SessionStream}'s free buffer and with its own
 * control buffer (so each read's fds stay with its bytes), with
 * `MSG_DONTWAIT | MSG_CMSG_CLOEXEC`. On a stream socket each read ends
 * right after a segment that carries fds, so with one fd per session, one
 * call takes up to 32 sessions.
 */
export class RecvBatch {
  #stream: SessionStream;
  #bufPtr: number;
  #msgs = new Uint8Array(new ArrayBuffer(P.mmsghdrSize * BATCH));
  #msgsView = new DataView(this.#msgs.buffer);
  #iovs = new Uint8Array(new ArrayBuffer(16 * BATCH));
  #iovsView = new DataView(this.#iovs.buffer);
  #controls = new Uint8Array(new ArrayBuffer(CONTROL_SIZE * BATCH));
  #controlsView = new DataView(this.#controls.buffer);
  /** The room asked of the stream before each call. */
  #want: number;
  /**
   * Bytes offered to each read: twice the longest read of the last call
   * (at least 2 KiB), so that small sessions come many to a call, while
   * large ones (a read each anyway) get one region, where the bytes land
   * in place instead of being moved together after the call.
   */
  #region = MIN_REGION;

  /**
   * Sets up the headers for `stream`'s buffer.
   *
   * @param stream The stream the reads go into.
   * @param want Bytes of room to offer per call (at most the stream's
   * capacity minus one longest session).
   */
  constructor(stream: SessionStream, want: number) {
    this.#stream = stream;
    this.#want = want;
    this.#bufPtr = pointerValue(stream.buffer);
    const v = this.#msgsView;
    const iovs = pointerValue(this.#iovs);
    const controls = pointerValue(this.#controls);
    for (let i = 0; i < BATCH; i++) {
      const o = i * P.mmsghdrSize;
      setU64(v, o + P.msgIov, iovs + 16 * i);
      setU64(v, o + P.msgIovLen, 1);
      setU64(v, o + P.msgControl, controls + CONTROL_SIZE * i);
    }
  }

  /**
   * Reads what is ready into the stream, without waiting.
   *
   * @param sock The Unix stream socket.
   * @returns The number of reads (at least 1; a read of 0 bytes is the end
   * of the stream), or `-errno` (`-EAGAIN`: nothing to read).
   */
  read(sock: number): number {
    const stream = this.#stream;
    const free = stream.reserve(this.#want);
    const count = Math.max(
      1,
      Math.min(BATCH, Math.floor(free / this.#region)),
    );
    const region = Math.floor(free / count);
    const at = stream.end;
    const v = this.#msgsView;
    const iv = this.#iovsView;
    for (let i = 0; i < count; i++) {
      setU64(iv, 16 * i, this.#bufPtr + at + region * i);
      setU64(iv, 16 * i + 8, region);
      setU64(v, i * P.mmsghdrSize + P.msgControlLen, CONTROL_SIZE);
    }
    const n = libc.recvmmsg(
      sock,
      this.#msgs,
      count,
      P.MSG_DONTWAIT | P.MSG_CMSG_CLOEXEC,
      null,
    );
    if (n < 0) return -errno();
    let longest = 0;
    for (let i = 0; i < n; i++) {
      const o = i * P.mmsghdrSize;
      const len = v.getUint32(o + P.mmsgLen, true);
      const flags = v.getInt32(o + P.msgFlags, true);
      const controlLen = v.getUint32(o + P.msgControlLen, true);
      const fds = controlLen > 0 ? this.#fds(i, controlLen) : NO_FDS;
      stream.append(at + region * i, len, fds, (flags & P.MSG_CTRUNC) !== 0);
      if (len === 0) return i + 1;
      if (len > longest) longest = len;
    }
    this.#region = Math.max(MIN_REGION, 2 * longest);
    return n;
  }

  /** Every fd in read `i`'s control messages (close-on-exec already). */
  #fds(i: number, controlLen: number): number[] {
    const fds: number[] = [];
    const cv = this.#controlsView;
    const base = CONTROL_SIZE * i;
    const limit = Math.min(controlLen, CONTROL_SIZE);
    let o = 0;
    while (o + P.cmsgHeader <= limit) {
      const len = cv.getUint32(base + o, true);
      if (len < P.cmsgHeader) break;
      const level = cv.getInt32(base + o + 8, true);
      const type = cv.getInt32(base + o + 12, true);
      if (level === P.SOL_SOCKET && type === P.SCM_RIGHTS) {
        const end = Math.min(o + len, limit);
        for (let p = o + P.cmsgHeader; p + 4 <= end; p += 4) {
          const fd = cv.getInt32(base + p, true);
          fds.push(fd);
          fdTrace.hook?.(fd);
        }
      }
      o += align(len);
    }
    return fds;
  }
}
