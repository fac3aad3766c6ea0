// Copyright 2026 the @sidecar/ipc authors. MIT license.
/**
 * `ipc dirty ...`: gunicorn's dirty arbiter (or ours) from a shell, like
 * `gunicornc`: call and stream actions, the stash, status, scaling, and
 * `serve` to run our arbiter with TypeScript apps.
 *
 * @module
 */
import {
  DIRTY_SOCKET_ENV,
  DirtyAppError,
  DirtyClient,
  DirtyConnectionError,
  DirtyError,
  DirtyFloat,
  type DirtyInput,
  type DirtyValue,
  StashClient,
} from "../dirty/mod.ts";
import { race } from "../_internal/abort.ts";
import { startArbiter } from "../dirty/arbiter.ts";
import { importAppClass, parseAppSpec } from "../dirty/app.ts";
import { ByteArray, FrozenSet, PyFloat, Tuple } from "../connection/mod.ts";
import {
  CliError,
  type CommandContext,
  err,
  EXIT,
  failed,
  firstLine,
  flag,
  int,
  interrupted,
  list,
  out,
  type ParsedArgs,
  parseSubcommand,
  progress,
  seconds,
  str,
  usage,
} from "./_args.ts";
import { fromArg, repr, toJson } from "./_render.ts";

const HELP = `
Usage:
  ipc dirty call   [SOCKET] APP ACTION [ARGS...] [--kwargs JSON]
  ipc dirty stream [SOCKET] APP ACTION [ARGS...] [--kwargs JSON]
  ipc dirty status [SOCKET]
  ipc dirty scale  [SOCKET] +N|-N
  ipc dirty stash  [SOCKET] put TABLE KEY VALUE | get TABLE KEY |
                   delete TABLE KEY | keys TABLE [PATTERN] | clear TABLE |
                   info TABLE | ensure TABLE | exists TABLE [KEY] |
                   drop TABLE | tables
  ipc dirty serve  --app MODULE:Export[:N]... [--workers N] [--socket PATH]
                   [--timeout S] [--threads N] [--graceful-timeout S]

Talks to a gunicorn 26 dirty arbiter, or ours, over its Unix socket.
SOCKET defaults to $${DIRTY_SOCKET_ENV}; it is taken from the command
line when the first argument has no ":" (an APP path always has one).
ARGS, KEY and VALUE are JSON when they parse as JSON, else plain strings
(see "ipc mp --help" for the JSON forms of bytes, floats and big ints).

serve checks that every --app loads, starts our arbiter, prints its socket
path on stdout, waits for the workers to boot (progress on a terminal) and
runs until SIGINT/SIGTERM (exit 130). An app that cannot be loaded, or a
worker that fails to boot before all are ready, stops it at once (exit 1).

Options:
  --kwargs JSON        keyword arguments (a JSON object)
  --timeout SECONDS    call timeout (default 30); for serve, the worker timeout
  --json               print results as JSON
  --verbose            print an app's remote traceback, stacks of errors and
                       whole multi-line log lines
  -h, --help           show this help

Exit codes: 0 ok, 1 failed (app error, no arbiter, an app that does not
load), 2 usage, 130 interrupted (SIGINT/SIGTERM; serve always ends so).
`;

/** Converts a parsed JSON value to what the TLV encoder takes. */
function toDirty(v: unknown, where: string): DirtyInput {
  if (v instanceof PyFloat) return new DirtyFloat(v.value);
  if (v instanceof Tuple) return [...v.items].map((x) => toDirty(x, where));
  if (v instanceof ByteArray) return v.bytes;
  if (v instanceof Set || v instanceof FrozenSet) {
    throw new CliError(
      `Cannot send ${where}: the dirty protocol has no sets`,
      EXIT.USAGE,
    );
  }
  if (Array.isArray(v)) return v.map((x) => toDirty(x, where));
  if (v instanceof Map) {
    const m = new Map<string, DirtyInput>();
    for (const [k, x] of v) {
      if (typeof k !== "string") {
        throw new CliError(
          `Cannot send ${where}: dict keys must be strings`,
          EXIT.USAGE,
        );
      }
      m.set(k, toDirty(x, where));
    }
    return m;
  }
  if (v !== null && typeof v === "object" && !(v instanceof Uint8Array)) {
    const o: Record<string, DirtyInput> = {};
    for (const [k, x] of Object.entries(v)) o[k] = toDirty(x, where);
    return o;
  }
  return v as DirtyInput;
}

function argValue(text: string, where: string): DirtyInput {
  try {
    return toDirty(fromArg(text), where);
  } catch (e) {
    if (e instanceof CliError) throw e;
    throw usage((e as Error).message);
  }
}

/**
 * Splits off the socket path: the first positional for `call`/`stream`
 * unless it has a ":" (an app path always does); for `status` and `scale`
 * when there is one argument more than the command needs.
 */
