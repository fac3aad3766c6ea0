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
 *   the connection without a reply, as gunicorn does. A client whose
 *   connection ends (it closed, timed out or aborted) has its running
 *   request cancelled in the worker; so has one that shuts down only its
 *   write side (gunicorn's clients never do).
 * - REQUESTs go round-robin to the workers that have finished loading the
 *   app, each taking up to `concurrency` requests at once (requests wait in
 *   a per-app queue otherwise); CHUNKs are forwarded as they arrive. STASH,
 *   STATUS and MANAGE are answered by the arbiter itself.
 * - Every frame from every worker is read as it comes, whatever a client
 *   does: a client that reads slowly has its stream paused in the worker,
 *   and one that lets more than `maxClientBufferSize` bytes pile up is
 *   disconnected (its request cancelled).
 * - `timeout` is gunicorn's `dirty_timeout`, in milliseconds: the longest
 *   wait for a request's next frame, counted from the moment a worker takes
 *   it (time spent queued does not count), and for a worker's heartbeat or
 *   boot. There is no separate limit on queue waiting: a queued request
 *   waits until a worker is free, or until its client gives up (it then
 *   leaves the queue), or fails at once when every worker for its app
 *   fails to boot. A request over it gets `DirtyTimeoutError "Worker timeout"` with
 *   `{"timeout": <seconds>}`; the worker is told to abort it and is killed
 *   (with a log line saying why) if its app code does not let go within
 *   `killGrace`.
 * - Workers are separate `deno run` processes whose app code runs on a
 *   thread of its own, while their main thread talks to the arbiter (see
 *   `_worker_protocol.ts`): a CPU-bound action stops neither heartbeats nor
 *   cancellations. A worker that dies is replaced by one with the same
 *   apps (with exponential back-off while boots fail or app code keeps
 *   crashing); workers watch a pipe from the arbiter and exit when it dies.
 *
 * Differences from gunicorn (its bugs, spec section 6, are not copied):
 * STATUS `booted` is true once a worker loaded its apps and
 * `last_heartbeat` is a real age; stash errors carry the `error_type`
 * gunicorn's `StashClient` expects; MANAGE with a bad `count` gets an ERROR
 * rather than a dropped connection; requests never reach a worker that is
 * still booting; `timeout: Infinity` means no timeout; workers drain on
 * stop; one worker serves `concurrency` requests at once.
 *
 * Permissions of the arbiter: `--allow-run` (it spawns `Deno.execPath()`),
 * `--allow-read`, `--allow-write` and `--allow-net` for its sockets (Deno
 * 2.9 asks for all three on Unix sockets; the directory is in the system
 * temp dir unless `socketPath` says otherwise) and `--allow-read` for the
 * app modules, which it imports to read their `static workers`; `-A` is
 * simplest. Workers get only `--allow-read` of the app modules' directories
 * and of this package's `dirty/` and `_internal/` directories, access to
 * their own socket and to the arbiter's (so apps can use the stash), and
 * `--allow-env=GUNICORN_DIRTY_SOCKET`, unless `workerPermissions` says
 * otherwise (e.g. `--allow-net`, `--allow-env`, `--allow-import` for remote
 * app modules). Workers run with `DENO_NO_UPDATE_CHECK=1`: a pool does not
 * send one request to the Deno release server per spawned worker.
 *
 * @module
 */

import { requireDeno } from "../_internal/deno_version.ts";
import { race } from "../_internal/abort.ts";
import { checkDuration } from "../_internal/timers.ts";
import {
  appWorkerLimit,
  importAppClass,
  parseAppSpec,
  resolveAppModule,
} from "./app.ts";
import { StashStore } from "./_stash.ts";
import type { LogFn, LogLevel } from "./_log.ts";
import { type PoolApp, WorkerPool } from "./_worker_pool.ts";
import { ClientSession } from "./_arbiter_client.ts";
import { acceptLoop } from "./_accept_loop.ts";
import { withProjectConfig, workerFlags } from "./_worker_flags.ts";
import { answer, type ArbiterStatus, statusOf } from "./_arbiter_ops.ts";
import type { RawFrame } from "./_frame_io.ts";

export type {
  ArbiterBootFailure,
  ArbiterStatus,
  ArbiterWorkerStatus,
} from "./_arbiter_ops.ts";

/** Log levels of the arbiter's log lines. */
export type ArbiterLogLevel = LogLevel;

/** Options of {@linkcode startArbiter}; durations in milliseconds. */
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
   * Milliseconds to wait for a request's next frame from the moment a
   * worker takes it, for a worker's heartbeat and for its boot (gunicorn's
   * `dirty_timeout`, which is in seconds); `Infinity` for none.
   *
   * @default {300000}
   */
  timeout?: number;
  /**
   * Milliseconds running requests may take to finish on close (gunicorn's
   * `dirty_graceful_timeout`, in seconds there).
   *
   * @default {30000}
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
   * Most bytes of one request's results that may wait for a client that
   * reads slowly. Its stream is paused well before (at a quarter of it, at
   * most 1 MiB); a frame that would take the waiting bytes past this bound
   * disconnects the client and cancels its request. One frame always fits,
   * whatever its size.
   *
   * @default {16777216}
   */
  maxClientBufferSize?: number;
  /**
   * Socket path; by default `arbiter.sock` in a new `0700` temp directory.
   *
   * @default {undefined}
   */
  socketPath?: string;
  /**
   * Permission flags of the worker processes (replacing the default
   * `--allow-read=<app module directories>` and `--allow-env`), e.g.
   * `["--allow-net"]`. Access to the workers' socket and the arbiter's is
   * added unless a flag covers it.
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
   * Milliseconds a worker has to let go of a timed-out request (its app
   * code answering the abort) before it is killed.
   *
   * @default {2000}
   */
  killGrace?: number;
  /**
   * First and largest respawn delays (ms) after failed boots or crashes;
   * the delay doubles with each failure in a row.
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

class Arbiter implements DirtyArbiter {
  readonly socketPath: string;
  readonly pool: WorkerPool;
  readonly stash: StashStore = new StashStore();
  readonly apps: string[];
  readonly log: LogFn;
  readonly pauseSize: number;
  readonly maxBufferSize: number;
  readonly #listener: Deno.Listener;
  readonly #workerListener: Deno.Listener;
  readonly #tempDir: string | null;
  readonly #sessions = new Set<ClientSession>();
  readonly #serving = new Set<Promise<void>>();
  /** Aborted by close(): ready() waits end. */
  readonly #stopReadyWaits = new AbortController();
  readonly #accepting: Promise<void>[];
  readonly #stopClients = new AbortController();
  readonly #stopWorkers = new AbortController();
  #closing: Promise<void> | null = null;
  #resolveClosed!: () => void;
  readonly closed: Promise<void>;

  constructor(
    listener: Deno.Listener,
    workerListener: Deno.Listener,
    socketPath: string,
    tempDir: string | null,
    pool: WorkerPool,
    apps: string[],
    log: LogFn,
    maxBufferSize: number,
  ) {
    this.#listener = listener;
    this.#workerListener = workerListener;
    this.socketPath = socketPath;
    this.#tempDir = tempDir;
    this.pool = pool;
    this.apps = apps;
    this.log = log;
    this.maxBufferSize = maxBufferSize;
    this.pauseSize = Math.min(1024 * 1024, Math.floor(maxBufferSize / 4));
    this.closed = new Promise((r) => (this.#resolveClosed = r));
    this.#accepting = [
      this.#accept(
        listener,
        "client",
        (conn) => this.#serve(conn),
        this.#stopClients.signal,
      ),
      this.#accept(
        workerListener,
        "worker",
        (conn) => pool.adopt(conn),
        this.#stopWorkers.signal,
      ),
    ];
  }

  get closing(): boolean {
    return this.#closing !== null;
  }

  answer(frame: RawFrame): Uint8Array {
    return answer(this, frame);
  }

  async #accept(
    listener: Deno.Listener,
    what: string,
    take: (conn: Deno.UnixConn) => void,
    signal: AbortSignal,
  ): Promise<void> {
    try {
      await acceptLoop(listener as Deno.Listener<Deno.UnixConn>, {
        what,
        log: this.log,
        onConnection: take,
        signal,
      });
    } catch (e) {
      // The socket itself is unusable: the arbiter cannot go on.
      this.log("error", `${(e as Error).message}; the arbiter closes`);
      void this.close();
    }
  }

  #serve(conn: Deno.UnixConn): void {
    const s = new ClientSession(conn, this);
    this.#sessions.add(s);
    const p = s.run().finally(() => {
      this.#sessions.delete(s);
      this.#serving.delete(p);
    });
    this.#serving.add(p);
  }

  status(): ArbiterStatus {
    return statusOf(this.pool, this.apps);
  }

  scale(workers: number): number {
    if (this.#closing !== null) {
      throw new Error("Cannot scale arbiter: it is closed");
    }
    return this.pool.scale(workers);
  }

  async ready(signal?: AbortSignal): Promise<void> {
    signal?.throwIfAborted();
    if (this.#closing !== null) {
      throw new Error("Cannot wait for workers: the arbiter is closed");
    }
    const closed = this.#stopReadyWaits.signal;
    await race(this.pool.ready(), {
      signal: signal === undefined ? closed : AbortSignal.any([signal, closed]),
    });
  }

  close(): Promise<void> {
    if (this.#closing === null) {
      this.#closing = this.#close();
      this.#stopReadyWaits.abort(
        new Error("Cannot wait for workers: the arbiter was closed"),
      );
    }
    return this.#closing;
  }

  async #close(): Promise<void> {
    this.#stopClients.abort();
    try {
      this.#listener.close();
    } catch {
      // Already closed.
    }
    // Running requests finish (within the grace period) before workers stop.
    await this.pool.close();
    this.#stopWorkers.abort();
    try {
      this.#workerListener.close();
    } catch {
      // Already closed.
    }
    await Promise.all(this.#accepting);
    // Replies already queued go out before the connections close.
    await Promise.all([...this.#sessions].map((s) => s.idle()));
    for (const s of this.#sessions) s.close();
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

function directoryOf(fileUrl: string | URL): string {
  const path = decodeURIComponent(new URL(fileUrl).pathname);
  return path.slice(0, path.lastIndexOf("/")) || "/";
}

/**
 * Starts a dirty arbiter and its workers. Resolves once the socket
 * listens (workers may still be loading; requests wait for them, or see
 * {@linkcode DirtyArbiter.ready}).
 *
 * @param options Apps, pool size, timeouts, socket path, permissions.
 * @returns The running arbiter.
 * @throws {DirtyAppError} If an app spec is malformed.
 * @throws {RangeError} If a duration is negative or NaN, or `timeout` is 0.
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
  requireDeno("start arbiter");
  const log = options.log ?? defaultLog;
  const cwd = options.cwd ?? Deno.cwd();
  const what = "start arbiter";
  const timeout = checkDuration(options.timeout ?? 300_000, "timeout", what);
  if (timeout === 0) {
    throw new RangeError(
      "Cannot start arbiter: timeout must be more than 0 ms (Infinity for none)",
    );
  }
  const gracefulTimeout = checkDuration(
    options.gracefulTimeout ?? 30_000,
    "gracefulTimeout",
    what,
  );
  const killGrace = checkDuration(options.killGrace ?? 2000, "killGrace", what);
  const backoffInitial = checkDuration(
    options.backoff?.initial ?? 250,
    "backoff.initial",
    what,
  );
  const backoffMax = checkDuration(
    options.backoff?.max ?? 30_000,
    "backoff.max",
    what,
  );
  const heartbeatInterval = checkDuration(
    options.heartbeatInterval ?? Math.max(20, Math.min(1000, timeout / 4)),
    "heartbeatInterval",
    what,
  );
  const maxBufferSize = options.maxClientBufferSize ?? 16 * 1024 * 1024;
  if (!(maxBufferSize >= 1)) {
    throw new RangeError(
      `Cannot start arbiter: maxClientBufferSize must be a number of bytes >= 1, got ${maxBufferSize}`,
    );
  }
  const specs = options.apps.map((s) => parseAppSpec(s));
  const seen = new Set<string>();
  const apps: PoolApp[] = [];
  const readDirs = new Set<string>();
  for (const spec of specs) {
    if (seen.has(spec.appPath)) continue;
    seen.add(spec.appPath);
    const module = resolveAppModule(spec.module, cwd);
    if (module.startsWith("file:")) readDirs.add(directoryOf(module));
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
  // Apps import this package (`DirtyApp`), which imports `_internal/`; the
  // app thread's whole module graph needs read access.
  for (const dir of ["./", "../_internal/"]) {
    const url = new URL(dir, import.meta.url);
    if (url.protocol === "file:") {
      readDirs.add(decodeURIComponent(url.pathname).replace(/\/$/, ""));
    }
  }

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
  const permissions = workerFlags(
    options.workerPermissions ?? [
      `--allow-read=${[...readDirs].join(",")}`,
      "--allow-env=GUNICORN_DIRTY_SOCKET",
    ],
    [workerSocket, socketPath],
  );
  const denoArgs = await withProjectConfig(options.denoArgs ?? [], cwd);
  const pool = new WorkerPool({
    apps,
    workers: Math.max(1, Math.floor(options.workers ?? 1)),
    timeout,
    gracefulTimeout,
    concurrency: Math.max(1, Math.floor(options.concurrency ?? 1)),
    killGrace,
    backoffInitial,
    backoffMax,
    heartbeatInterval,
    workerUrl: new URL("./_worker_main.ts", import.meta.url).href,
    workerSocket,
    workerArgs: ["run", "--no-prompt", ...permissions, ...denoArgs],
    cwd,
    // Workers do not look for a newer Deno in the background (a network
    // request and a socket per spawned worker).
    env: { GUNICORN_DIRTY_SOCKET: socketPath, DENO_NO_UPDATE_CHECK: "1" },
    log,
  });
  const arbiter = new Arbiter(
    listener,
    workerListener,
    socketPath,
    tempDir,
    pool,
    apps.map((a) => a.appPath),
    log,
    maxBufferSize,
  );
  pool.start();
  return arbiter;
}
