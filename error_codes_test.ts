// Copyright 2026 the @sidecar/ipc authors. MIT license.
// Every error class the package exports carries a stable `code` in
// SCREAMING_SNAKE_CASE (CONTRIBUTING.md, "Errors carry a stable code"):
// the classes are found in every entry point's exports, not listed by hand.
import assert from "node:assert/strict";
import denoJson from "./deno.json" with { type: "json" };

/** A class from an export list, with where it came from. */
interface Found {
  entry: string;
  name: string;
  cls: new (...args: never[]) => Error;
}

async function exportedErrorClasses(): Promise<Found[]> {
  const found = new Map<unknown, Found>();
  for (const [entry, path] of Object.entries(denoJson.exports)) {
    const mod = await import(new URL(path, import.meta.url).href);
    for (const [name, value] of Object.entries(mod)) {
      if (
        typeof value === "function" && value.prototype instanceof Error &&
        !found.has(value)
      ) {
        found.set(value, {
          entry,
          name,
          cls: value as Found["cls"],
        });
      }
    }
  }
  return [...found.values()];
}

/**
 * Minimal arguments, tried in turn until the constructor accepts them. A
 * string argument is never a valid code, so a class that takes its code
 * from its caller cannot pass with a code it was handed.
 */
const CANDIDATES: unknown[][] = [
  ["a message"],
  [],
  ["a message", "invalid", 0],
  [new Uint8Array(0), 0],
  ["KeyError"],
  ["a type", "a message"],
  [1, "a message"],
  ["a format", []],
];

/**
 * Classes whose first argument is the code itself: constructed with a
 * code of their own (the check then shows the code is kept as given).
 */
const CODE_FIRST: Record<string, unknown[]> = {
  ManagerError: ["DISCONNECTED", "a message"],
  SocketSessionError: ["CLOSED", "a message"],
};

/** Classes no candidate constructs (their arguments are checked). */
const EXPLICIT: Record<string, unknown[]> = {
  RemoteError: ["#ERROR", "KeyError", ["k"], undefined, "get"],
};

const SCREAMING_SNAKE = /^[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)*$/;

Deno.test("every exported error class has a SCREAMING_SNAKE_CASE code", async () => {
  const classes = await exportedErrorClasses();
  // The entry points do export error classes (the search finds them).
  assert.ok(classes.length >= 30, `only ${classes.length} error classes`);
  const failures: string[] = [];
  for (const { entry, name, cls } of classes) {
    let instance: Error | undefined;
    const given = CODE_FIRST[name] ?? EXPLICIT[name];
    const tries = given !== undefined ? [given] : CANDIDATES;
    for (const args of tries) {
      try {
        instance = new cls(...(args as never[]));
        break;
      } catch {
        // Not these arguments.
      }
    }
    if (instance === undefined) {
      failures.push(`${entry} ${name}: no candidate arguments construct it`);
      continue;
    }
    const code = (instance as { code?: unknown }).code;
    if (typeof code !== "string" || !SCREAMING_SNAKE.test(code)) {
      failures.push(`${entry} ${name}: code ${JSON.stringify(code)}`);
    }
  }
  assert.deepEqual(failures, []);
});
