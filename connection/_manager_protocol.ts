// Copyright 2026 the @sidecar/ipc authors. MIT license.
// This module is browser compatible.
// The manager protocol's messages, sans I/O (CPython's
// Lib/multiprocessing/managers.py, 3.8-3.13): requests
// (ident, methodname, args, kwds), replies (kind, value), and what loads()
// may rebuild from them: Token (NEWOBJ + BUILD), RebuildProxy (REDUCE) of
// a proxy class (a plain value), exceptions (REDUCE, BUILD of their
// __dict__) as inert records, and the containers a manager's pickler
// writes as calls (dict views as builtins.list, array.array).

import { dumps, dumpsInto, loads, type LoadsOptions } from "./pickle.ts";
import type { PickleClass } from "./pickle_reduce.ts";
import { PyDict } from "./pickle_dict.ts";
import { Tuple } from "./pickle_types.ts";
import { fromPythonAddress, Token } from "./manager_token.ts";
import {
  ManagerError,
  ManagerProtocolError,
  PyException,
  RemoteError,
  type RemoteErrorKind,
} from "./manager_errors.ts";

const MANAGERS = "multiprocessing.managers";

/** The public functions of a manager's server (`Server.public`). */
export const SERVER_METHODS: ReadonlySet<string> = new Set([
  "shutdown",
  "create",
  "accept_connection",
  "get_methods",
  "debug_info",
  "number_of_objects",
  "dummy",
  "incref",
  "decref",
]);

/** Methods every served object answers (`Server.fallback_mapping`). */
export const FALLBACK_METHODS: ReadonlySet<string> = new Set([
  "#GETVALUE",
  "__str__",
  "__repr__",
]);

/** `_exposed_` of CPython's proxy classes (3.8-3.13), by class name. */
export const PYTHON_PROXY_EXPOSED: Readonly<Record<string, readonly string[]>> =
  {
    IteratorProxy: ["__next__", "send", "throw", "close"],
    AcquirerProxy: ["acquire", "release"],
    ConditionProxy: ["acquire", "release", "wait", "notify", "notify_all"],
    EventProxy: ["is_set", "set", "clear", "wait"],
    BarrierProxy: ["__getattribute__", "wait", "abort", "reset"],
    NamespaceProxy: ["__getattribute__", "__setattr__", "__delattr__"],
    ValueProxy: ["get", "set"],
    ListProxy: [
      "__add__",
      "__contains__",
      "__delitem__",
      "__getitem__",
      "__len__",
      "__mul__",
      "__reversed__",
      "__rmul__",
      "__setitem__",
      "append",
      "count",
      "extend",
      "index",
      "insert",
      "pop",
      "remove",
      "reverse",
      "sort",
      "__imul__",
    ],
    DictProxy: [
      "__contains__",
      "__delitem__",
      "__getitem__",
      "__iter__",
      "__len__",
      "__setitem__",
      "clear",
      "copy",
      "get",
      "items",
      "keys",
      "pop",
      "popitem",
      "setdefault",
      "update",
      "values",
    ],
    ArrayProxy: ["__len__", "__getitem__", "__setitem__"],
    PoolProxy: [
      "apply",
      "apply_async",
      "close",
      "imap",
      "imap_unordered",
      "join",
      "map",
      "map_async",
      "starmap",
      "starmap_async",
      "terminate",
    ],
  };

/** A request: `(ident, methodname, args, kwds)`. */
export interface Request {
  /** The object's id; `null` for the server's own functions. */
  id: string | null;
  method: string;
  args: unknown[];
  kwargs: Record<string, unknown>;
}

/**
 * Pickles a request as CPython's `dispatch()` and `_callmethod()` send it.
 * Throws a `ManagerError` `UNPICKLABLE` for an argument with no Python
 * equivalent.
 */
export function encodeRequest(
  id: string | null,
  method: string,
  args: readonly unknown[],
  kwargs: Record<string, unknown> = {},
): Uint8Array {
  try {
    return dumps(new Tuple([id, method, new Tuple(args), kwargs]));
  } catch (e) {
    throw new ManagerError(
      "UNPICKLABLE",
      `Cannot call ${method}(): ${e instanceof Error ? e.message : e}`,
      { cause: e },
    );
  }
}

