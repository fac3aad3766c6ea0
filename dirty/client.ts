// Copyright 2026 the @sidecar/ipc authors. MIT license.
/**
 * `DirtyClient`: call gunicorn dirty apps over the dirty arbiter's Unix
 * socket.
 *
 * @module
 */

import { type RetryOptions, retrySettings } from "../_internal/retry.ts";
import { checkDuration } from "../_internal/timers.ts";
import type { DirtyConnection } from "./_connection.ts";
import { Call } from "./_call.ts";
import { ConnectionPool } from "./_conn_pool.ts";
import { dictGet, isDict } from "./_dict.ts";
import {
  DirtyConnectionError,
  DirtyProtocolError,
  DirtyTimeoutError,
  errorFromDict,
} from "./errors.ts";
import { type DirtyFrame, ManageOp } from "./message.ts";
import {
  encodeManage,
  encodeRequest,
  encodeStatus,
} from "./message_encoders.ts";
import { MAX_MESSAGE_SIZE } from "./header.ts";
import type {
  DirtyDictInput,
  DirtyInput,
  DirtyValue,
  TlvDecodeOptions,
} from "./tlv.ts";

export type { RetryEvent, RetryOptions } from "../_internal/retry.ts";

/** The environment variable gunicorn sets to the arbiter's socket path. */
export const DIRTY_SOCKET_ENV = "GUNICORN_DIRTY_SOCKET";

/** Options of {@linkcode DirtyClient}. */
export interface DirtyClientOptions {
  /**
   * The arbiter's socket path. Defaults to `$GUNICORN_DIRTY_SOCKET`
   * (needs `--allow-env=GUNICORN_DIRTY_SOCKET`).
   *
   * @default {undefined}
   */
  socketPath?: string;
  /**
   * Default time limit of each call in milliseconds, from the call until
   * its last frame (for streams: from the first `next()` until END). Any
   * length works; `Infinity` means none.
   *
   * @default {30000}
   */
  timeout?: number;
  /**
   * Most connections open at once; calls beyond it wait for a free one.
   * Each connection carries one request at a time.
   *
   * @default {4}
   */
  maxConnections?: number;
  /**
   * How results decode (dicts as plain objects by default here; pass
   * `{ dict: "map" }` for exact key order and any key).
   *
   * @default {{ dict: "object" }}
   */
  decode?: TlvDecodeOptions;
  /**
   * Largest incoming message accepted.
   *
   * @default {67108864}
   */
  maxMessageSize?: number;
  /**
   * Wait for an arbiter that is not listening yet (still starting, or
   * restarting) when a call opens a connection: retry while the socket does
   * not exist (`NotFound`) or nobody listens on it (`ConnectionRefused`),
   * within the call's own timeout and signal too. `true` for the defaults
   * (10 s budget, pauses of 50 ms doubling to 1 s), or a
   * {@linkcode RetryOptions}. Other errors fail at once. Without it, one
   * attempt.
   *
   * @default {false}
   */
  retry?: boolean | RetryOptions;
}

/** Per-call options. */
export interface DirtyCallOptions {
  /**
   * Aborts the call; the connection it used is closed.
   *
   * @default {undefined}
   */
  signal?: AbortSignal;
  /**
   * Time limit in milliseconds (overrides the client's).
   *
   * @default {undefined}
   */
  timeout?: number;
  /**
   * For {@linkcode DirtyClient.stream}: longest wait in milliseconds for
   * the next frame (time spent by the consumer between chunks does not
   * count). Unlimited by default; `timeout` still bounds the whole stream.
   *
   * @default {undefined}
   */
  idleTimeout?: number;
}

/** What to change with {@linkcode DirtyClient.manage}. */
export type ManageRequest = { add: number } | { remove: number };

function randomUint64(): bigint {
  const b = new BigUint64Array(1);
  crypto.getRandomValues(b);
  return b[0]!;
}

