// Copyright 2026 the @sidecar/ipc authors. MIT license.
/**
 * The arbiter's worker pool: worker processes (`Deno.Command`, one per
 * slot), their app sets, request dispatch and per-frame timeouts, abort
 * then kill, heartbeats, respawn with the same app set (exponential back-off
 * after boot failures), scaling, and graceful stop.
 *
 * A slot is a place for one worker with a fixed list of apps. When its
 * worker dies the slot gets a new worker with the same apps; scaling down
 * removes slots. So app allocation never drifts (gunicorn's FIFO of pending
 * respawns does, spec section 6 item 6).
 *
 * @module
 */

import {
  DirtyError,
  DirtyNoWorkersAvailableError,
  DirtyTimeoutError,
  DirtyWorkerError,
} from "./errors.ts";
import {
  getIdNumber,
  type RawFrame,
  RawFrameSplitter,
  setIdNumber,
} from "./_frame_io.ts";
import { decodeMessage } from "./message_decoder.ts";
import { encodeError, encodeRequest } from "./message_encoders.ts";
import { MAX_MESSAGE_SIZE } from "./header.ts";
import { type Queued, type Routable, Router } from "./_router.ts";
import { WriteQueue } from "../_internal/write_queue.ts";
import { CONTROL_ID, type WorkerConfig } from "./_worker_protocol.ts";
import type { ArbiterLogLevel as LogLevel } from "./arbiter.ts";

type Timer = ReturnType<typeof setTimeout>;

/** A request from a client, waiting for or running on a worker. */
export interface PendingRequest extends Queued {
  /** The app it is for. */
  readonly appPath: string;
  /** The client's REQUEST frame (its id bytes get replaced on dispatch). */
  readonly frame: Uint8Array;
  /** The client's 8 request id bytes. */
  readonly clientId: Uint8Array;
  /**
   * Sends a whole frame to the client; returns a promise when the client is
   * slow to read (the caller should wait for it before reading more).
   */
  send(bytes: Uint8Array): Promise<void> | undefined;
  /** Whether the client can no longer be written to. */
  gone(): boolean;
  /** Called once when the request is over (answered or failed). */
  done(): void;
  /** Internal: set by the pool. */
  finished: boolean;
  /** Internal: the timeout timer. */
  timer: Timer | undefined;
  /** Internal: the worker it runs on. */
  worker: WorkerProc | undefined;
  /** Internal: its id on that worker. */
  wid: number;
}

/** A configured app. */
export interface PoolApp {
  /** The wire app path. */
  appPath: string;
  /** The module specifier the worker imports. */
  module: string;
  /** The export name. */
  exportName: string;
  /** Worker limit, if any. */
  limit: number | undefined;
}

/** What the pool needs. */
export interface PoolOptions {
  apps: PoolApp[];
  workers: number;
  timeoutMs: number;
  timeoutSeconds: number;
  gracefulMs: number;
  concurrency: number;
  killGraceMs: number;
  backoffInitialMs: number;
  backoffMaxMs: number;
  heartbeatMs: number;
  workerUrl: string;
  workerArgs: string[];
  /** The private socket workers connect to. */
  workerSocket: string;
  /** The listener on it. */
  workerListener: Deno.Listener;
  cwd: string;
  env: Record<string, string>;
  log: (level: LogLevel, message: string) => void;
}

interface Slot {
  apps: string[];
  worker: WorkerProc | null;
  failures: number;
  lastError: string | null;
  retryTimer: Timer | undefined;
  retryAt: number;
  removed: boolean;
}

/** One worker process. */
export class WorkerProc implements Routable {
  readonly pid: number;
  readonly age: number;
  readonly slot: Slot;
  readonly capacity: number;
  readonly child: Deno.ChildProcess;
  readonly token: string;
  readonly stdin: WritableStreamDefaultWriter<Uint8Array>;
  conn: Deno.UnixConn | null = null;
  writer: WriteQueue | null = null;
  readonly loaded = new Set<string>();
  readonly inflight = new Map<number, PendingRequest>();
  readonly aborting = new Map<number, Timer>();
  readonly spawnedAt = performance.now();
  lastHeartbeat = performance.now();
  booted = false;
  state: "booting" | "ready" | "retiring" | "lost" | "dead" = "booting";
  nextId = 1;
  killTimer: Timer | undefined;
  stdinClosed = false;
  exited!: Promise<void>;

