// Copyright 2026 the @sidecar/ipc authors. MIT license.
import assert from "node:assert/strict";
import { ClientSession, type SessionHost } from "./_arbiter_client.ts";
import type { RequestOwner, WorkerPool } from "./_worker_pool.ts";
import { encodeRequest, encodeResponse } from "./message_encoders.ts";

/**
 * A connection that reads `chunks` in turn, then waits until it is
 * closed (then reads the end); what is written is kept.
 */
function fakeConn(chunks: Uint8Array[]): {
  conn: Deno.UnixConn;
  written: Uint8Array[];
} {
  const written: Uint8Array[] = [];
  let closed: (() => void) | null = null;
  const end = new Promise<void>((r) => (closed = r));
  const conn = {
    async read(p: Uint8Array): Promise<number | null> {
      const c = chunks.shift();
      if (c === undefined) {
        await end;
        return null;
      }
      p.set(c);
      return c.length;
    },
    write(p: Uint8Array): Promise<number> {
      written.push(p.slice());
      return Promise.resolve(p.length);
    },
    close() {
      closed?.();
    },
  } as unknown as Deno.UnixConn;
  return { conn, written };
}

Deno.test("client session: every idle() wait ends when the running request does", async () => {
  const submitted: { data: RequestOwner }[] = [];
  const pool = {
    request: (_app: string, _action: string, owner: RequestOwner) => ({
      data: owner,
      refusal: null,
    }),
    submit: (r: { data: RequestOwner }) => void submitted.push(r),
    cancel: () => {},
  } as unknown as WorkerPool;
  const host: SessionHost = {
    pool,
    log: () => {},
    pauseSize: 1 << 20,
    maxBufferSize: 1 << 24,
    answer: () => new Uint8Array(0),
    closing: false,
  };
  const { conn } = fakeConn([encodeRequest(5n, "m:C", "run")]);
  const session = new ClientSession(conn, host);
  const running = session.run();
  while (submitted.length === 0) await new Promise((r) => setTimeout(r, 1));
  // Two waits at once (the arbiter's close() and the session's own drain
  // can both wait): both end.
  let ended = 0;
  const waits = [session.idle(), session.idle()].map((p) =>
    p.then(() => ended++)
  );
  submitted[0]!.data.forward(encodeResponse(5n, "done"), true);
  let timer: ReturnType<typeof setTimeout> | undefined;
  await Promise.race([
    Promise.all(waits),
    new Promise((r) => (timer = setTimeout(r, 2000))),
  ]);
  clearTimeout(timer);
  assert.equal(ended, 2);
  session.close();
  await running;
});
