// Copyright 2026 the @sidecar/ipc authors. MIT license.
/**
 * A dirty arbiter in Deno: hosts dirty apps written in TypeScript (see
 * `app.ts`) in a pool of worker processes and serves clients on a Unix
 * socket with gunicorn 26.1.0's dirty wire protocol, so gunicorn's own
 * Python `DirtyClient`/`StashClient` (and ours) work against it unchanged.
 *
 * - Socket: `arbiter.sock` in a fresh `0700` temp directory (or the given
 *   path), mode `0600`. Both are removed on close.
 * - Each client connection is served in order (one request at a time,
 *   pipelining allowed); connections run in parallel. Malformed input closes
 *   the connection without a reply, as gunicorn does.
 * - REQUESTs go round-robin to the workers that have finished loading the
 *   app, each taking up to `concurrency` requests at once (requests wait in
 *   a per-app queue otherwise); CHUNKs are forwarded as they arrive. STASH,
 *   STATUS and MANAGE are answered by the arbiter itself.
 * - `timeout` is gunicorn's `dirty_timeout`: the longest wait for the next
 *   frame of a request (and for a worker's heartbeat). A request that
 *   exceeds it gets `DirtyTimeoutError "Worker timeout"` with
 *   `{"timeout": N}`; the worker is told to abort it and is killed if it
 *   does not answer within `killGrace`. `0` disables timeouts.
 * - Workers are separate `deno run` processes that talk to the arbiter with
 *   the same wire protocol over a private Unix socket (`workers.sock` in the
 *   arbiter's `0700` directory; see `_worker_protocol.ts`). A worker that
 *   dies is replaced by one with the same apps (exponential back-off while
 *   boots fail); workers watch a pipe from the arbiter and exit when it dies.
 *
 * Differences from gunicorn (its bugs, spec section 6, are not copied):
 * STATUS `booted` is true once a worker loaded its apps and
 * `last_heartbeat` is a real age; stash errors carry the `error_type`
 * gunicorn's `StashClient` expects; MANAGE with a bad `count` gets an ERROR
 * rather than a dropped connection; requests never reach a worker that is
 * still booting; `timeout: 0` means no timeout; workers drain on stop.
 *
 * Permissions of the arbiter: `--allow-run` (it spawns `Deno.execPath()`),
 * `--allow-read`, `--allow-write` and `--allow-net` for its sockets (Deno
 * 2.9 asks for all three on Unix sockets; the directory is in the system
 * temp dir unless `socketPath` says otherwise) and `--allow-read` for the
 * app modules, which it imports to read their `static workers`; `-A` is
 * simplest. Workers get only `--allow-read` of the app modules' directories
 * and of this package's `dirty/` directory, plus access to their socket,
 * unless `workerPermissions` says otherwise (e.g. `--allow-net`,
 * `--allow-env`, `--allow-import` for remote app modules). Workers run
 * with `DENO_NO_UPDATE_CHECK=1`: a pool does not send one request to the
 * Deno release server per spawned worker.
 *
 * @module
 */

import {
  appWorkerLimit,
  importAppClass,
  parseAppSpec,
  resolveAppModule,
} from "./app.ts";
import { DirtyError, DirtyWorkerError } from "./errors.ts";
import { decodeMessage } from "./message_decoder.ts";
import { encodeError, encodeResponse } from "./message_encoders.ts";
import { ManageOp, parseFrame } from "./message.ts";
import type { DirtyInput, DirtyValue } from "./tlv.ts";
import { DirtyFloat } from "./dirty_float.ts";
import { idBytes, type RawFrame, RawFrameSplitter } from "./_frame_io.ts";
import { StashStore } from "./_stash.ts";
import { WriteQueue } from "../_internal/write_queue.ts";
import {
  type PendingRequest,
  type PoolApp,
  WorkerPool,
} from "./_worker_pool.ts";

/** Log levels of the arbiter's log lines. */
export type ArbiterLogLevel = "debug" | "info" | "warn" | "error";

