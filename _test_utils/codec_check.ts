// Copyright 2026 the @sidecar/ipc authors. MIT license.
// This module is browser compatible.
/**
 * What the round-trip checks of the runtime-neutral entry points use
 * (`<module>/testdata/browser_check.ts`, run by
 * `tools/browser_codecs_test.ts` in Node and in headless Chromium): an
 * equality check that throws plain `Error`s (hex comes from `hex.ts`). No
 * `node:` module, no `Deno` API: these run in a browser.
 *
 * @module
 */

/** A check module's export: throws on any mismatch, else says what passed. */
export type CodecCheck = () => string | Promise<string>;

/** Throws unless `actual` is `expected` (`Object.is`), naming `what`. */
export function expectEqual(
  actual: unknown,
  expected: unknown,
  what: string,
): void {
  if (!Object.is(actual, expected)) {
    throw new Error(
      `Mismatch in ${what}: got ${show(actual)}, expected ${show(expected)}`,
    );
  }
}

function show(v: unknown): string {
  if (typeof v === "bigint") return `${v}n`;
  const text = typeof v === "string" ? JSON.stringify(v) : String(v);
  return text.length > 200 ? `${text.slice(0, 200)}...` : text;
}

/**
 * JSON text of `value` with every object's keys sorted, so that two
 * structures compare equal whatever order their keys were written in.
 */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => {
    if (v === null || typeof v !== "object" || Array.isArray(v)) return v;
    const sorted: Record<string, unknown> = {};
    for (const k of Object.keys(v).sort()) {
      sorted[k] = (v as Record<string, unknown>)[k];
    }
    return sorted;
  });
}