function takeSocket(p: ParsedArgs, sub: string): [string, string[]] {
  const pos = p.positionals;
  const first = pos[0];
  const onLine = first !== undefined && (
    sub === "call" || sub === "stream"
      ? !first.includes(":")
      : pos.length > (sub === "scale" ? 1 : 0)
  );
  return onLine ? [first, pos.slice(1)] : [socketFromEnv(), pos];
}

/** The arbiter socket named by the environment, when none is given. */
function socketFromEnv(): string {
  const env = Deno.env.get(DIRTY_SOCKET_ENV);
  if (!env) {
    throw usage(
      `Cannot find the arbiter: give SOCKET or set ${DIRTY_SOCKET_ENV}`,
    );
  }
  return env;
}

function show(v: DirtyValue | unknown, json: boolean): void {
  out(json ? toJson(v) : repr(v));
}

function failure(e: unknown, ctx: CommandContext, action: string): CliError {
  if (e instanceof CliError) return e;
  if (ctx.signal.aborted) return interrupted(ctx.signal);
  if (e instanceof DirtyAppError) {
    // The remote traceback is the worker's stack: shown with --verbose.
    const tb = !e.traceback
      ? ""
      : ctx.verbose
      ? `\n${e.traceback.trimEnd()}`
      : " (--verbose shows the app's traceback)";
    return new CliError(
      `Cannot ${action}: ${e.name}: ${firstLine(e.message)}${tb}`,
      EXIT.FAILED,
      { cause: e },
    );
  }
  if (e instanceof DirtyConnectionError) {
    return new CliError(`Cannot ${action}: ${e.message}`, EXIT.FAILED, {
      cause: e,
    });
  }
  if (e instanceof DirtyError) {
    return new CliError(
      `Cannot ${action}: ${e.name}: ${e.message}`,
      EXIT.FAILED,
      { cause: e },
    );
  }
  return failed(action, e);
}

/** Runs `ipc dirty ...`. */
export async function dirtyCommand(
  args: string[],
  ctx: CommandContext,
): Promise<number> {
  const parsed = parseSubcommand(args, {
    kwargs: { type: "string" },
    timeout: { type: "string" },
    app: { type: "string", multiple: true },
    workers: { type: "string" },
    socket: { type: "string" },
    threads: { type: "string" },
    "graceful-timeout": { type: "string" },
  }, HELP);
  if (typeof parsed === "number") return parsed;
  const { sub, p } = parsed;
  const json = flag(p, "json");
  if (sub === "serve") return await serve(p, ctx);
  const timeout = seconds(p, "timeout", 30_000);
  const explicit = str(p, "socket");
  if (!["call", "stream", "status", "scale", "stash"].includes(sub)) {
    throw usage(
      `Cannot run "dirty ${sub}": expected call, stream, stash, status, scale or serve`,
    );
  }
  const [socketPath, pos] = explicit !== undefined
    ? [explicit, p.positionals]
    : sub === "stash"
    ? takeStashSocket(p)
    : takeSocket(p, sub);
  const call = { signal: ctx.signal, timeout };
  switch (sub) {
    case "call":
    case "stream": {
      if (pos.length < 2) throw usage("Cannot run command: missing APP ACTION");
      const [app, action, ...rawArgs] = pos as [string, string, ...string[]];
      const callArgs = rawArgs.map((a, i) => argValue(a, `argument ${i + 1}`));
      const kwText = str(p, "kwargs");
      let kwargs: Record<string, DirtyInput> = {};
      if (kwText !== undefined) {
        const k = argValue(kwText, "--kwargs");
        if (
          k === null || typeof k !== "object" || Array.isArray(k) ||
          k instanceof Uint8Array
        ) {
          throw usage("Cannot parse --kwargs: expected a JSON object");
        }
        kwargs = (k instanceof Map ? Object.fromEntries(k) : k) as Record<
          string,
          DirtyInput
        >;
      }
      await using client = new DirtyClient({
        socketPath,
        decode: { dict: "map", float: "tagged" },
      });
      err(`ipc dirty: calling ${app} ${action} at ${socketPath}`);
      try {
        if (sub === "call") {
          show(await client.execute(app, action, callArgs, kwargs, call), json);
        } else {
          let n = 0;
          for await (
            const chunk of client.stream(app, action, callArgs, kwargs, call)
          ) {
            show(chunk, json);
            n++;
          }
          if (!json) {
            err(
              `ipc dirty: stream ended after ${n} chunk${n === 1 ? "" : "s"}`,
            );
          }
        }
      } catch (e) {
        throw failure(e, ctx, `call ${app} ${action}`);
      }
      return EXIT.OK;
    }
    case "status": {
      if (pos.length > 0) {
        throw usage(
          `Cannot run command: unexpected argument ${JSON.stringify(pos[0])}`,
        );
      }
      await using client = new DirtyClient({
        socketPath,
        decode: { dict: "map", float: "tagged" },
      });
      let status: DirtyValue;
      try {
        status = await client.status(call);
      } catch (e) {
        throw failure(e, ctx, "get the arbiter status");
      }
      if (json) show(status, true);
      else printStatus(status);
      return EXIT.OK;
    }
    case "scale": {
      if (pos.length !== 1) {
        throw usage("Cannot run command: expected one +N or -N");
      }
      const m = /^([+-])(\d+)$/.exec(pos[0]!);
      if (!m || Number(m[2]) < 1) {
        throw usage(
          `Cannot parse ${
            JSON.stringify(pos[0])
          }: expected +N or -N with N >= 1`,
        );
      }
      const n = Number(m[2]);
      await using client = new DirtyClient({
        socketPath,
        decode: { dict: "map", float: "tagged" },
      });
      let result: DirtyValue;
      try {
        result = await client.manage(
          m[1] === "+" ? { add: n } : { remove: n },
          call,
        );
      } catch (e) {
        throw failure(e, ctx, "scale the workers");
      }
      show(result, json);
      return EXIT.OK;
    }
    default:
      return await stash(socketPath, pos, json, call, ctx);
  }
}