/** Options of {@linkcode startArbiter}. */
export interface ArbiterOptions {
  /**
   * App specs, `"<module path or URL>:<ExportName>[:N]"` (gunicorn's
   * `dirty_apps`). Relative paths are resolved against `cwd`. The wire
   * `app_path` is the spec without `:N`, exactly as written.
   */
  apps: readonly string[];
  /**
   * Number of workers (gunicorn's `dirty_workers`); raised to the largest
   * per-app limit if lower.
   *
   * @default {1}
   */
  workers?: number;
  /**
   * Seconds to wait for a worker's next frame or heartbeat (gunicorn's
   * `dirty_timeout`); `0` disables it.
   *
   * @default {300}
   */
  timeout?: number;
  /**
   * Seconds to let requests finish on stop (gunicorn's
   * `dirty_graceful_timeout`).
   *
   * @default {30}
   */
  gracefulTimeout?: number;
  /**
   * Requests in flight per worker at once (gunicorn's `dirty_threads`, which
   * has no effect there; here it does).
   *
   * @default {1}
   */
  concurrency?: number;
  /**
   * Socket path; by default `arbiter.sock` in a new `0700` temp directory.
   *
   * @default {undefined}
   */
  socketPath?: string;
  /**
   * Permission flags of the worker processes (replacing the default
   * `--allow-read=<app module directories>`), e.g. `["--allow-net"]`.
   *
   * @default {undefined}
   */
  workerPermissions?: readonly string[];
  /**
   * Extra `deno run` flags for workers (e.g. `--v8-flags=…`). Unless they
   * name a config (`--config`, `--no-config`), workers get
   * `--config=<cwd>/deno.json` (or `.jsonc`) when it exists, so apps
   * resolve bare specifiers as the project does.
   *
   * @default {[]}
   */
  denoArgs?: readonly string[];
  /**
   * Directory for relative app paths and the workers' working directory.
   *
   * @default {Deno.cwd()}
   */
  cwd?: string;
  /**
   * Milliseconds a worker has to answer an abort (after a timeout) before
   * it is killed.
   *
   * @default {2000}
   */
  killGrace?: number;
  /**
   * First and largest respawn delays (ms) after boot failures; the delay
   * doubles with each failure in a row.
   *
   * @default {{ initial: 250, max: 30000 }}
   */
  backoff?: { initial?: number; max?: number };
  /**
   * Heartbeat period of workers in ms.
   *
   * @default {min(timeout / 4, 1000)}
   */
  heartbeatInterval?: number;
  /**
   * Where log lines go; by default warnings and errors go to stderr.
   *
   * @default {undefined}
   */
  log?: (level: ArbiterLogLevel, message: string) => void;
}

/** One worker in {@linkcode ArbiterStatus}. */
export interface ArbiterWorkerStatus {
  /** Process id. */
  pid: number;
  /** Spawn sequence number, from 1. */
  age: number;
  /** App paths it hosts. */
  apps: string[];
  /** Whether it finished loading its apps. */
  booted: boolean;
  /** Seconds since its last heartbeat (2 decimals). */
  "last_heartbeat": number;
}

/** A slot whose workers fail to boot. */
export interface ArbiterBootFailure {
  /** App paths of the slot. */
  apps: string[];
  /** Failed boots in a row. */
  failures: number;
  /** The last error. */
  "last_error": string | null;
  /** Seconds until the next attempt. */
  "retry_in": number;
}

/**
 * The STATUS result: gunicorn's keys (`arbiter_pid`, `workers` sorted by
 * age, `worker_count`, `apps`) plus `target_workers` and `boot_failures`.
 */
export interface ArbiterStatus {
  /** The arbiter's pid. */
  "arbiter_pid": number;
  /** Live workers, oldest first. */
  workers: ArbiterWorkerStatus[];
  /** Number of live workers. */
  "worker_count": number;
  /** Configured app paths. */
  apps: string[];
  /** Desired number of workers. */
  "target_workers": number;
  /** Slots that fail to boot. */
  "boot_failures": ArbiterBootFailure[];
}

/** A running arbiter. */
export interface DirtyArbiter extends AsyncDisposable {
  /** The Unix socket path clients connect to. */
  readonly socketPath: string;
  /** The current state, as STATUS reports it. */
  status(): ArbiterStatus;
  /**
   * Sets the number of workers (never below the largest per-app limit, and
   * never removing the last holder of an app).
   *
   * @param workers The wanted number.
   * @returns The new target.
   */
  scale(workers: number): number;
  /**
   * Resolves when every worker has loaded its apps (never, while an app
   * fails to boot: pass a signal to give up). Rejects once the arbiter
   * closes.
   *
   * @param signal Aborts the wait (rejects with its reason).
   * @returns A promise.
   */
  ready(signal?: AbortSignal): Promise<void>;
  /**
   * Stops accepting connections, lets running requests finish within the
   * graceful timeout, stops the workers, removes the socket (and the temp
   * directory it created). Idempotent.
   *
   * @returns A promise that settles when everything is gone.
   */
  close(): Promise<void>;
  /** Settles when the arbiter has closed. */
  readonly closed: Promise<void>;
}

