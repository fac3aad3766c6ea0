// Copyright 2026 the @sidecar/ipc authors. MIT license.
/**
 * DirtyClient and StashClient against the Deno dirty arbiter of this
 * module (`arbiter.ts`), with real worker processes.
 */
import assert from "node:assert/strict";
import { waitFor } from "../_test_utils/wait.ts";
import { APP, ECHO, quiet } from "../_test_utils/dirty/apps.ts";
import { openFdCount } from "../_test_utils/peers.ts";
import {
  checkAppError,
  checkStash,
  checkStreams,
} from "../_test_utils/dirty/client_checks.ts";
import { startArbiter } from "./arbiter.ts";
import { DirtyClient } from "./client.ts";
import { DirtyNoWorkersAvailableError, DirtyTimeoutError } from "./errors.ts";
import { StashClient } from "./stash_client.ts";
import { DirtyFloat } from "./dirty_float.ts";
import type { TlvDecodeOptions } from "./tlv.ts";

const EXACT = `${ECHO}:ExactEchoApp`;
const BAD_FLOATS = `${ECHO}:BadFloatsApp`;

/** Our arbiter, ready, and a DirtyClient on it; disposing closes both. */
async function arbiterAndClient(
  apps: string[],
  workers: number,
  decode?: TlvDecodeOptions,
): Promise<{ client: DirtyClient } & AsyncDisposable> {
  const arb = await startArbiter({
    apps,
    workers,
    timeout: 20_000,
    log: quiet,
  });
  await arb.ready();
  const client = new DirtyClient({
    socketPath: arb.socketPath,
    timeout: 10_000,
    ...(decode ? { decode } : {}),
  });
  return {
    client,
    async [Symbol.asyncDispose]() {
      await client[Symbol.asyncDispose]();
      await arb.close();
    },
  };
}

Deno.test("client+arbiter: calls, streams, abandoned streams, timeouts, stash, status, manage", async () => {
  const fds = openFdCount();
  {
    await using up = await arbiterAndClient([APP], 2);
    const { client } = up;
    assert.equal(await client.execute(APP, "add", [2, 3]), 5);
    assert.deepStrictEqual(
      await client.execute(APP, "echo", [
        1,
        "two",
        Uint8Array.of(3),
        null,
        2n ** 62n,
      ]),
      [1, "two", Uint8Array.of(3), null, 2n ** 62n],
    );
    assert.equal(await client.execute(APP, "kw", [2], { scale: 5 }), 10);
    await checkAppError(client, APP);
    await assert.rejects(
      () => client.execute("nope:App", "x"),
      DirtyNoWorkersAvailableError,
    );
    // Streams: generator, async generator, error mid-stream, plain value.
    await checkStreams(client, APP, {
      stream: "stream",
      long: ["stream", [50]],
      fail: "streamFail",
      add: "add",
    });
    assert.deepStrictEqual(
      await Array.fromAsync(client.stream(APP, "astream", [2])),
      [{ i: 0 }, { i: 1 }],
    );
    // Our deadline ends a slow call; the pool carries on.
    await assert.rejects(
      () => client.execute(APP, "sleep", [2000], {}, { timeout: 100 }),
      DirtyTimeoutError,
    );
    const many = await Promise.all(
      Array.from(
        { length: 12 },
        (_, i) => client.execute(APP, "add", [i, 100]),
      ),
    );
    assert.deepStrictEqual(many, Array.from({ length: 12 }, (_, i) => i + 100));
    const status = await client.status() as {
      apps: string[];
      worker_count: number;
    };
    assert.deepStrictEqual(status.apps, [APP]);
    assert.equal(status.worker_count, 2);
    const managed = await client.manage({ add: 1 }) as { operation: string };
    assert.equal(managed.operation, "add");
    await using stash = new StashClient({ client });
    await checkStash(stash);
  }
  // The runtime releases closed resources asynchronously.
  await waitFor("the fds to be released", () => openFdCount() === fds);
});

Deno.test("client+arbiter: 1.0 comes back as a float and 1 as an int, nested too", async () => {
  const f = (x: number) => new DirtyFloat(x);
  await using up = await arbiterAndClient([APP, EXACT], 1, {
    dict: "map",
    float: "tagged",
  });
  const { client } = up;
  const nested = [f(1), 1, [f(1), 1, 2.5], {
    f: f(1),
    i: 1,
    deep: [{ x: f(-3) }],
  }];
  const asMaps = [
    f(1),
    1,
    [f(1), 1, 2.5],
    new Map<string, unknown>([
      ["f", f(1)],
      ["i", 1],
      ["deep", [new Map([["x", f(-3)]])]],
    ]),
  ];
  // "tagged" app: every value keeps its type.
  assert.deepStrictEqual(
    await client.execute(EXACT, "echo", [...nested, -0]),
    [...asMaps, -0],
  );
  assert.deepStrictEqual(await client.execute(EXACT, "double", [2]), f(4));
  // Default app: lists and dicts passed through keep their types, from the
  // app's state too; a bare top-level number is a plain number.
  assert.deepStrictEqual(
    await client.execute(APP, "echo", nested),
    [1, ...asMaps.slice(1)],
  );
  assert.deepStrictEqual(
    await client.execute(APP, "probe", [2], { scale: f(1) }),
    new Map<string, unknown>([["args", [2]], [
      "kwargs",
      new Map([["scale", f(1)]]),
    ]]),
  );
  await client.execute(APP, "keep", [{ a: [f(1), 2] }]);
  assert.deepStrictEqual(
    await client.execute(APP, "recall"),
    new Map([["a", [f(1), 2]]]),
  );
  // A slot the app changed is encoded from its new number.
  assert.deepStrictEqual(
    await client.execute(APP, "bump", [{ n: f(1), m: f(1) }]),
    new Map<string, unknown>([["n", 2], ["m", f(1)]]),
  );
  assert.deepStrictEqual(
    await Array.fromAsync(client.stream(APP, "each", [[[f(1), 1], f(1)]])),
    [[f(1), 1], 1],
  );
  // Computed numbers follow the codec's rule.
  assert.equal(await client.execute(APP, "add", [f(1), f(2)]), 3);
});

Deno.test("client+arbiter: an app with an unknown floats mode fails to boot", async () => {
  await using arb = await startArbiter({
    apps: [BAD_FLOATS],
    workers: 1,
    backoff: { initial: 5000, max: 5000 },
    log: quiet,
  });
  await using client = new DirtyClient({ socketPath: arb.socketPath });
  const e = await (() => client.execute(BAD_FLOATS, "hello"))().then(
    () => assert.fail("expected a rejection"),
    (e: unknown) => e,
  );
  assert.ok(e instanceof DirtyNoWorkersAvailableError, String(e));
  assert.match(
    String(e.details.reason),
    /static floats must be "number" or "tagged", got "exact"/,
  );
});
