// Copyright 2026 the @sidecar/ipc authors. MIT license.
/**
 * `ipc mp listen|connect ADDRESS`: a session with a CPython
 * `multiprocessing.connection` peer. Lines of JSON on stdin are sent
 * (pickled, or as raw bytes with `--bytes`); received messages are printed
 * as Python reprs, or as JSON lines with `--json`.
 *
 * @module
 */
import {
  type Address,
  AuthenticationError,
  connect,
  type Connection,
  type Digest,
  EOFError,
  HANDSHAKE_DIGESTS,
  Listener,
  pickleCodec,
  UnpicklingError,
} from "../connection/mod.ts";
import {
  CliError,
  type CommandContext,
  err,
  EXIT,
  expectPositionals,
  failed,
  flag,
  help,
  int,
  interrupted,
  lines,
  out,
  parseArgs,
  progress,
  seconds,
  str,
  usage,
  usageHelp,
} from "./_args.ts";
import { fromJson, repr, toJson } from "./_render.ts";

const HELP = `
Usage: ipc mp listen|connect ADDRESS [options]

A session with a Python multiprocessing.connection peer (Listener/Client).
Each line of JSON on stdin is sent: pickled (default) or, with --bytes, as
raw bytes (the line must be a JSON string, sent as UTF-8, or {"$bytes": ...}).
Every received message is printed on stdout, one per line. When stdin ends,
the session goes on receiving until the peer closes (or --count is reached).

ADDRESS: HOST:PORT or PORT (TCP), a path with a "/" (Unix socket), or
@NAME (Linux abstract socket).

JSON: ints of any size are exact, floats have a "." or exponent, and
{"$bytes": B64}, {"$bytearray": B64}, {"$tuple": [...]}, {"$set": [...]},
{"$frozenset": [...]}, {"$dict": [[k, v], ...]}, {"$float": "nan"} stand
for the Python types JSON lacks.

Options:
  --authkey KEY        shared key (UTF-8)
  --authkey-env VAR    read the key from environment variable VAR
  --digest NAME        digest our challenge asks for: sha256 (default), md5,
                       sha384, sha3_256, sha3_384
  --pickle             send and receive pickled objects (default)
  --bytes              send and receive raw bytes
  --count N            stop after receiving N messages
  --timeout SECONDS    give up connecting / waiting for a client (default: none)
  --json               print received messages as JSON lines
  --verbose            print the stack traces of errors
  -h, --help           show this help

Exit codes: 0 done, 1 failed, 2 usage, 3 authentication, 4 bad input line
or a received message that is not a pickle,
130 interrupted.
`;

/** Parses an `ipc` address: `HOST:PORT`, `PORT`, a path, or `@abstract`. */
export function parseAddress(text: string): Address {
  if (text === "") throw usage("Cannot parse address: it is empty");
  if (text.startsWith("@")) return `\0${text.slice(1)}`;
  if (text.includes("/")) return text;
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d+)$/.exec(text) ??
    /^()()(\d+)$/.exec(text);
  if (m) {
    const port = Number(m[3]);
    if (port > 65535) {
      throw usage(
        `Cannot parse address ${
          JSON.stringify(text)
        }: port ${port} is out of range`,
      );
    }
    return { hostname: m[1] || m[2] || "127.0.0.1", port };
  }
  throw usage(
    `Cannot parse address ${
      JSON.stringify(text)
    }: expected HOST:PORT, PORT, a path with "/" or @NAME`,
  );
}

/** Formats an address for messages. */
export function formatAddress(a: Address): string {
  if (typeof a === "string") {
    return a.startsWith("\0") ? `@${a.slice(1)}` : a;
  }
  return `${a.hostname}:${a.port}`;
}

function authkeyOf(p: ReturnType<typeof parseArgs>): string | undefined {
  const key = str(p, "authkey");
  const env = str(p, "authkey-env");
  if (key !== undefined && env !== undefined) {
    throw usage("Cannot use --authkey and --authkey-env together");
  }
  if (env !== undefined) {
    const v = Deno.env.get(env);
    if (v === undefined) {
      throw usage(
        `Cannot read the key: environment variable ${env} is not set`,
      );
    }
    return v;
  }
  return key;
}

function failure(e: unknown, action: string): CliError {
  if (e instanceof AuthenticationError) {
    return failed(`${action}: authentication failed`, e, EXIT.AUTH);
  }
  // A message that is not a pickle we accept is malformed input.
  return failed(
    action,
    e,
    e instanceof UnpicklingError ? EXIT.INPUT : EXIT.FAILED,
  );
}

