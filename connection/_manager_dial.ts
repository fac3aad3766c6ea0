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
import { race } from "../_internal/abort.ts";

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

/** Opens connections to a manager, a bounded number at once. */
export class Dialer {
  #address: Address;
  #options: DialOptions;
  #max: number;
  #opening = 0;
  #waiters: (() => void)[] = [];

  constructor(address: Address, options: DialOptions, maxPending: number) {
    this.#address = address;
    this.#options = options;
    this.#max = maxPending;
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
    let conn: Connection<unknown> | null = null;
    let lost = false;
    const work = (async () => {
      await this.#take();
      try {
        if (lost) throw new ManagerError("MANAGER_CLOSED", "abandoned");
        conn = await connect(this.#address, this.#options);
        if (lost) throw new ManagerError("MANAGER_CLOSED", "abandoned");
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
      if (
        e instanceof AuthenticationError ||
        (signal?.aborted && e === signal.reason) ||
        (e instanceof DOMException && e.name === "TimeoutError")
      ) {
        throw e;
      }
      throw new ManagerDisconnectedError(
        `Cannot send ${method}() to the manager: ${
          e instanceof Error ? e.message : e
        }`,
        { cause: e },
      );
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
