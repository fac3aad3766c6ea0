// Copyright 2026 the @sidecar/ipc authors. MIT license.
// This module is browser compatible.
/**
 * {@linkcode Token}: the identity of a shared object in a manager, as
 * CPython's `multiprocessing.managers.Token`.
 *
 * @module
 */
import type { Address } from "./address.ts";
import { pickleReduce, PyGlobal, PyReduce } from "./pickle_reduce.ts";
import { Tuple } from "./pickle_types.ts";

const TOKEN_CLASS = new PyGlobal("multiprocessing.managers", "Token");

/**
 * Names one shared object: its typeid, the manager's address and the id the
 * manager gave it. It pickles as CPython's `Token` does (`NEWOBJ` of
 * `multiprocessing.managers.Token`, then `BUILD` with the state tuple
 * `(typeid, address, id)`, a TCP address as a `(host, port)` tuple).
 *
 * @example Usage
 * ```ts
 * import { dumps, Token } from "@sidecar/ipc/connection";
 * import assert from "node:assert/strict";
 *
 * const token = new Token("dict", { hostname: "127.0.0.1", port: 5000 }, "7f00aa");
 * assert.equal(token.typeid, "dict");
 * // The same bytes as pickle.dumps(Token('dict', ('127.0.0.1', 5000), '7f00aa'), 4)
 * assert.equal(dumps(token).length, 88);
 * ```
 */
export class Token {
  /** The registered type name, such as `"Queue"`. */
  readonly typeid: string;
  /** The manager's address. */
  readonly address: Address;
  /** The object's id in the manager (CPython: `'%x' % id(obj)`). */
  readonly id: string;

  /**
   * Creates a token.
   *
   * @param typeid The registered type name.
   * @param address The manager's address.
   * @param id The object's id.
   */
  constructor(typeid: string, address: Address, id: string) {
    if (typeof typeid !== "string" || typeof id !== "string") {
      throw new TypeError("Cannot create Token: typeid and id are strings");
    }
    this.typeid = typeid;
    this.address = address;
    this.id = id;
  }

  /**
   * How the token pickles: `multiprocessing.managers.Token` rebuilt with
   * `NEWOBJ` and its state tuple.
   *
   * @returns The reduction `dumps()` writes.
   *
   * @example Usage
   * ```ts
   * import { pickleReduce, Token, Tuple } from "@sidecar/ipc/connection";
   * import assert from "node:assert/strict";
   *
   * const r = new Token("Queue", "/tmp/m.sock", "1")[pickleReduce]();
   * assert.deepEqual(r.state, new Tuple(["Queue", "/tmp/m.sock", "1"]));
   * ```
   */
  [pickleReduce](): PyReduce {
    return new PyReduce(TOKEN_CLASS, new Tuple([]), {
      newobj: true,
      state: new Tuple([this.typeid, pythonAddress(this.address), this.id]),
    });
  }
}

/**
 * An address as CPython's managers pickle it: a TCP address is a
 * `(host, port)` tuple, a Unix one its path.
 *
 * @param address The address.
 * @returns A `Tuple` or the path.
 *
 * @example Usage
 * ```ts
 * import { pythonAddress, Tuple } from "@sidecar/ipc/connection";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(pythonAddress({ port: 80 }), new Tuple(["127.0.0.1", 80]));
 * assert.equal(pythonAddress("/tmp/m.sock"), "/tmp/m.sock");
 * ```
 */
export function pythonAddress(
  address: Address,
): Tuple<[string, number]> | string {
  return typeof address === "string"
    ? address
    : new Tuple([address.hostname ?? "127.0.0.1", address.port]);
}

/**
 * The address a manager pickled (`(host, port)` or a path), or `undefined`
 * for anything else.
 *
 * @param value A decoded value.
 * @returns The address, or `undefined`.
 *
 * @example Usage
 * ```ts
 * import { fromPythonAddress, Tuple } from "@sidecar/ipc/connection";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(fromPythonAddress(new Tuple(["::1", 8080])), { hostname: "::1", port: 8080 });
 * assert.equal(fromPythonAddress(42), undefined);
 * ```
 */
export function fromPythonAddress(value: unknown): Address | undefined {
  if (typeof value === "string") return value;
  if (value instanceof Tuple && value.length === 2) {
    const [hostname, port] = value.items;
    if (
      typeof hostname === "string" && Number.isInteger(port) &&
      (port as number) >= 0 && (port as number) <= 65535
    ) {
      return { hostname, port: port as number };
    }
  }
  return undefined;
}