const STASH_ARITY: Record<string, [number, number]> = {
  put: [3, 3],
  get: [2, 2],
  delete: [2, 2],
  keys: [1, 2],
  clear: [1, 1],
  info: [1, 1],
  ensure: [1, 1],
  exists: [1, 2],
  drop: [1, 1],
  tables: [0, 0],
};

function takeStashSocket(p: ParsedArgs): [string, string[]] {
  const pos = p.positionals;
  return pos.length > 0 && !(pos[0]! in STASH_ARITY)
    ? [pos[0]!, pos.slice(1)]
    : [socketFromEnv(), pos];
}

async function stash(
  socketPath: string,
  pos: string[],
  json: boolean,
  call: { signal: AbortSignal; timeout: number },
  ctx: CommandContext,
): Promise<number> {
  const [op, ...a] = pos;
  if (op === undefined) throw usage("Cannot run stash: missing operation");
  const arity = STASH_ARITY[op];
  if (!arity) throw usage(`Cannot run "stash ${op}": unknown operation`);
  if (a.length < arity[0] || a.length > arity[1]) {
    throw usage(
      `Cannot run "stash ${op}": expected ${arity[0]}${
        arity[1] > arity[0] ? `-${arity[1]}` : ""
      } arguments`,
    );
  }
  const [table, x, y] = a as [string, string | undefined, string | undefined];
  await using s = new StashClient({
    socketPath,
    decode: { dict: "map", float: "tagged" },
  });
  let result: unknown;
  try {
    switch (op) {
      case "put":
        await s.put(table, argValue(x!, "KEY"), argValue(y!, "VALUE"), call);
        result = null;
        break;
      case "get": {
        const missing = Symbol("missing");
        const v = await s.get(table, argValue(x!, "KEY"), missing, call);
        if (v === missing) {
          throw new CliError(
            `Cannot get ${x} from ${table}: no such key`,
            EXIT.FAILED,
          );
        }
        result = v;
        break;
      }
      case "delete":
        result = await s.delete(table, argValue(x!, "KEY"), call);
        break;
      case "keys":
        result = await s.keys(table, x, call);
        break;
      case "clear":
        await s.clear(table, call);
        result = null;
        break;
      case "info":
        result = await s.info(table, call);
        break;
      case "ensure":
        await s.ensure(table, call);
        result = null;
        break;
      case "exists":
        result = await s.exists(
          table,
          x === undefined ? undefined : argValue(x, "KEY"),
          call,
        );
        break;
      case "drop":
        result = await s.deleteTable(table, call);
        break;
      default:
        result = await s.tables(call);
    }
  } catch (e) {
    throw failure(e, ctx, `run stash ${op}`);
  }
  if (json) show(result ?? null, true);
  else if (result !== null) show(result, false);
  return EXIT.OK;
}

function get(v: DirtyValue, key: string): DirtyValue | undefined {
  if (v instanceof Map) return v.get(key);
  if (
    v !== null && typeof v === "object" && !Array.isArray(v) &&
    !(v instanceof Uint8Array) && !(v instanceof DirtyFloat)
  ) {
    return (v as Record<string, DirtyValue>)[key];
  }
  return undefined;
}

