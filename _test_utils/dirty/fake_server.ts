// Copyright 2026 the @sidecar/ipc authors. MIT license.
/**
 * A scripted fake dirty arbiter on a Unix socket, for client tests. It
 * answers like gunicorn 26.1.0's arbiter (replaying the gunicorn-made
 * vectors where asked) and can misbehave on purpose: cut a frame, close
 * without a reply, never answer, send garbage.
 *
 * Actions of the built-in app (any app path except `missing:App`):
 *
 * - `add(a, b, ...)` → the sum; `echo(...)` → `{args, kwargs}`;
 * - `fail(msg)` → ERROR DirtyAppError; `stream(n)` → n CHUNKs `tok<i>` + END;
 * - `stream_fail(n)` → n CHUNKs then ERROR; `stream_slow(n, ms)` → chunks `ms` apart;
 * - `replay(name)` → the vector message `name`, with the request's id patched in;
 * - `sleep(ms)` → RESPONSE after `ms`; `hang()` → never answers;
 * - `cut()` → half of a RESPONSE, then close; `close()` → close, no reply;
 * - `garbage()` → a frame with bad magic; `wrong_id()` → RESPONSE with another id;
 * - `extra()` → RESPONSE followed by a stray CHUNK.
 *
 * STATUS, MANAGE and STASH are answered in the arbiter itself, with
 * gunicorn's result shapes and error texts (including bug 1: stash errors
 * go out as `DirtyError`).
 *
 * @module
 */
import {
  DirtyAppError,
  DirtyError,
  DirtyNoWorkersAvailableError,
} from "../../dirty/errors.ts";
import { type DirtyFrame, parseFrame, StashOp } from "../../dirty/message.ts";
import { DirtyMessageDecoder } from "../../dirty/message_decoder.ts";
import {
  encodeChunk,
  encodeEnd,
  encodeError,
  encodeResponse,
} from "../../dirty/message_encoders.ts";
import type { DirtyValue } from "../../dirty/tlv.ts";
import { delay } from "../../_internal/timers.ts";
import { loadVectors } from "./vectors.ts";
import { fromHex } from "../hex.ts";

/** A running fake server. */
export interface FakeDirtyServer extends AsyncDisposable {
  /** Socket path. */
  path: string;
  /** Connections accepted so far. */
  accepted: number;
  /** Connections currently open. */
  readonly open: number;
  /** Every frame received, in order. */
  frames: DirtyFrame[];
}

const vectorBytes = new Map<string, Uint8Array>();
for (
  const v of [
    ...loadVectors("dirty-vectors.json"),
    ...loadVectors("extra-vectors.json"),
  ]
) {
  if (v.kind === "message") vectorBytes.set(v.name, fromHex(v.hex));
}

function withId(bytes: Uint8Array, id: bigint): Uint8Array {
  const out = bytes.slice();
  new DataView(out.buffer).setBigUint64(8, id);
  return out;
}

function num(v: DirtyValue | undefined, dflt = 0): number {
  return typeof v === "number" ? v : typeof v === "bigint" ? Number(v) : dflt;
}

function fnmatch(name: string, pattern: string): boolean {
  let re = "^";
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === "*") re += ".*";
    else if (c === "?") re += ".";
    else if (c === "[") {
      const j = pattern.indexOf("]", i + 2);
      if (j < 0) re += "\\[";
      else {
        let body = pattern.slice(i + 1, j);
        if (body.startsWith("!")) body = "^" + body.slice(1);
        re += "[" + body.replace(/\\/g, "\\\\") + "]";
        i = j;
      }
    } else re += c.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  }
  return new RegExp(re + "$", "s").test(name);
}

function pyStr(v: DirtyValue): string {
  if (v === null) return "None";
  if (v === true) return "True";
  if (v === false) return "False";
  return String(v);
}