/** Runs `ipc mp ...`. */
export async function mpCommand(
  args: string[],
  ctx: CommandContext,
): Promise<number> {
  const p = parseArgs(args, {
    authkey: { type: "string" },
    "authkey-env": { type: "string" },
    digest: { type: "string" },
    pickle: { type: "boolean" },
    bytes: { type: "boolean" },
    count: { type: "string" },
    timeout: { type: "string" },
  });
  if (flag(p, "help")) return help(HELP);
  if (p.positionals.length === 0) return usageHelp(HELP);
  const [mode, addressText] = p.positionals;
  if (mode !== "listen" && mode !== "connect") {
    throw usage(`Cannot run "mp ${mode}": expected listen or connect`);
  }
  expectPositionals(p, 2, 2, "ADDRESS");
  const address = parseAddress(addressText!);
  if (flag(p, "pickle") && flag(p, "bytes")) {
    throw usage("Cannot use --pickle and --bytes together");
  }
  const rawBytes = flag(p, "bytes");
  const digest = str(p, "digest") ?? "sha256";
  if (!HANDSHAKE_DIGESTS.includes(digest as Digest)) {
    throw usage(
      `Cannot use --digest ${digest}: expected one of ${
        HANDSHAKE_DIGESTS.join(", ")
      }`,
    );
  }
  const authkey = authkeyOf(p);
  const count = int(p, "count", Infinity, 1);
  const timeout = seconds(p, "timeout", Infinity);
  const json = flag(p, "json");
  const options = {
    ...(authkey === undefined ? {} : { authkey }),
    digest: digest as Digest,
    codec: pickleCodec({ floats: "wrap", dicts: "map" }),
  };
  const signal = Number.isFinite(timeout)
    ? AbortSignal.any([ctx.signal, AbortSignal.timeout(timeout)])
    : ctx.signal;

  let conn: Connection;
  if (mode === "connect") {
    try {
      conn = await connect(address, { ...options, signal });
    } catch (e) {
      if (ctx.signal.aborted) throw interrupted(ctx.signal);
      throw failure(e, `connect to ${formatAddress(address)}`);
    }
    err(`ipc mp: connected to ${formatAddress(address)}`);
    return await session(conn, { rawBytes, count, json, signal: ctx.signal });
  }
  let listener: Listener;
  try {
    listener = new Listener(address, {
      ...options,
      // A client that fails the handshake is refused and reported; the
      // listener waits for the next one.
      onError: (e) =>
        err(`ipc mp: refused a client: ${e instanceof Error ? e.message : e}`),
    });
  } catch (e) {
    throw failure(e, `listen on ${formatAddress(address)}`);
  }
  try {
    err(`ipc mp: listening on ${formatAddress(listener.address)}`);
    try {
      conn = await listener.accept({ signal });
    } catch (e) {
      if (ctx.signal.aborted) throw interrupted(ctx.signal);
      throw failure(e, "accept a client");
    }
    err(
      `ipc mp: accepted ${formatAddress(listener.lastAccepted || "a client")}`,
    );
    return await session(conn, { rawBytes, count, json, signal: ctx.signal });
  } finally {
    await listener.close();
  }
}

interface SessionOptions {
  rawBytes: boolean;
  count: number;
  json: boolean;
  signal: AbortSignal;
}

async function session(conn: Connection, o: SessionOptions): Promise<number> {
  const enc = new TextEncoder();
  let received = 0;
  let sent = 0;
  // A running count on a terminal (nothing in pipes), cleared around output.
  const tick = (): void =>
    progress(`ipc mp: ${sent} sent, ${received} received`);
  let inputError: CliError | null = null;
  const stop = new AbortController();
  const signal = AbortSignal.any([o.signal, stop.signal]);

  const send = async (): Promise<void> => {
    let n = 0;
    for await (const line of lines(Deno.stdin.readable)) {
      n++;
      if (signal.aborted) return;
      if (line.trim() === "") continue;
      let value: unknown;
      try {
        value = fromJson(line, `stdin line ${n}`);
      } catch (e) {
        inputError = new CliError((e as Error).message, EXIT.INPUT, {
          cause: e,
        });
        stop.abort(inputError);
        return;
      }
      if (o.rawBytes) {
        if (typeof value === "string") value = enc.encode(value);
        if (!(value instanceof Uint8Array)) {
          inputError = new CliError(
            `Cannot send stdin line ${n}: --bytes needs a JSON string or {"$bytes": ...}`,
            EXIT.INPUT,
          );
          stop.abort(inputError);
          return;
        }
        await conn.sendBytes(value, 0, value.length, { signal });
        sent++;
        tick();
      } else {
        try {
          await conn.send(value, { signal });
          sent++;
          tick();
        } catch (e) {
          if (e instanceof TypeError || e instanceof RangeError) {
            inputError = new CliError(
              `Cannot send stdin line ${n}: ${e.message}`,
              EXIT.INPUT,
              { cause: e },
            );
            stop.abort(inputError);
            return;
          }
          throw e;
        }
      }
    }
  };

  const receive = async (): Promise<void> => {
    while (received < o.count) {
      let value: unknown;
      try {
        value = o.rawBytes
          ? await conn.recvBytes(undefined, { signal })
          : await conn.recv({ signal });
      } catch (e) {
        if (e instanceof EOFError) return;
        throw e;
      }
      received++;
      progress(null);
      out(o.json ? toJson(value) : repr(value));
      tick();
    }
  };

  // Sending ends with stdin. From a pipe or a file, every line is sent
  // before the session ends, even when the messages to receive came first;
  // from a terminal, nothing typed is pending once the receiving is done.
  let sendError: unknown = null;
  const sending = send().catch((e) => {
    sendError = e;
    if (!signal.aborted) stop.abort(e);
  });
  try {
    await receive();
    if (!Deno.stdin.isTerminal()) await sending;
    if (sendError !== null) throw sendError;
  } catch (e) {
    if (o.signal.aborted) throw interrupted(o.signal);
    if (inputError) throw inputError;
    if (e === sendError) throw failure(e, "send");
    throw failure(e, "receive");
  } finally {
    progress(null);
    stop.abort("done");
    await conn.close().catch(() => {});
  }
  if (inputError) throw inputError;
  err(
    `ipc mp: session ended after ${received} message${
      received === 1 ? "" : "s"
    }`,
  );
  return EXIT.OK;
}
