// Copyright 2026 the @sidecar/ipc authors. MIT license.
/**
 * A `DirtyClient` and an arbiter that is not there yet, or restarted: the
 * `retry` option waits for a socket that appears late, a pooled connection
 * the arbiter closed while it was idle is replaced (the request is sent
 * once more only when none of it went out), and what no wait can fix
 * (a missing permission, a protocol error) fails at once.
 */
import assert from "node:assert/strict";
import { APP, quiet } from "../_test_utils/dirty/apps.ts";
import { startFakeDirtyServer } from "../_test_utils/dirty/fake_server.ts";
import { tempDir } from "../_test_utils/peers.ts";
import { startArbiter } from "./arbiter.ts";
import { DirtyClient } from "./client.ts";
import { DirtyConnectionError, DirtyProtocolError } from "./errors.ts";

const FAKE_APP = "m:C";

Deno.test("DirtyClient retry: the first call reaches an arbiter whose socket appears 400 ms after the call began", async () => {
  await using dir = await tempDir();
  const path = `${dir.path}/arbiter.sock`;
  // Without retry: fails at once, as before.
  {
    await using client = new DirtyClient({ socketPath: path });
    await assert.rejects(
      client.execute(FAKE_APP, "add", [1, 1]),
      (e) =>
        e instanceof DirtyConnectionError &&
        /Failed to connect to dirty arbiter/.test(e.message) &&
        (e.cause as Error).name === "NotFound",
    );
  }
  let server: ReturnType<typeof startFakeDirtyServer> | undefined;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let retries = 0;
  try {
    await using client = new DirtyClient({
      socketPath: path,
      retry: {
        timeout: 30_000,
        minDelay: 20,
        onRetry: () => {
          // Nobody there yet; the arbiter comes up 400 ms later.
          if (retries++ === 0) {
            timer = setTimeout(
              () => (server = startFakeDirtyServer(dir.path)),
              400,
            );
          }
        },
      },
    });
    assert.equal(await client.execute(FAKE_APP, "add", [2, 3]), 5);
    assert.ok(retries >= 1);
    assert.ok(server !== undefined);
  } finally {
    clearTimeout(timer);
    await server?.[Symbol.asyncDispose]();
  }
});

Deno.test("DirtyClient retry: the call's own timeout ends the wait", async () => {
  await using dir = await tempDir();
  await using client = new DirtyClient({
    socketPath: `${dir.path}/never.sock`,
    retry: { timeout: Infinity, minDelay: 10 },
  });
  await assert.rejects(
    client.execute(FAKE_APP, "add", [1], {}, { timeout: 100 }),
    (e) => (e as Error).name === "DirtyTimeoutError",
  );
});

Deno.test("DirtyClient: the first call after an arbiter restart succeeds on a new connection", async () => {
  await using dir = await tempDir();
  const socketPath = `${dir.path}/arbiter.sock`;
  const options = { apps: [APP], workers: 1, socketPath, log: quiet };
  let arbiter = await startArbiter(options);
  await using client = new DirtyClient({ socketPath, timeout: 20_000 });
  try {
    assert.equal(await client.execute(APP, "add", [2, 3]), 5);
    assert.equal(client.connections, 1); // idle in the pool
    await arbiter.close(); // closes the idle connection
    arbiter = await startArbiter(options);
    // Before: "Communication error: Broken pipe (os error 32)".
    assert.equal(await client.execute(APP, "add", [4, 5]), 9);
    assert.equal(client.connections, 1);
  } finally {
    await arbiter.close();
  }
});

Deno.test("DirtyClient: a request the arbiter received is never sent twice, even on a reused connection", async () => {
  await using dir = await tempDir();
  await using server = startFakeDirtyServer(dir.path);
  await using client = new DirtyClient({
    socketPath: server.path,
    maxConnections: 1,
    retry: true,
  });
  assert.equal(await client.execute(FAKE_APP, "add", [1, 2]), 3);
  // The arbiter reads the request, then closes without an answer.
  await assert.rejects(
    client.execute(FAKE_APP, "close"),
    DirtyProtocolError,
  );
  // The arbiter answers garbage: a protocol error, not retried either.
  await assert.rejects(client.execute(FAKE_APP, "garbage"), DirtyProtocolError);
  const actions = server.frames.filter((f) => f.type === "request").map((f) =>
    (f.payload as Map<string, unknown>).get("action")
  );
  assert.deepEqual(actions, ["add", "close", "garbage"]);
});

Deno.test("DirtyClient retry: a missing permission is not retried", async () => {
  await using dir = await tempDir();
  const url = new URL("./client.ts", import.meta.url).href;
  await Deno.writeTextFile(
    `${dir.path}/no_perm.ts`,
    `import { DirtyClient } from ${JSON.stringify(url)};
let retries = 0;
const client = new DirtyClient({
  socketPath: ${JSON.stringify(`${dir.path}/arbiter.sock`)},
  retry: { timeout: 60_000, onRetry: () => retries++ },
});
try {
  await client.execute("m:C", "add", [1]);
  console.log("answered");
} catch (e) {
  console.log(e.name, retries);
}
await client.close();
`,
  );
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--no-prompt",
      "--no-config",
      `--allow-read=${new URL("..", import.meta.url).pathname},${dir.path}`,
      `${dir.path}/no_perm.ts`,
    ],
    env: { DENO_NO_UPDATE_CHECK: "1", NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(
    new TextDecoder().decode(out.stdout).trim(),
    "NotCapable 0",
    new TextDecoder().decode(out.stderr),
  );
});
