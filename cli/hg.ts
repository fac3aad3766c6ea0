// Copyright 2026 the @sidecar/ipc authors. MIT license.
/**
 * `ipc hg decode` and `ipc hg call`: Mercurial's hgrpc frames from a shell.
 *
 * @module
 */
import {
  type CborValue,
  CommandError,
  connect,
  FramingClient,
  type FramingClientOptions,
  pythonRepr,
  STREAM_ENCODERS_ORDER,
} from "../framing/mod.ts";
import {
  ByteArray,
  FrozenSet,
  PyDict,
  PyFloat,
  Tuple,
} from "../connection/mod.ts";
import {
  CliError,
  type CommandContext,
  err,
  EXIT,
  expectPositionals,
  failed,
  flag,
  interrupted,
  out,
  type ParsedArgs,
  parseSubcommand,
  str,
  usage,
} from "./_args.ts";
import { bytesRepr, fromJson, toJson } from "./_render.ts";
import {
  CaptureDecoder,
  type DecodedFrame,
  frameFlagNames,
  streamFlagNames,
  typeName,
} from "./hg_decode.ts";
import { parseAddress } from "./mp.ts";

const HELP = `
Usage:
  ipc hg decode [FILE|-] [FILE2]
  ipc hg call ADDRESS NAME [ARGS-JSON] [options]
  ipc hg call --stdio-cmd CMD NAME [ARGS-JSON] [options]

decode reads captured hgrpc byte streams (stdin when FILE is "-" or absent;
two files for the two directions) and prints each frame in Mercurial's
human frame form, then the CBOR values it completes, after undoing the
stream encoding (zlib, zstd-8mb) announced by stream-settings frames.

call runs one command on an hgrpc server over TCP (HOST:PORT, PORT) or a
Unix socket (a path with "/"), or on a server started as CMD (run with
sh -c) that speaks the protocol on its stdin/stdout, and prints each
response object. ARGS-JSON is a JSON object; strings are sent as bytes
(Mercurial has no text strings), {"$bytes": B64} for raw bytes.

Options:
  --stdio-cmd CMD      start CMD and talk to it over its stdin/stdout
  --encoding LIST      content encodings to offer, most preferred first
                       (default zstd-8mb,zlib,identity; "none" offers none)
  --data-file FILE     send FILE ("-" for stdin) as command data
  --full               decode: print whole payloads (default: long ones cut)
  --json               one JSON object per frame / response object
  --verbose            print the stack traces of errors
  -h, --help           show this help

Exit codes: 0 ok, 1 failed (command error, server unreachable), 2 usage,
4 malformed capture, 130 interrupted.
`;

/** Runs `ipc hg ...`. */
export async function hgCommand(
  args: string[],
  ctx: CommandContext,
): Promise<number> {
  const parsed = parseSubcommand(args, {
    "stdio-cmd": { type: "string" },
    encoding: { type: "string" },
    "data-file": { type: "string" },
    full: { type: "boolean" },
  }, HELP);
  if (typeof parsed === "number") return parsed;
  const { sub, p } = parsed;
  if (sub === "decode") {
    return await decode(p.positionals, flag(p, "json"), flag(p, "full"));
  }
  if (sub === "call") return await call(p, ctx);
  throw usage(`Cannot run "hg ${sub}": expected decode or call`);
}

async function readInput(name: string): Promise<Uint8Array> {
  try {
    if (name === "-") {
      return new Uint8Array(
        await new Response(Deno.stdin.readable).arrayBuffer(),
      );
    }
    return await Deno.readFile(name);
  } catch (e) {
    throw failed(`read ${name}`, e);
  }
}

function cut(text: string, full: boolean): string {
  return full || text.length <= 200
    ? text
    : `${text.slice(0, 200)}... (${text.length} chars)`;
}

