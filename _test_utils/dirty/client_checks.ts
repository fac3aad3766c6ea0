// Copyright 2026 the @sidecar/ipc authors. MIT license.
/**
 * Client scenarios the dirty tests run against both arbiters, ours and
 * gunicorn 26.1.0's, so that both are held to the very same checks.
 *
 * @module
 */
import assert from "node:assert/strict";
import type { DirtyClient } from "../../dirty/client.ts";
import { DirtyAppError, StashTableNotFoundError } from "../../dirty/errors.ts";
import type { StashClient } from "../../dirty/stash_client.ts";
import type { DirtyInput } from "../../dirty/tlv.ts";

/** The app's action names (they differ between our test app and gunicorn's). */
export interface StreamActions {
  /** Yields `tok0`…`tok<n-1>` for `[n]`. */
  stream: string;
  /** Yields `tok0`, `tok1`, … for `args`, long enough to be abandoned. */
  long: [string, DirtyInput[]];
  /** Yields `tok0`…`tok<n-1>` for `[n]`, then throws "stream broke". */
  fail: string;
  /** Returns `a + b` (a plain RESPONSE, not a stream). */
  add: string;
}

/**
 * Streams: chunks, a plain RESPONSE read as one item, an error after two
 * chunks, and an abandoned stream after which the client still works.
 */
export async function checkStreams(
  client: DirtyClient,
  app: string,
  a: StreamActions,
): Promise<void> {
  assert.deepStrictEqual(
    await Array.fromAsync(client.stream(app, a.stream, [3])),
    ["tok0", "tok1", "tok2"],
  );
  assert.deepStrictEqual(
    await Array.fromAsync(client.stream(app, a.add, [40, 2])),
    [42],
  );
  const chunks: unknown[] = [];
  await assert.rejects(async () => {
    for await (const c of client.stream(app, a.fail, [2])) chunks.push(c);
  }, (e) => e instanceof DirtyAppError && /stream broke/.test(e.message));
  assert.deepStrictEqual(chunks, ["tok0", "tok1"]);
  let seen = 0;
  for await (const c of client.stream(app, a.long[0], a.long[1])) {
    assert.equal(c, "tok0");
    seen++;
    break;
  }
  assert.equal(seen, 1, "the abandoned stream yielded nothing");
  assert.equal(await client.execute(app, a.add, [1, 1]), 2);
}

/**
 * An app exception (`fail("kaput")`) arrives as a DirtyAppError naming the
 * app and action; returns it for more checks.
 */
export async function checkAppError(
  client: DirtyClient,
  app: string,
): Promise<DirtyAppError> {
  const fail = await (() => client.execute(app, "fail", ["kaput"]))().then(
    () => assert.fail("expected a rejection"),
    (e: unknown) => e,
  );
  assert.ok(fail instanceof DirtyAppError, String(fail));
  assert.deepStrictEqual([fail.message, fail.appPath, fail.action], [
    "kaput",
    app,
    "fail",
  ]);
  return fail;
}

/**
 * Stash: put, get, a missing key's default, keys by pattern, a missing
 * table's typed error, a table view (set, size, iteration), delete.
 */
export async function checkStash(stash: StashClient): Promise<void> {
  await stash.put("sessions", "user:1", { name: "Alice" });
  assert.deepStrictEqual(await stash.get("sessions", "user:1"), {
    name: "Alice",
  });
  assert.equal(await stash.get("sessions", "nope", "DEFAULT"), "DEFAULT");
  assert.deepStrictEqual(await stash.keys("sessions", "user:*"), ["user:1"]);
  await assert.rejects(() => stash.info("missing"), StashTableNotFoundError);
  const table = stash.table("sessions");
  await table.set("user:2", 2);
  assert.equal(await table.size(), 2);
  assert.deepStrictEqual(await Array.fromAsync(table), [
    ["user:1", { name: "Alice" }],
    ["user:2", 2],
  ]);
  assert.equal(await stash.deleteTable("sessions"), true);
}