function expectFinal(frame: DirtyFrame, id: bigint): DirtyValue {
  if (frame.id !== id) {
    throw new DirtyProtocolError(
      `Cannot read response: request id ${frame.id} does not match ${id}`,
    );
  }
  if (frame.type === "response") return field(frame.payload, "result");
  if (frame.type === "error") {
    throw errorFromDict(field(frame.payload, "error") ?? {});
  }
  throw new DirtyProtocolError(
    frame.type === "chunk" || frame.type === "end"
      ? `Cannot read response: got a ${frame.type} message; use stream() for streaming actions`
      : `Cannot read response: unexpected ${frame.type} message`,
  );
}

function field(payload: DirtyValue, key: string): DirtyValue {
  if (!isDict(payload)) {
    throw new DirtyProtocolError("Cannot read response: payload is not a dict");
  }
  return dictGet(payload, key) ?? null;
}

/**
 * A client for a gunicorn 26 dirty arbiter (or any server speaking its
 * protocol). Calls run on a small pool of Unix socket connections, one
 * request per connection at a time, so concurrent calls never interleave
 * frames. A call that times out, is aborted, or a stream left before its
 * END closes its connection, so stale frames never reach the next call.
 * Errors sent by the server are thrown as the class named by their
 * `error_type` ({@linkcode DirtyAppError},
 * {@linkcode DirtyNoWorkersAvailableError}, ...). Request ids are uint64
 * values from a per-client counter that starts at a random point.
 *
 * An arbiter that restarts closes the pooled connections: the next call
 * finds its connection closed before any byte of its request went out, and
 * sends the request once more on a new connection (gunicorn 26.1's own
 * client fails that call and reconnects on the next one). A request of
 * which anything was sent is never sent twice. With `retry`, a call also
 * waits for an arbiter that is not listening yet.
 *
 * Permissions (Deno 2.9): `--allow-read=<socket> --allow-write=<socket>
 * --allow-net=unix:<socket>`, plus `--allow-env=GUNICORN_DIRTY_SOCKET` when
 * the path comes from there. A missing permission rejects with Deno's own
 * `NotCapable` error.
 *
 * @example Usage
 * ```ts ignore
 * import { DirtyClient } from "@sidecar/ipc/dirty";
 *
 * await using client = new DirtyClient(); // $GUNICORN_DIRTY_SOCKET
 * const sum = await client.execute("myapp.ml:MLApp", "add", [2, 3]);
 * for await (const token of client.stream("myapp.llm:LLMApp", "generate", ["hi"])) {
 *   console.log(token);
 * }
 * ```
 */
export class DirtyClient implements AsyncDisposable {
  readonly #path: string;
  readonly #timeout: number;
  readonly #pool: ConnectionPool;
  #nextId: bigint = randomUint64();