function defaultLog(level: ArbiterLogLevel, message: string): void {
  if (level === "warn" || level === "error") {
    console.error(`[dirty-arbiter ${Deno.pid}] [${level}] ${message}`);
  }
}

function toPyInt(v: DirtyValue): number | null {
  if (typeof v === "boolean") return v ? 1 : 0;
  if (typeof v === "bigint") return Number(v);
  if (typeof v === "number") return Number.isFinite(v) ? Math.trunc(v) : null;
  if (v instanceof DirtyFloat) return Math.trunc(v.value);
  if (typeof v === "string" && /^\s*[+-]?\d+\s*$/.test(v)) return Number(v);
  return null;
}

/** Bytes queued to one client before its worker is paused. */
const CLIENT_HIGH_WATER = 8 * 1024 * 1024;

class ClientConn {
  readonly conn: Deno.UnixConn;
  readonly out: WriteQueue;
  constructor(conn: Deno.UnixConn) {
    this.conn = conn;
    this.out = new WriteQueue(conn, { highWaterMark: CLIENT_HIGH_WATER });
  }
  send(bytes: Uint8Array): Promise<void> | undefined {
    if (this.out.push(bytes)) return undefined;
    // A client that left is not an error worth reporting.
    return this.out.ready().catch(() => {});
  }
}

class Arbiter implements DirtyArbiter {
  readonly socketPath: string;
  readonly #listener: Deno.Listener;
  readonly #pool: WorkerPool;
  readonly #stash = new StashStore();
  readonly #tempDir: string | null;
  readonly #conns = new Set<ClientConn>();
  readonly #log: (level: ArbiterLogLevel, message: string) => void;
  #closing: Promise<void> | null = null;
  #resolveClosed!: () => void;
  readonly closed: Promise<void>;
  #accepting: Promise<void>;
  #serving = new Set<Promise<void>>();
  readonly #stopReadyWaits = new Set<(reason: unknown) => void>();

