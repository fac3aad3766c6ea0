// Copyright 2026 the @sidecar/ipc authors. MIT license.
// This module is browser compatible.
// What a ManagerServer does around a method, sans I/O: the exposed
// methods of an object (CPython's public_methods), keyword arguments
// placed by parameter name, and error replies (#ERROR for a PyException,
// #TRACEBACK with a Python-style traceback text for anything else).

import { encodeReply } from "./_manager_protocol.ts";
import { PyException } from "./manager_errors.ts";
import { PyGlobal, PyReduce } from "./pickle_reduce.ts";
import { Tuple } from "./pickle_types.ts";

/** The public methods of `obj` (CPython's `public_methods`). */
export function publicMethods(obj: object): string[] {
  const names = new Set<string>();
  for (
    let p: object | null = obj;
    p !== null && p !== Object.prototype;
    p = Object.getPrototypeOf(p)
  ) {
    for (const name of Object.getOwnPropertyNames(p)) {
      if (name[0] === "_" || name === "constructor") continue;
      const d = Object.getOwnPropertyDescriptor(p, name);
      if (d !== undefined && typeof d.value === "function") names.add(name);
    }
  }
  return [...names].sort();
}

/** Places keyword arguments by parameter name (`"**"` takes the rest). */
export function bind(
  params: readonly string[] | undefined,
  args: unknown[],
  kwargs: Record<string, unknown>,
  method: string,
): unknown[] {
  const names = Object.keys(kwargs);
  if (names.length === 0) return args;
  if (params === undefined) {
    throw new PyException("TypeError", [
      `${method}() got an unexpected keyword argument '${names[0]}'`,
    ]);
  }
  const out = [...args];
  const star = params.indexOf("**");
  let rest: Record<string, unknown> | undefined;
  for (const name of names) {
    const i = params.indexOf(name);
    if (i >= 0 && (star < 0 || i < star) && name !== "**") {
      if (i < args.length) {
        throw new PyException("TypeError", [
          `${method}() got multiple values for argument '${name}'`,
        ]);
      }
      while (out.length < i) out.push(undefined);
      out[i] = kwargs[name];
    } else if (star >= 0) {
      (rest ??= {})[name] = kwargs[name];
    } else {
      throw new PyException("TypeError", [
        `${method}() got an unexpected keyword argument '${name}'`,
      ]);
    }
  }
  if (rest !== undefined) {
    while (out.length < star) out.push(undefined);
    out[star] = rest;
  }
  return out;
}

/**
 * A Python-style traceback text for an error thrown in Deno: the stack,
 * then `Name: message` (a PyException's last line is Python's, such as
 * `KeyError: 'x'`).
 */
export function tracebackText(e: unknown): string {
  const err = e instanceof Error ? e : new Error(String(e));
  const frames = (err.stack ?? "").split("\n").slice(1)
    .map((l) => `  ${l.trim()}`).join("\n");
  let last: string;
  if (err instanceof PyException) {
    const type = err.module === "builtins"
      ? err.qualname
      : `${err.module}.${err.qualname}`;
    const shown = err.args.map((a) =>
      typeof a === "string" && (err.args.length > 1 || type === "KeyError")
        ? `'${a}'`
        : String(a)
    );
    last = shown.length === 0
      ? type
      : `${type}: ${shown.length === 1 ? shown[0] : `(${shown.join(", ")})`}`;
  } else {
    last = `${err.name}: ${err.message}`;
  }
  return `Traceback (most recent call last):\n${
    frames || "  (Deno)"
  }\n${last}\n`;
}

export function errorReply(e: unknown): Uint8Array {
  if (e instanceof PyException) {
    return encodeReply(
      "#ERROR",
      new PyReduce(new PyGlobal(e.module, e.qualname), new Tuple([...e.args])),
    );
  }
  return encodeReply("#TRACEBACK", tracebackText(e));
}

/** The reply to a request that could not be read. */
export function errorText(e: unknown): Uint8Array {
  return encodeReply("#TRACEBACK", tracebackText(e));
}
