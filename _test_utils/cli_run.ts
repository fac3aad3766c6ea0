// Copyright 2026 the @sidecar/ipc authors. MIT license.
/**
 * Runs the `ipc` command line (`cli/main.ts`) as a subprocess for the CLI
 * tests: to completion with `runIpc`, or in the background with
 * `spawnIpc`, whose stdout/stderr lines can be awaited.
 *
 * @module
 */
import { killAfter } from "./child.ts";

const MAIN = new URL("../cli/main.ts", import.meta.url).pathname;
const ROOT = new URL("..", import.meta.url).pathname;

/** The result of a finished run. */
export interface IpcResult {
  /** Exit code. */
  code: number;
  /** Everything written to stdout. */
  stdout: string;
  /** Everything written to stderr. */
  stderr: string;
}

/** Options of {@linkcode runIpc} and {@linkcode spawnIpc}. */
export interface IpcRunOptions {
  /** Text (or bytes) for stdin; stdin is empty when absent. */
  stdin?: string | Uint8Array;
  /** Extra environment variables. */
  env?: Record<string, string>;
  /** Kill the process after this many ms (default 30000). */
  timeout?: number;
}

function command(args: string[], env: Record<string, string> | undefined) {
  return new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--quiet", MAIN, ...args],
    cwd: ROOT,
    env: { NO_COLOR: "1", DENO_NO_UPDATE_CHECK: "1", ...env },
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  });
}

/** Runs `ipc ARGS...` to completion. */
export async function runIpc(
  args: string[],
  options: IpcRunOptions = {},
): Promise<IpcResult> {
  const child = command(args, options.env).spawn();
  const stopWatchdog = killAfter(child, options.timeout ?? 30_000);
  const writer = child.stdin.getWriter();
  const input = options.stdin ?? "";
  // Feed stdin while the output is read, or a full stdout pipe deadlocks.
  const feeding = (async () => {
    await writer.write(
      typeof input === "string" ? new TextEncoder().encode(input) : input,
    ).catch(() => {});
    await writer.close().catch(() => {});
  })();
  const [out] = await Promise.all([child.output(), feeding]);
  stopWatchdog();
  const dec = new TextDecoder();
  return {
    code: out.code,
    stdout: dec.decode(out.stdout),
    stderr: dec.decode(out.stderr),
  };
}

/** A background `ipc` process. */
export interface IpcProcess extends AsyncDisposable {
  /** The child process. */
  child: Deno.ChildProcess;
  /** Stdout lines so far. */
  stdoutLines: string[];
  /** Stderr lines so far. */
  stderrLines: string[];
  /** Writes to stdin. */
  write(text: string): Promise<void>;
  /** Closes stdin. */
  closeStdin(): Promise<void>;
  /** Resolves with the first line (stdout or stderr) matching `re`. */
  waitFor(re: RegExp, stream?: "stdout" | "stderr"): Promise<string>;
  /** Sends a signal. */
  kill(signal: Deno.Signal): void;
  /** Waits for exit; returns the code and all output. */
  wait(): Promise<IpcResult>;
}

/** Starts `ipc ARGS...` in the background. */
export function spawnIpc(
  args: string[],
  options: IpcRunOptions = {},
): IpcProcess {
  const child = command(args, options.env).spawn();
  const stdoutLines: string[] = [];
  const stderrLines: string[] = [];
  const waiters: { re: RegExp; stream?: string; resolve(l: string): void }[] =
    [];
  const pump = async (
    readable: ReadableStream<Uint8Array>,
    sink: string[],
    name: string,
  ): Promise<void> => {
    let rest = "";
    for await (const text of readable.pipeThrough(new TextDecoderStream())) {
      const parts = (rest + text).split("\n");
      rest = parts.pop() ?? "";
      for (const line of parts) {
        sink.push(line);
        for (const w of [...waiters]) {
          if (
            (w.stream === undefined || w.stream === name) && w.re.test(line)
          ) {
            waiters.splice(waiters.indexOf(w), 1);
            w.resolve(line);
          }
        }
      }
    }
    if (rest) sink.push(rest);
  };
  const pumps = Promise.all([
    pump(child.stdout, stdoutLines, "stdout"),
    pump(child.stderr, stderrLines, "stderr"),
  ]);
  const writer = child.stdin.getWriter();
  const stopWatchdog = killAfter(child, options.timeout ?? 30_000);
  let result: Promise<IpcResult> | null = null;
  const wait = (): Promise<IpcResult> => {
    result ??= (async () => {
      await writer.close().catch(() => {});
      const status = await child.status;
      await pumps;
      stopWatchdog();
      return {
        code: status.code,
        stdout: stdoutLines.join("\n"),
        stderr: stderrLines.join("\n"),
      };
    })();
    return result;
  };
  return {
    child,
    stdoutLines,
    stderrLines,
    async write(text: string) {
      await writer.write(new TextEncoder().encode(text));
    },
    async closeStdin() {
      await writer.close().catch(() => {});
    },
    waitFor(re: RegExp, stream?: "stdout" | "stderr"): Promise<string> {
      const lines = stream === "stderr"
        ? stderrLines
        : stream === "stdout"
        ? stdoutLines
        : [...stdoutLines, ...stderrLines];
      const hit = lines.find((l) => re.test(l));
      if (hit !== undefined) return Promise.resolve(hit);
      return new Promise((resolve, reject) => {
        waiters.push({ re, ...(stream ? { stream } : {}), resolve });
        // After the output ends, a waiter still here never matched.
        pumps.then(() =>
          reject(
            new Error(
              `Cannot find ${re} in the output: the process exited\n${
                [...stdoutLines, ...stderrLines].join("\n")
              }`,
            ),
          )
        );
      });
    },
    kill(signal: Deno.Signal) {
      try {
        child.kill(signal);
      } catch { /* gone */ }
    },
    wait,
    async [Symbol.asyncDispose]() {
      try {
        child.kill("SIGKILL");
      } catch { /* gone */ }
      await wait();
    },
  };
}
