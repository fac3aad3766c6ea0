// Copyright 2026 the @sidecar/ipc authors. MIT license.
/**
 * The raw Deno floor of a dirty arbiter round trip, for
 * `arbiter_compare.ts`: the same processes, threads and socket hops as
 * client -> arbiter -> worker's app thread -> arbiter -> client, with no
 * protocol at all (bytes are passed on as read), and the relay's round
 * robin over one echo process per worker.
 *
 * ```sh
 * deno run -A dirty/bench/_floor_peers.ts echo <socket>   # echo, in a Web Worker
 * deno run -A dirty/bench/_floor_peers.ts relay <socket> <echo socket>...
 * ```
 *
 * Each prints `ready` once it listens.
 *
 * @module
 */

/**
 * Copies what `from` reads to `targets`, each read to the next target in
 * turn (one read is one request: a caller waits for each answer), until
 * `from` ends; then closes the targets.
 */
async function pump(from: Deno.Conn, targets: Deno.Conn[]): Promise<void> {
  const buf = new Uint8Array(64 * 1024);
  let next = 0;
  try {
    for (;;) {
      const n = await from.read(buf);
      if (n === null) break;
      const to = targets[next]!;
      next = (next + 1) % targets.length;
      let off = 0;
      while (off < n) off += await to.write(buf.subarray(off, n));
    }
  } catch {
    // The other side went away.
  }
  for (const to of targets) {
    try {
      to.close();
    } catch {
      // Already closed.
    }
  }
}

/** This module run as the echo's Web Worker: its name is `echo:<socket>`. */
const workerName = String((globalThis as { name?: unknown }).name ?? "");
const [mode, path, up] = Deno.args;
if (workerName.startsWith("echo:")) {
  const listener = Deno.listen({
    transport: "unix",
    path: workerName.slice(5),
  });
  (globalThis as unknown as { postMessage(m: string): void }).postMessage(
    "ready",
  );
  for await (const conn of listener) void pump(conn, [conn]);
} else if (mode === "echo" && path) {
  // The echo runs in a Web Worker, as a dirty worker's app code does.
  const worker = new Worker(import.meta.url, {
    type: "module",
    name: `echo:${path}`,
  });
  worker.onmessage = () => console.log("ready");
} else if (mode === "relay" && path && up) {
  // One connection to each echo server per client, used in turn, as an
  // arbiter's round robin over its workers.
  const ups = Deno.args.slice(2);
  const listener = Deno.listen({ transport: "unix", path });
  console.log("ready");
  for await (const conn of listener) {
    const upstreams = await Promise.all(
      ups.map((p) => Deno.connect({ transport: "unix", path: p })),
    );
    for (const u of upstreams) void pump(u, [conn]);
    void pump(conn, upstreams);
  }
} else {
  console.error(
    "usage: _floor_peers.ts echo <socket> | relay <socket> <echo socket>...",
  );
  Deno.exit(2);
}