/** Where proxies encode a request that is sent at once (see below). */
const SCRATCH = new Uint8Array(16 * 1024);

/**
 * {@linkcode encodeRequest} into a shared scratch buffer (no allocation):
 * the view is valid until the next call, so it must be sent at once
 * (`Connection.sendBytes` copies a payload of up to 16 KiB before it
 * returns). A larger request is encoded on its own.
 */
export function encodeRequestNow(
  id: string | null,
  method: string,
  args: readonly unknown[],
  kwargs: Record<string, unknown>,
): Uint8Array {
  let n: number;
  try {
    n = dumpsInto(new Tuple([id, method, new Tuple(args), kwargs]), SCRATCH);
  } catch (e) {
    if (e instanceof RangeError && /bytes are needed/.test(e.message)) {
      return encodeRequest(id, method, args, kwargs);
    }
    throw new ManagerError(
      "UNPICKLABLE",
      `Cannot call ${method}(): ${e instanceof Error ? e.message : e}`,
      { cause: e },
    );
  }
  return SCRATCH.subarray(0, n);
}

/** Checks the shape of a decoded request; throws a `ManagerProtocolError`. */
export function parseRequest(value: unknown): Request {
  if (!(value instanceof Tuple) || value.length !== 4) {
    throw new ManagerProtocolError(
      "Cannot read request: it is not a 4-tuple (ident, methodname, args, kwds)",
    );
  }
  const [id, method, args, kwargs] = value.items;
  if (id !== null && typeof id !== "string") {
    throw new ManagerProtocolError("Cannot read request: ident is not a str");
  }
  if (typeof method !== "string") {
    throw new ManagerProtocolError(
      "Cannot read request: methodname is not a str",
    );
  }
  const list = args instanceof Tuple
    ? [...args.items]
    : Array.isArray(args)
    ? args
    : null;
  if (list === null) {
    throw new ManagerProtocolError("Cannot read request: args is not a tuple");
  }
  let kw: Record<string, unknown>;
  if (kwargs instanceof PyDict && kwargs.size === 0) kw = {};
  else if (
    typeof kwargs === "object" && kwargs !== null &&
    Object.getPrototypeOf(kwargs) === Object.prototype
  ) {
    kw = kwargs as Record<string, unknown>;
  } else {
    throw new ManagerProtocolError(
      "Cannot read request: kwds is not a dict with str keys",
    );
  }
  return { id, method, args: list, kwargs: kw };
}

/** The reply kinds a manager sends. */
export type ReplyKind = "#RETURN" | "#PROXY" | RemoteErrorKind;

/** Pickles a reply; a value that cannot be pickled becomes `#UNSERIALIZABLE`. */
export function encodeReply(kind: ReplyKind, value: unknown): Uint8Array {
  try {
    return dumps(new Tuple([kind, value]));
  } catch (e) {
    return dumps(
      new Tuple([
        "#UNSERIALIZABLE",
        `Traceback (most recent call last):\n  (Deno)\n${
          e instanceof Error ? `${e.name}: ${e.message}` : String(e)
        }\n`,
      ]),
    );
  }
}

/** A proxy class (or `AutoProxy`) named in a pickle: a plain value. */
export class ProxyClassRef {
  constructor(readonly module: string, readonly name: string) {}
}

/** A decoded reply. */
export type Reply =
  | { kind: "#RETURN"; value: unknown }
  | { kind: "#PROXY"; exposed: string[]; token: Token }
  | { kind: "#ERROR"; error: PyException }
  | { kind: "#TRACEBACK" | "#UNSERIALIZABLE"; text: string };

/**
 * Makes a proxy for a `RebuildProxy` found while decoding: called during
 * `loads()` (synchronously), it returns the object that takes the proxy's
 * place; the caller increfs it before handing the value out.
 */
export type RebuildHook = (
  token: Token,
  exposed: readonly string[] | undefined,
  proxyClass: ProxyClassRef,
) => object;

const BUILT_TOKENS = new WeakSet<Token>();

