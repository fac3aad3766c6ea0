// Copyright 2026 the @sidecar/ipc authors. MIT license.
/**
 * The two ends of a test's child process that takes commands on stdin and
 * reports on stdout, one JSON object a line.
 *
 * @module
 */

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
