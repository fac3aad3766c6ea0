// Copyright 2026 the @sidecar/ipc authors. MIT license.
// This module is browser compatible.
// A manager server's shared objects, sans I/O: the registry of typeids,
// the objects by id with their reference counts (an object is dropped
// when its count reaches zero), and the server's public functions that
// only touch them (create, incref, decref, get_methods, number_of_objects,
// debug_info), as CPython's managers.Server runs them.

import { isBuiltToken, type Request } from "./_manager_protocol.ts";
import { publicMethods } from "./_manager_serve.ts";
import { PyException } from "./manager_errors.ts";
import { Tuple } from "./pickle_types.ts";

/** A typeid as registered (defaults not yet applied). */
export interface Registered {
  create:
    | ((
      args: unknown[],
      kwargs: Record<string, unknown>,
    ) => object | Promise<object>)
    | undefined;
  exposed: readonly string[] | undefined;
  parameters: Readonly<Record<string, readonly string[]>> | undefined;
  methodToTypeid: Readonly<Record<string, string>> | undefined;
}

/** What a class may say about itself (static members). */
export interface ClassStatics {
  exposed?: readonly string[];
  parameters?: Readonly<Record<string, readonly string[]>>;
  methodToTypeid?: Readonly<Record<string, string>>;
}

/** One shared object. */
export interface Shared {
  typeid: string;
  obj: object;
  exposed: readonly string[];
  exposedSet: ReadonlySet<string>;
  parameters: Readonly<Record<string, readonly string[]>>;
  methodToTypeid: Readonly<Record<string, string>>;
}

/** The registry and the shared objects of one server. */
export class SharedTable {
  #registry = new Map<string, Registered>();
  #objects = new Map<string, Shared>();
  #refcounts = new Map<string, number>();
  #nextId = 0;

  register(typeid: string, entry: Registered): void {
    this.#registry.set(typeid, entry);
  }

  /** `number_of_objects`. */
  get count(): number {
    return this.#refcounts.size;
  }

  get(id: string): Shared | undefined {
    return this.#objects.get(id);
  }

  /** `debug_info`, as CPython formats it. */
  debugInfo(): string {
    const out: string[] = [];
    for (const id of [...this.#refcounts.keys()].sort()) {
      out.push(
        `  ${id}:       refcount=${this.#refcounts.get(id)}\n    ${
          String(this.#objects.get(id)?.obj).slice(0, 75)
        }`,
      );
    }
    return out.join("\n");
  }

  /** The server's public functions (`Server.public`), as CPython runs them. */
  async control(req: Request): Promise<unknown> {
    const { method, args, kwargs } = req;
    switch (method) {
      case "dummy":
      case "shutdown":
      case "accept_connection":
        return null;
      case "number_of_objects":
        return this.#refcounts.size;
      case "debug_info":
        return this.debugInfo();
      case "incref":
        this.incref(String(args[0]));
        return null;
      case "decref":
        this.decref(String(args[0]));
        return null;
      case "get_methods": {
        const token = args[0] ?? kwargs.token;
        if (!isBuiltToken(token)) {
          throw new PyException("TypeError", ["get_methods() needs a Token"]);
        }
        const shared = this.#objects.get(token.id);
        if (shared === undefined) throw new PyException("KeyError", [token.id]);
        return new Tuple([...shared.exposed]);
      }
      case "create": {
        const [typeid, ...rest] = args;
        if (typeof typeid !== "string" || !this.#registry.has(typeid)) {
          throw new PyException("KeyError", [typeid]);
        }
        const entry = this.#registry.get(typeid)!;
        let obj: unknown;
        if (entry.create === undefined) {
          if (Object.keys(kwargs).length > 0 || rest.length !== 1) {
            throw new PyException("ValueError", [
              "Without callable, must have one non-keyword argument",
            ]);
          }
          obj = rest[0];
        } else {
          obj = await entry.create(rest, kwargs);
        }
        const shared = this.share(typeid, obj);
        return new Tuple([shared[0], new Tuple([...shared[1]])]);
      }
    }
    throw new PyException("AssertionError", [`'${method}' unrecognized`]);
  }

  /** Stores a new shared object with one reference (CPython's `create`). */
  share(typeid: string, obj: unknown): [string, readonly string[]] {
    if (typeof obj !== "object" || obj === null) {
      if (typeof obj !== "function") {
        throw new PyException("TypeError", [
          `'${typeid}' made a ${
            obj === null ? "None" : typeof obj
          }, not an object`,
        ]);
      }
    }
    const entry = this.#registry.get(typeid);
    if (entry === undefined) throw new PyException("KeyError", [typeid]);
    const statics = (obj as { constructor?: ClassStatics }).constructor ?? {};
    const exposed = entry.exposed ?? statics.exposed ?? publicMethods(obj);
    const methodToTypeid = entry.methodToTypeid ?? statics.methodToTypeid ??
      {};
    const all = [...exposed, ...Object.keys(methodToTypeid)];
    const id = (++this.#nextId).toString(16);
    this.#objects.set(id, {
      typeid,
      obj,
      exposed: [...new Set(all)],
      exposedSet: new Set(all),
      parameters: entry.parameters ?? statics.parameters ?? {},
      methodToTypeid,
    });
    this.#refcounts.set(id, 1);
    return [id, [...new Set(all)]];
  }

  incref(id: string): void {
    const n = this.#refcounts.get(id);
    if (n === undefined) throw new PyException("KeyError", [id]);
    this.#refcounts.set(id, n + 1);
  }

  decref(id: string): void {
    const n = this.#refcounts.get(id);
    if (n === undefined) throw new PyException("KeyError", [id]);
    if (n <= 1) {
      this.#refcounts.delete(id);
      this.#objects.delete(id);
    } else {
      this.#refcounts.set(id, n - 1);
    }
  }
}
