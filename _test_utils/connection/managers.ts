// Copyright 2026 the @sidecar/ipc authors. MIT license.
/**
 * CPython manager peers for the manager tests: a `SyncManager` server
 * (`connection/testdata/manager_server.py`) started as a child process, and
 * Python manager clients run as scripts.
 *
 * @module
 */
import type { Address } from "../../connection/mod.ts";
import { Lines } from "./python.ts";
import type { Python } from "../peers.ts";

const SERVER_SCRIPT = new URL(
  "../../connection/testdata/manager_server.py",
  import.meta.url,
).pathname;

/** A running CPython manager server. */
export interface PythonManager extends AsyncDisposable {
  /** Where it listens. */
  address: Address;
  /** The child process. */
  child: Deno.ChildProcess;
  /** Kills it at once (SIGKILL) and waits for it to exit. */
  kill(): Promise<void>;
}

/** Starts a CPython `SyncManager` server (plus a `Box` typeid). */
export async function startPythonManager(
  py: Python,
  authkey: string,
  where: "tcp" | string = "tcp",
): Promise<PythonManager> {
  const child = new Deno.Command(py.path, {
    args: [SERVER_SCRIPT, where, authkey],
    stdin: "piped",
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const lines = new Lines(child.stdout);
  const hello = await lines.json<{ address: Address }>();
  let done = false;
  const stop = async (signal: Deno.Signal | null): Promise<void> => {
    if (done) return;
    done = true;
    if (signal !== null) {
      try {
        child.kill(signal);
      } catch {
        // Already gone.
      }
    }
    await child.stdin.close().catch(() => {});
    await lines.drain().catch(() => {});
    await child.status;
  };
  return {
    address: hello.address,
    child,
    kill: () => stop("SIGKILL"),
    [Symbol.asyncDispose]: () => stop(null),
  };
}

/**
 * Runs a Python script (`python -c`) with `args`; returns its stdout lines
 * and asserts nothing about them. Rejects when it exits with an error.
 */
export async function runPython(
  py: Python,
  script: string,
  args: string[],
  options: { signal?: AbortSignal } = {},
): Promise<string[]> {
  const out = await new Deno.Command(py.path, {
    args: ["-c", script, ...args],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    ...(options.signal !== undefined && { signal: options.signal }),
  }).output();
  const text = new TextDecoder().decode(out.stdout);
  if (!out.success) {
    throw new Error(
      `Cannot run python script: exit ${out.code}\n${text}\n${
        new TextDecoder().decode(out.stderr)
      }`,
    );
  }
  return text.split("\n").filter((l) => l !== "");
}

/** A fresh random authkey. */
export function randomKey(): string {
  return crypto.randomUUID();
}