/** Starts the fake server in `dir`. */
export function startFakeDirtyServer(dir: string): FakeDirtyServer {
  const path = `${dir}/arbiter.sock`;
  const listener = Deno.listen({ transport: "unix", path });
  const conns = new Set<Deno.Conn>();
  const tasks = new Set<Promise<void>>();
  /** Aborted on dispose: wakes sleeping handlers. */
  const closing = new AbortController();
  const tables = new Map<string, Map<DirtyValue, DirtyValue>>();
  const server: FakeDirtyServer = {
    path,
    accepted: 0,
    get open() {
      return conns.size;
    },
    frames: [],
    async [Symbol.asyncDispose]() {
      listener.close();
      // Wake sleeping handlers so they finish (their writes then fail and end them).
      closing.abort();
      for (const c of conns) {
        try {
          c.close();
        } catch { /* closed */ }
      }
      await Promise.allSettled([...tasks]);
      await accepting;
    },
  };

  const sleep = (ms: number): Promise<void> =>
    delay(ms, closing.signal).catch(() => {});

  async function writeAll(conn: Deno.Conn, bytes: Uint8Array): Promise<void> {
    let off = 0;
    while (off < bytes.length) off += await conn.write(bytes.subarray(off));
  }

  function stash(msg: ReturnType<typeof parseFrame>): Uint8Array {
    if (msg.type !== "stash") throw new Error("not stash");
    const { id, table, key, value, pattern } = msg;
    const op = num(msg.op ?? undefined, -1);
    const t = tables.get(table);
    const ok = (result: DirtyValue) => encodeResponse(id, result);
    if (
      key !== null && typeof key === "object" && !(key instanceof Uint8Array)
    ) {
      return encodeError(
        id,
        new DirtyError(
          `unhashable type: '${Array.isArray(key) ? "list" : "dict"}'`,
        ),
      );
    }
    switch (op) {
      case StashOp.PUT:
        if (!t) tables.set(table, new Map([[key, value]]));
        else t.set(key, value);
        return ok(true);
      case StashOp.GET:
        if (!t || !t.has(key)) {
          return encodeError(
            id,
            new DirtyError(`Key not found: ${pyStr(key)}`),
          );
        }
        return ok(t.get(key)!);
      case StashOp.DELETE:
        return ok(t?.delete(key) ?? false);
      case StashOp.KEYS: {
        const keys = [...(t?.keys() ?? [])];
        return ok(
          typeof pattern === "string" && pattern
            ? keys.filter((k) => fnmatch(pyStr(k), pattern))
            : keys,
        );
      }
      case StashOp.CLEAR:
        t?.clear();
        return ok(true);
      case StashOp.INFO:
        if (!t) {
          return encodeError(id, new DirtyError(`Table not found: ${table}`));
        }
        return ok({ size: t.size, table });
      case StashOp.ENSURE:
        if (!t) tables.set(table, new Map());
        return ok(true);
      case StashOp.DELETE_TABLE:
        return ok(tables.delete(table));
      case StashOp.TABLES:
        return ok([...tables.keys()]);
      case StashOp.EXISTS:
        return ok(!t ? false : !msg.hasKey ? true : t.has(key));
      default:
        return encodeError(
          id,
          new DirtyError(
            `Unknown stash operation: ${
              msg.op === undefined ? "None" : String(msg.op)
            }`,
          ),
        );
    }
  }

  async function handle(conn: Deno.Conn, frame: DirtyFrame): Promise<boolean> {
    server.frames.push(frame);
    const msg = parseFrame(frame);
    const id = frame.id;
    switch (msg.type) {
      case "status":
        await writeAll(
          conn,
          encodeResponse(id, {
            arbiter_pid: Deno.pid,
            workers: [{
              pid: 4242,
              age: 1,
              apps: ["fake:App"],
              booted: false,
              last_heartbeat: 0.01,
            }],
            worker_count: 1,
            apps: ["fake:App"],
          }),
        );
        return true;
      case "manage": {
        const op = num(msg.op ?? undefined);
        const count = Math.max(1, Math.trunc(num(msg.count, 1)));
        if (op === 1) {
          await writeAll(
            conn,
            encodeResponse(id, {
              success: true,
              operation: "add",
              requested: count,
              spawned: count,
              total_workers: 1 + count,
              target_workers: 1 + count,
            }),
          );
        } else if (op === 2) {
          await writeAll(
            conn,
            encodeResponse(id, {
              success: true,
              operation: "remove",
              requested: count,
              removed: 0,
              total_workers: 1,
              target_workers: 1,
            }),
          );
        } else {
          await writeAll(
            conn,
            encodeError(
              id,
              new DirtyError(`Unknown manage operation: ${String(msg.op)}`),
            ),
          );
        }
        return true;
      }
      case "stash":
        await writeAll(conn, stash(msg));
        return true;
      case "request":
        break;
      default:
        await writeAll(
          conn,
          encodeError(id, new DirtyError(`Unknown message type: ${msg.type}`)),
        );
        return true;
    }
    const { appPath, action, args, kwargs } = msg;
    if (appPath === "missing:App") {
      await writeAll(
        conn,
        encodeError(id, new DirtyNoWorkersAvailableError(appPath)),
      );
      return true;
    }
    switch (action) {
      case "add": {
        let sum = 0;
        for (const a of args) sum += num(a);
        await writeAll(conn, encodeResponse(id, sum));
        return true;
      }
      case "echo":
        await writeAll(conn, encodeResponse(id, { args, kwargs }));
        return true;
      case "fail":
        await writeAll(
          conn,
          encodeError(
            id,
            new DirtyAppError(String(args[0] ?? "boom"), {
              appPath,
              action,
              traceback: "Traceback (fake)",
            }),
          ),
        );
        return true;
      case "stream":
      case "stream_fail":
      case "stream_slow": {
        const n = num(args[0], 3);
        for (let i = 0; i < n; i++) {
          if (action === "stream_slow" && i > 0) await sleep(num(args[1], 50));
          await writeAll(conn, encodeChunk(id, `tok${i}`));
        }
        await writeAll(
          conn,
          action === "stream_fail"
            ? encodeError(
              id,
              new DirtyAppError("stream broke", {
                traceback: "Traceback (fake)",
              }),
            )
            : encodeEnd(id),
        );
        return true;
      }
      case "replay": {
        const bytes = vectorBytes.get(String(args[0]));
        if (!bytes) throw new Error(`no vector ${String(args[0])}`);
        await writeAll(conn, withId(bytes, id));
        return true;
      }
      case "sleep":
        await sleep(num(args[0]));
        await writeAll(conn, encodeResponse(id, "slept"));
        return true;
      case "hang":
        return true;
      case "cut": {
        const bytes = encodeResponse(id, "x".repeat(100));
        await writeAll(conn, bytes.subarray(0, 40));
        return false;
      }
      case "close":
        return false;
      case "garbage":
        await writeAll(conn, fromHex("58580102000000000000000000000001"));
        return true;
      case "wrong_id":
        await writeAll(conn, encodeResponse(id + 1n, 1));
        return true;
      case "extra":
        await writeAll(
          conn,
          new Uint8Array([
            ...encodeResponse(id, 1),
            ...encodeChunk(id, "stray"),
          ]),
        );
        return true;
      default:
        await writeAll(
          conn,
          encodeError(
            id,
            new DirtyAppError(`Unknown action: ${action}`, { appPath, action }),
          ),
        );
        return true;
    }
  }

  async function serve(conn: Deno.Conn): Promise<void> {
    const dec = new DirtyMessageDecoder({ float: "tagged" });
    const buf = new Uint8Array(65536);
    try {
      while (true) {
        const n = await conn.read(buf);
        if (n === null) break;
        // Like gunicorn: any malformed input closes the connection, no reply.
        for (const frame of dec.push(buf.subarray(0, n))) {
          if (!(await handle(conn, frame))) return;
        }
      }
    } catch {
      // Closed or malformed: drop the connection.
    } finally {
      conns.delete(conn);
      try {
        conn.close();
      } catch { /* closed */ }
    }
  }

  const accepting = (async () => {
    try {
      for await (const conn of listener) {
        server.accepted++;
        conns.add(conn);
        const t = serve(conn);
        tasks.add(t);
        t.finally(() => tasks.delete(t));
      }
    } catch {
      // Listener closed.
    }
  })();
  return server;
}
