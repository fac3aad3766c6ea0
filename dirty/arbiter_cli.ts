// Copyright 2026 the @sidecar/ipc authors. MIT license.
/**
 * Command line entry of the dirty arbiter. Flags mirror gunicorn's
 * `dirty_*` settings (both spellings are accepted):
 *
 * ```sh
 * deno run --allow-run --allow-read --allow-write dirty/arbiter_cli.ts \
 *   --app ./my_app.ts:MyApp --app ./ml.ts:Model:1 --workers 4 --timeout 300
 * ```
 *
 * | flag | gunicorn | default |
 * | --- | --- | --- |
 * | `--app`, `--dirty-app` (repeatable) | `dirty_apps` | required |
 * | `--workers`, `--dirty-workers` | `dirty_workers` | 1 |
 * | `--timeout`, `--dirty-timeout` (s, 0 = none) | `dirty_timeout` | 300 |
 * | `--threads`, `--dirty-threads` (in-flight requests per worker) | `dirty_threads` | 1 |
 * | `--graceful-timeout`, `--dirty-graceful-timeout` (s) | `dirty_graceful_timeout` | 30 |
 * | `--socket` | (fixed socket path) | temp dir |
 * | `--worker-flag` (repeatable; replaces the default worker permissions) | | |
 * | `--exit-with-parent` (stop when the parent process dies) | (master watch) | off |
 * | `--log-level` (`debug`, `info`, `warn`, `error`) | `loglevel` | `info` |
 *
 * Run it with your project's config (`deno run -c deno.json …`) when apps
 * use bare specifiers: the arbiter imports each app module once to read its
 * `static workers`, and workers get `--config=<cwd>/deno.json` themselves.
 * `--worker-flag` values start with `--`, so write them as
 * `--worker-flag=--allow-net`.
 *
 * Prints the socket path as the first line on stdout (also exported to the
 * workers as `GUNICORN_DIRTY_SOCKET`). SIGTERM, SIGINT and SIGQUIT stop it
 * gracefully; SIGTTIN / SIGTTOU add or remove one worker, as in gunicorn.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { startArbiter } from "./arbiter.ts";
import type { ArbiterLogLevel as LogLevel } from "./arbiter.ts";

const LEVELS: LogLevel[] = ["debug", "info", "warn", "error"];

function num(
  v: string | undefined,
  name: string,
  fallback: number,
): number {
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0) {
    throw new RangeError(`Cannot parse --${name}: ${v} is not a number >= 0`);
  }
  return n;
}

/**
 * Runs the arbiter command line until it is stopped.
 *
 * @param args The command line arguments.
 * @returns The exit code.
 *
 * @example Usage
 * ```ts ignore
 * import { main } from "./arbiter_cli.ts";
 *
 * Deno.exit(await main(["--app", "./my_app.ts:MyApp", "--workers", "2"]));
 * ```
 */
export async function main(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      app: { type: "string", multiple: true },
      "dirty-app": { type: "string", multiple: true },
      workers: { type: "string" },
      "dirty-workers": { type: "string" },
      timeout: { type: "string" },
      "dirty-timeout": { type: "string" },
      threads: { type: "string" },
      "dirty-threads": { type: "string" },
      "graceful-timeout": { type: "string" },
      "dirty-graceful-timeout": { type: "string" },
      socket: { type: "string" },
      "worker-flag": { type: "string", multiple: true },
      "exit-with-parent": { type: "boolean" },
      "log-level": { type: "string" },
      help: { type: "boolean", short: "h" },
    },
    strict: true,
  });
  if (values.help) {
    console.log(
      "Usage: arbiter_cli.ts --app <module>:<Export>[:N] [--workers N] " +
        "[--timeout S] [--threads N] [--graceful-timeout S] [--socket PATH] " +
        "[--worker-flag FLAG]... [--exit-with-parent] [--log-level LEVEL]",
    );
    return 0;
  }
  const apps = [...(values.app ?? []), ...(values["dirty-app"] ?? [])];
  if (apps.length === 0) {
    console.error("arbiter_cli: at least one --app is required");
    return 2;
  }
  const level = (values["log-level"] ?? "info") as LogLevel;
  if (!LEVELS.includes(level)) {
    console.error(`arbiter_cli: unknown --log-level ${level}`);
    return 2;
  }
  const minLevel = LEVELS.indexOf(level);
  const log = (l: LogLevel, message: string) => {
    if (LEVELS.indexOf(l) >= minLevel) {
      console.error(`[dirty-arbiter ${Deno.pid}] [${l}] ${message}`);
    }
  };
  // gunicorn's flags are in seconds (timeout 0: none); the API's in ms.
  const timeout = num(
    values.timeout ?? values["dirty-timeout"],
    "timeout",
    300,
  );
  const arbiter = await startArbiter({
    apps,
    workers: num(values.workers ?? values["dirty-workers"], "workers", 1),
    timeout: timeout === 0 ? Infinity : timeout * 1000,
    concurrency: num(values.threads ?? values["dirty-threads"], "threads", 1),
    gracefulTimeout: num(
      values["graceful-timeout"] ?? values["dirty-graceful-timeout"],
      "graceful-timeout",
      30,
    ) * 1000,
    ...(values.socket === undefined ? {} : { socketPath: values.socket }),
    ...(values["worker-flag"] === undefined
      ? {}
      : { workerPermissions: values["worker-flag"] }),
    log,
  });
  console.log(arbiter.socketPath);
  log("info", `Dirty arbiter listening at ${arbiter.socketPath}`);

  const stop = (why: string) => {
    log("info", `Stopping (${why})`);
    void arbiter.close();
  };
  // A signal during shutdown is logged, not thrown from the listener.
  const scale = (sig: string, by: number) => {
    try {
      const workers = arbiter.scale(arbiter.status().target_workers + by);
      log("info", `${sig}: workers -> ${workers}`);
    } catch (e) {
      log("warn", `${sig}: ${e instanceof Error ? e.message : String(e)}`);
    }
  };
  const listeners: [Deno.Signal, () => void][] = [
    ["SIGTERM", () => stop("SIGTERM")],
    ["SIGINT", () => stop("SIGINT")],
    ["SIGQUIT", () => stop("SIGQUIT")],
    ["SIGTTIN", () => scale("SIGTTIN", +1)],
    ["SIGTTOU", () => scale("SIGTTOU", -1)],
  ];
  for (const [sig, fn] of listeners) Deno.addSignalListener(sig, fn);
  let watch: ReturnType<typeof setInterval> | undefined;
  if (values["exit-with-parent"]) {
    const parent = Deno.ppid;
    watch = setInterval(() => {
      if (Deno.ppid !== parent) stop(`parent ${parent} died`);
    }, 500);
  }
  await arbiter.closed;
  clearInterval(watch);
  for (const [sig, fn] of listeners) Deno.removeSignalListener(sig, fn);
  log("info", "Dirty arbiter exiting");
  return 0;
}

if (import.meta.main) Deno.exit(await main(Deno.args));
