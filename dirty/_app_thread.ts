// Copyright 2026 the @sidecar/ipc authors. MIT license.
/**
 * The app thread of a dirty worker: a Web Worker started by the worker's
 * protocol thread (`_worker_main.ts`). It connects the worker's data
 * connection to the arbiter, loads the apps in order (`new Cls()`, then
 * `init()`), reports each, then serves requests concurrently. Orders about
 * running requests (cancel, pause, resume) come from the protocol thread.
 * An uncaught error or unhandled rejection in app code is reported to the
 * protocol thread, which tells the arbiter and ends the process.
 *
 * @module
 */

import {
  importAppClass,
  isStreamResult,
  parseAppSpec,
  type RequestContext,
  type RequestKwargs,
  resolveAction,
  withRequest,
} from "./app.ts";
import {
  DirtyAppError,
  DirtyError,
  DirtyTimeoutError,
  DirtyWorkerError,
} from "./errors.ts";
import { settleWithin } from "../_internal/abort.ts";
import { stackWithCauses } from "../_internal/error_stack.ts";
import { DEFAULT_COPY_LIMIT, WriteQueue } from "../_internal/write_queue.ts";
import { encodeFrameView } from "./_frame_view.ts";
import {
  connectToArbiter,
  getIdNumber,
  readArbiterFrames,
} from "./_frame_io.ts";
import { decodeFramePayload } from "./_payload.ts";
import { encodeEnd, encodeError, encodeResponse } from "./message_encoders.ts";
import { requestFields } from "./_request_fields.ts";
import type { DirtyInput, DirtyValue } from "./tlv.ts";
import {
  type CancelWhy,
  CONTROL_ID,
  type FromAppThread,
  type ToAppThread,
  type WorkerConfig,
} from "./_worker_protocol.ts";
import { appFloatMode, type FloatMode, FloatSlots } from "./_floats.ts";
import { pyTypeName } from "./_py_repr.ts";

const HIGH_WATER = 1 << 20;
const NO_OPTIONS = Object.freeze({});
const READ_SIZE = 256 * 1024;

interface LoadedApp {
  // deno-lint-ignore no-explicit-any
  instance: any;
  name: string;
  actions: Map<string, (...args: unknown[]) => unknown>;
  floats: FloatMode;
  dicts: "object" | "map";
}

interface Entry {
  readonly controller: AbortController;
  /** Over for the arbiter: nothing more is sent but the release frame. */
  done: boolean;
  /** Why it was given up, if it was. */
  why: CancelWhy | null;
  paused: boolean;
  wake: (() => void) | null;
  iterator: Iterator<unknown> | AsyncIterator<unknown> | null;
  /** What `requestSignal()` / `this.kwargs` give in its code. */
  context: RequestContext | null;
}

/** The Web Worker scope (typed here: the project's lib is Deno's window). */
const scope = globalThis as unknown as {
  postMessage(m: FromAppThread): void;
  onmessage: ((e: MessageEvent<ToAppThread>) => void) | null;
};

const post = (m: FromAppThread): void => scope.postMessage(m);

function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

function stackOf(e: unknown): string | undefined {
  return e instanceof Error && typeof e.stack === "string"
    ? e.stack
    : undefined;
}

