// Copyright 2026 the @sidecar/ipc authors. MIT license.
/**
 * Test child processes: the two ends of one that takes commands on stdin
 * and reports on stdout, one JSON object a line (and the moment its stdin
 * reading has opened its fd), and a watchdog that kills a child that
 * hangs.
 *
 * @module
 */
import { setLongTimeout } from "../_internal/timers.ts";
import { waitFor } from "./wait.ts";

/** Writes `value` as one JSON line on stdout. */
export function printJson(value: unknown): void {
  console.log(JSON.stringify(value));
}

/** The lines of stdin (without their newline), until it ends. */
export async function* stdinLines(): AsyncGenerator<string> {
  let rest = "";
  for await (
    const chunk of Deno.stdin.readable.pipeThrough(new TextDecoderStream())
  ) {
    rest += chunk;
    let nl;
    while ((nl = rest.indexOf("\n")) >= 0) {
      yield rest.slice(0, nl);
      rest = rest.slice(nl + 1);
    }
  }
}

/**
 * Reads a child's stdout until it contains `marker` (e.g. the line a
 * server prints once it listens), then lets go of the stream.
 *
 * @param child The child, started with `stdout: "piped"`.
 * @param marker What to wait for.
 * @param what The error message if stdout ends first.
 * @returns Everything read so far.
 */
export async function readUntil(
  child: Deno.ChildProcess,
  marker: string,
  what: string,
): Promise<string> {
  const reader = child.stdout.pipeThrough(new TextDecoderStream())
    .getReader();
  let text = "";
  while (!text.includes(marker)) {
    const { value, done } = await reader.read();
    if (done) throw new Error(what);
    text += value;
  }
  reader.releaseLock();
  return text;
}

/**
 * A watchdog for a child process: it is killed (`SIGKILL`) if it has not
 * exited `ms` milliseconds from now, so a hung child fails its test
 * instead of hanging it.
 *
 * @param child The child.
 * @param ms How long it may run (any length).
 * @returns Stops the watchdog.
 */
export function killAfter(child: Deno.ChildProcess, ms: number): () => void {
  return setLongTimeout(() => {
    try {
      child.kill("SIGKILL");
    } catch {
      // Already gone.
    }
  }, ms);
}

/**
 * Resolves once the runtime reads stdin through an fd of its own (a copy
 * of fd 0 that it opens when the first read starts, a few milliseconds
 * later): call it after starting to read stdin and before taking an fd
 * count to compare later ones with.
 */
export async function stdinReadStarted(): Promise<void> {
  const link = (name: string): string | null => {
    try {
      return Deno.readLinkSync(`/proc/self/fd/${name}`);
    } catch {
      return null;
    }
  };
  const stdin = link("0");
  await waitFor("the runtime to start reading stdin", () => {
    for (const e of Deno.readDirSync("/proc/self/fd")) {
      if (e.name !== "0" && link(e.name) === stdin) return true;
    }
    return false;
  });
}
