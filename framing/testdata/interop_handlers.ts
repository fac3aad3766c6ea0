// Copyright 2026 the @sidecar/ipc authors. MIT license.
// Command handlers shared by the interop tests and stdio_server.ts.
import { createHash } from "node:crypto";
import {
  type CborValue,
  CommandError,
  type CommandHandler,
  encodeCbor,
  EncodedResponse,
  IndefiniteBytes,
} from "../mod.ts";

/** Deterministic test data, the same as hg_client.py's testdata(). */
export function testData(n: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = (i * 7 + 3) % 251;
  return out;
}

/** Handlers mirroring hg_server.py's canned commands. */
export const HANDLERS: Record<string, CommandHandler> = {
  *echo(args, ctx) {
    yield new Map<string, CborValue>([
      ["command", ctx.command],
      ["args", args],
      ["data", ctx.data],
    ]);
  },
  *big(args) {
    yield new Uint8Array(Number(args.get("size"))).fill(0x78);
  },
  *many(args) {
    for (let i = 0; i < Number(args.get("count")); i++) yield i;
  },
  *chunks() {
    yield new IndefiniteBytes([
      new Uint8Array(10).fill(0x61),
      new Uint8Array(40000).fill(0x62),
      new Uint8Array(1).fill(0x63),
    ]);
  },
  // Yields nothing: Mercurial's server would send no frames at all.
  *empty() {},
  *encoded() {
    yield new EncodedResponse(encodeCbor({ pre: "encoded" }));
  },
  *digest(_args, ctx) {
    const data = ctx.data ?? new Uint8Array(0);
    yield {
      size: data.length,
      sha1: createHash("sha1").update(data).digest("hex"),
    };
  },
  cmderror() {
    throw new CommandError("bad thing: %s", ["oops"]);
  },
  servererror() {
    throw new Error("server broke");
  },
  // A large response streamed in pieces by an async generator: 2 MiB in 64 KiB objects.
  async *stream(args) {
    const n = Number(args.get("pieces") ?? 32);
    for (let i = 0; i < n; i++) {
      await Promise.resolve();
      yield testData(65536);
    }
  },
};
