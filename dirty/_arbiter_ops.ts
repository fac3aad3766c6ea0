// Copyright 2026 the @sidecar/ipc authors. MIT license.
/**
 * The frames the arbiter answers itself: STATUS (gunicorn's result shape,
 * plus `target_workers` and `boot_failures`), MANAGE (add / remove
 * workers, gunicorn's result shape) and STASH (`_stash.ts`); any other
 * non-REQUEST type gets the error gunicorn's worker gives it.
 *
 * @module
 */

import { DirtyError, DirtyWorkerError } from "./errors.ts";
import { decodeMessage } from "./message_decoder.ts";
import { encodeError, encodeResponse } from "./message_encoders.ts";
import { ManageOp, parseFrame } from "./message.ts";
import type { DirtyInput, DirtyValue } from "./tlv.ts";
import { DirtyFloat } from "./dirty_float.ts";
import type { RawFrame } from "./_frame_io.ts";
import type { StashStore } from "./_stash.ts";
import type { WorkerPool } from "./_worker_pool.ts";
import type { LogFn } from "./_log.ts";

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
  /** Requests it is running now (not in gunicorn's STATUS). */
  requests: number;
}

/** A slot whose workers fail to boot (or crash). */
export interface ArbiterBootFailure {
  /** App paths of the slot. */
  apps: string[];
  /** Failures in a row. */
  failures: number;
  /** The last error. */
  "last_error": string | null;
  /** Seconds until the next attempt. */
  "retry_in": number;
}

/**
 * The STATUS result: gunicorn's keys (`arbiter_pid`, `workers` sorted by
 * age, `worker_count`, `apps`) plus `target_workers` and `boot_failures`,
 * and `requests` in flight per worker.
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
  /** Slots that fail. */
  "boot_failures": ArbiterBootFailure[];
}

function round2(seconds: number): number {
  return Math.round(seconds * 100) / 100;
}

/** The pool's state as STATUS reports it. */
export function statusOf(pool: WorkerPool, apps: string[]): ArbiterStatus {
  const now = performance.now();
  const core = pool.core;
  const workers = core.workers().filter((w) => w.pid !== 0).map((w) => ({
    pid: w.pid,
    age: w.age,
    apps: [...w.slot.apps],
    booted: w.booted,
    "last_heartbeat": round2((now - w.lastHeartbeat) / 1000),
    requests: w.inflight.size,
  }));
  return {
    "arbiter_pid": Deno.pid,
    workers,
    "worker_count": workers.length,
    apps,
    "target_workers": core.target,
    "boot_failures": pool.failingSlots().map((s) => ({
      apps: [...s.apps],
      failures: s.failures,
      "last_error": s.lastError,
      "retry_in": s.worker !== null || s.retryAt === Infinity
        ? 0
        : round2(Math.max(0, s.retryAt - now) / 1000),
    })),
  };
}

/** The STATUS result as a TLV value (floats stay floats). */
function statusTlv(s: ArbiterStatus): DirtyInput {
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
          ["requests", w.requests],
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

function toPyInt(v: DirtyValue): number | null {
  if (typeof v === "boolean") return v ? 1 : 0;
  if (typeof v === "bigint") return Number(v);
  if (typeof v === "number") return Number.isFinite(v) ? Math.trunc(v) : null;
  if (v instanceof DirtyFloat) return Math.trunc(v.value);
  if (typeof v === "string" && /^\s*[+-]?\d+\s*$/.test(v)) return Number(v);
  return null;
}

/** What the answers need. */
export interface OpsHost {
  readonly pool: WorkerPool;
  readonly stash: StashStore;
  readonly apps: string[];
  readonly log: LogFn;
}

/**
 * Answers a frame the arbiter handles itself.
 *
 * @param host The arbiter's pool, stash and log.
 * @param f A frame that is not a REQUEST.
 * @returns The whole reply frame.
 * @throws {DirtyProtocolError} On malformed input (the connection closes).
 */
export function answer(host: OpsHost, f: RawFrame): Uint8Array {
  switch (f.type) {
    case "status": {
      const { id } = decodeMessage(f.bytes);
      return encodeResponse(id, statusTlv(statusOf(host.pool, host.apps)));
    }
    case "manage":
      return manage(host, f);
    case "stash": {
      const msg = parseFrame(decodeMessage(f.bytes, { float: "tagged" }));
      if (msg.type !== "stash") throw new Error("unreachable");
      const out = host.stash.handle(msg);
      return out.ok
        ? encodeResponse(msg.id, out.result)
        : encodeError(msg.id, out.error);
    }
    default: {
      const { id } = decodeMessage(f.bytes);
      return encodeError(
        id,
        new DirtyWorkerError(`Unknown message type: ${f.type}`),
      );
    }
  }
}

function manage(host: OpsHost, f: RawFrame): Uint8Array {
  const msg = parseFrame(decodeMessage(f.bytes, { float: "tagged" }));
  if (msg.type !== "manage") throw new Error("unreachable");
  const n = toPyInt(msg.count);
  if (n === null) {
    return encodeError(
      msg.id,
      new DirtyError(`Invalid manage count: ${String(msg.count)}`),
    );
  }
  const count = Math.max(1, n);
  const op = typeof msg.op === "bigint" ? Number(msg.op) : msg.op;
  const pool = host.pool;
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
    return encodeError(
      msg.id,
      new DirtyError(
        `Unknown manage operation: ${
          msg.op === undefined ? "None" : String(msg.op)
        }`,
      ),
    );
  }
  result.set(
    "total_workers",
    pool.core.workers().filter((w) => w.state !== "retiring").length,
  );
  result.set("target_workers", pool.core.target);
  host.log(
    "info",
    `Worker management: ${String(result.get("operation"))} ${count}`,
  );
  return encodeResponse(msg.id, result);
}
