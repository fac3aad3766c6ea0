// Copyright 2026 the @sidecar/ipc authors. MIT license.
/**
 * The arbiter's worker pool, the I/O shell around `_pool_core.ts`: it
 * spawns the worker processes (`Deno.Command`), accepts their two
 * connections each on the private worker socket, reads every frame they
 * send (never waiting for a client), runs one timer at the core's next
 * deadline, and carries out the core's actions.
 *
 * @module
 */

import { type CancelTimer, setLongTimeout } from "../_internal/timers.ts";
import { settleWithin } from "../_internal/abort.ts";
import { decodeMessage } from "./message_decoder.ts";
import { encodeRequest } from "./message_encoders.ts";
import type { DirtyError } from "./errors.ts";
import { getIdNumber, type RawFrame, setIdNumber } from "./_frame_io.ts";
import type { LogFn } from "./_log.ts";
import { PoolCore } from "./_pool_core.ts";
import {
  type CancelReason,
  type CoreApp,
  type PoolAction,
  PoolRequest,
  type PoolWorker,
  type Slot,
} from "./_pool_types.ts";
import {
  CONTROL_ID,
  type LinkRole,
  type WorkerConfig,
} from "./_worker_protocol.ts";
import { WorkerLink } from "./_worker_link.ts";

/** What a request's owner (a client connection) gives the pool. */
export interface RequestOwner {
  /** The client's REQUEST frame; its id bytes are replaced on dispatch. */
  readonly frame: Uint8Array;
  /** The client's 8 request id bytes. */
  readonly clientId: Uint8Array;
  /** Takes a worker frame for the client (id already the client's). */
  forward(bytes: Uint8Array, final: boolean): void;
  /** The request failed: send the error and end it. */
  fail(error: DirtyError): void;
}

/** A pool request. */
export type Request = PoolRequest<RequestOwner>;

/** A configured app, as the pool runs it. */
export interface PoolApp extends CoreApp {
  /** The module specifier the worker imports. */
  module: string;
  /** The export name. */
  exportName: string;
}

/** What the pool needs; durations in milliseconds. */
export interface PoolOptions {
  apps: PoolApp[];
  workers: number;
  timeout: number;
  gracefulTimeout: number;
  concurrency: number;
  killGrace: number;
  backoffInitial: number;
  backoffMax: number;
  heartbeatInterval: number;
  workerUrl: string;
  workerArgs: string[];
  /** The private socket workers connect to. */
  workerSocket: string;
  cwd: string;
  env: Record<string, string>;
  log: LogFn;
}

/** The I/O of one worker process. */
interface Proc {
  readonly worker: PoolWorker;
  readonly token: string;
  child: Deno.ChildProcess | null;
  control: WorkerLink | null;
  data: WorkerLink | null;
  /** Settles when the control link's loop has ended (crash reports read). */
  controlDone: Promise<void>;
  endControl: () => void;
}

/** How long a worker connection may take to say hello. */
const HELLO_TIMEOUT = 10_000;

function describeExit(s: Deno.CommandStatus): string {
  return s.signal ? `signal ${s.signal}` : `exit code ${s.code}`;
}

function eventOf(f: RawFrame): Map<string, unknown> | undefined {
  if (getIdNumber(f.bytes) !== CONTROL_ID || f.type !== "response") {
    return undefined;
  }
  const payload = decodeMessage(f.bytes).payload;
  const r = payload instanceof Map ? payload.get("result") : undefined;
  return r instanceof Map ? r : undefined;
}

/** The pool. */
export class WorkerPool {
  readonly #o: PoolOptions;
  readonly core: PoolCore;
  readonly #procs = new Map<PoolWorker, Proc>();
  readonly #byToken = new Map<string, Proc>();
  readonly #exits = new Set<Promise<void>>();
  readonly #links = new Set<Promise<unknown>>();
  #cancelTimer: CancelTimer | null = null;
  #armedAt = Infinity;
  #readyWaiters: (() => void)[] = [];
  #closing: Promise<void> | null = null;

  /**
   * @param options The settings.
   */
  constructor(options: PoolOptions) {
    this.#o = options;
    this.core = new PoolCore({
      apps: options.apps,
      workers: options.workers,
      timeout: options.timeout,
      concurrency: options.concurrency,
      killGrace: options.killGrace,
      backoffInitial: options.backoffInitial,
      backoffMax: options.backoffMax,
      gracefulTimeout: options.gracefulTimeout,
    });
  }

  /** Starts the initial workers. */
  start(): void {
    this.core.start(performance.now());
    this.#run();
  }

  // ------------------------------------------------------------ requests

  /** A new request (submit it with {@linkcode WorkerPool.submit}). */
  request(appPath: string, action: string, owner: RequestOwner): Request {
    return new PoolRequest(appPath, action, owner);
  }

