// Copyright 2026 the @sidecar/ipc authors. MIT license.
/**
 * A dirty app for the demo, written in TypeScript: one plain action and
 * one streaming action (a generator: one CHUNK per item, then END). Any
 * class with methods works; the arbiter creates one instance per worker.
 *
 * @module
 */

/** Text utilities served by dirty workers. */
export class TextApp {
  /** Word statistics of a text (a plain RESPONSE). */
  stats(text: string): Record<string, number | string> {
    const words = text.split(/\s+/).filter(Boolean);
    return { words: words.length, chars: text.length, worker: Deno.pid };
  }

  /** The text's words one by one, upper-cased (CHUNK frames, then END). */
  async *shout(text: string): AsyncGenerator<string> {
    for (const word of text.split(/\s+/).filter(Boolean)) {
      await new Promise((r) => setTimeout(r, 5));
      yield word.toUpperCase();
    }
  }
}
