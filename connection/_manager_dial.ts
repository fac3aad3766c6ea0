// Copyright 2026 the @sidecar/ipc authors. MIT license.
// A manager client's requests to the server itself: each on a connection
// of its own (CPython's dispatch() through a fresh Client()), at most
// `maxPending` being opened at once.

import type { Address } from "./address.ts";
import type { AuthOptions } from "./authenticate.ts";
import { connect } from "./connect.ts";
import type { Connection } from "./connection.ts";
import { AuthenticationError } from "./errors.ts";
import { ManagerDisconnectedError, ManagerError } from "./manager_errors.ts";
import { handshakeOn, openSocket } from "./_dial.ts";
import { race } from "../_internal/abort.ts";
import type { RetryOptions } from "../_internal/retry.ts";

/** How to reach the manager. */
export interface DialOptions extends AuthOptions {
  maxMessageSize?: number;
}

/** A connection with the reply to its first request. */
export interface Dialed {
  conn: Connection<unknown>;
  reply: Uint8Array;
}

const noop = (): void => {};

function abandoned(): ManagerError {
  return new ManagerError("MANAGER_CLOSED", "abandoned");
}

/** Opens connections to a manager, a bounded number at once. */
export class Dialer {
  #address: Address;
  #options: DialOptions;
  #max: number;
  #opening = 0;
  #waiters: (() => void)[] = [];
  #retry: boolean | RetryOptions | undefined;

  /**
   * @param retry Until a socket to the manager was opened once, the
   * connect step of a request is retried by this option, before (and
   * outside) the request's deadline; later requests connect once.
   */
  constructor(
    address: Address,
    options: DialOptions,
    maxPending: number,
    retry?: boolean | RetryOptions,
  ) {
    this.#address = address;
    this.#options = options;
    this.#max = maxPending;
    this.#retry = retry;
  }

  /**
   * Connects (handshake included), sends `bytes`, reads one reply. Rejects
   * with the signal's reason, a `TimeoutError`, an `AuthenticationError`,
   * or a `ManagerDisconnectedError`; the connection is then closed.
   */
  async request(
    bytes: Uint8Array,
    method: string,
    signal: AbortSignal | undefined,
    timeout: number,
  ): Promise<Dialed> {
    let socket: Deno.Conn | null = null;
    const retry = this.#retry;
    if (retry !== undefined && retry !== false) {
      // The manager may still be starting: wait for it, then give the
      // request its whole deadline. The handshake is not retried.
      try {
        socket = await openSocket(
          this.#address,
          retry,
          signal,
          "connect to the manager",
        );
      } catch (e) {
        throw failure(e, method, signal);
      }
      this.#retry = undefined;
    }
    let conn: Connection<unknown> | null = null;
    let lost = false;
    const work = (async () => {
      await this.#take();
      try {
        if (lost) throw abandoned();
        const opened = socket;
        socket = null;
        conn = opened !== null
          ? await handshakeOn(opened, this.#options, undefined)
          : await connect(this.#address, this.#options);
        if (lost) {
          // Given up on while connecting: nobody else will close it.
          conn.close().catch(noop);
          throw abandoned();
        }
        await conn.sendBytes(bytes);
        return await conn.recvBytes();
      } finally {
        this.#free();
      }
    })();
    try {
      const reply = await race(work, {
        signal,
        timeout,
        what: `the manager's reply to ${method}()`,
        onLost: () => {
          lost = true;
          (conn as Connection<unknown> | null)?.close().catch(noop);
        },
      });
      return { conn: conn!, reply };
    } catch (e) {
      (conn as Connection<unknown> | null)?.close().catch(noop);
      // A socket the request never took (it waited for a slot).
      (socket as Deno.Conn | null)?.close();
      socket = null;
      throw failure(e, method, signal);
    }
  }

  #take(): Promise<void> | void {
    if (this.#opening < this.#max) {
      this.#opening++;
      return;
    }
    return new Promise<void>((resolve) => this.#waiters.push(resolve));
  }

  #free(): void {
    const next = this.#waiters.shift();
    if (next !== undefined) next();
    else this.#opening--;
  }
}

/**
 * What a failed request rejects with: an authentication failure, the
 * caller's abort and a timeout as they are, anything else as a
 * `ManagerDisconnectedError`.
 */
function failure(
  e: unknown,
  method: string,
  signal: AbortSignal | undefined,
): unknown {
  if (
    e instanceof AuthenticationError ||
    (signal?.aborted && e === signal.reason) ||
    (e instanceof DOMException && e.name === "TimeoutError")
  ) {
    return e;
  }
  return new ManagerDisconnectedError(
    `Cannot send ${method}() to the manager: ${
      e instanceof Error ? e.message : e
    }`,
    { cause: e },
  );
}
