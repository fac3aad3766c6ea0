// Copyright 2026 the @sidecar/ipc authors. MIT license.
/**
 * Waiting on events in the dirty arbiter tests: a bounded poll for a
 * condition, process liveness, and a log hook that can be waited on.
 *
 * @module
 */
import type { ArbiterLogLevel } from "../../dirty/arbiter.ts";

/** Polls `cond` every 25 ms until it holds; throws after `ms`. */
export async function waitFor(
  what: string,
  cond: () => boolean | Promise<boolean>,
  ms = 15_000,
): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

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
  waitFor(re: RegExp, ms = 15_000): Promise<string> {
    const seen = this.lines.find((l) => re.test(l.message));
    if (seen) return Promise.resolve(seen.message);
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => {
        this.#waiters.splice(this.#waiters.indexOf(w), 1);
        reject(new Error(`Timed out waiting for a log line ${re}`));
      }, ms);
      const w = {
        re,
        resolve: (line: string) => {
          clearTimeout(t);
          resolve(line);
        },
      };
      this.#waiters.push(w);
    });
  }
}