function printStatus(s: DirtyValue): void {
  const workers = get(s, "workers");
  out(
    `arbiter pid ${repr(get(s, "arbiter_pid"))}, ${
      repr(get(s, "worker_count"))
    } worker(s)` +
      (get(s, "target_workers") !== undefined
        ? `, target ${repr(get(s, "target_workers"))}`
        : ""),
  );
  const apps = get(s, "apps");
  if (Array.isArray(apps)) {
    out(`apps: ${apps.map((a) => String(a)).join(", ")}`);
  }
  if (Array.isArray(workers)) {
    for (const w of workers) {
      const apps = get(w, "apps");
      out(
        `  worker pid ${repr(get(w, "pid"))} age ${repr(get(w, "age"))} ` +
          `booted ${repr(get(w, "booted"))} heartbeat ${
            repr(get(w, "last_heartbeat"))
          }s ago` +
          (Array.isArray(apps) ? ` apps ${apps.map(String).join(", ")}` : ""),
      );
    }
  }
  const failures = get(s, "boot_failures");
  if (Array.isArray(failures)) {
    for (const f of failures) {
      out(
        `  boot failing: ${repr(get(f, "apps"))} x${
          repr(get(f, "failures"))
        }: ${String(get(f, "last_error"))}`,
      );
    }
  }
}

/**
 * Loads each app as the workers will, before any worker starts: a spec
 * that does not parse is a usage error (2), an app that does not load
 * fails (1), with one line saying why.
 */
async function checkApps(apps: string[]): Promise<void> {
  for (const spec of apps) {
    let parsed;
    try {
      parsed = parseAppSpec(spec);
    } catch (e) {
      throw usage(`Cannot serve ${spec}: ${firstLine((e as Error).message)}`);
    }
    try {
      await importAppClass(parsed, Deno.cwd());
    } catch (e) {
      throw new CliError(
        `Cannot serve ${spec}: ${firstLine((e as Error).message)}`,
        EXIT.FAILED,
        { cause: e },
      );
    }
  }
}

async function serve(p: ParsedArgs, ctx: CommandContext): Promise<number> {
  const apps = list(p, "app");
  if (apps.length === 0) {
    throw usage("Cannot serve: at least one --app MODULE:Export is required");
  }
  if (p.positionals.length > 0) {
    throw usage(
      `Cannot serve: unexpected argument ${JSON.stringify(p.positionals[0])}`,
    );
  }
  const workers = int(p, "workers", 1, 1);
  const socket = str(p, "socket");
  if (socket !== undefined) {
    try {
      await Deno.lstat(socket);
      throw usage(`Cannot serve on ${socket}: the path exists`);
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound)) throw e;
    }
  }
  const options = {
    timeout: seconds(p, "timeout", 300_000) || Infinity,
    concurrency: int(p, "threads", 1, 1),
    gracefulTimeout: seconds(p, "graceful-timeout", 30_000),
  };
  await checkApps(apps);
  // A worker that fails to boot before all are ready ends serve: the
  // arbiter would respawn it again and again (with back-off).
  let ready = false;
  const bootFailure = Promise.withResolvers<never>();
  let arbiter;
  try {
    arbiter = await startArbiter({
      apps,
      workers,
      ...options,
      ...(socket === undefined ? {} : { socketPath: socket }),
      log: (level, message) => {
        if (level === "debug") return;
        // Multi-line messages carry a stack: whole with --verbose only.
        err(
          `ipc dirty serve: [${level}] ${
            ctx.verbose ? message : firstLine(message)
          }`,
        );
        if (level === "error" && !ready) {
          bootFailure.reject(
            new CliError(`Cannot serve: ${firstLine(message)}`, EXIT.FAILED),
          );
        }
      },
    });
  } catch (e) {
    throw failed(`serve`, e);
  }
  bootFailure.promise.catch(() => {});
  try {
    out(
      flag(p, "json")
        ? JSON.stringify({ socket: arbiter.socketPath, pid: Deno.pid })
        : arbiter.socketPath,
    );
    const ticker = setInterval(() => {
      const s = arbiter.status();
      const booted = s.workers.filter((w) => w.booted).length;
      progress(`waiting for workers: ${booted}/${s.target_workers} booted`);
    }, 200);
    try {
      await Promise.race([arbiter.ready(ctx.signal), bootFailure.promise]);
      ready = true;
      progress(null);
      err(
        `ipc dirty serve: ${arbiter.status().worker_count} worker(s) ready at ${arbiter.socketPath}`,
      );
    } catch (e) {
      if (e instanceof CliError) throw e;
      // Interrupted while waiting: fall through to the shutdown.
    } finally {
      clearInterval(ticker);
      progress(null);
    }
    // Until the arbiter closes by itself, or a signal stops it.
    await race(arbiter.closed, { signal: ctx.signal }).catch(() => {});
    if (ctx.signal.aborted) {
      err(`ipc dirty serve: stopping (${ctx.signal.reason})`);
    }
  } finally {
    await arbiter.close();
  }
  // It runs until a signal stops it: that is an interruption (130).
  if (ctx.signal.aborted) throw interrupted(ctx.signal);
  return EXIT.OK;
}
