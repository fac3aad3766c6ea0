// Copyright 2026 the @sidecar/ipc authors. MIT license.
/**
 * A CPython peer started as a child process for the connection tests:
 * `python -c script args...`, its stdout read line by line.
 *
 * @module
 */
import assert from "node:assert/strict";
import type { Python } from "../peers.ts";

/** Line-oriented reader of a child's stdout. */
export class Lines {
  #reader: ReadableStreamDefaultReader<string>;
  #buf = "";
  constructor(stream: ReadableStream<Uint8Array>) {
    this.#reader = stream.pipeThrough(new TextDecoderStream()).getReader();
  }
  async next(): Promise<string> {
    while (!this.#buf.includes("\n")) {
      const r = await this.#reader.read();
      if (r.done) {
        throw new Error(
          `Cannot read line: child closed stdout (partial "${this.#buf}")`,
        );
      }
      this.#buf += r.value;
    }
    const i = this.#buf.indexOf("\n");
    const line = this.#buf.slice(0, i);
    this.#buf = this.#buf.slice(i + 1);
    return line;
  }
  async json<T = Record<string, unknown>>(): Promise<T> {
    return JSON.parse(await this.next()) as T;
  }
  async drain(): Promise<string[]> {
    const rest: string[] = [];
    while (true) {
      const r = await this.#reader.read();
      if (r.done) break;
      this.#buf += r.value;
    }
    if (this.#buf) rest.push(...this.#buf.split("\n").filter((l) => l));
    return rest;
  }
}

/** Starts `python -c script ...args` with piped stdin and stdout. */
export function spawn(py: Python, script: string, args: string[]): {
  child: Deno.ChildProcess;
  lines: Lines;
} {
  const child = new Deno.Command(py.path, {
    args: ["-c", script, ...args],
    stdin: "piped",
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  return { child, lines: new Lines(child.stdout) };
}

/**
 * Closes the child's stdin, reads the stdout lines left and asserts that
 * the child exited successfully; returns those lines.
 */
export async function finish(
  p: { child: Deno.ChildProcess; lines: Lines },
): Promise<string[]> {
  await p.child.stdin.close().catch(() => {});
  const rest = await p.lines.drain();
  const status = await p.child.status;
  assert.ok(status.success, `python exited with ${status.code}`);
  return rest;
}
