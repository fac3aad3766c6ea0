// Copyright 2026 the @sidecar/ipc authors. MIT license.
// This module is browser compatible.

/**
 * The receive state machine of a socket session stream, without I/O: it
 * says how many bytes it needs next, so a receiver reads exactly that many
 * and never crosses into the next session (which would separate an fd from
 * its dummy byte).
 *
 * @module
 */

import { SocketSessionError } from "./errors.ts";
import {
  checkHeaderLength,
  decodeSessionHeader,
  type SessionHeader,
} from "./session_header.ts";
import type { SockaddrOptions } from "./sockaddr.ts";

/** Where a {@linkcode SessionDecoder} is in the current session. */
export type SessionDecoderPhase = "marker" | "length" | "header" | "data";

/** A complete session as decoded from the stream (without its fd). */
export interface DecodedSession extends SessionHeader {
  /** The session data (a copy). */
  data: Uint8Array<ArrayBuffer>;
}

/**
 * Decodes a stream of socket sessions fed in arbitrary pieces. The phase
 * `"marker"` is the 1-byte dummy that carries the fd: whoever reads it must
 * check the fds that came with it.
 *
 * @example Usage
 * ```ts
 * import { encodeSessionHeader, encodeSockaddr, SessionDecoder } from "@sidecar/ipc/session";
 * import assert from "node:assert/strict";
 *
 * const local = encodeSockaddr({ hostname: "127.0.0.1", port: 53 });
 * const header = encodeSessionHeader({ family: 2, type: 1, protocol: 6, local, remote: local, dataLength: 2 });
 * const wire = new Uint8Array([0, ...header, 104, 105]);
 * const decoder = new SessionDecoder();
 * let session = null;
 * for (let o = 0; session === null;) {
 *   const n = decoder.needed;
 *   session = decoder.feed(wire.subarray(o, o + n));
 *   o += n;
 * }
 * assert.equal(new TextDecoder().decode(session.data), "hi");
 * assert.equal(decoder.phase, "marker");
 * ```
 */
export class SessionDecoder {
  #options: SockaddrOptions | undefined;
  #phase: SessionDecoderPhase = "marker";
  #buf: Uint8Array<ArrayBuffer> = new Uint8Array(2);
  #have = 0;
  #want = 1;
  #header: SessionHeader | null = null;

  /**
   * Creates a decoder.
   *
   * @param options The OS whose sockaddr layout the peer uses.
   */
  constructor(options?: SockaddrOptions) {
    this.#options = options;
  }

  /**
   * The current phase; `"marker"` between sessions.
   *
   * @returns The phase.
   *
   * @example Usage
   * ```ts
   * import { SessionDecoder } from "@sidecar/ipc/session";
   * import assert from "node:assert/strict";
   *
   * assert.equal(new SessionDecoder().phase, "marker");
   * ```
   */
  get phase(): SessionDecoderPhase {
    return this.#phase;
  }

  /**
   * How many more bytes the current phase needs (at least 1).
   *
   * @returns The byte count.
   *
   * @example Usage
   * ```ts
   * import { SessionDecoder } from "@sidecar/ipc/session";
   * import assert from "node:assert/strict";
   *
   * const d = new SessionDecoder();
   * d.feed(new Uint8Array([0]));
   * assert.equal(d.needed, 2);
   * ```
   */
  get needed(): number {
    return this.#want - this.#have;
  }

  /**
   * True when no byte of a session has been fed: an end of stream here is
   * a clean end.
   *
   * @returns Whether the decoder is between sessions.
   *
   * @example Usage
   * ```ts
   * import { SessionDecoder } from "@sidecar/ipc/session";
   * import assert from "node:assert/strict";
   *
   * assert.ok(new SessionDecoder().atBoundary);
   * ```
   */
  get atBoundary(): boolean {
    return this.#phase === "marker";
  }

  /**
   * How far the current session got, for error messages (`"n/N"`).
   *
   * @returns The progress text.
   *
   * @example Usage
   * ```ts
   * import { SessionDecoder } from "@sidecar/ipc/session";
   * import assert from "node:assert/strict";
   *
   * assert.equal(new SessionDecoder().progress, "marker 0/1");
   * ```
   */
  get progress(): string {
    return `${this.#phase} ${this.#have}/${this.#want}`;
  }

  /**
   * Feeds at most {@linkcode SessionDecoder.prototype.needed} bytes.
   *
   * @param bytes The next bytes of the stream.
   * @returns The session when its last byte arrived, else `null`.
   * @throws {RangeError} When given more bytes than needed.
   * @throws {SocketSessionError} When the header is invalid.
   *
   * @example Usage
   * ```ts
   * import { SessionDecoder, SocketSessionError } from "@sidecar/ipc/session";
   * import assert from "node:assert/strict";
   *
   * const d = new SessionDecoder();
   * d.feed(new Uint8Array([0]));
   * assert.throws(() => d.feed(new Uint8Array([0xff, 0xff])), SocketSessionError);
   * ```
   */
  feed(bytes: Uint8Array): DecodedSession | null {
    if (bytes.length > this.needed) {
      throw new RangeError(
        `Cannot feed ${bytes.length} bytes: only ${this.needed} needed`,
      );
    }
    if (this.#phase !== "marker") this.#buf.set(bytes, this.#have);
    this.#have += bytes.length;
    if (this.#have < this.#want) return null;
    switch (this.#phase) {
      case "marker":
        this.#start("length", 2);
        return null;
      case "length": {
        const n = checkHeaderLength((this.#buf[0]! << 8) | this.#buf[1]!);
        if (n === 0) {
          throw new SocketSessionError(
            "BOGUS_HEADER",
            "Cannot receive session: bogus header, read beyond end of 0-byte buffer",
          );
        }
        this.#start("header", n);
        return null;
      }
      case "header":
        this.#header = decodeSessionHeader(
          this.#buf.subarray(0, this.#want),
          this.#options,
        );
        this.#start("data", this.#header.dataLength);
        return null;
      case "data": {
        const session: DecodedSession = { ...this.#header!, data: this.#buf };
        this.#header = null;
        this.#buf = new Uint8Array(2);
        this.#phase = "marker";
        this.#have = 0;
        this.#want = 1;
        return session;
      }
    }
  }

  #start(phase: SessionDecoderPhase, want: number): void {
    this.#phase = phase;
    this.#have = 0;
    this.#want = want;
    if (this.#buf.length < want || phase === "data") {
      this.#buf = new Uint8Array(want);
    }
  }
}
