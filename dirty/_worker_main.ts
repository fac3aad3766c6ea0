// Copyright 2026 the @sidecar/ipc authors. MIT license.
/**
 * Entry point of a dirty worker process, started by the arbiter with
 * `Deno.Command` (see `_worker_protocol.ts` for the hop). Connects to the
 * arbiter's worker socket, loads the apps in order (`new Cls()`, then
 * `init()`), reports each, then serves requests concurrently. `console.log`
 * and friends go to stderr, next to the arbiter's own log lines.
 *
 * Stops (closing every app) at the end of stdin or of its connection, and
 * on SIGTERM once its requests have finished. SIGINT is ignored, so that a
 * terminal's Ctrl-C stops only the arbiter, which then drains its workers.
 *
 * @module
 */

import { isStreamResult, resolveAction, withRequestSignal } from "./app.ts";
import {
  DirtyAppError,
  DirtyTimeoutError,
  DirtyWorkerError,
} from "./errors.ts";
import { WriteQueue } from "../_internal/write_queue.ts";
import { DirtyMessageDecoder } from "./message_decoder.ts";
import {
  encodeChunk,
  encodeEnd,
  encodeError,
  encodeResponse,
} from "./message_encoders.ts";
import { parseFrame } from "./message.ts";
import type { DirtyInput, DirtyValue } from "./tlv.ts";
import {
  BOOT_ERROR_EXIT,
  CONTROL_ID,
  type WorkerConfig,
} from "./_worker_protocol.ts";
import { importAppClass, parseAppSpec } from "./app.ts";
import { appFloatMode, type FloatMode, FloatSlots } from "./_floats.ts";

const HIGH_WATER = 1 << 20;

interface LoadedApp {
  // deno-lint-ignore no-explicit-any
  instance: any;
  actions: Map<string, (...args: unknown[]) => unknown>;
  floats: FloatMode;
}

interface InFlight {
  controller: AbortController;
  done: boolean;
}

function errorMessage(e: unknown): string {
  if (e instanceof Error) return e.message;
  return String(e);
}

function stackOf(e: unknown): string | undefined {
  return e instanceof Error && typeof e.stack === "string"
    ? e.stack
    : undefined;
}

class Worker {
  readonly #config: WorkerConfig;
  readonly #conn: Deno.UnixConn;
  readonly #out: WriteQueue;
  readonly #apps = new Map<string, LoadedApp>();
  readonly #inflight = new Map<number, InFlight>();
  readonly #floats = new FloatSlots();
  #stopping = false;
  #idle: (() => void) | null = null;

