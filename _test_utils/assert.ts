// Copyright 2026 the @sidecar/ipc authors. MIT license.
/**
 * Small std-named assertion helpers on top of `node:assert/strict`, so tests
 * read like Deno std's without a JSR dependency.
 *
 * @module
 */
import assert from "node:assert/strict";

/** Asserts deep strict equality. */
export function assertEquals<T>(
  actual: unknown,
  expected: T,
  msg?: string,
): asserts actual is T {
  assert.deepStrictEqual(actual, expected, msg);
}

/** Asserts that a condition is truthy. */
export function assertOk(value: unknown, msg?: string): asserts value {
  assert.ok(value, msg);
}

// deno-lint-ignore no-explicit-any
type ErrorClass<E extends Error> = new (...args: any[]) => E;

function checkError<E extends Error>(
  err: unknown,
  cls: ErrorClass<E>,
  msgIncludes: string | undefined,
): E {
  if (!(err instanceof cls)) {
    throw new assert.AssertionError({
      message: `Expected error to be instance of "${cls.name}", but was "${
        err instanceof Error
          ? `${err.constructor.name}: ${err.message}`
          : String(err)
      }"`,
    });
  }
  if (msgIncludes !== undefined && !err.message.includes(msgIncludes)) {
    throw new assert.AssertionError({
      message:
        `Expected error message to include "${msgIncludes}", but got "${err.message}"`,
    });
  }
  return err;
}

/** Asserts that `fn` throws an instance of `cls` whose message includes `msgIncludes`. */
export function assertThrows<E extends Error>(
  fn: () => unknown,
  cls: ErrorClass<E>,
  msgIncludes?: string,
): E {
  try {
    fn();
  } catch (err) {
    return checkError(err, cls, msgIncludes);
  }
  throw new assert.AssertionError({
    message: `Expected function to throw ${cls.name}`,
  });
}

/** Asserts that `fn` rejects with an instance of `cls` whose message includes `msgIncludes`. */
export async function assertRejects<E extends Error>(
  fn: () => PromiseLike<unknown>,
  cls: ErrorClass<E>,
  msgIncludes?: string,
): Promise<E> {
  try {
    await fn();
  } catch (err) {
    return checkError(err, cls, msgIncludes);
  }
  throw new assert.AssertionError({
    message: `Expected function to reject with ${cls.name}`,
  });
}

/** Hex string of bytes (lower case, no separators). */
export function toHex(bytes: Uint8Array): string {
  let s = "";
  for (const b of bytes) s += b.toString(16).padStart(2, "0");
  return s;
}

/** Bytes from a hex string; whitespace is ignored. */
export function fromHex(hex: string): Uint8Array<ArrayBuffer> {
  const clean = hex.replace(/\s+/g, "");
  if (clean.length % 2 !== 0) {
    throw new TypeError(`Cannot parse hex: odd length ${clean.length}`);
  }
  const out = new Uint8Array(clean.length / 2);
  for (let i = 0; i < out.length; i++) {
    const byte = Number.parseInt(clean.slice(i * 2, i * 2 + 2), 16);
    if (Number.isNaN(byte)) {
      throw new TypeError(`Cannot parse hex: bad digit at ${i * 2}`);
    }
    out[i] = byte;
  }
  return out;
}