  constructor(
    listener: Deno.Listener,
    socketPath: string,
    tempDir: string | null,
    pool: WorkerPool,
    log: (level: ArbiterLogLevel, message: string) => void,
  ) {
    this.#listener = listener;
    this.socketPath = socketPath;
    this.#tempDir = tempDir;
    this.#pool = pool;
    this.#log = log;
    this.closed = new Promise((r) => (this.#resolveClosed = r));
    this.#accepting = this.#accept();
  }

  async #accept(): Promise<void> {
    for (;;) {
      let conn: Deno.Conn;
      try {
        conn = await this.#listener.accept();
      } catch (e) {
        if (this.#closing !== null || e instanceof Deno.errors.BadResource) {
          return;
        }
        // E.g. out of file descriptors: keep serving the others.
        this.#log("error", `Accept failed: ${String(e)}`);
        await new Promise((r) => setTimeout(r, 100));
        continue;
      }
      const c = new ClientConn(conn as Deno.UnixConn);
      this.#conns.add(c);
      const p = this.#serve(c).finally(() => {
        this.#conns.delete(c);
        this.#serving.delete(p);
      });
      this.#serving.add(p);
    }
  }

  async #serve(c: ClientConn): Promise<void> {
    const splitter = new RawFrameSplitter();
    const buf = new Uint8Array(64 * 1024);
    try {
      for (;;) {
        if (this.#closing !== null) break;
        const n = await c.conn.read(buf);
        if (n === null) break;
        const frames = splitter.push(buf.subarray(0, n));
        for (const f of frames) {
          if (this.#closing !== null) break;
          const wait = this.#handle(c, f);
          if (wait !== undefined) await wait;
        }
      }
    } catch (e) {
      this.#log("debug", `Client connection error: ${String(e)}`);
    } finally {
      // Let the last replies out, then close.
      await c.out.flush().catch(() => {});
      try {
        c.conn.close();
      } catch {
        // Already closed.
      }
    }
  }

  /** Handles one frame; throws on malformed input (closes the connection). */
  #handle(c: ClientConn, f: RawFrame): Promise<void> | undefined {
    switch (f.type) {
      case "request": {
        const msg = parseFrame(decodeMessage(f.bytes, { float: "tagged" }));
        if (msg.type !== "request") return undefined;
        return new Promise<void>((resolve) => {
          const p: PendingRequest = {
            appPath: msg.appPath,
            frame: f.bytes,
            clientId: idBytes(f.bytes),
            send: (b) => c.send(b),
            gone: () => c.out.failed,
            done: resolve,
            cancelled: false,
            finished: false,
            timer: undefined,
            worker: undefined,
            wid: 0,
          };
          this.#pool.submit(p);
        });
      }
      case "status": {
        const { id } = decodeMessage(f.bytes);
        c.send(encodeResponse(id, this.#statusValue()));
        return undefined;
      }
      case "manage":
        return this.#manage(c, f);
      case "stash": {
        const msg = parseFrame(
          decodeMessage(f.bytes, { float: "tagged" }),
        );
        if (msg.type !== "stash") return undefined;
        const out = this.#stash.handle(msg);
        c.send(
          out.ok
            ? encodeResponse(msg.id, out.result)
            : encodeError(msg.id, out.error),
        );
        return undefined;
      }
      default: {
        const { id } = decodeMessage(f.bytes);
        c.send(
          encodeError(
            id,
            new DirtyWorkerError(`Unknown message type: ${f.type}`),
          ),
        );
        return undefined;
      }
    }
  }

  #manage(c: ClientConn, f: RawFrame): undefined {
    const msg = parseFrame(decodeMessage(f.bytes, { float: "tagged" }));
    if (msg.type !== "manage") return undefined;
    const n = toPyInt(msg.count);
    if (n === null) {
      c.send(
        encodeError(
          msg.id,
          new DirtyError(`Invalid manage count: ${String(msg.count)}`),
        ),
      );
      return undefined;
    }
    const count = Math.max(1, n);
    const op = typeof msg.op === "bigint" ? Number(msg.op) : msg.op;
    const pool = this.#pool;
    let result: Map<string, DirtyInput>;
    if (op === ManageOp.ADD) {
      const spawned = pool.add(count);
      result = new Map<string, DirtyInput>([
        ["success", true],
        ["operation", "add"],
        ["requested", count],
        ["spawned", spawned],
      ]);
      if (spawned === 0) {
        result.set("reason", "All apps have reached their worker limits");
      }
    } else if (op === ManageOp.REMOVE) {
      const removed = pool.remove(count);
      result = new Map<string, DirtyInput>([
        ["success", true],
        ["operation", "remove"],
        ["requested", count],
        ["removed", removed],
      ]);
    } else {
      c.send(
        encodeError(
          msg.id,
          new DirtyError(
            `Unknown manage operation: ${
              msg.op === undefined ? "None" : String(msg.op)
            }`,
          ),
        ),
      );
      return undefined;
    }
    result.set(
      "total_workers",
      pool.workers().filter((w) => w.state !== "retiring").length,
    );
    result.set("target_workers", pool.target);
    this.#log(
      "info",
      `Worker management: ${String(result.get("operation"))} ${count}`,
    );
    c.send(encodeResponse(msg.id, result));
    return undefined;
  }

  status(): ArbiterStatus {
    const now = performance.now();
    const workers = this.#pool.workers().map((w) => ({
      pid: w.pid,
      age: w.age,
      apps: [...w.slot.apps],
      booted: w.booted,
      "last_heartbeat": Math.round((now - w.lastHeartbeat) / 10) / 100,
    }));
    return {
      "arbiter_pid": Deno.pid,
      workers,
      "worker_count": workers.length,
      apps: this.#pool.router.apps(),
      "target_workers": this.#pool.target,
      "boot_failures": this.#pool.failingSlots().map((s) => ({
        apps: [...s.apps],
        failures: s.failures,
        "last_error": s.lastError,
        "retry_in": Math.round(s.retryInMs / 10) / 100,
      })),
    };
  }

  #statusValue(): DirtyInput {
    const s = this.status();
    return new Map<string, DirtyInput>([
      ["arbiter_pid", s.arbiter_pid],
      [
        "workers",
        s.workers.map((w) =>
          new Map<string, DirtyInput>([
            ["pid", w.pid],
            ["age", w.age],
            ["apps", w.apps],
            ["booted", w.booted],
            ["last_heartbeat", new DirtyFloat(w.last_heartbeat)],
          ])
        ),
      ],
      ["worker_count", s.worker_count],
      ["apps", s.apps],
      ["target_workers", s.target_workers],
      [
        "boot_failures",
        s.boot_failures.map((b) =>
          new Map<string, DirtyInput>([
            ["apps", b.apps],
            ["failures", b.failures],
            ["last_error", b.last_error],
            ["retry_in", new DirtyFloat(b.retry_in)],
          ])
        ),
      ],
    ]);
  }

  scale(workers: number): number {
    if (this.#closing !== null) {
      throw new Error("Cannot scale arbiter: it is closed");
    }
    return this.#pool.scale(workers);
  }

  async ready(signal?: AbortSignal): Promise<void> {
    signal?.throwIfAborted();
    if (this.#closing !== null) {
      throw new Error("Cannot wait for workers: the arbiter is closed");
    }
    const { promise, resolve, reject } = Promise.withResolvers<void>();
    const onAbort = (): void => reject(signal!.reason);
    signal?.addEventListener("abort", onAbort, { once: true });
    this.#stopReadyWaits.add(reject);
    this.#pool.ready().then(resolve);
    try {
      await promise;
    } finally {
      signal?.removeEventListener("abort", onAbort);
      this.#stopReadyWaits.delete(reject);
    }
  }

  close(): Promise<void> {
    if (this.#closing === null) {
      this.#closing = this.#close();
      for (const stop of this.#stopReadyWaits) {
        stop(new Error("Cannot wait for workers: the arbiter was closed"));
      }
    }
    return this.#closing;
  }

  async #close(): Promise<void> {
    try {
      this.#listener.close();
    } catch {
      // Already closed.
    }
    await this.#accepting;
    // Running requests finish (within the grace period) before workers stop.
    await this.#pool.close();
    for (const c of this.#conns) {
      try {
        c.conn.close();
      } catch {
        // Already closed.
      }
    }
    await Promise.all(this.#serving);
    await Deno.remove(this.socketPath).catch(() => {});
    if (this.#tempDir !== null) {
      await Deno.remove(this.#tempDir, { recursive: true }).catch(() => {});
    }
    this.#resolveClosed();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}

/**
 * Starts a dirty arbiter and its workers. Resolves once the socket
 * listens (workers may still be loading; requests wait for them, or see
 * {@linkcode DirtyArbiter.ready}).
 *
 * @param options Apps, pool size, timeouts, socket path, permissions.
 * @returns The running arbiter.
 * @throws {DirtyAppError} If an app spec is malformed.
 *
 * @example Usage
 * ```ts
 * import { startArbiter } from "./arbiter.ts";
 * import { DirtyClient } from "./client.ts";
 * import assert from "node:assert/strict";
 *
 * const echo = new URL("./testdata/apps/echo.ts", import.meta.url).href;
 * await using arbiter = await startArbiter({ apps: [`${echo}:EchoApp`], workers: 1 });
 * await using client = new DirtyClient({ socketPath: arbiter.socketPath });
 * assert.equal(await client.execute(`${echo}:EchoApp`, "add", [2, 3]), 5);
 * ```
 */
export async function startArbiter(
  options: ArbiterOptions,
): Promise<DirtyArbiter> {
  const log = options.log ?? defaultLog;
  const cwd = options.cwd ?? Deno.cwd();
  const specs = options.apps.map((s) => parseAppSpec(s));
  const seen = new Set<string>();
  const apps: PoolApp[] = [];
  const readDirs = new Set<string>();
  for (const spec of specs) {
    if (seen.has(spec.appPath)) continue;
    seen.add(spec.appPath);
    const module = resolveAppModule(spec.module, cwd);
    if (module.startsWith("file:")) {
      const path = decodeURIComponent(new URL(module).pathname);
      readDirs.add(path.slice(0, path.lastIndexOf("/")) || "/");
    }
    let limit = spec.workers;
    if (limit === undefined) {
      try {
        limit = appWorkerLimit(spec, await importAppClass(spec, cwd));
      } catch (e) {
        log(
          "warn",
          `Cannot read the worker limit of ${spec.appPath}: ${
            e instanceof Error ? e.message : String(e)
          }`,
        );
      }
    }
    apps.push({
      appPath: spec.appPath,
      module,
      exportName: spec.exportName,
      limit,
    });
  }
  if (apps.length === 0) {
    throw new TypeError("Cannot start arbiter: no apps given");
  }
  // Apps import this package (`DirtyApp`); workers may read its own files.
  const here = new URL(".", import.meta.url);
  if (here.protocol === "file:") {
    readDirs.add(decodeURIComponent(here.pathname).replace(/\/$/, ""));
  }
  const timeout = options.timeout ?? 300;
  if (!(timeout >= 0)) {
    throw new RangeError(`Cannot start arbiter: invalid timeout ${timeout}`);
  }
  const timeoutMs = timeout * 1000;

  // A private 0700 directory: the workers' socket, and the client socket
  // unless a path was given.
  const tempDir = await Deno.makeTempDir({ prefix: "deno-dirty-" });
  let socketPath = options.socketPath;
  const workerSocket = `${tempDir}/workers.sock`;
  const listeners: Deno.Listener[] = [];
  try {
    await Deno.chmod(tempDir, 0o700);
    if (socketPath === undefined) {
      socketPath = `${tempDir}/arbiter.sock`;
    } else {
      // A stale socket from a previous run.
      try {
        const info = await Deno.lstat(socketPath);
        if (info.isSocket) await Deno.remove(socketPath);
      } catch {
        // Nothing there.
      }
    }
    listeners.push(Deno.listen({ transport: "unix", path: socketPath }));
    await Deno.chmod(socketPath, 0o600);
    listeners.push(Deno.listen({ transport: "unix", path: workerSocket }));
    await Deno.chmod(workerSocket, 0o600);
  } catch (e) {
    for (const l of listeners) l.close();
    if (options.socketPath !== undefined && listeners.length > 0) {
      await Deno.remove(options.socketPath).catch(() => {});
    }
    await Deno.remove(tempDir, { recursive: true }).catch(() => {});
    throw e;
  }
  const [listener, workerListener] = listeners as [
    Deno.Listener,
    Deno.Listener,
  ];
  const permissions = [
    ...(options.workerPermissions ??
      (readDirs.size > 0 ? [`--allow-read=${[...readDirs].join(",")}`] : [])),
  ];
  const all = permissions.some((p) => p === "-A" || p === "--allow-all");
  for (const kind of ["read", "write", "net"]) {
    // A bare --allow-read/-write/-net already covers the socket (and a
    // scoped flag next to it would narrow it). Deno 2.9 asks for all three
    // to connect to a Unix socket.
    if (!all && !permissions.includes(`--allow-${kind}`)) {
      const target = kind === "net" ? `unix:${workerSocket}` : workerSocket;
      permissions.push(`--allow-${kind}=${target}`);
    }
  }
  // Workers resolve bare specifiers like the project that runs the arbiter.
  const denoArgs = [...(options.denoArgs ?? [])];
  const hasConfig = denoArgs.some((a) =>
    a === "-c" || a === "--config" || a.startsWith("--config=") ||
    a === "--no-config"
  );
  if (!hasConfig) {
    for (const name of ["deno.json", "deno.jsonc"]) {
      const path = `${cwd.replace(/\/$/, "")}/${name}`;
      const info = await Deno.stat(path).catch(() => null);
      if (info?.isFile) {
        denoArgs.push(`--config=${path}`);
        break;
      }
    }
  }
  const pool = new WorkerPool({
    apps,
    workers: Math.max(1, Math.floor(options.workers ?? 1)),
    timeoutMs,
    timeoutSeconds: timeout,
    gracefulMs: (options.gracefulTimeout ?? 30) * 1000,
    concurrency: Math.max(1, Math.floor(options.concurrency ?? 1)),
    killGraceMs: options.killGrace ?? 2000,
    backoffInitialMs: options.backoff?.initial ?? 250,
    backoffMaxMs: options.backoff?.max ?? 30_000,
    heartbeatMs: options.heartbeatInterval ??
      Math.max(20, Math.min(1000, timeoutMs > 0 ? timeoutMs / 4 : 1000)),
    workerUrl: new URL("./_worker_main.ts", import.meta.url).href,
    workerSocket,
    workerListener,
    workerArgs: [
      "run",
      "--no-prompt",
      ...permissions,
      ...denoArgs,
    ],
    cwd,
    // Workers do not look for a newer Deno in the background (a network
    // request and a socket per spawned worker).
    env: { GUNICORN_DIRTY_SOCKET: socketPath, DENO_NO_UPDATE_CHECK: "1" },
    log,
  });
  const arbiter = new Arbiter(listener, socketPath, tempDir, pool, log);
  pool.start();
  return arbiter;
}
