// Copyright 2026 the @sidecar/ipc authors. MIT license.
// This module is browser compatible.
// What a manager client makes of a reply: its value (with the proxies it
// holds rebuilt and owned), a proxy (#PROXY), or the typed error.

import type { Address } from "./address.ts";
import { lastException, type Reply } from "./_manager_protocol.ts";
import { ManagerProtocolError, RemoteError } from "./manager_errors.ts";
import type { ManagerProxy } from "./manager_proxy.ts";
import { Token } from "./manager_token.ts";
import { Tuple } from "./pickle_types.ts";

/** What reading a reply needs from the client. */
export interface ReplyHost {
  /** The manager's address (what proxies connect to). */
  readonly address: Address;
  /** Decodes a reply; proxies it rebuilds (not yet owned) go to `rebuilt`. */
  decode(bytes: Uint8Array, rebuilt: ManagerProxy[]): Reply;
  /** A proxy owning the reference its caller holds. */
  adopt(token: Token, exposed: readonly string[]): ManagerProxy;
  /** Takes one more reference. */
  incref(id: string): Promise<void>;
}

/** The typed error of a reply that is not `#RETURN` or `#PROXY`. */
export function replyError(
  r: Exclude<Reply, { kind: "#RETURN" | "#PROXY" }>,
  method: string,
): RemoteError {
  if (r.kind === "#ERROR") {
    const e = r.error;
    const type = e.module === "builtins"
      ? e.qualname
      : `${e.module}.${e.qualname}`;
    return new RemoteError("#ERROR", type, e.args, undefined, method, {
      cause: e,
    });
  }
  const [type, message] = lastException(r.text);
  return new RemoteError(r.kind, type, [message], r.text, method);
}

/**
 * The result of a method call's reply: the value itself for a plain
 * `#RETURN` (the hot path, no promise), else a promise. Proxies a value
 * holds take a reference each (`incref`); when the call was abandoned
 * meanwhile, they are released again.
 */
export function readReply(
  host: ReplyHost,
  bytes: Uint8Array,
  method: string,
  call: { readonly cancelled: boolean },
): unknown {
  const rebuilt: ManagerProxy[] = [];
  let r: Reply;
  try {
    r = host.decode(bytes, rebuilt);
  } catch (e) {
    for (const p of rebuilt) p.discard();
    throw e;
  }
  if (r.kind !== "#RETURN") { for (const p of rebuilt) p.discard(); }
  switch (r.kind) {
    case "#RETURN": {
      if (rebuilt.length === 0) return r.value;
      const value = r.value;
      return settle(host, rebuilt, call).then(() => value);
    }
    case "#PROXY": {
      // CPython's client too gives the new token its own address.
      const proxy = host.adopt(
        new Token(r.token.typeid, host.address, r.token.id),
        r.exposed,
      );
      return call.cancelled ? proxy.close().then(() => proxy) : proxy;
    }
    default:
      throw replyError(r, method);
  }
}

/** Takes a reference for each proxy a reply rebuilt. */
async function settle(
  host: ReplyHost,
  rebuilt: ManagerProxy[],
  call: { readonly cancelled: boolean },
): Promise<void> {
  const results = await Promise.allSettled(
    rebuilt.map((p) => host.incref(p.token.id)),
  );
  let failure: unknown;
  for (let i = 0; i < rebuilt.length; i++) {
    const p = rebuilt[i]!;
    if (results[i]!.status === "fulfilled") p.own();
    else {
      p.discard();
      failure ??= (results[i] as PromiseRejectedResult).reason;
    }
  }
  if (failure !== undefined || call.cancelled) {
    await Promise.all(rebuilt.map((p) => p.close()));
    if (failure !== undefined) throw failure;
  }
}

/** `create`'s result: `(ident, exposed)`. */
export function createResult(value: unknown): [string, string[]] {
  if (value instanceof Tuple && value.length === 2) {
    const [id, exposed] = value.items;
    const names = Array.isArray(exposed)
      ? exposed
      : exposed instanceof Tuple
      ? exposed.items
      : null;
    if (
      typeof id === "string" && id !== "" && names !== null &&
      names.every((n: unknown) => typeof n === "string")
    ) {
      return [id, names as string[]];
    }
  }
  throw new ManagerProtocolError(
    "Cannot read reply to create(): it is not (ident, exposed)",
  );
}

/** Whether a token's address is the client's manager (port or path). */
export function sameManager(a: Address, b: Address): boolean {
  if (typeof a === "string" || typeof b === "string") return a === b;
  return a.port === b.port;
}