  constructor(config: WorkerConfig, conn: Deno.UnixConn) {
    this.#config = config;
    this.#conn = conn;
    this.#out = new WriteQueue(conn, {
      highWaterMark: HIGH_WATER,
      // The arbiter is gone: nothing to answer any more.
      onError: () => void this.stop(false),
    });
  }

  #send(bytes: Uint8Array): void {
    this.#out.push(bytes);
  }

  #event(result: Record<string, DirtyInput>): Promise<void> {
    this.#send(encodeResponse(CONTROL_ID, result));
    return this.#out.flush().catch(() => {});
  }

  hello(): Promise<void> {
    return this.#event({ event: "hello", token: this.#config.token });
  }

  async boot(): Promise<boolean> {
    for (const a of this.#config.apps) {
      try {
        const spec = parseAppSpec(`${a.module}:${a.exportName}`);
        const cls = await importAppClass(spec, this.#config.cwd);
        const floats = appFloatMode(cls);
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
        this.#apps.set(a.appPath, { instance, actions: new Map(), floats });
        await this.#event({ event: "loaded", app: a.appPath });
      } catch (e) {
        await this.#event({
          event: "boot_failed",
          app: a.appPath,
          message: errorMessage(e),
        });
        console.error(`[dirty worker ${Deno.pid}] ${a.appPath}:`, e);
        return false;
      }
    }
    await this.#event({ event: "booted" });
    return true;
  }

  startHeartbeat(): void {
    const beat = () => void this.#event({ event: "heartbeat" });
    beat();
    setInterval(beat, this.#config.heartbeatMs);
  }

  async serve(): Promise<void> {
    // Integral floats arrive as DirtyFloat; #run unwraps them for apps in
    // "number" mode.
    const decoder = new DirtyMessageDecoder({
      dict: "object",
      float: "tagged",
    });
    const buf = new Uint8Array(256 * 1024);
    for (;;) {
      let n: number | null;
      try {
        n = await this.#conn.read(buf);
      } catch {
        n = null;
      }
      if (n === null) break;
      let frames;
      try {
        frames = decoder.push(buf.subarray(0, n));
      } catch (e) {
        console.error(`[dirty worker ${Deno.pid}] bad frame from arbiter:`, e);
        break;
      }
      for (const f of frames) this.#dispatch(f);
    }
  }

  #dispatch(frame: ReturnType<DirtyMessageDecoder["push"]>[number]): void {
    const id = Number(frame.id);
    let msg;
    try {
      msg = parseFrame(frame);
    } catch (e) {
      this.#send(
        encodeError(frame.id, new DirtyWorkerError(errorMessage(e))),
      );
      return;
    }
    if (msg.type !== "request") {
      this.#send(
        encodeError(
          frame.id,
          new DirtyWorkerError(`Unknown message type: ${msg.type}`),
        ),
      );
      return;
    }
    if (id === CONTROL_ID) {
      if (msg.action === "abort") {
        for (const a of msg.args) this.#abort(Number(a));
      }
      return;
    }
    if (this.#stopping) {
      this.#send(
        encodeError(frame.id, new DirtyWorkerError("Worker is shutting down")),
      );
      return;
    }
    const entry: InFlight = { controller: new AbortController(), done: false };
    this.#inflight.set(id, entry);
    void this.#run(id, entry, msg.appPath, msg.action, msg.args, msg.kwargs);
  }

  #abort(id: number): void {
    const entry = this.#inflight.get(id);
    if (entry === undefined || entry.done) return;
    this.#finish(id, entry);
    entry.controller.abort(
      new DirtyTimeoutError("Request aborted by the arbiter"),
    );
    this.#send(
      encodeError(id, new DirtyTimeoutError("Request aborted by the arbiter")),
    );
  }

  #finish(id: number, entry: InFlight): void {
    entry.done = true;
    this.#inflight.delete(id);
    if (this.#inflight.size === 0 && this.#idle) this.#idle();
  }

  async #run(
    id: number,
    entry: InFlight,
    appPath: string,
    action: string,
    args: DirtyValue[],
    kwargs: DirtyValue,
  ): Promise<void> {
    const app = this.#apps.get(appPath);
    let frame: Uint8Array;
    try {
      if (app === undefined) {
        throw new DirtyAppError(`Dirty app not found: ${appPath}`, {
          appPath,
        });
      }
      let fn = app.actions.get(action);
      if (fn === undefined) {
        fn = resolveAction(app.instance, action);
        app.actions.set(action, fn);
      }
      if (app.floats === "number") {
        args = args.map((a) => this.#floats.plain(a));
        kwargs = this.#floats.plain(kwargs);
      }
      const callArgs = hasKeys(kwargs) ? [...args, kwargs] : args;
      const signal = entry.controller.signal;
      let result = withRequestSignal(signal, () => fn(...callArgs));
      if (result instanceof Promise) result = await result;
      if (entry.done) return;
      if (isStreamResult(result)) {
        await this.#stream(id, entry, result);
        return;
      }
      frame = encodeResponse(id, this.#floats.restore(result as DirtyInput));
    } catch (e) {
      if (entry.done) return;
      frame = encodeError(
        id,
        e instanceof DirtyAppError ? e : new DirtyAppError(errorMessage(e), {
          appPath,
          action,
          ...(stackOf(e) ? { traceback: stackOf(e)! } : {}),
        }),
      );
    }
    if (entry.done) return;
    this.#finish(id, entry);
    this.#send(frame);
  }

  async #stream(
    id: number,
    entry: InFlight,
    source: Iterator<unknown> | AsyncIterator<unknown> | ReadableStream,
  ): Promise<void> {
    const it: Iterator<unknown> | AsyncIterator<unknown> =
      source instanceof ReadableStream
        ? source[Symbol.asyncIterator]()
        : source;
    try {
      for (;;) {
        if (entry.done) return;
        let step = it.next();
        if (step instanceof Promise) step = await step;
        if (entry.done) return;
        const r = step as IteratorResult<unknown>;
        if (r.done) break;
        this.#out.push(
          encodeChunk(id, this.#floats.restore(r.value as DirtyInput)),
        );
        if (this.#out.full) await this.#out.ready().catch(() => {});
      }
      this.#finish(id, entry);
      this.#send(encodeEnd(id));
    } catch (e) {
      if (entry.done) return;
      this.#finish(id, entry);
      const tb = stackOf(e);
      this.#send(
        encodeError(
          id,
          new DirtyAppError(errorMessage(e), tb ? { traceback: tb } : {}),
        ),
      );
    } finally {
      try {
        const ret = it.return?.();
        if (ret instanceof Promise) ret.catch(() => {});
      } catch {
        // The generator's own cleanup failed; nothing to report to.
      }
    }
  }

  /** Waits (up to `ms`) for in-flight requests to finish. */
  drain(ms: number): Promise<void> {
    if (this.#inflight.size === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const t = setTimeout(resolve, ms);
      this.#idle = () => {
        clearTimeout(t);
        resolve();
      };
    });
  }

  #stopped = false;

  /** Stops: optionally drains, closes every app, exits. */
  async stop(drain: boolean): Promise<never> {
    this.#stopping = true;
    if (this.#stopped) return await new Promise<never>(() => {});
    this.#stopped = true;
    const limit = this.#config.closeTimeoutMs;
    setTimeout(() => Deno.exit(0), limit + 1000);
    if (drain) await this.drain(limit);
    for (const entry of this.#inflight.values()) {
      entry.controller.abort(new DirtyWorkerError("Worker is shutting down"));
    }
    const closing = [...this.#apps.values()].map(async (a) => {
      try {
        const close = a.instance.close;
        if (typeof close === "function") await close.call(a.instance);
      } catch (e) {
        console.error(`[dirty worker ${Deno.pid}] close() failed:`, e);
      }
    });
    await Promise.race([
      Promise.all(closing),
      new Promise((r) => setTimeout(r, limit)),
    ]);
    Deno.exit(0);
  }
}

