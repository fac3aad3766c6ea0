// Copyright 2026 the @sidecar/ipc authors. MIT license.
/**
 * Entry point of a dirty worker process, started by the arbiter with
 * `Deno.Command`; its main thread is the worker's protocol thread (see
 * `_worker_protocol.ts`). It connects the control connection, sends
 * heartbeats, starts the app thread (a Web Worker running
 * `_app_thread.ts`, where app code runs), hands it the arbiter's orders
 * about running requests, and reports a crash of app code with its stack.
 * No app code runs here, so a CPU-bound action stops neither heartbeats nor
 * the reading of cancellations. `console.log` and friends go to stderr,
 * next to the arbiter's own log lines.
 *
 * Stops (closing every app) at the end of stdin or of its connections, and
 * on SIGTERM once its requests have finished. SIGINT is ignored, so that a
 * terminal's Ctrl-C stops only the arbiter, which then drains its workers.
 *
 * @module
 */

import { setLongTimeout } from "../_internal/timers.ts";
import { WriteQueue } from "../_internal/write_queue.ts";
import {
  connectToArbiter,
  getIdNumber,
  type RawFrame,
  readArbiterFrames,
} from "./_frame_io.ts";
import { decodeMessage } from "./message_decoder.ts";
import { encodeResponse } from "./message_encoders.ts";
import { parseFrame } from "./message.ts";
import type { DirtyInput } from "./tlv.ts";
import {
  BOOT_ERROR_EXIT,
  type CancelWhy,
  CONTROL_ID,
  CRASH_EXIT,
  type FromAppThread,
  parseWorkerConfig,
  type ToAppThread,
  type WorkerConfig,
} from "./_worker_protocol.ts";

const WHYS = new Set<string>(["timeout", "client", "overflow", "shutdown"]);

class ProtocolThread {
  readonly #config: WorkerConfig;
  readonly #conn: Deno.UnixConn;
  readonly #out: WriteQueue;
  readonly #app: Worker;
  #stopping = false;

  constructor(config: WorkerConfig, conn: Deno.UnixConn) {
    this.#config = config;
    this.#conn = conn;
    this.#out = new WriteQueue(conn, {
      // The arbiter is gone.
      onError: () => void this.stop(false),
    });
    this.#app = new Worker(new URL("./_app_thread.ts", import.meta.url).href, {
      type: "module",
    });
    this.#app.onmessage = (e: MessageEvent<FromAppThread>) =>
      void this.#fromApp(e.data);
    this.#app.onerror = (e: ErrorEvent) => {
      // The app thread could not even run (e.g. a module it cannot read).
      e.preventDefault();
      void this.#crash(e.message, "");
    };
  }

  #event(result: Record<string, DirtyInput>): Promise<void> {
    this.#out.push(encodeResponse(CONTROL_ID, result));
    return this.#out.flush().catch(() => {});
  }

  #toApp(m: ToAppThread): void {
    this.#app.postMessage(m);
  }

  async start(): Promise<void> {
    await this.#event({
      event: "hello",
      token: this.#config.token,
      role: "control",
    });
    const beat = (): void => {
      void this.#event({ event: "heartbeat" });
      setLongTimeout(beat, this.#config.heartbeatMs);
    };
    setLongTimeout(beat, this.#config.heartbeatMs);
    this.#toApp({ type: "start", config: this.#config });
    await this.#read();
    await this.stop(false);
  }

  /** Reads the arbiter's orders until the control connection ends. */
  async #read(): Promise<void> {
    await readArbiterFrames(this.#conn, 16 * 1024, (f) => this.#order(f));
  }

  /** One frame of the control connection: an order about a request. */
  #order(f: RawFrame): void {
    if (getIdNumber(f.bytes) !== CONTROL_ID || f.type !== "request") return;
    try {
      const msg = parseFrame(decodeMessage(f.bytes));
      if (msg.type !== "request") return;
      const id = Number(msg.args[0]);
      const why = String(msg.args[1] ?? "client");
      if (!Number.isSafeInteger(id)) return;
      if (msg.action === "cancel") {
        this.#toApp({
          type: "cancel",
          id,
          why: (WHYS.has(why) ? why : "client") as CancelWhy,
        });
      } else if (msg.action === "pause" || msg.action === "resume") {
        this.#toApp({ type: msg.action, id });
      }
    } catch {
      // An order we cannot read is ignored.
    }
  }

  async #fromApp(m: FromAppThread): Promise<void> {
    switch (m.type) {
      case "booted":
        if (!m.ok) {
          await this.#out.flush().catch(() => {});
          Deno.exit(BOOT_ERROR_EXIT);
        }
        return;
      case "crash":
        await this.#crash(m.message, m.stack);
        return;
      case "lost":
        await this.stop(false);
        return;
      case "stopped":
        await this.#out.flush().catch(() => {});
        Deno.exit(0);
    }
  }

  async #crash(message: string, stack: string): Promise<never> {
    this.#stopping = true;
    console.error(
      `[dirty worker ${Deno.pid}] ${message}${stack ? `\n${stack}` : ""}`,
    );
    await this.#event({ event: "crashed", message, stack });
    Deno.exit(CRASH_EXIT);
  }

  /** Stops: the app thread (optionally draining) closes its apps, then exit. */
  stop(drain: boolean): Promise<void> {
    if (this.#stopping) return Promise.resolve();
    this.#stopping = true;
    // Whatever happens in the app thread, the process ends.
    setLongTimeout(
      () => Deno.exit(0),
      this.#config.closeTimeoutMs * 2 + 1000,
    );
    this.#toApp({ type: "stop", drain });
    return Promise.resolve();
  }
}

async function main(): Promise<void> {
  const config = parseWorkerConfig(Deno.args[0] ?? "{}");
  Deno.addSignalListener("SIGINT", () => {});
  const conn = await connectToArbiter(config);
  if (conn === null) Deno.exit(1);
  const worker = new ProtocolThread(config, conn);
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
  await worker.start();
}

if (import.meta.main) await main();