  /**
   * Creates a client. No connection is made until the first call.
   *
   * @param options Socket path, timeout, pool size, decoding.
   * @throws {DirtyConnectionError} If no socket path is given or set in the environment.
   * @throws {RangeError} If `maxConnections` is NaN, or `timeout` negative or NaN.
   */
  constructor(options: DirtyClientOptions = {}) {
    const path = options.socketPath ?? Deno.env.get(DIRTY_SOCKET_ENV);
    if (!path) {
      throw new DirtyConnectionError(
        `Cannot create DirtyClient: no socketPath given and ${DIRTY_SOCKET_ENV} is not set`,
      );
    }
    this.#path = path;
    this.#timeout = checkDuration(
      options.timeout ?? 30_000,
      "timeout",
      "create DirtyClient",
    );
    const max = options.maxConnections ?? 4;
    // NaN would make every call wait for a slot that never comes.
    if (Number.isNaN(max)) {
      throw new RangeError("Cannot create DirtyClient: maxConnections is NaN");
    }
    // Checked now: a bad duration is the constructor's error.
    retrySettings(options.retry, "create DirtyClient");
    this.#pool = new ConnectionPool(
      path,
      {
        dict: "object",
        ...options.decode,
        maxMessageSize: options.maxMessageSize ?? MAX_MESSAGE_SIZE,
      },
      Math.max(1, max),
      options.retry,
    );
  }

  /**
   * The socket path in use.
   *
   * @returns The path.
   *
   * @example Usage
   * ```ts
   * import { DirtyClient } from "@sidecar/ipc/dirty";
   * import assert from "node:assert/strict";
   *
   * const client = new DirtyClient({ socketPath: "/tmp/x.sock" });
   * assert.equal(client.socketPath, "/tmp/x.sock");
   * ```
   */
  get socketPath(): string {
    return this.#path;
  }

  /**
   * Open connections (idle and busy).
   *
   * @returns The count.
   *
   * @example Usage
   * ```ts
   * import { DirtyClient } from "@sidecar/ipc/dirty";
   * import assert from "node:assert/strict";
   *
   * assert.equal(new DirtyClient({ socketPath: "/tmp/x.sock" }).connections, 0);
   * ```
   */
  get connections(): number {
    return this.#pool.connections;
  }

  /**
   * A fresh request id: uint64, unique within this client.
   *
   * @returns The id.
   *
   * @example Usage
   * ```ts
   * import { DirtyClient } from "@sidecar/ipc/dirty";
   * import assert from "node:assert/strict";
   *
   * const client = new DirtyClient({ socketPath: "/tmp/x.sock" });
   * assert.notEqual(client.nextRequestId(), client.nextRequestId());
   * ```
   */
  nextRequestId(): bigint {
    const id = this.#nextId;
    this.#nextId = (id + 1n) & 0xffff_ffff_ffff_ffffn;
    return id;
  }

  /**
   * Sends one message and returns the `result` of the RESPONSE; an ERROR
   * is thrown as its error class. The building block of every unary call.
   *
   * @param build Encodes the message for the given request id.
   * @param options Signal and timeout.
   * @returns The decoded `result`.
   * @throws {DirtyError} The server's error, a {@linkcode DirtyTimeoutError}, a {@linkcode DirtyConnectionError} or a {@linkcode DirtyProtocolError}.
   *
   * @example Usage
   * ```ts ignore
   * import { DirtyClient, encodeStatus } from "@sidecar/ipc/dirty";
   *
   * await using client = new DirtyClient();
   * const status = await client.request((id) => encodeStatus(id));
   * ```
   */
  async request(
    build: (id: bigint) => Uint8Array,
    options: DirtyCallOptions = {},
  ): Promise<DirtyValue> {
    // Encode first: a value that cannot be encoded never touches the pool.
    const id = this.nextRequestId();
    const bytes = build(id);
    const call = new Call(options, this.#timeout);
    let conn: DirtyConnection | null = null;
    let reusable = false;
    try {
      conn = await this.#send(call, bytes);
      const frame = await this.#io(call, conn.readFrame());
      // A RESPONSE or ERROR for our id leaves the connection in step.
      reusable = frame.id === id &&
        (frame.type === "response" || frame.type === "error");
      return expectFinal(frame, id);
    } finally {
      call.dispose();
      if (conn) this.#pool.release(conn, reusable && !call.failed);
    }
  }

  /**
   * Takes a connection and writes the request on it. A pooled connection
   * the arbiter closed while it was idle (it restarted) fails the write
   * before any byte of the request went out: then the request is sent
   * once more, on a new connection, and the other idle ones are dropped.
   * A request of which anything was sent is never sent again. A
   * connection the write failed on is released here, not returned.
   */
  async #send(call: Call, bytes: Uint8Array): Promise<DirtyConnection> {
    for (let again = false;; again = true) {
      const conn = await this.#pool.acquire(call);
      call.attach(conn, (c) => this.#pool.release(c, false));
      const before = conn.sent;
      try {
        await this.#io(call, conn.write(bytes));
        return conn;
      } catch (e) {
        this.#pool.release(conn, false);
        // `before > 0`: a connection used before, so possibly stale.
        if (again || call.failed || before === 0 || conn.sent !== before) {
          throw e;
        }
        this.#pool.dropIdle();
      }
    }
  }

  /** Awaits socket I/O under the call's deadline; maps runtime errors to dirty errors. */
  async #io<T>(call: Call, p: Promise<T>, idleMs?: number): Promise<T> {
    try {
      return await call.guardIdle(p, idleMs);
    } catch (e) {
      if (call.failed) throw e; // the call's own reason (timeout or abort)
      throw this.#transportError(e);
    }
  }

  #transportError(e: unknown): unknown {
    if (e instanceof DirtyProtocolError || e instanceof DirtyTimeoutError) {
      return e;
    }
    if (
      e instanceof Deno.errors.BadResource ||
      e instanceof Deno.errors.Interrupted
    ) {
      return new DirtyConnectionError(
        "Communication error: connection closed",
        this.#path,
        {
          cause: e,
        },
      );
    }
    if (
      e instanceof Error && !(e instanceof DirtyConnectionError) &&
      !("errorType" in e)
    ) {
      return new DirtyConnectionError(
        `Communication error: ${e.message}`,
        this.#path,
        {
          cause: e,
        },
      );
    }
    return e;
  }

  /**
   * Calls `action` on the dirty app at `appPath` and returns its result.
   *
   * @param appPath The app's `module:Class` path.
   * @param action The action (method) name.
   * @param args Positional arguments.
   * @param kwargs Keyword arguments.
   * @param options Signal and timeout.
   * @returns The action's result.
   * @throws {DirtyError} The mapped server error ({@linkcode DirtyAppError}, ...), a timeout, connection or protocol error.
   *
   * @example Usage
   * ```ts ignore
   * import { DirtyClient } from "@sidecar/ipc/dirty";
   *
   * await using client = new DirtyClient({ socketPath: "/run/app/arbiter.sock" });
   * const label = await client.execute("myapp.ml:MLApp", "predict", [[0.1, 0.2]], {}, {
   *   timeout: 5_000,
   * });
   * ```
   */
  async execute(
    appPath: string,
    action: string,
    args: readonly DirtyInput[] = [],
    kwargs: DirtyDictInput = {},
    options: DirtyCallOptions = {},
  ): Promise<DirtyValue> {
    return await this.request(
      (id) => encodeRequest(id, appPath, action, args, kwargs),
      options,
    );
  }

  /**
   * Calls a streaming action and yields each CHUNK's data until END. The
   * request is sent on the first `next()`. A plain RESPONSE (the action
   * was not a generator) yields its result once. An ERROR, even after some
   * chunks, is thrown as its error class. Leaving the loop early, a timeout
   * or an abort closes the connection.
   *
   * @param appPath The app's `module:Class` path.
   * @param action The action name.
   * @param args Positional arguments.
   * @param kwargs Keyword arguments.
   * @param options Signal and timeout (for the whole stream).
   * @returns An async iterator of chunk values.
   * @throws {DirtyError} The mapped server error, a timeout, connection or protocol error.
   *
   * @example Usage
   * ```ts ignore
   * import { DirtyClient } from "@sidecar/ipc/dirty";
   *
   * await using client = new DirtyClient();
   * for await (const token of client.stream("myapp.llm:LLMApp", "generate", ["Hello"])) {
   *   console.log(token);
   * }
   * ```
   */
  async *stream(
    appPath: string,
    action: string,
    args: readonly DirtyInput[] = [],
    kwargs: DirtyDictInput = {},
    options: DirtyCallOptions = {},
  ): AsyncGenerator<DirtyValue, void, undefined> {
    const id = this.nextRequestId();
    const bytes = encodeRequest(id, appPath, action, args, kwargs);
    const call = new Call(options, this.#timeout);
    let conn: DirtyConnection | null = null;
    let reusable = false;
    try {
      conn = await this.#send(call, bytes);
      const c = conn;
      while (true) {
        const frame = await this.#io(call, c.readFrame(), options.idleTimeout);
        if (frame.id !== id) {
          throw new DirtyProtocolError(
            `Cannot read stream: request id ${frame.id} does not match ${id}`,
          );
        }
        switch (frame.type) {
          case "chunk":
            yield field(frame.payload, "data");
            if (call.failed) await call.guard(Promise.resolve());
            continue;
          case "end":
            reusable = true;
            return;
          case "response": {
            const result = field(frame.payload, "result");
            reusable = true;
            yield result;
            return;
          }
          case "error":
            reusable = true;
            throw errorFromDict(field(frame.payload, "error") ?? {});
          default:
            throw new DirtyProtocolError(
              `Cannot read stream: unexpected ${frame.type} message`,
            );
        }
      }
    } finally {
      call.dispose();
      if (conn) this.#pool.release(conn, reusable && !call.failed);
    }
  }

  /**
   * Asks the arbiter for its status (STATUS): `arbiter_pid`, `workers`
   * (pid, age, apps, booted, last_heartbeat), `worker_count`, `apps`.
   *
   * @param options Signal and timeout.
   * @returns The status dict.
   * @throws {DirtyError} On a server, timeout, connection or protocol error.
   *
   * @example Usage
   * ```ts ignore
   * import { DirtyClient } from "@sidecar/ipc/dirty";
   *
   * await using client = new DirtyClient();
   * const status = await client.status();
   * console.log(status);
   * ```
   */
  async status(options: DirtyCallOptions = {}): Promise<DirtyValue> {
    return await this.request((id) => encodeStatus(id), options);
  }

  /**
   * Adds or removes dirty workers (MANAGE), as `gunicornc dirty add|remove
   * N` does.
   *
   * @param change `{ add: n }` or `{ remove: n }`.
   * @param options Signal and timeout.
   * @returns The arbiter's result dict (`success`, `operation`, counts).
   * @throws {RangeError} If the count is not a positive integer.
   *
   * @example Usage
   * ```ts ignore
   * import { DirtyClient } from "@sidecar/ipc/dirty";
   *
   * await using client = new DirtyClient();
   * const result = await client.manage({ add: 1 });
   * ```
   */
  async manage(
    change: ManageRequest,
    options: DirtyCallOptions = {},
  ): Promise<DirtyValue> {
    const [op, count] = "add" in change
      ? [ManageOp.ADD, change.add]
      : [ManageOp.REMOVE, change.remove];
    if (!Number.isSafeInteger(count) || count < 1) {
      throw new RangeError(
        `Cannot manage workers: count ${count} is not a positive integer`,
      );
    }
    return await this.request((id) => encodeManage(id, op, count), options);
  }

  /**
   * Closes every connection; calls in flight and calls still waiting for a
   * connection reject. Idempotent.
   *
   * @returns Resolves once every connection is closed.
   *
   * @example Usage
   * ```ts
   * import { DirtyClient } from "@sidecar/ipc/dirty";
   * import assert from "node:assert/strict";
   *
   * const client = new DirtyClient({ socketPath: "/tmp/x.sock" });
   * await client.close();
   * await client.close();
   * await assert.rejects(client.execute("m:C", "f"));
   * ```
   */
  close(): Promise<void> {
    this.#pool.close();
    return Promise.resolve();
  }

  /**
   * Same as {@linkcode DirtyClient.close}.
   *
   * @returns Resolves once every connection is closed.
   *
   * @example Usage
   * ```ts
   * import { DirtyClient } from "@sidecar/ipc/dirty";
   * import assert from "node:assert/strict";
   *
   * {
   *   await using client = new DirtyClient({ socketPath: "/tmp/x.sock" });
   *   assert.equal(client.connections, 0);
   * }
   * ```
   */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}
