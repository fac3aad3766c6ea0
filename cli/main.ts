// Copyright 2026 the @sidecar/ipc authors. MIT license.
/**
 * The `ipc` command line: one Deno command to talk to, and debug, the four
 * protocols of this package.
 *
 * ```sh
 * deno run -A cli/main.ts mp connect 127.0.0.1:6000 --authkey secret
 * deno run -A cli/main.ts hg decode capture.bin
 * deno run -A cli/main.ts dirty call ./app.ts:App predict '[1, 2]'
 * deno run -A cli/main.ts session receive /tmp/sessions.sock
 * ```
 *
 * @module
 */
import {
  CliError,
  type Command,
  err,
  EXIT,
  firstLine,
  flushOut,
  help,
  usageHelp,
} from "./_args.ts";
import { stackWithCauses } from "../_internal/error_stack.ts";
import { mpCommand } from "./mp.ts";
import { hgCommand } from "./hg.ts";
import { dirtyCommand } from "./dirty.ts";
import { sessionCommand } from "./session.ts";

const HELP = `
Usage: ipc <group> <command> [options]

  ipc mp listen|connect ADDRESS        Python multiprocessing.connection session
  ipc hg decode [FILE|-] [FILE2]       decode captured hgrpc frame streams
  ipc hg call ADDRESS|--stdio-cmd CMD NAME [ARGS-JSON]
                                       run a command on an hgrpc server
  ipc dirty call|stream [SOCKET] APP ACTION [ARGS...]
  ipc dirty stash [SOCKET] OP ...      gunicorn dirty stash tables
  ipc dirty status [SOCKET]            arbiter status
  ipc dirty scale [SOCKET] +N|-N       add or remove dirty workers
  ipc dirty serve --app ./app.ts:App   run our dirty arbiter
  ipc session forward SOCKET           hand TCP connections to a receiver
  ipc session receive SOCKET           receive and serve socket sessions

Every command takes --help and --json. Human output goes to stdout, status
lines to stderr; progress is shown on a terminal only.

Global options (before or after the command):
  --verbose            show what errors hide by default: stack traces and
                       causes, remote tracebacks, whole multi-line log lines

Errors are one line on stderr ("ipc <group>: Cannot ...") unless --verbose.

Exit codes: 0 ok, 1 failed, 2 usage, 3 authentication, 4 malformed input,
130 interrupted (SIGINT/SIGTERM, for every command that runs until stopped).
`;

const GROUPS: Record<string, Command> = {
  mp: mpCommand,
  hg: hgCommand,
  dirty: dirtyCommand,
  session: sessionCommand,
};

/**
 * Runs the command line and returns the exit code (0 ok, 1 failed, 2
 * usage, 3 authentication, 4 malformed input, 130 interrupted). SIGINT and
 * SIGTERM abort the running command, which cleans up (sockets closed,
 * socket files removed) before returning.
 *
 * @param args The arguments (without the program name).
 * @returns The exit code.
 *
 * @example Usage
 * ```ts
 * import { main } from "@sidecar/ipc/cli";
 * import assert from "node:assert/strict";
 *
 * assert.equal(await main(["mp", "connect", "no-such-address"]), 2);
 * ```
 */
export async function main(args: string[]): Promise<number> {
  const { verbose, args: argv } = globalOptions(args);
  const [group, ...rest] = argv;
  if (group === undefined) return usageHelp(HELP);
  if (group === "--help" || group === "-h") return help(HELP);
  const command = GROUPS[group];
  if (command === undefined) {
    err(`ipc: Cannot run "${group}": unknown command group (try ipc --help)`);
    return EXIT.USAGE;
  }
  const controller = new AbortController();
  const signals: Deno.Signal[] = ["SIGINT", "SIGTERM"];
  const handlers = signals.map((sig) => {
    const fn = () => controller.abort(sig);
    Deno.addSignalListener(sig, fn);
    return [sig, fn] as const;
  });
  try {
    return await command(rest, { signal: controller.signal, verbose });
  } catch (e) {
    if (e instanceof CliError) {
      err(`ipc ${group}: ${e.message}`);
      if (verbose && e.cause !== undefined) err(stackWithCauses(e.cause));
      return e.exitCode;
    }
    if (controller.signal.aborted) {
      err(`ipc ${group}: interrupted by ${controller.signal.reason}`);
      return EXIT.INTERRUPTED;
    }
    // Not a CliError: something no command expected. One line, unless
    // --verbose asks for its stack.
    err(
      `ipc ${group}: ${firstLine(e instanceof Error ? e.message : String(e))}`,
    );
    if (verbose) err(stackWithCauses(e));
    return EXIT.FAILED;
  } finally {
    flushOut();
    for (const [sig, fn] of handlers) Deno.removeSignalListener(sig, fn);
  }
}

/**
 * `--verbose` anywhere before a `--`, and the arguments without the
 * `--verbose` flags that come before the command group.
 */
function globalOptions(
  args: readonly string[],
): { verbose: boolean; args: string[] } {
  const end = args.indexOf("--");
  const verbose = (end < 0 ? args : args.slice(0, end)).includes("--verbose");
  let i = 0;
  while (args[i] === "--verbose") i++;
  return { verbose, args: args.slice(i) };
}

/**
 * Runs the command line as the program (`deno run cli/main.ts ...`) and
 * exits with {@linkcode main}'s code. An error that escaped every command
 * (an unhandled rejection) is reported as one line, with its stack only
 * under `--verbose`, and exits 1, instead of Deno's stack trace.
 *
 * @param args The arguments (without the program name).
 * @returns Never: it exits.
 */
export async function runMain(args: string[]): Promise<never> {
  const { verbose } = globalOptions(args);
  const fatal = (e: unknown): void => {
    err(`ipc: ${firstLine(e instanceof Error ? e.message : String(e))}`);
    if (verbose) err(stackWithCauses(e));
    flushOut();
    Deno.exit(EXIT.FAILED);
  };
  globalThis.addEventListener("unhandledrejection", (ev) => {
    ev.preventDefault();
    fatal(ev.reason);
  });
  globalThis.addEventListener("error", (ev) => {
    ev.preventDefault();
    fatal(ev.error);
  });
  Deno.exit(await main(args));
}

if (import.meta.main) await runMain(Deno.args);