const TOKEN_CLASS: PickleClass = {
  create(args) {
    if (args.length !== 0) throw new TypeError("Token() takes no arguments");
    return new Token("", "", "");
  },
  build(obj, state) {
    if (!(state instanceof Tuple) || state.length !== 3) {
      throw new TypeError("Token state is not a 3-tuple");
    }
    const [typeid, address, id] = state.items;
    const addr = fromPythonAddress(address);
    if (
      typeof typeid !== "string" || typeof id !== "string" || id === "" ||
      addr === undefined || BUILT_TOKENS.has(obj as Token)
    ) {
      throw new TypeError("Token state is not (str, address, str)");
    }
    Object.assign(obj, { typeid, address: addr, id });
    BUILT_TOKENS.add(obj as Token);
  },
};

/** Whether `value` is a `Token` that a pickle fully built. */
export function isBuiltToken(value: unknown): value is Token {
  return value instanceof Token && BUILT_TOKENS.has(value);
}

const EXCEPTION_NAME =
  /^[A-Za-z_]\w*(?<=Error|Exception|Warning|Exit|Interrupt|Iteration|Empty|Full)$/;

function exceptionClass(module: string, name: string): PickleClass {
  const type = module === "builtins" ? name : `${module}.${name}`;
  return {
    call: (args) => new PyException(type, args),
    build(obj, state) {
      (obj as PyException).state = state;
    },
  };
}

const LIST_CALL: PickleClass = {
  // A dict view (keys(), values(), items()) as the manager's pickler sends it.
  call(args) {
    if (args.length === 1 && Array.isArray(args[0])) return args[0];
    throw new TypeError("builtins.list expects one list");
  },
};

const ARRAY_CALL: PickleClass = {
  // array.array(typecode, bytes), as managers.reduce_array sends it.
  call(args) {
    const [code, bytes] = args;
    if (typeof code === "string" && bytes instanceof Uint8Array) {
      return decodeArray(code, bytes);
    }
    throw new TypeError("array.array expects (typecode, bytes)");
  },
};

const ARRAY_TYPES: Record<
  string,
  [number, (v: DataView, i: number) => unknown]
> = {
  b: [1, (v, i) => v.getInt8(i)],
  B: [1, (v, i) => v.getUint8(i)],
  h: [2, (v, i) => v.getInt16(i, true)],
  H: [2, (v, i) => v.getUint16(i, true)],
  i: [4, (v, i) => v.getInt32(i, true)],
  I: [4, (v, i) => v.getUint32(i, true)],
  l: [8, (v, i) => small(v.getBigInt64(i, true))],
  L: [8, (v, i) => small(v.getBigUint64(i, true))],
  q: [8, (v, i) => small(v.getBigInt64(i, true))],
  Q: [8, (v, i) => small(v.getBigUint64(i, true))],
  f: [4, (v, i) => v.getFloat32(i, true)],
  d: [8, (v, i) => v.getFloat64(i, true)],
};

function small(n: bigint): number | bigint {
  return n >= -9007199254740991n && n <= 9007199254740991n ? Number(n) : n;
}

/** An `array.array` (little-endian machine, as Linux x86-64 and arm64). */
function decodeArray(code: string, bytes: Uint8Array): unknown[] | string {
  if (code === "u" || code === "w") {
    if (bytes.length % 4 !== 0) throw new TypeError("bad array length");
    const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    let s = "";
    for (let i = 0; i < bytes.length; i += 4) {
      s += String.fromCodePoint(v.getUint32(i, true));
    }
    return s;
  }
  const t = ARRAY_TYPES[code];
  if (t === undefined) throw new TypeError(`unknown array typecode '${code}'`);
  const [size, read] = t;
  if (bytes.length % size !== 0) throw new TypeError("bad array length");
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out: unknown[] = new Array(bytes.length / size);
  for (let i = 0; i < out.length; i++) out[i] = read(v, i * size);
  return out;
}

/**
 * The `loads()` options for a manager's messages: `Token` (NEWOBJ and
 * BUILD), `RebuildProxy` of a proxy class (through `rebuild`), exceptions,
 * dict views and arrays; every other class stays refused.
 */
