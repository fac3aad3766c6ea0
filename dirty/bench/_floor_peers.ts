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

/** Copies `from` to `to` until `from` ends. */
async function pump(from: Deno.Conn, to: Deno.Conn): Promise<void> {
  const buf = new Uint8Array(64 * 1024);
  try {
    for (;;) {
      const n = await from.read(buf);
      if (n === null) break;
      let off = 0;
      while (off < n) off += await to.write(buf.subarray(off, n));
    }
  } catch {
    // The other side went away.
  }
  try {
    to.close();
  } catch {
    // Already closed.
  }
}

const ECHO_THREAD = `
const listener = Deno.listen({ transport: "unix", path: PATH });
postMessage("ready");
for await (const conn of listener) {
  (async () => {
    const buf = new Uint8Array(64 * 1024);
    try {
      for (;;) {
        const n = await conn.read(buf);
        if (n === null) break;
        let off = 0;
        while (off < n) off += await conn.write(buf.subarray(off, n));
      }
    } catch { /* gone */ }
    try { conn.close(); } catch { /* closed */ }
  })();
}
`;

const [mode, path, up] = Deno.args;
if (mode === "echo" && path) {
  // The echo runs in a Web Worker, as a dirty worker's app code does.
  const code = ECHO_THREAD.replace("PATH", JSON.stringify(path));
  const worker = new Worker(
    `data:application/javascript,${encodeURIComponent(code)}`,
    { type: "module" },
  );
  worker.onmessage = () => console.log("ready");
} else if (mode === "relay" && path && up) {
  // One connection to each echo server per client; the client's reads go
  // to them in turn (one read is one request: a caller waits for each
  // answer), as an arbiter's round robin over its workers.
  const ups = Deno.args.slice(2);
  const listener = Deno.listen({ transport: "unix", path });
  console.log("ready");
  for await (const conn of listener) {
    const upstreams = await Promise.all(
      ups.map((p) => Deno.connect({ transport: "unix", path: p })),
    );
    for (const u of upstreams) void pump(u, conn);
    void (async () => {
      const buf = new Uint8Array(64 * 1024);
      let next = 0;
      try {
        for (;;) {
          const n = await conn.read(buf);
          if (n === null) break;
          const to = upstreams[next]!;
          next = (next + 1) % upstreams.length;
          let off = 0;
          while (off < n) off += await to.write(buf.subarray(off, n));
        }
      } catch {
        // The client went away.
      }
      for (const u of upstreams) u.close();
    })();
  }
} else {
  console.error(
    "usage: _floor_peers.ts echo <socket> | relay <socket> <echo socket>...",
  );
  Deno.exit(2);
}