function isDict(v: unknown): v is RequestKwargs {
  if (v instanceof Map) return true;
  if (v === null || typeof v !== "object" || Array.isArray(v)) return false;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

function isEmpty(v: RequestKwargs): boolean {
  if (v instanceof Map) return v.size === 0;
  for (const _ in v) return false;
  return true;
}

const CANCELLED: Record<CancelWhy, string> = {
  timeout: "Request aborted by the arbiter: it timed out",
  client: "Request cancelled: its client went away",
  overflow: "Request cancelled: its client did not read its results",
  shutdown: "Request aborted: the worker is shutting down",
};

class AppThread {
  readonly #config: WorkerConfig;
  readonly #conn: Deno.UnixConn;
  readonly #out: WriteQueue;
  readonly #apps = new Map<string, LoadedApp>();
  readonly #inflight = new Map<number, Entry>();
  /** Orders for requests not read yet (they came the other way). */
  readonly #early = new Map<number, CancelWhy | "pause">();
  readonly #floats = new FloatSlots();
  #maxSeen = 0;
  #stopping = false;
  #idle: (() => void) | null = null;
  #objectIds = 0;

  constructor(config: WorkerConfig, conn: Deno.UnixConn) {
    this.#config = config;
    this.#conn = conn;
    this.#out = new WriteQueue(conn, {
      highWaterMark: HIGH_WATER,
      // The arbiter is gone: nothing to answer any more.
      onError: () => post({ type: "lost" }),
    });
  }

  /** Queues a frame of its own (kept by reference when large). */
  #send(bytes: Uint8Array): void {
    this.#out.push(bytes);
  }

  /**
   * Queues a frame that is a view of the encoder's reused buffer: one of at
   * most the queue's copy limit is copied as it is queued; a larger one is
   * copied here first.
   */
  #sendView(view: Uint8Array): void {
    this.#out.push(view.length <= DEFAULT_COPY_LIMIT ? view : view.slice());
  }

  #event(result: Record<string, DirtyInput>): Promise<void> {
    this.#send(encodeResponse(CONTROL_ID, result));
    return this.#out.flush().catch(() => {});
  }

  hello(): Promise<void> {
    return this.#event({
      event: "hello",
      token: this.#config.token,
      role: "data",
    });
  }

  async boot(): Promise<boolean> {
    for (const a of this.#config.apps) {
      try {
        const spec = parseAppSpec(`${a.module}:${a.exportName}`);
        const cls = await importAppClass(spec, this.#config.cwd);
        const floats = appFloatMode(cls);
        const dicts = (cls as { dicts?: unknown }).dicts ?? "object";
        if (dicts !== "object" && dicts !== "map") {
          throw new TypeError(
            `Cannot load app: static dicts must be "object" or "map", got ${
              String(dicts)
            }`,
          );
        }
        let instance: unknown;
        try {
          instance = new cls();
        } catch (e) {
          throw new DirtyAppError(
            `Failed to instantiate ${a.appPath}: ${errorMessage(e)}`,
            { appPath: a.appPath, cause: e },
          );
        }
        const init = (instance as { init?: unknown }).init;
        if (typeof init === "function") await init.call(instance);
        this.#apps.set(a.appPath, {
          instance,
          name: `${a.exportName} object at 0x${
            (++this.#objectIds).toString(16).padStart(12, "0")
          }`,
          actions: new Map(),
          floats,
          dicts,
        });
        await this.#event({ event: "loaded", app: a.appPath });
      } catch (e) {
        // The arbiter logs it, stack included, through its `log` hook.
        await this.#event({
          event: "boot_failed",
          app: a.appPath,
          message: errorMessage(e),
          stack: stackWithCauses(e),
        });
        return false;
      }
    }
    await this.#event({ event: "booted" });
    return true;
  }

  async serve(): Promise<void> {
    await readArbiterFrames(
      this.#conn,
      READ_SIZE,
      (f) => this.#request(f.bytes, f.type),
    );
    post({ type: "lost" });
  }

  /** An order about request `id` from the protocol thread. */
  order(m: ToAppThread): void {
    if (m.type !== "cancel" && m.type !== "pause" && m.type !== "resume") {
      return;
    }
    const entry = this.#inflight.get(m.id);
    if (entry === undefined) {
      // Not read yet: it comes by the other connection.
      if (m.id > this.#maxSeen) {
        const seen = this.#early.get(m.id);
        if (m.type === "cancel") this.#early.set(m.id, m.why);
        else if (seen === undefined || seen === "pause") {
          if (m.type === "pause") this.#early.set(m.id, "pause");
          else this.#early.delete(m.id);
        }
      }
      return;
    }
    if (m.type === "cancel") this.#cancel(entry, m.why);
    else if (m.type === "pause") entry.paused = true;
    else {
      entry.paused = false;
      this.#wake(entry);
    }
  }

  #wake(entry: Entry): void {
    const w = entry.wake;
    entry.wake = null;
    w?.();
  }

  #cancel(entry: Entry, why: CancelWhy): void {
    if (entry.done) return;
    entry.done = true;
    entry.why = why;
    // What `requestSignal().reason` is for the app.
    entry.controller.abort(
      why === "timeout"
        ? new DirtyTimeoutError(CANCELLED[why])
        : new DirtyError(CANCELLED[why]),
    );
    this.#wake(entry);
    // A generator suspended at a yield runs its `finally` now.
    const it = entry.iterator;
    if (it !== null) closeIterator(it);
  }

  /** The frame that tells the arbiter a given-up request let go. */
  #release(id: number, entry: Entry): void {
    this.#inflight.delete(id);
    this.#send(
      encodeError(
        id,
        new DirtyWorkerError(CANCELLED[entry.why ?? "client"]),
      ),
    );
    this.#checkIdle();
  }

  #finish(id: number, entry: Entry): void {
    entry.done = true;
    this.#inflight.delete(id);
    this.#checkIdle();
  }

  #checkIdle(): void {
    if (this.#inflight.size === 0 && this.#idle) this.#idle();
  }

  #request(bytes: Uint8Array<ArrayBuffer>, type: string): void {
    const id = getIdNumber(bytes);
    if (id > this.#maxSeen) this.#maxSeen = id;
    const early = this.#early.get(id);
    if (early !== undefined) this.#early.delete(id);
    let appPath = "";
    let action = "";
    let args: DirtyValue[];
    let kwargs: DirtyValue;
    let app: LoadedApp | undefined;
    try {
      if (type !== "request") {
        this.#send(
          encodeError(
            id,
            new DirtyWorkerError(`Unknown message type: ${type}`),
          ),
        );
        return;
      }
      // The splitter checked the header: only the payload is decoded.
      let fields = requestFields(
        decodeFramePayload(bytes, { dict: "object", float: "tagged" }),
      );
      app = this.#apps.get(fields.appPath);
      if (app?.dicts === "map") {
        fields = requestFields(decodeFramePayload(bytes, { float: "tagged" }));
      }
      ({ appPath, action, kwargs } = fields);
      // The arbiter made args a list.
      args = Array.isArray(fields.args) ? fields.args : [];
    } catch (e) {
      this.#send(encodeError(id, new DirtyWorkerError(errorMessage(e))));
      return;
    }
    if (this.#stopping) {
      this.#send(
        encodeError(id, new DirtyWorkerError("Worker is shutting down")),
      );
      return;
    }
    const entry: Entry = {
      controller: new AbortController(),
      done: false,
      why: null,
      paused: early === "pause",
      wake: null,
      iterator: null,
      context: null,
    };
    this.#inflight.set(id, entry);
    if (early !== undefined && early !== "pause") {
      entry.done = true;
      entry.why = early;
      this.#release(id, entry);
      return;
    }
    void this.#run(id, entry, app, appPath, action, args, kwargs);
  }

  async #run(
    id: number,
    entry: Entry,
    app: LoadedApp | undefined,
    appPath: string,
    action: string,
    args: DirtyValue[],
    kwargs: DirtyValue,
  ): Promise<void> {
    let frame: Uint8Array;
    /** Whether `frame` is a view of the encoder's buffer (a result). */
    let view = false;
    try {
      if (app === undefined) {
        throw new Error(`Dirty app not found: ${appPath}`);
      }
      let fn = app.actions.get(action);
      if (fn === undefined) {
        fn = resolveAction(app.instance, action);
        app.actions.set(action, fn);
      }
      if (!isDict(kwargs)) {
        // What Python says about `app(action, *args, **kwargs)`.
        throw new TypeError(
          `<${app.name}> argument after ** must be a mapping, not ${
            pyTypeName(kwargs)
          }`,
        );
      }
      if (app.floats === "number") {
        args = args.map((a) => this.#floats.plain(a));
        kwargs = this.#floats.plain(kwargs);
      }
      const call = fn;
      const callArgs = args;
      const context: RequestContext = entry.context = {
        signal: entry.controller.signal,
        kwargs: isEmpty(kwargs as RequestKwargs) && app.dicts === "object"
          ? {}
          : kwargs as RequestKwargs,
      };
      let result = withRequest(context, () => call(...callArgs));
      if (result instanceof Promise) result = await result;
      if (entry.done) {
        if (isStreamResult(result)) closeIterator(iteratorOf(result));
        this.#release(id, entry);
        return;
      }
      if (isStreamResult(result)) {
        await this.#stream(id, entry, iteratorOf(result));
        return;
      }
      // A view of the encoder's buffer, queued just below.
      frame = encodeFrameView("response", id, {
        result: this.#floats.restore(result as DirtyInput) ?? null,
      }, NO_OPTIONS);
      view = true;
    } catch (e) {
      if (entry.done) {
        this.#release(id, entry);
        return;
      }
      const tb = stackOf(e);
      frame = encodeError(
        id,
        e instanceof DirtyAppError ? e : new DirtyAppError(errorMessage(e), {
          appPath,
          action,
          ...(tb ? { traceback: tb } : {}),
        }),
      );
    }
    this.#finish(id, entry);
    if (view) this.#sendView(frame);
    else this.#send(frame);
  }

  async #stream(
    id: number,
    entry: Entry,
    it: Iterator<unknown> | AsyncIterator<unknown>,
  ): Promise<void> {
    entry.iterator = it;
    try {
      for (;;) {
        while (entry.paused && !entry.done) {
          await new Promise<void>((resolve) => (entry.wake = resolve));
        }
        if (entry.done) break;
        // A generator's body runs in `next()`: it gets the request's context.
        let step = entry.context === null
          ? it.next()
          : withRequest(entry.context, () => it.next());
        if (step instanceof Promise) step = await step;
        if (entry.done) break;
        const r = step as IteratorResult<unknown>;
        if (r.done) {
          this.#finish(id, entry);
          this.#send(encodeEnd(id));
          return;
        }
        this.#sendView(
          encodeFrameView("chunk", id, {
            data: this.#floats.restore(r.value as DirtyInput) ?? null,
          }, NO_OPTIONS),
        );
        if (this.#out.full) await this.#out.ready().catch(() => {});
      }
    } catch (e) {
      if (!entry.done) {
        this.#finish(id, entry);
        const tb = stackOf(e);
        this.#send(
          encodeError(
            id,
            new DirtyAppError(errorMessage(e), tb ? { traceback: tb } : {}),
          ),
        );
        return;
      }
    } finally {
      closeIterator(it);
    }
    // Given up: it let go.
    this.#release(id, entry);
  }

  /** Waits (up to `ms`, any length) for in-flight requests to finish. */
  async #drain(ms: number): Promise<void> {
    if (this.#inflight.size === 0) return;
    await settleWithin(new Promise<void>((r) => this.#idle = r), ms);
  }

  /** Stops: optionally drains, aborts the rest, closes every app. */
  async stop(drain: boolean): Promise<void> {
    if (this.#stopping) return;
    this.#stopping = true;
    const limit = this.#config.closeTimeoutMs;
    if (drain) await this.#drain(limit);
    for (const entry of [...this.#inflight.values()]) {
      this.#cancel(entry, "shutdown");
    }
    const closing = [...this.#apps.values()].map(async (a) => {
      try {
        const close = a.instance.close;
        if (typeof close === "function") await close.call(a.instance);
      } catch (e) {
        console.error(`[dirty worker ${Deno.pid}] close() failed:`, e);
      }
    });
    await settleWithin(Promise.all(closing), limit);
    await this.#out.flush().catch(() => {});
  }
}

function iteratorOf(
  source: Iterator<unknown> | AsyncIterator<unknown> | ReadableStream,
): Iterator<unknown> | AsyncIterator<unknown> {
  return source instanceof ReadableStream
    ? source[Symbol.asyncIterator]()
    : source;
}

function closeIterator(it: Iterator<unknown> | AsyncIterator<unknown>): void {
  try {
    const ret = it.return?.();
    if (ret instanceof Promise) ret.catch(() => {});
  } catch {
    // The generator is running (it is the one being closed) or its own
    // cleanup failed: nothing to report to.
  }
}

// ------------------------------------------------------------------ entry

let thread: AppThread | null = null;
let crashed = false;
const pending: ToAppThread[] = [];

function crash(error: unknown, what: string): void {
  if (crashed) return;
  crashed = true;
  const text = error instanceof Error
    ? `${error.name}: ${error.message}`
    : String(error);
  post({
    type: "crash",
    message: `${what}${text}`,
    stack: stackOf(error) ?? "",
  });
}

globalThis.addEventListener("error", (e) => {
  e.preventDefault();
  crash((e as ErrorEvent).error ?? (e as ErrorEvent).message, "Uncaught ");
});
globalThis.addEventListener("unhandledrejection", (e) => {
  e.preventDefault();
  crash((e as PromiseRejectionEvent).reason, "Unhandled rejection: ");
});

async function start(config: WorkerConfig): Promise<void> {
  const conn = await connectToArbiter(config);
  if (conn === null) {
    post({ type: "booted", ok: false });
    return;
  }
  const t = new AppThread(config, conn);
  thread = t;
  for (const m of pending.splice(0)) void handle(m);
  await t.hello();
  const ok = await t.boot();
  post({ type: "booted", ok });
  if (ok) await t.serve();
}

async function handle(m: ToAppThread): Promise<void> {
  if (m.type === "start") {
    await start(m.config);
    return;
  }
  if (thread === null) {
    pending.push(m);
    return;
  }
  if (m.type === "stop") {
    await thread.stop(m.drain);
    post({ type: "stopped" });
    return;
  }
  thread.order(m);
}

scope.onmessage = (e) => void handle(e.data);
