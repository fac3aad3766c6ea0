// Copyright 2026 the @sidecar/ipc authors. MIT license.
/**
 * Demo step 3: an hgrpc server and client (Mercurial's frame protocol)
 * over a Unix socket, responses compressed with zstd; the bytes the client
 * received are decoded again to show the frames on the wire.
 *
 * @module
 */
import {
  type CborValue,
  FramingClient,
  pythonRepr,
  serve,
} from "../framing/mod.ts";
import { CaptureDecoder } from "../cli/hg_decode.ts";

/** Runs the step; returns a reason when it has to be skipped. */
export async function framingStep(): Promise<string | void> {
  console.log("== framing: hgrpc over a Unix socket, zstd-compressed ==");
  for (const name of ["read", "write"] as const) {
    if ((await Deno.permissions.query({ name })).state !== "granted") {
      return `needs --allow-${name} for the Unix socket`;
    }
  }
  const dir = await Deno.makeTempDir({ prefix: "ipc-demo-" });
  const path = `${dir}/hgrpc.sock`;
  try {
    await using _server = serve({ transport: "unix", path }, {
      // A command streaming objects back, as Mercurial's commands do.
      *log(args) {
        const n = Number(args.get("limit") ?? 3);
        for (let rev = n - 1; rev >= 0; rev--) {
          yield {
            rev,
            node: "0123456789abcdef".repeat(2).slice(rev, rev + 12),
            desc: `change ${rev}: ${"lorem ipsum ".repeat(20)}`,
          };
        }
      },
    });
    console.log(`  server listening on ${path}`);
    // Keep a copy of what the server sends, to show the frames below.
    const captured: Uint8Array[] = [];
    const conn = await Deno.connect({ transport: "unix", path });
    const tap = new TransformStream<Uint8Array, Uint8Array>({
      transform(chunk, controller) {
        captured.push(chunk.slice());
        controller.enqueue(chunk);
      },
    });
    const client = new FramingClient({
      readable: conn.readable.pipeThrough(tap),
      writable: conn.writable,
    }, { contentEncodings: ["zstd-8mb", "identity"] });
    const entries: CborValue[] = [];
    for await (const entry of client.call("log", { limit: 3 })) {
      entries.push(entry);
      const m = entry as Map<string, CborValue>;
      console.log(
        `  log -> rev ${m.get("rev")} node ${pythonRepr(m.get("node")!)}`,
      );
    }
    await client.close();
    if (entries.length !== 3) {
      throw new Error("Cannot run the framing step: entries are missing");
    }
    const decoder = new CaptureDecoder();
    let wire = 0;
    let plain = 0;
    let encoding: string | null = null;
    for (const chunk of captured) {
      for (const d of decoder.push(chunk)) {
        wire += d.frame.payload.length;
        plain += d.payload.length;
        if (d.encoding) encoding = d.encoding;
        console.log(`  wire: ${d.human.slice(0, 72)}...`);
      }
    }
    decoder.finish();
    console.log(
      `  response payloads: ${wire} bytes on the wire, ${plain} after ${encoding}`,
    );
    if (encoding !== "zstd-8mb") {
      throw new Error("Cannot run the framing step: zstd was not used");
    }
  } finally {
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}
