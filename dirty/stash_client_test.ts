// Copyright 2026 the @sidecar/ipc authors. MIT license.
import assert from "node:assert/strict";
import { waitFor } from "../_test_utils/wait.ts";
import { openFdCount, tempDir } from "../_test_utils/peers.ts";
import { startFakeDirtyServer } from "../_test_utils/dirty/fake_server.ts";
import { DirtyClient } from "./client.ts";
import { StashError, StashTableNotFoundError } from "./errors.ts";
import { parseFrame } from "./message.ts";
import { StashClient } from "./stash_client.ts";

Deno.test("stash: the ten operations against a gunicorn-like arbiter", async () => {
  const before = openFdCount();
  {
    await using dir = await tempDir();
    await using server = startFakeDirtyServer(dir.path);
    await using stash = new StashClient({ socketPath: server.path });
    await stash.put("sessions", "user:1", { name: "Alice" });
    await stash.put("sessions", "user:2", { name: "Bob" });
    await stash.put("sessions", "admin", 1);
    assert.deepStrictEqual(await stash.get("sessions", "user:1"), {
      name: "Alice",
    });
    // gunicorn bug 1: the arbiter answers a missing key with a generic DirtyError;
    // the default is returned anyway.
    assert.equal(await stash.get("sessions", "nope", "DEFAULT"), "DEFAULT");
    assert.equal(await stash.get("no-table", "nope"), undefined);
    assert.deepStrictEqual(await stash.keys("sessions"), [
      "user:1",
      "user:2",
      "admin",
    ]);
    assert.deepStrictEqual(await stash.keys("sessions", "user:*"), [
      "user:1",
      "user:2",
    ]);
    assert.deepStrictEqual(await stash.keys("sessions", "user:[!1]"), [
      "user:2",
    ]);
    assert.deepStrictEqual(await stash.keys("missing"), []);
    assert.equal(await stash.exists("sessions"), true);
    assert.equal(await stash.exists("sessions", "admin"), true);
    assert.equal(await stash.exists("sessions", "ghost"), false);
    assert.equal(await stash.exists("missing"), false);
    assert.deepStrictEqual(await stash.info("sessions"), {
      size: 3,
      table: "sessions",
    });
    await assert.rejects(
      () => stash.info("missing"),
      (e) =>
        e instanceof StashTableNotFoundError &&
        /Stash table not found: missing/.test(e.message),
    );
    assert.equal(await stash.delete("sessions", "admin"), true);
    assert.equal(await stash.delete("sessions", "admin"), false);
    await stash.ensure("cache");
    assert.deepStrictEqual(await stash.tables(), ["sessions", "cache"]);
    await stash.clear("sessions");
    assert.deepStrictEqual(await stash.info("sessions"), {
      size: 0,
      table: "sessions",
    });
    assert.equal(await stash.deleteTable("cache"), true);
    assert.equal(await stash.deleteTable("cache"), false);
    // Non-string keys and a None value (sent as an absent field).
    await stash.put("t", 7, null);
    assert.equal(await stash.get("t", 7, "dflt"), null);
    const put = server.frames.map(parseFrame).findLast((m) =>
      m.type === "stash"
    );
    assert.ok(put?.type === "stash" && put.hasKey && put.value === null);
  }
  // The runtime releases closed resources asynchronously.
  await waitFor("the fds to be released", () => openFdCount() === before);
});

Deno.test("stash: the Map-like table view", async () => {
  await using dir = await tempDir();
  await using server = startFakeDirtyServer(dir.path);
  await using client = new DirtyClient({ socketPath: server.path });
  const stash = new StashClient({ client });
  const t = stash.table("sessions");
  assert.equal(await t.size(), 0);
  assert.equal(await t.set("a", 1), t);
  await t.set("b", [1, 2]);
  assert.equal(await t.get("a"), 1);
  assert.equal(await t.get("zzz"), undefined);
  assert.equal(await t.has("b"), true);
  assert.equal(await t.size(), 2);
  assert.deepStrictEqual(await Array.fromAsync(t), [["a", 1], ["b", [1, 2]]]);
  assert.deepStrictEqual(await Array.fromAsync(t.values()), [1, [1, 2]]);
  assert.deepStrictEqual(await t.keys("a*"), ["a"]);
  assert.equal(await t.delete("a"), true);
  await t.clear();
  assert.equal(await t.size(), 0);
  // Closing the stash client leaves a shared DirtyClient open.
  stash.close();
  assert.equal(await client.execute("fake:App", "add", [1, 2]), 3);
});

Deno.test("stash: other server errors become StashError; unknown op text kept", async () => {
  await using dir = await tempDir();
  await using server = startFakeDirtyServer(dir.path);
  await using client = new DirtyClient({ socketPath: server.path });
  const { encodeStash } = await import("./message_encoders.ts");
  const err = await (() => client.request((id) => encodeStash(id, 99, "t")))()
    .then(
      () => assert.fail("expected a rejection"),
      (e: unknown) => e,
    );
  assert.ok(err instanceof Error, String(err));
  assert.equal(err.message, "Unknown stash operation: 99");
  const stash = new StashClient({ client });
  // A GET error that is not "Key not found" is not swallowed.
  await stash.put("t", "k", 1);
  await assert.rejects(
    () => stash.get("t", [1]),
    (e) => e instanceof StashError && /unhashable type: 'list'/.test(e.message),
  );
});