  /** Submits a request: dispatched, queued, or failed at once. */
  submit(r: Request): void {
    this.core.submit(r, performance.now());
    this.#run();
  }

  /** Gives up a request (its client left or overflowed). */
  cancel(r: Request, reason: CancelReason): void {
    this.core.cancel(r, reason, performance.now());
    this.#run();
  }

  /** Pauses a request's stream for a slow client. */
  pause(r: Request): void {
    this.core.pause(r, performance.now());
    this.#run();
  }

  /** Resumes a paused stream. */
  resume(r: Request): void {
    this.core.resume(r, performance.now());
    this.#run();
  }

  // ------------------------------------------------------------ scaling

  /** Adds up to `count` workers; returns how many were started. */
  add(count: number): number {
    const n = this.core.add(count, performance.now());
    this.#run();
    return n;
  }

  /** Removes up to `count` workers; returns how many. */
  remove(count: number): number {
    const n = this.core.remove(count, performance.now());
    this.#run();
    return n;
  }

  /** Sets the number of workers; returns the target. */
  scale(n: number): number {
    const t = this.core.scale(n, performance.now());
    this.#run();
    return t;
  }

  /** Resolves once every slot has a booted worker. */
  ready(): Promise<void> {
    if (this.core.allBooted()) return Promise.resolve();
    return new Promise((resolve) => this.#readyWaiters.push(resolve));
  }

  /** The failing slots (for STATUS). */
  failingSlots(): Slot[] {
    return this.core.slots().filter((s) => s.failures > 0);
  }

  // ------------------------------------------------------------ workers

  /**
   * Takes a connection accepted on the worker socket: it must say hello
   * with a known token first.
   */
  adopt(conn: Deno.UnixConn): void {
    const link = new WorkerLink(conn);
    let proc: Proc | undefined;
    let role: LinkRole | undefined;
    // A connection that says no hello is not kept.
    const cancelHello = setLongTimeout(() => link.close(), HELLO_TIMEOUT);
    link.onFrame = (f) => {
      if (proc !== undefined) {
        this.#onFrame(proc, role!, f);
        return;
      }
      const ev = eventOf(f);
      const token = ev?.get("token");
      const r = ev?.get("role");
      const p = typeof token === "string"
        ? this.#byToken.get(token)
        : undefined;
      if (
        ev?.get("event") !== "hello" || p === undefined ||
        (r !== "control" && r !== "data") || p[r] !== null ||
        p.worker.state === "dead"
      ) {
        throw new Error("no valid hello");
      }
      cancelHello();
      proc = p;
      role = r;
      p[r] = link;
      if (p.control !== null && p.data !== null) {
        this.#byToken.delete(p.token);
        this.core.linked(p.worker, performance.now());
        this.#run();
      }
    };
    const done = link.run().then((why) => {
      cancelHello();
      if (proc === undefined) return;
      if (role === "control") proc.endControl();
      if (proc.worker.state !== "dead") {
        this.core.linkLost(proc.worker, why, performance.now());
        this.#run();
      }
    });
    this.#links.add(done);
    done.finally(() => this.#links.delete(done));
  }

  #onFrame(p: Proc, role: LinkRole, f: RawFrame): void {
    const now = performance.now();
    const w = p.worker;
    const id = getIdNumber(f.bytes);
    if (id !== CONTROL_ID) {
      if (role !== "data") return;
      const final = f.type !== "chunk";
      if (
        f.type !== "chunk" && f.type !== "response" && f.type !== "error" &&
        f.type !== "end"
      ) {
        return;
      }
      const r = this.core.frame(w, id, final, now) as Request | undefined;
      // The next queued request goes to the worker first, then this frame
      // to its client: the worker starts on it while the client reads.
      this.#run();
      if (r !== undefined) {
        f.bytes.set(r.data.clientId, 8);
        r.data.forward(f.bytes, final);
      }
      return;
    }
    let ev: Map<string, unknown> | undefined;
    try {
      ev = eventOf(f);
    } catch {
      return;
    }
    const app = ev?.get("app");
    switch (ev?.get("event")) {
      case "heartbeat":
        this.core.alive(w, now);
        break;
      case "loaded":
        if (typeof app === "string") this.core.loaded(w, app, now);
        break;
      case "booted":
        this.core.booted(w, now);
        break;
      case "boot_failed":
        this.core.bootFailed(
          w,
          String(app),
          String(ev?.get("message")),
          String(ev?.get("stack") ?? ""),
          now,
        );
        break;
      case "crashed":
        this.core.crashed(
          w,
          String(ev?.get("message")),
          String(ev?.get("stack") ?? ""),
          now,
        );
        break;
    }
    this.#run();
  }

  #spawn(w: PoolWorker): void {
    const o = this.#o;
    const config: WorkerConfig = {
      apps: o.apps.filter((a) => w.slot.apps.includes(a.appPath)).map((a) => ({
        appPath: a.appPath,
        module: a.module,
        exportName: a.exportName,
      })),
      heartbeatMs: o.heartbeatInterval,
      cwd: o.cwd,
      closeTimeoutMs: o.gracefulTimeout,
      socket: o.workerSocket,
      token: crypto.randomUUID(),
    };
    const control = Promise.withResolvers<void>();
    const p: Proc = {
      worker: w,
      token: config.token,
      child: null,
      control: null,
      data: null,
      controlDone: control.promise,
      endControl: control.resolve,
    };
    try {
      p.child = new Deno.Command(Deno.execPath(), {
        args: [...o.workerArgs, o.workerUrl, JSON.stringify(config)],
        cwd: o.cwd,
        env: o.env,
        stdin: "piped",
        stdout: "inherit",
        stderr: "inherit",
      }).spawn();
    } catch (e) {
      this.core.spawnFailed(
        w,
        e instanceof Error ? e.message : String(e),
        performance.now(),
      );
      return;
    }
    this.#procs.set(w, p);
    this.#byToken.set(p.token, p);
    this.core.spawned(w, p.child.pid, performance.now());
    const child = p.child;
    const exit = child.status.then(async (status) => {
      // A crash report written before the exit is read first.
      if (p.control !== null) await settleWithin(p.controlDone, 1000);
      p.control?.close();
      p.data?.close();
      if (!p.worker.stopSent) child.stdin.close().catch(() => {});
      this.#byToken.delete(p.token);
      this.#procs.delete(w);
      this.core.exited(w, describeExit(status), performance.now());
      this.#run();
    });
    this.#exits.add(exit);
    exit.finally(() => this.#exits.delete(exit));
  }

  // ------------------------------------------------------------ actions

  /** Carries out the core's actions and re-arms the timer. */
  #run(): void {
    const actions = this.core.take();
    for (let i = 0; i < actions.length; i++) this.#do(actions[i]!);
    const next = this.core.nextDeadline();
    if (next < this.#armedAt) this.#arm(next);
  }

  #arm(at: number): void {
    this.#cancelTimer?.();
    this.#armedAt = at;
    if (at === Infinity) {
      this.#cancelTimer = null;
      return;
    }
    this.#cancelTimer = setLongTimeout(() => {
      this.#cancelTimer = null;
      this.#armedAt = Infinity;
      this.core.tick(performance.now());
      this.#run();
    }, Math.max(0, at - performance.now()));
  }

  #do(a: PoolAction): void {
    switch (a.kind) {
      case "spawn":
        this.#spawn(a.worker);
        return;
      case "dispatch": {
        const r = a.request as Request;
        const frame = r.data.frame;
        setIdNumber(frame, r.wid);
        this.#procs.get(a.worker)?.data?.send(frame);
        return;
      }
      case "fail":
        (a.request as Request).data.fail(a.error);
        return;
      case "cancel":
        this.#control(a.worker, "cancel", [a.wid, a.reason]);
        return;
      case "pause":
      case "resume":
        this.#control(a.worker, a.kind, [a.wid]);
        return;
      case "stop": {
        const p = this.#procs.get(a.worker);
        if (p === undefined) return;
        // Flush what was queued, then end stdin: the worker closes its apps.
        Promise.all([p.control?.flush(), p.data?.flush()]).finally(() => {
          p.child?.stdin.close().catch(() => {});
        });
        return;
      }
      case "kill":
        try {
          this.#procs.get(a.worker)?.child?.kill("SIGKILL");
        } catch {
          // Already gone.
        }
        return;
      case "log":
        this.#o.log(a.level, a.message);
        return;
      case "ready": {
        const waiters = this.#readyWaiters;
        this.#readyWaiters = [];
        for (const r of waiters) r();
        return;
      }
    }
  }

  #control(w: PoolWorker, action: string, args: (number | string)[]): void {
    this.#procs.get(w)?.control?.send(
      encodeRequest(CONTROL_ID, "", action, args),
    );
  }

  // ------------------------------------------------------------ close

  /**
   * Stops: running requests have the graceful timeout to finish, then
   * every worker's stdin ends (they close their apps and exit), then what
   * is left is killed. Resolves when every worker has exited.
   */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      this.core.close(performance.now());
      this.#run();
      while (this.#exits.size > 0) await Promise.all([...this.#exits]);
      this.#cancelTimer?.();
      this.#cancelTimer = null;
      this.#armedAt = -Infinity;
      for (const p of this.#procs.values()) {
        p.control?.close();
        p.data?.close();
      }
      await Promise.all([...this.#links]);
    })();
    return this.#closing;
  }
}