function printFrame(
  d: DecodedFrame,
  label: string,
  json: boolean,
  full: boolean,
): void {
  if (json) {
    out(
      `{"direction":${
        JSON.stringify(label)
      },"index":${d.index},"requestId":${d.frame.requestId},` +
        `"streamId":${d.frame.streamId},"streamFlags":${
          JSON.stringify(streamFlagNames(d.frame))
        },` +
        `"type":${JSON.stringify(typeName(d.frame))},"flags":${
          JSON.stringify(frameFlagNames(d.frame))
        },` +
        `"size":${d.frame.payload.length},"encoding":${
          JSON.stringify(d.encoding)
        },` +
        `"decodedSize":${d.payload.length},"human":${
          JSON.stringify(d.human)
        },` +
        `"values":[${d.values.map(toJson).join(",")}]}`,
    );
    return;
  }
  out(cut(d.human, full));
  if (d.encoding !== null) {
    out(`  ${d.encoding} -> ${d.payload.length} bytes`);
  }
  for (const v of d.values) {
    // Long byte strings: only their start is shown, so only that is written.
    const text = !(v instanceof Uint8Array)
      ? cut(pythonRepr(v as CborValue), full)
      : full || v.length <= 256
      ? bytesRepr(v)
      : `${bytesRepr(v.subarray(0, 64))}... (${v.length} bytes)`;
    out(`  cbor: ${text}`);
  }
}

async function decode(
  files: string[],
  json: boolean,
  full: boolean,
): Promise<number> {
  if (files.length > 2) {
    throw usage(
      `Cannot decode: unexpected argument ${JSON.stringify(files[2])}`,
    );
  }
  const names = files.length === 0 ? ["-"] : files;
  if (names.filter((n) => n === "-").length > 1) {
    throw usage("Cannot decode: stdin given twice");
  }
  for (const name of names) {
    const bytes = await readInput(name);
    const decoder = new CaptureDecoder();
    let label: string | null = null;
    let count = 0;
    try {
      for (const d of decoder.push(bytes)) {
        if (label === null) {
          label = d.frame.streamId % 2 === 1
            ? "client -> server"
            : "server -> client";
          if (!json) out(`== ${label} (${name === "-" ? "stdin" : name}) ==`);
        }
        printFrame(d, label, json, full);
        count++;
      }
      decoder.finish();
    } catch (e) {
      throw new CliError(
        `Cannot decode ${name === "-" ? "stdin" : name} after ${count} frame${
          count === 1 ? "" : "s"
        }: ${e instanceof Error ? e.message : String(e)}`,
        EXIT.INPUT,
        { cause: e },
      );
    }
    if (!json) {
      err(
        `ipc hg: ${name === "-" ? "stdin" : name}: ${count} frame${
          count === 1 ? "" : "s"
        }`,
      );
    }
  }
  return EXIT.OK;
}

/** Converts parsed JSON to Mercurial's CBOR subset. */
function toCbor(v: unknown): CborValue {
  if (
    v instanceof PyFloat || (typeof v === "number" && !Number.isInteger(v))
  ) {
    throw usage("Cannot send ARGS-JSON: Mercurial's CBOR has no floats");
  }
  if (v instanceof Tuple) return [...v.items].map(toCbor);
  if (v instanceof ByteArray) return v.bytes;
  if (v instanceof FrozenSet) {
    return new Set([...v.items].map(toCbor) as never[]);
  }
  if (v instanceof Set) return new Set([...v].map(toCbor) as never[]);
  if (Array.isArray(v)) return v.map(toCbor);
  if (v instanceof PyDict || v instanceof Map) {
    return new Map([...v].map(([k, x]) => [toCbor(k) as never, toCbor(x)]));
  }
  if (v !== null && typeof v === "object" && !(v instanceof Uint8Array)) {
    return new Map(Object.entries(v).map(([k, x]) => [k, toCbor(x)]));
  }
  return v as CborValue;
}