export function managerLoadsOptions(
  base: LoadsOptions,
  rebuild: RebuildHook | undefined,
): LoadsOptions {
  const rebuildClass: PickleClass | undefined = rebuild === undefined
    ? undefined
    : {
      call(args) {
        const [cls, token, serializer, kwds] = args;
        if (
          args.length !== 4 || !(cls instanceof ProxyClassRef) ||
          !isBuiltToken(token) || serializer !== "pickle"
        ) {
          throw new TypeError(
            "RebuildProxy expects (proxy class, Token, 'pickle', kwds)",
          );
        }
        return rebuild(token, exposedOf(cls, kwds), cls);
      },
    };
  return {
    ...base,
    reconstruct(module, name) {
      if (module === MANAGERS) {
        if (name === "Token") return TOKEN_CLASS;
        if (name === "RebuildProxy") return rebuildClass;
      }
      if (name === "AutoProxy" || /^[A-Za-z_][\w.]*Proxy$/.test(name)) {
        return { value: new ProxyClassRef(module, name) };
      }
      if (module === "builtins" && name === "list") return LIST_CALL;
      if (module === "array" && name === "array") return ARRAY_CALL;
      if (EXCEPTION_NAME.test(name)) return exceptionClass(module, name);
      return undefined;
    },
  };
}

function exposedOf(
  cls: ProxyClassRef,
  kwds: unknown,
): readonly string[] | undefined {
  let exposed: unknown;
  if (kwds instanceof PyDict) exposed = kwds.get("exposed");
  else if (typeof kwds === "object" && kwds !== null) {
    exposed = (kwds as Record<string, unknown>).exposed;
  }
  if (exposed instanceof Tuple) exposed = [...exposed.items];
  if (Array.isArray(exposed) && exposed.every((m) => typeof m === "string")) {
    return exposed;
  }
  if (cls.module === MANAGERS) return PYTHON_PROXY_EXPOSED[cls.name];
  return undefined;
}

/** Decodes and checks one reply; throws `ManagerProtocolError`. */
export function decodeReply(bytes: Uint8Array, options: LoadsOptions): Reply {
  let value: unknown;
  try {
    value = loads(bytes, options);
  } catch (e) {
    throw new ManagerProtocolError(
      `Cannot read reply: ${e instanceof Error ? e.message : e}`,
      { cause: e },
    );
  }
  return parseReply(value);
}

/** Checks the shape of a decoded reply. */
export function parseReply(value: unknown): Reply {
  if (!(value instanceof Tuple) || value.length !== 2) {
    throw new ManagerProtocolError(
      "Cannot read reply: it is not a 2-tuple (kind, result)",
    );
  }
  const [kind, result] = value.items;
  switch (kind) {
    case "#RETURN":
      return { kind, value: result };
    case "#PROXY": {
      if (result instanceof Tuple && result.length === 2) {
        const [exposed, token] = result.items;
        const names = exposed instanceof Tuple
          ? exposed.items
          : Array.isArray(exposed)
          ? exposed
          : null;
        if (
          names !== null && names.every((m: unknown) =>
            typeof m === "string"
          ) &&
          isBuiltToken(token)
        ) {
          return { kind, exposed: [...names] as string[], token };
        }
      }
      throw new ManagerProtocolError(
        "Cannot read reply: #PROXY is not (exposed, Token)",
      );
    }
    case "#ERROR":
      if (result instanceof PyException) return { kind, error: result };
      throw new ManagerProtocolError(
        "Cannot read reply: #ERROR does not hold an exception",
      );
    case "#TRACEBACK":
    case "#UNSERIALIZABLE":
      if (typeof result === "string") return { kind, text: result };
      throw new ManagerProtocolError(
        `Cannot read reply: ${kind} does not hold a str`,
      );
    default:
      throw new ManagerProtocolError(
        `Cannot read reply: unknown kind ${
          typeof kind === "string" ? `'${kind}'` : typeof kind
        }`,
      );
  }
}

/**
 * The exception a traceback's last line names (`KeyError: 'x'` gives
 * `["KeyError", "'x'"]`), or `["", text]`.
 */
export function lastException(text: string): [string, string] {
  const lines = text.trimEnd().split("\n");
  const last = lines[lines.length - 1] ?? "";
  const m = /^([A-Za-z_][\w.]*)(?::\s?(.*))?$/.exec(last);
  return m === null ? ["", last] : [m[1]!, m[2] ?? ""];
}

/** Whether a call failed with an `#ERROR` of this exception type. */
export function isRemoteType(e: unknown, suffix: string): boolean {
  return e instanceof RemoteError && e.kind === "#ERROR" &&
    (e.type === suffix || e.type.endsWith(`.${suffix}`));
}
