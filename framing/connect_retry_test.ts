// Copyright 2026 the @sidecar/ipc authors. MIT license.
/**
 * `connect({ ..., retry })` waits for a server that starts late (a sidecar
 * still booting), over TCP and Unix sockets, and gives up at once on what
 * no wait can fix (a missing permission).
 */
import assert from "node:assert/strict";
import { connect, type FramingServer, serve } from "./mod.ts";
import { tempDir } from "../_test_utils/peers.ts";

const HANDLERS = {
  *hello() {
    yield "hi";
  },
};

/** A TCP port nobody listens on (bound once, then released). */
function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

/**
 * Starts the server 400 ms after the client's first attempt failed (the
 * sidecar starts late), and returns what the client saw.
 */
async function lateServer(
  connecting: (onRetry: () => void) => Promise<
    { call(name: string): AsyncIterable<unknown>; close(): Promise<void> }
  >,
  start: () => FramingServer,
): Promise<{ retries: number; answer: unknown[] }> {
  let server: FramingServer | undefined;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let retries = 0;
  try {
    const c = await connecting(() => {
      // The client found nobody listening; the server comes up later.
      if (retries++ === 0) timer = setTimeout(() => (server = start()), 400);
    });
    assert.ok(server !== undefined, "connected only once the server started");
    const answer: unknown[] = [];
    for await (const v of c.call("hello")) {
      answer.push(new TextDecoder().decode(v as Uint8Array));
    }
    await c.close();
    return { retries, answer };
  } finally {
    clearTimeout(timer);
    await server?.close();
  }
}

Deno.test("framing connect: retry reaches a TCP server that starts listening 400 ms later", async () => {
  const port = freePort();
  // Without retry it fails at once (what the client did before).
  await assert.rejects(connect({ port }), Deno.errors.ConnectionRefused);
  const r = await lateServer(
    (onRetry) =>
      connect({ port, retry: { timeout: 30_000, minDelay: 20, onRetry } }),
    () => serve({ hostname: "127.0.0.1", port }, HANDLERS),
  );
  assert.ok(r.retries >= 1);
  assert.deepEqual(r.answer, ["hi"]);
});

Deno.test("framing connect: retry waits for a Unix socket that does not exist yet", async () => {
  await using dir = await tempDir();
  const path = `${dir.path}/late.sock`;
  await assert.rejects(
    connect({ transport: "unix", path }),
    Deno.errors.NotFound,
  );
  const r = await lateServer(
    (onRetry) =>
      connect({
        transport: "unix",
        path,
        retry: { timeout: 30_000, minDelay: 20, onRetry },
      }),
    () => serve({ transport: "unix", path }, HANDLERS),
  );
  assert.ok(r.retries >= 1);
  assert.deepEqual(r.answer, ["hi"]);
});

Deno.test("framing connect: the budget ends the wait with the connect error; the signal ends it with its reason", async () => {
  const port = freePort();
  await assert.rejects(
    connect({ port, retry: { timeout: 50, minDelay: 10 } }),
    Deno.errors.ConnectionRefused,
  );
  const stop = new AbortController();
  await assert.rejects(
    connect({
      port,
      retry: {
        timeout: Infinity,
        signal: stop.signal,
        onRetry: (e) => {
          if (e.attempt === 2) stop.abort(new Error("shutting down"));
        },
      },
    }),
    /shutting down/,
  );
});

Deno.test("framing connect: a missing permission is not retried", async () => {
  // A child without --allow-net: NotCapable at once, no retry.
  await using dir = await tempDir();
  const url = new URL("./connect.ts", import.meta.url).href;
  await Deno.writeTextFile(
    `${dir.path}/no_net.ts`,
    `import { connect } from ${JSON.stringify(url)};
let retries = 0;
try {
  await connect({ port: 9, retry: { timeout: 60_000, onRetry: () => retries++ } });
  console.log("connected");
} catch (e) {
  console.log(e.name, retries);
}
`,
  );
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--no-prompt",
      "--no-config",
      `--allow-read=${new URL("..", import.meta.url).pathname},${dir.path}`,
      `${dir.path}/no_net.ts`,
    ],
    env: { DENO_NO_UPDATE_CHECK: "1", NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(out.stdout).trim();
  assert.equal(text, "NotCapable 0", new TextDecoder().decode(out.stderr));
});