  constructor(
    child: Deno.ChildProcess,
    token: string,
    age: number,
    slot: Slot,
    cap: number,
  ) {
    this.child = child;
    this.token = token;
    this.pid = child.pid;
    this.age = age;
    this.slot = slot;
    this.capacity = cap;
    this.stdin = child.stdin.getWriter();
  }

  get load(): number {
    return this.inflight.size + this.aborting.size;
  }
}

function describeExit(s: Deno.CommandStatus): string {
  return s.signal ? `signal ${s.signal}` : `exit code ${s.code}`;
}

/** The pool. */
export class WorkerPool {
  readonly #o: PoolOptions;
  readonly router = new Router<WorkerProc, PendingRequest>();
  readonly #limits = new Map<string, number | undefined>();
  readonly #slots: Slot[] = [];
  readonly #workers = new Set<WorkerProc>();
  #age = 0;
  #target: number;
  #closing = false;
  #monitor: ReturnType<typeof setInterval> | undefined;
  #readyWaiters: (() => void)[] = [];
  #idleWaiters: (() => void)[] = [];
  #active = 0;
  readonly #byToken = new Map<string, WorkerProc>();
  #accepting: Promise<void> | null = null;
  readonly #connLoops = new Set<Promise<void>>();

  constructor(options: PoolOptions) {
    this.#o = options;
    for (const a of options.apps) {
      this.router.addApp(a.appPath);
      this.#limits.set(a.appPath, a.limit);
    }
    this.#target = Math.max(options.workers, this.minimumWorkers());
  }