async function call(
  p: ParsedArgs,
  ctx: CommandContext,
): Promise<number> {
  const cmd = str(p, "stdio-cmd");
  const pos = p.positionals;
  const [addressText, name, argsText] = cmd === undefined
    ? pos
    : [undefined, ...pos];
  if (cmd === undefined) expectPositionals(p, 2, 3, "ADDRESS NAME");
  else expectPositionals(p, 1, 2, "NAME");
  let args: Map<string, CborValue> = new Map();
  if (argsText !== undefined) {
    let v: unknown;
    try {
      v = fromJson(argsText, "ARGS-JSON");
    } catch (e) {
      throw usage((e as Error).message);
    }
    const c = toCbor(v);
    if (!(c instanceof Map)) {
      throw usage("Cannot parse ARGS-JSON: expected a JSON object");
    }
    args = c as Map<string, CborValue>;
  }
  const encText = str(p, "encoding");
  const options: FramingClientOptions = {};
  if (encText !== undefined) {
    const list = encText === "none"
      ? null
      : encText.split(",").map((s) => s.trim());
    for (const e of list ?? []) {
      if (!STREAM_ENCODERS_ORDER.includes(e)) {
        throw usage(
          `Cannot use --encoding ${e}: expected ${
            STREAM_ENCODERS_ORDER.join(", ")
          }`,
        );
      }
    }
    options.contentEncodings = list;
  }
  const dataFile = str(p, "data-file");
  const data = dataFile === undefined ? undefined : await readInput(dataFile);
  const json = flag(p, "json");

  let client: FramingClient;
  let child: Deno.ChildProcess | null = null;
  if (cmd !== undefined) {
    try {
      child = new Deno.Command("sh", {
        args: ["-c", cmd],
        stdin: "piped",
        stdout: "piped",
        stderr: "inherit",
      }).spawn();
    } catch (e) {
      throw failed(`start ${cmd}`, e);
    }
    client = new FramingClient({
      readable: child.stdout,
      writable: child.stdin,
    }, options);
  } else {
    const address = parseAddress(addressText!);
    if (typeof address === "string" && address.startsWith("\0")) {
      throw usage("Cannot call: hgrpc over abstract sockets is not supported");
    }
    try {
      client = typeof address === "string"
        ? await connect({ transport: "unix", path: address }, options)
        : await connect({
          hostname: address.hostname ?? "127.0.0.1",
          port: address.port,
        }, options);
    } catch (e) {
      throw failed(`connect to ${addressText}`, e);
    }
  }
  let n = 0;
  try {
    for await (
      const v of client.call(name!, args, {
        signal: ctx.signal,
        ...(data === undefined ? {} : { data }),
      })
    ) {
      out(json ? toJson(v) : pythonRepr(v));
      n++;
    }
  } catch (e) {
    if (ctx.signal.aborted) throw interrupted(ctx.signal);
    if (e instanceof CommandError) {
      throw new CliError(
        `Cannot run ${name}: the server said: ${e.message}`,
        EXIT.FAILED,
        { cause: e },
      );
    }
    throw failed(`run ${name}`, e);
  } finally {
    // A server started here gets 2 s to exit once its stdin is closed, then
    // SIGTERM, then SIGKILL 2 s later (for one that ignores SIGTERM). The
    // clock starts before closing the client: closing waits for unsent
    // request bytes, which a server that does not read never takes.
    const c = child;
    const kill = (sig: Deno.Signal): void => {
      try {
        c?.kill(sig);
      } catch { /* exited */ }
    };
    const term = c ? setTimeout(() => kill("SIGTERM"), 2000) : undefined;
    const hard = c ? setTimeout(() => kill("SIGKILL"), 4000) : undefined;
    await client.close().catch(() => {});
    if (c) {
      const status = await c.status;
      clearTimeout(term);
      clearTimeout(hard);
      if (!status.success && !ctx.signal.aborted) {
        err(`ipc hg: ${cmd} exited with code ${status.code}`);
      }
    }
  }
  if (!json) err(`ipc hg: ${name}: ${n} object${n === 1 ? "" : "s"}`);
  return EXIT.OK;
}
