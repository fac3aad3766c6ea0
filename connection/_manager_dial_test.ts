// Copyright 2026 the @sidecar/ipc authors. MIT license.
import assert from "node:assert/strict";
import { authenticate, Connection, EOFError, ManagerClient } from "./mod.ts";

Deno.test("Dialer: a connection whose handshake ends after its request timed out is closed, not leaked", async () => {
  // A manager that accepts at once but answers the handshake only after
  // the client gave up on its request (controlTimeout).
  using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const client = new ManagerClient(listener.addr, {
    authkey: "k",
    controlTimeout: 100,
  });
  const timedOut = client.dummy();
  const socket = await listener.accept();
  await using server = new Connection(socket);
  await assert.rejects(timedOut, (e) => (e as Error).name === "TimeoutError");
  // Now the handshake completes: the client's side finishes in the
  // background and finds its request abandoned.
  const authkey = new TextEncoder().encode("k");
  await authenticate(server, "listener", { authkey });
  // It must close that connection: the server reads its end.
  await assert.rejects(
    server.recvBytes(undefined, { signal: AbortSignal.timeout(10_000) }),
    EOFError,
  );
  await client.close();
});