  /** Starts the initial workers and the heartbeat monitor. */
  start(): void {
    this.#accepting = this.#acceptWorkers();
    while (this.#slots.filter((s) => !s.removed).length < this.#target) {
      if (this.#addSlot() === null) break;
    }
    const tick = Math.max(
      50,
      Math.min(1000, this.#o.timeoutMs > 0 ? this.#o.timeoutMs / 4 : 1000),
    );
    this.#monitor = setInterval(() => this.#checkHeartbeats(), tick);
  }

  /** Live workers, oldest first. */
  workers(): WorkerProc[] {
    return [...this.#workers].sort((a, b) => a.age - b.age);
  }

  /** The desired number of workers. */
  get target(): number {
    return this.#target;
  }

  /** Slots that keep failing to boot. */
  failingSlots(): {
    apps: string[];
    failures: number;
    lastError: string | null;
    retryInMs: number;
  }[] {
    const now = performance.now();
    return this.#slots.filter((s) => !s.removed && s.failures > 0).map((
      s,
    ) => ({
      apps: s.apps,
      failures: s.failures,
      lastError: s.lastError,
      retryInMs: s.worker ? 0 : Math.max(0, s.retryAt - now),
    }));
  }

  /** The fewest workers allowed: the largest per-app limit, at least 1. */
  minimumWorkers(): number {
    let m = 1;
    for (const l of this.#limits.values()) if (l !== undefined && l > m) m = l;
    return m;
  }

  /** Resolves once every slot has a booted worker. */
  ready(): Promise<void> {
    if (this.#allBooted()) return Promise.resolve();
    return new Promise((resolve) => this.#readyWaiters.push(resolve));
  }

  #allBooted(): boolean {
    const live = this.#slots.filter((s) => !s.removed);
    return live.length > 0 && live.every((s) => s.worker?.booted === true);
  }

  #appsForNewSlot(): string[] {
    const holders = new Map<string, number>();
    for (const s of this.#slots) {
      if (s.removed) continue;
      for (const a of s.apps) holders.set(a, (holders.get(a) ?? 0) + 1);
    }
    const apps: string[] = [];
    for (const [app, limit] of this.#limits) {
      if (limit === undefined || (holders.get(app) ?? 0) < limit) {
        apps.push(app);
      }
    }
    return apps;
  }

  #addSlot(): Slot | null {
    const apps = this.#appsForNewSlot();
    if (apps.length === 0) return null;
    const slot: Slot = {
      apps,
      worker: null,
      failures: 0,
      lastError: null,
      retryTimer: undefined,
      retryAt: 0,
      removed: false,
    };
    this.#slots.push(slot);
    this.#spawn(slot);
    return slot;
  }

  /** Adds up to `count` workers; returns how many were started. */
  add(count: number): number {
    let spawned = 0;
    for (let i = 0; i < count; i++) {
      if (this.#addSlot() === null) break;
      spawned++;
      this.#target++;
    }
    return spawned;
  }

  /**
   * Removes up to `count` workers, never going below
   * {@linkcode minimumWorkers} and never removing the last holder of an
   * app; prefers workers whose removal keeps limited apps at their limit,
   * then the oldest.
   */
  remove(count: number): number {
    let removed = 0;
    for (let i = 0; i < count; i++) {
      const live = this.#slots.filter((s) => !s.removed);
      if (this.#target <= this.minimumWorkers() || live.length <= 1) break;
      const victim = this.#pickVictim(live);
      if (victim === null) break;
      this.#target--;
      victim.removed = true;
      if (victim.retryTimer !== undefined) clearTimeout(victim.retryTimer);
      // A slot with a worker goes when the worker has exited.
      if (victim.worker) this.#retire(victim.worker);
      else this.#dropSlot(victim);
      removed++;
    }
    if (removed > 0) this.#failUnavailable();
    return removed;
  }

  #pickVictim(live: Slot[]): Slot | null {
    const holders = new Map<string, number>();
    for (const s of live) {
      for (const a of s.apps) holders.set(a, (holders.get(a) ?? 0) + 1);
    }
    let best: Slot | null = null;
    let bestScore = Infinity;
    for (const s of live) {
      if (s.apps.some((a) => (holders.get(a) ?? 0) <= 1)) continue;
      const hurtsLimit = s.apps.some((a) => {
        const l = this.#limits.get(a);
        return l !== undefined && (holders.get(a) ?? 0) <= l;
      });
      // Failing slots first, then slots that keep limits intact, then age.
      const age = s.worker?.age ?? 0;
      const score = (s.failures > 0 ? 0 : 1e12) + (hurtsLimit ? 1e9 : 0) +
        age;
      if (score < bestScore) {
        bestScore = score;
        best = s;
      }
    }
    return best;
  }

  /** Sets the number of workers; returns the new target. */
  scale(n: number): number {
    const want = Math.max(Math.floor(n), this.minimumWorkers());
    const live = this.#slots.filter((s) => !s.removed).length;
    if (want > live) this.add(want - live);
    else if (want < live) this.remove(live - want);
    return this.#target;
  }

  #spawn(slot: Slot): void {
    const o = this.#o;
    const age = ++this.#age;
    const config: WorkerConfig = {
      apps: o.apps.filter((a) => slot.apps.includes(a.appPath)).map((a) => ({
        appPath: a.appPath,
        module: a.module,
        exportName: a.exportName,
      })),
      heartbeatMs: o.heartbeatMs,
      cwd: o.cwd,
      closeTimeoutMs: o.gracefulMs,
      socket: o.workerSocket,
      token: crypto.randomUUID(),
    };
    let child: Deno.ChildProcess;
    try {
      child = new Deno.Command(Deno.execPath(), {
        args: [...o.workerArgs, o.workerUrl, JSON.stringify(config)],
        cwd: o.cwd,
        env: o.env,
        stdin: "piped",
        stdout: "inherit",
        stderr: "inherit",
      }).spawn();
    } catch (e) {
      slot.lastError = `Cannot spawn worker: ${
        e instanceof Error ? e.message : String(e)
      }`;
      o.log("error", slot.lastError);
      slot.failures++;
      this.#scheduleRespawn(slot);
      return;
    }
    const w = new WorkerProc(
      child,
      config.token,
      age,
      slot,
      Math.max(1, o.concurrency),
    );
    slot.worker = w;
    this.#workers.add(w);
    this.#byToken.set(w.token, w);
    o.log(
      "info",
      `Spawned dirty worker (pid: ${w.pid}) with apps: ${slot.apps.join(", ")}`,
    );
    w.exited = child.status.then((status) => this.#onExit(w, status));
  }

  async #acceptWorkers(): Promise<void> {
    for (;;) {
      let conn: Deno.Conn;
      try {
        conn = await this.#o.workerListener.accept();
      } catch (e) {
        if (this.#closing || e instanceof Deno.errors.BadResource) return;
        this.#o.log("error", `Accept of a worker failed: ${String(e)}`);
        await new Promise((r) => setTimeout(r, 100));
        continue;
      }
      const p = this.#connLoop(conn as Deno.UnixConn).finally(() =>
        this.#connLoops.delete(p)
      );
      this.#connLoops.add(p);
    }
  }

  /** Reads one worker connection: a hello with a known token, then frames. */
  async #connLoop(conn: Deno.UnixConn): Promise<void> {
    const splitter = new RawFrameSplitter(MAX_MESSAGE_SIZE);
    const buf = new Uint8Array(256 * 1024);
    let w: WorkerProc | undefined;
    try {
      for (;;) {
        const n = await conn.read(buf);
        if (n === null) break;
        let slow: Promise<void> | undefined;
        for (const f of splitter.push(buf.subarray(0, n))) {
          if (w === undefined) {
            w = this.#hello(f, conn);
            if (w === undefined) throw new Error("no valid hello");
            continue;
          }
          slow = this.#onFrame(w, f) ?? slow;
        }
        // Backpressure: a client that reads slowly pauses this worker.
        if (slow !== undefined) await slow;
      }
    } catch (e) {
      if (w !== undefined && w.state !== "dead") {
        this.#o.log(
          "error",
          `Bad input from dirty worker ${w.pid}: ${
            e instanceof Error ? e.message : String(e)
          }`,
        );
        this.#kill(w);
      }
    } finally {
      try {
        conn.close();
      } catch {
        // Already closed.
      }
    }
    if (w !== undefined) {
      w.conn = null;
      // Without its connection a worker is useless: route nothing more to
      // it, make sure it is gone; its exit brings the replacement.
      if (w.state === "booting" || w.state === "ready") {
        w.state = "lost";
        this.router.remove(w);
        this.#kill(w);
      }
      this.#failInflight(
        w,
        `Worker communication failed: worker ${w.pid} closed its connection`,
      );
    }
  }

  #hello(f: RawFrame, conn: Deno.UnixConn): WorkerProc | undefined {
    if (getIdNumber(f.bytes) !== CONTROL_ID) return undefined;
    const payload = decodeMessage(f.bytes).payload;
    const r = payload instanceof Map ? payload.get("result") : undefined;
    if (!(r instanceof Map) || r.get("event") !== "hello") return undefined;
    const token = r.get("token");
    const w = typeof token === "string" ? this.#byToken.get(token) : undefined;
    if (w === undefined || w.conn !== null || w.state === "dead") {
      return undefined;
    }
    this.#byToken.delete(w.token);
    w.conn = conn;
    w.writer = new WriteQueue(conn);
    w.lastHeartbeat = performance.now();
    return w;
  }

  #onFrame(w: WorkerProc, f: RawFrame): Promise<void> | undefined {
    const id = getIdNumber(f.bytes);
    w.lastHeartbeat = performance.now();
    if (id === CONTROL_ID) {
      this.#onControl(w, f);
      return undefined;
    }
    const final = f.type !== "chunk";
    const abortTimer = w.aborting.get(id);
    if (abortTimer !== undefined) {
      if (final) {
        clearTimeout(abortTimer);
        w.aborting.delete(id);
        this.#afterFree(w);
      }
      return undefined;
    }
    const p = w.inflight.get(id);
    if (p === undefined) return undefined;
    if (
      f.type !== "chunk" && f.type !== "response" && f.type !== "error" &&
      f.type !== "end"
    ) {
      return undefined;
    }
    f.bytes.set(p.clientId, 8);
    const slow = p.send(f.bytes);
    if (!final) {
      if (p.gone()) {
        // Nobody reads this stream any more: stop it on the worker.
        w.inflight.delete(id);
        this.#finish(p);
        this.#abortOnWorker(w, id, "its client is gone");
        return undefined;
      }
      this.#arm(p);
      return slow;
    }
    w.inflight.delete(id);
    this.#finish(p);
    this.#afterFree(w);
    return slow;
  }

  #onControl(w: WorkerProc, f: RawFrame): void {
    let event: string | undefined;
    let result: Map<string, unknown> | undefined;
    try {
      const payload = decodeMessage(f.bytes).payload;
      const r = payload instanceof Map ? payload.get("result") : undefined;
      if (r instanceof Map) {
        result = r;
        const e = r.get("event");
        if (typeof e === "string") event = e;
      }
    } catch {
      return;
    }
    switch (event) {
      case "heartbeat":
        return;
      case "loaded": {
        const app = result?.get("app");
        if (typeof app !== "string") return;
        w.loaded.add(app);
        if (w.state === "booting" || w.state === "ready") {
          this.router.setReady(app, w);
          this.#pump(w);
        }
        return;
      }
      case "booted":
        w.booted = true;
        if (w.state === "booting") w.state = "ready";
        w.slot.failures = 0;
        w.slot.lastError = null;
        if (this.#allBooted()) {
          const waiters = this.#readyWaiters;
          this.#readyWaiters = [];
          for (const r of waiters) r();
        }
        return;
      case "boot_failed":
        w.slot.lastError = `${String(result?.get("app"))}: ${
          String(result?.get("message"))
        }`;
        this.#o.log(
          "error",
          `Dirty worker ${w.pid} failed to boot: ${w.slot.lastError}`,
        );
        return;
    }
  }

  /** Sends a request to a worker, or queues it, or fails it. */
  submit(p: PendingRequest): void {
    const app = p.appPath;
    this.#active++;
    if (!this.router.hasApp(app)) {
      this.#fail(
        p,
        this.#workers.size === 0 && this.#slots.every((s) => s.removed)
          ? new DirtyError("No dirty workers available")
          : new DirtyNoWorkersAvailableError(app),
      );
      return;
    }
    const w = this.router.pick(app);
    if (w !== undefined) {
      this.#dispatch(w, p);
      return;
    }
    const reason = this.#unavailable(app);
    if (reason !== null) {
      this.#fail(p, this.#noWorkers(app, reason));
      return;
    }
    this.router.enqueue(app, p);
    this.#arm(p);
  }

  #noWorkers(app: string, reason: string): DirtyError {
    return new DirtyNoWorkersAvailableError(app, undefined, {
      details: { reason },
    });
  }

  /**
   * Why an app cannot be served soon (`null` when a worker for it is ready
   * or booting normally): every slot holding it is failing to boot, or none
   * exists.
   */
  #unavailable(app: string): string | null {
    if (this.router.readyWorkers(app).length > 0) return null;
    const slots = this.#slots.filter((s) => !s.removed && s.apps.includes(app));
    if (slots.length === 0) return "no worker holds this app";
    const healthy = slots.some((s) =>
      s.failures === 0 && s.worker !== null && s.worker.state !== "dead"
    );
    if (healthy) return null;
    const err = slots.find((s) => s.lastError !== null)?.lastError;
    return `workers fail to boot${err ? `: ${err}` : ""}`;
  }

  #failUnavailable(): void {
    for (const app of this.router.apps()) {
      if (this.router.queued(app) === 0) continue;
      const reason = this.#unavailable(app);
      if (reason === null) continue;
      for (const p of this.router.drain(app)) {
        this.#fail(p, this.#noWorkers(app, reason));
      }
    }
  }

  #dispatch(w: WorkerProc, p: PendingRequest): void {
    const wid = w.nextId++;
    p.worker = w;
    p.wid = wid;
    w.inflight.set(wid, p);
    setIdNumber(p.frame, wid);
    this.#arm(p);
    // A failed write shows as the end of the worker's connection, whose
    // loop fails its requests.
    w.writer?.push(p.frame);
  }

  #arm(p: PendingRequest): void {
    const ms = this.#o.timeoutMs;
    if (ms <= 0) return;
    if (p.timer !== undefined) clearTimeout(p.timer);
    p.timer = setTimeout(() => this.#onTimeout(p), ms);
  }

  #onTimeout(p: PendingRequest): void {
    p.timer = undefined;
    if (p.finished) return;
    const err = new DirtyTimeoutError(
      "Worker timeout",
      this.#o.timeoutSeconds,
    );
    const w = p.worker;
    if (w === undefined) {
      p.cancelled = true;
      this.#fail(p, err);
      return;
    }
    w.inflight.delete(p.wid);
    this.#fail(p, err);
    this.#abortOnWorker(w, p.wid, "it timed out");
  }

  #abortOnWorker(w: WorkerProc, wid: number, why: string): void {
    if (w.state === "dead") return;
    this.#o.log("warn", `Dirty worker ${w.pid}: aborting a request (${why})`);
    w.aborting.set(
      wid,
      setTimeout(() => {
        w.aborting.delete(wid);
        this.#o.log(
          "warn",
          `DIRTY WORKER TIMEOUT (pid:${w.pid}): no answer to abort, killing`,
        );
        this.#kill(w);
      }, this.#o.killGraceMs),
    );
    w.writer?.push(encodeRequest(CONTROL_ID, "", "abort", [wid]));
  }

  #fail(p: PendingRequest, err: DirtyError): void {
    if (p.finished) return;
    const view = new DataView(
      p.clientId.buffer,
      p.clientId.byteOffset,
      8,
    );
    p.send(encodeError(view.getBigUint64(0), err));
    this.#finish(p);
  }

  #finish(p: PendingRequest): void {
    if (p.finished) return;
    p.finished = true;
    if (p.timer !== undefined) clearTimeout(p.timer);
    p.timer = undefined;
    this.#active--;
    p.done();
    if (this.#active === 0) {
      const waiters = this.#idleWaiters;
      this.#idleWaiters = [];
      for (const r of waiters) r();
    }
  }

  #afterFree(w: WorkerProc): void {
    if (w.state === "retiring") {
      if (w.load === 0) this.#closeStdin(w);
      return;
    }
    this.#pump(w);
  }

  #pump(w: WorkerProc): void {
    if (w.state !== "ready" && w.state !== "booting") return;
    const apps = [...w.loaded];
    for (;;) {
      const next = this.router.next(w, apps);
      if (next === undefined) return;
      this.#dispatch(w, next[1]);
    }
  }

  #failInflight(w: WorkerProc, message: string): void {
    if (w.inflight.size === 0) return;
    const err = new DirtyWorkerError(message, { workerId: w.pid });
    const list = [...w.inflight.values()];
    w.inflight.clear();
    for (const p of list) this.#fail(p, err);
  }

  #retire(w: WorkerProc): void {
    if (w.state === "dead" || w.state === "retiring") return;
    w.state = "retiring";
    this.router.remove(w);
    this.#killAfter(w, this.#o.gracefulMs);
    if (w.load === 0) this.#closeStdin(w);
  }

  /** (Re)arms the timer that kills a worker which did not exit in time. */
  #killAfter(w: WorkerProc, ms: number): void {
    if (w.killTimer !== undefined) clearTimeout(w.killTimer);
    w.killTimer = setTimeout(() => this.#kill(w), ms);
  }

  #closeStdin(w: WorkerProc): void {
    if (w.stdinClosed) return;
    w.stdinClosed = true;
    // Flush queued frames, then end stdin: the worker closes its apps.
    (w.writer?.flush() ?? Promise.resolve()).catch(() => {}).finally(() => {
      w.stdin.close().catch(() => {});
    });
    if (w.killTimer === undefined) this.#killAfter(w, this.#o.gracefulMs);
  }

  #kill(w: WorkerProc): void {
    if (w.state === "dead") return;
    try {
      w.child.kill("SIGKILL");
    } catch {
      // Already gone.
    }
  }

  #checkHeartbeats(): void {
    const ms = this.#o.timeoutMs;
    if (ms <= 0) return;
    const now = performance.now();
    for (const w of this.#workers) {
      if (w.state === "dead") continue;
      if (now - w.lastHeartbeat > ms) {
        this.#o.log(
          "warn",
          `DIRTY WORKER TIMEOUT (pid:${w.pid}): no heartbeat for ${
            ((now - w.lastHeartbeat) / 1000).toFixed(1)
          }s, killing`,
        );
        // Its requests get the error gunicorn gives when a worker is silent.
        const err = new DirtyTimeoutError(
          "Worker timeout",
          this.#o.timeoutSeconds,
        );
        const list = [...w.inflight.values()];
        w.inflight.clear();
        for (const p of list) this.#fail(p, err);
        this.#kill(w);
      }
    }
  }

  #onExit(w: WorkerProc, status: Deno.CommandStatus): void {
    w.state = "dead";
    this.#workers.delete(w);
    this.#byToken.delete(w.token);
    try {
      w.conn?.close();
    } catch {
      // Already closed.
    }
    this.router.remove(w);
    if (w.killTimer !== undefined) clearTimeout(w.killTimer);
    for (const t of w.aborting.values()) clearTimeout(t);
    w.aborting.clear();
    w.stdin.close().catch(() => {});
    this.#failInflight(
      w,
      `Worker communication failed: worker ${w.pid} exited (${
        describeExit(status)
      })`,
    );
    const slot = w.slot;
    if (slot.worker === w) slot.worker = null;
    const level = slot.removed || this.#closing ? "info" : "warn";
    this.#o.log(
      level,
      `Dirty worker ${w.pid} exited (${describeExit(status)})`,
    );
    if (slot.removed) this.#dropSlot(slot);
    if (slot.removed || this.#closing) return;
    if (!w.booted) {
      slot.failures++;
      slot.lastError ??= `worker exited during boot (${describeExit(status)})`;
      this.#scheduleRespawn(slot);
      this.#failUnavailable();
    } else {
      this.#spawn(slot);
    }
  }

  /** Forgets a removed slot, so that scaling up and down keeps no garbage. */
  #dropSlot(slot: Slot): void {
    const i = this.#slots.indexOf(slot);
    if (i >= 0) this.#slots.splice(i, 1);
  }

  #scheduleRespawn(slot: Slot): void {
    const o = this.#o;
    const delay = Math.min(
      o.backoffMaxMs,
      o.backoffInitialMs * 2 ** Math.max(0, slot.failures - 1),
    );
    slot.retryAt = performance.now() + delay;
    slot.retryTimer = setTimeout(() => {
      slot.retryTimer = undefined;
      if (!slot.removed && !this.#closing) this.#spawn(slot);
    }, delay);
  }

  /** Requests queued or running. */
  get active(): number {
    return this.#active;
  }

  /**
   * Stops: lets queued and running requests finish for up to the graceful
   * timeout, then ends every worker's stdin (they close their apps and
   * exit), then kills what is left.
   */
  async close(): Promise<void> {
    if (this.#closing) {
      await Promise.all([...this.#workers].map((w) => w.exited));
      return;
    }
    this.#closing = true;
    clearInterval(this.#monitor);
    for (const s of this.#slots) {
      if (s.retryTimer !== undefined) clearTimeout(s.retryTimer);
    }
    this.#failUnavailable();
    const grace = this.#o.gracefulMs;
    const deadline = performance.now() + grace;
    if (this.#active > 0) {
      let timer: Timer | undefined;
      await Promise.race([
        new Promise<void>((r) => this.#idleWaiters.push(r)),
        new Promise<void>((r) => (timer = setTimeout(r, grace))),
      ]);
      clearTimeout(timer);
    }
    for (const app of this.router.apps()) {
      for (const p of this.router.drain(app)) {
        this.#fail(p, new DirtyError("No dirty workers available"));
      }
    }
    const workers = [...this.#workers];
    for (const w of workers) {
      w.state = "retiring";
      this.router.remove(w);
      this.#failInflight(
        w,
        `Worker communication failed: the arbiter is shutting down`,
      );
      const left = Math.max(0, deadline - performance.now());
      this.#killAfter(w, Math.min(left, 5000));
      this.#closeStdin(w);
    }
    await Promise.all(workers.map((w) => w.exited));
    try {
      this.#o.workerListener.close();
    } catch {
      // Already closed.
    }
    await this.#accepting;
    await Promise.all(this.#connLoops);
  }
}
