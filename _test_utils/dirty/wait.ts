// Copyright 2026 the @sidecar/ipc authors. MIT license.
/**
 * Waiting on events in the dirty arbiter tests: process liveness and a log
 * hook that can be waited on (a bounded poll is `../wait.ts`'s `waitFor`).
 *
 * @module
 */
import type { ArbiterLogLevel } from "../../dirty/arbiter.ts";
import { EVENT_TIMEOUT, within } from "../wait.ts";

/** True while the process exists and is not a zombie. */
export function alive(pid: number): boolean {
  try {
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    return stat.slice(stat.lastIndexOf(")") + 2)[0] !== "Z";
  } catch {
    return false;
  }
}

/** An arbiter `log` hook that keeps the lines and can be waited on. */
export class LogRecorder {
  /** Every line so far. */
  readonly lines: { level: ArbiterLogLevel; message: string }[] = [];
  readonly #waiters: { re: RegExp; resolve: (line: string) => void }[] = [];

  /** The hook to pass as `log`. */
  readonly log = (level: ArbiterLogLevel, message: string): void => {
    this.lines.push({ level, message });
    for (const w of [...this.#waiters]) {
      if (w.re.test(message)) {
        this.#waiters.splice(this.#waiters.indexOf(w), 1);
        w.resolve(message);
      }
    }
  };

  /** Resolves with the first line (so far or to come) matching `re`. */
  async waitFor(re: RegExp, ms = EVENT_TIMEOUT): Promise<string> {
    const seen = this.lines.find((l) => re.test(l.message));
    if (seen) return seen.message;
    const w = { re, resolve: (_line: string): void => {} };
    const line = new Promise<string>((resolve) => w.resolve = resolve);
    this.#waiters.push(w);
    try {
      return await within(line, `a log line ${re}`, ms);
    } finally {
      const i = this.#waiters.indexOf(w);
      if (i >= 0) this.#waiters.splice(i, 1);
    }
  }
}
