// Copyright 2026 the @sidecar/ipc authors. MIT license.
/**
 * The `ipc` command line: one Deno command to talk to, and debug, the
 * four protocols of this package from a shell, like gunicorn's `gunicornc`
 * or Mercurial's `hg debugwireproto`.
 *
 * ```sh
 * deno run -A jsr:@sidecar/ipc/cli mp connect 127.0.0.1:6000 --authkey secret
 * deno run -A jsr:@sidecar/ipc/cli hg decode requests.bin responses.bin
 * deno run -A jsr:@sidecar/ipc/cli hg call --stdio-cmd "python3 server.py" heads
 * deno run -A jsr:@sidecar/ipc/cli dirty serve --app ./app.ts:App --workers 2
 * deno run -A jsr:@sidecar/ipc/cli dirty stream "$SOCK" ./app.ts:App tokens 5
 * deno run -A jsr:@sidecar/ipc/cli session receive /tmp/sessions.sock
 * ```
 *
 * | command | what it does |
 * | --- | --- |
 * | `ipc mp listen\|connect ADDRESS` | a `multiprocessing.connection` session: JSON lines in, Python values out |
 * | `ipc hg decode [FILE\|-] [FILE2]` | captured hgrpc frames in Mercurial's human form, decompressed, CBOR decoded |
 * | `ipc hg call ADDRESS\|--stdio-cmd CMD NAME [ARGS]` | one command against an hgrpc server |
 * | `ipc dirty call\|stream\|stash\|status\|scale` | gunicorn's (or our) dirty arbiter |
 * | `ipc dirty serve --app M:E` | our dirty arbiter |
 * | `ipc session forward\|receive SOCKET` | TCP connections handed between processes (BIND 10 socket sessions) |
 *
 * Every command takes `--help`, `--json` and `--verbose` (errors are one
 * line unless `--verbose` asks for their stack traces and causes, and the
 * remote tracebacks of dirty apps). Exit codes: 0 ok, 1 failed, 2 usage, 3
 * authentication, 4 malformed input, 130 interrupted (SIGINT or SIGTERM, for
 * every command that runs until stopped). Values
 * print as Python `repr()`s, or with `--json` as JSON that keeps Python's
 * types ({@linkcode toJson}); stdin lines and arguments are read the same
 * way ({@linkcode fromJson}).
 *
 * Permissions: `-A` covers everything; `session` needs `--allow-ffi`
 * (full trust), `dirty serve` needs `--allow-run` for its workers. Needs
 * Deno 2.9.0 or later.
 *
 * ```ts
 * import { fromJson, repr, toJson } from "@sidecar/ipc/cli";
 * import assert from "node:assert/strict";
 *
 * const value = fromJson('{"$tuple": [1, 2.0, {"$bytes": "AP8="}]}');
 * assert.equal(repr(value), "(1, 2.0, b'\\x00\\xff')");
 * assert.equal(toJson(value), '{"$tuple":[1,2.0,{"$bytes":"AP8="}]}');
 * ```
 *
 * @module
 */
export { fromJson, repr, toJson } from "./_render.ts";
export {
  CaptureDecoder,
  type CapturedFrame,
  type DecodedFrame,
} from "./hg_decode.ts";
export { main } from "./main.ts";

if (import.meta.main) {
  const { runMain } = await import("./main.ts");
  await runMain(Deno.args);
}