function hasKeys(v: DirtyValue): boolean {
  if (v instanceof Map) return v.size > 0;
  if (v === null || typeof v !== "object") return false;
  for (const _ in v) return true;
  return false;
}

async function main(): Promise<void> {
  const config = JSON.parse(Deno.args[0] ?? "{}") as WorkerConfig;
  // App output goes to stderr, next to the arbiter's log lines.
  for (const name of ["log", "info", "debug", "table", "dir", "dirxml"]) {
    (console as unknown as Record<string, unknown>)[name] = console.error;
  }
  Deno.addSignalListener("SIGINT", () => {});
  let conn: Deno.UnixConn;
  try {
    conn = await Deno.connect({ transport: "unix", path: config.socket });
  } catch (e) {
    console.error(
      `[dirty worker ${Deno.pid}] cannot reach the arbiter at ${config.socket}: ${
        errorMessage(e)
      }`,
    );
    Deno.exit(1);
  }
  const worker = new Worker(config, conn);
  Deno.addSignalListener("SIGTERM", () => void worker.stop(true));
  // The end of stdin (arbiter gone or done with us) means stop.
  (async () => {
    const buf = new Uint8Array(64);
    try {
      while ((await Deno.stdin.read(buf)) !== null) { /* nothing is sent */ }
    } catch {
      // Closed.
    }
    await worker.stop(false);
  })();
  await worker.hello();
  worker.startHeartbeat();
  if (!(await worker.boot())) {
    // Let the report reach the arbiter before exiting.
    await new Promise((r) => setTimeout(r, 10));
    Deno.exit(BOOT_ERROR_EXIT);
  }
  await worker.serve();
  await worker.stop(false);
}

if (import.meta.main) await main();
