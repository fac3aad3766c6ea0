// Copyright 2026 the @sidecar/ipc authors. MIT license.
/**
 * Interop against gunicorn 26.1.0's own dirty arbiter and workers, run
 * stand-alone from a local copy of gunicorn's source (`GUNICORN_SRC`, no
 * third-party packages needed) with `testdata/gunicorn_peer/`.
 */
import {
  GUNICORN_PEER_NAME,
  gunicornPeer,
} from "../_test_utils/dirty/gunicorn.ts";
import assert from "node:assert/strict";
import { waitFor } from "../_test_utils/wait.ts";
import { openFdCount, peerTest, tempDir } from "../_test_utils/peers.ts";
import { DirtyClient } from "./client.ts";
import {
  DirtyAppError,
  DirtyNoWorkersAvailableError,
  DirtyProtocolError,
  DirtyTimeoutError,
} from "./errors.ts";
import { encodeFrame } from "./message_encoders.ts";
import { StashClient } from "./stash_client.ts";
import { startFakeDirtyServer } from "../_test_utils/dirty/fake_server.ts";
import {
  checkAppError,
  checkStash,
  checkStreams,
} from "../_test_utils/dirty/client_checks.ts";
import { DirtyFloat } from "./dirty_float.ts";

const APP = "dirty_demo_app:DemoApp";
const runner =
  new URL("./testdata/gunicorn_peer/run_arbiter.py", import.meta.url).pathname;

/** Waits until the socket accepts connections (it exists before it listens). */
async function waitForSocket(path: string): Promise<void> {
  await waitFor(`gunicorn's dirty arbiter to listen on ${path}`, async () => {
    try {
      (await Deno.connect({ transport: "unix", path })).close();
      return true;
    } catch {
      return false;
    }
  });
}

peerTest(
  "interop: DirtyClient and StashClient against gunicorn 26.1.0's dirty arbiter",
  gunicornPeer(),
  GUNICORN_PEER_NAME,
  async (peer) => {
    const fdsBefore = openFdCount();
    await using dir = await tempDir();
    const sock = `${dir.path}/arbiter.sock`;
    const child = new Deno.Command(peer.python, {
      args: [
        "-S",
        runner,
        "--gunicorn",
        peer.src,
        "--timeout",
        "2",
        "--workers",
        "2",
        sock,
      ],
      env: { TMPDIR: dir.path },
      stdout: "null",
      stderr: "piped",
    }).spawn();
    let log = "";
    const stderr = child.stderr.pipeThrough(new TextDecoderStream()).pipeTo(
      new WritableStream({ write: (t) => void (log += t) }),
    );
    try {
      await waitForSocket(sock);
      await using client = new DirtyClient({
        socketPath: sock,
        timeout: 10_000,
      });
      // Workers may still be booting: the first call waits for them.
      assert.equal(await client.execute(APP, "add", [2, 3]), 5);
      assert.deepStrictEqual(
        await client.execute(APP, "echo", [
          1,
          "two",
          Uint8Array.of(3),
          2n ** 62n,
        ], { k: 4.5 }),
        { args: [1, "two", Uint8Array.of(3), 2n ** 62n], kwargs: { k: 4.5 } },
      );
      await using exact = new DirtyClient({
        socketPath: sock,
        decode: { dict: "map", float: "tagged" },
      });
      const types = await exact.execute(APP, "types") as Map<string, unknown>;
      assert.deepStrictEqual(types.get("float"), new DirtyFloat(1));
      assert.equal(types.get("int"), 1);
      assert.deepStrictEqual(
        await exact.execute(APP, "echo", [new DirtyFloat(2)]),
        new Map<string, unknown>([["args", [new DirtyFloat(2)]], [
          "kwargs",
          new Map(),
        ]]),
      );
      const fail = await checkAppError(client, APP);
      assert.match(fail.traceback ?? "", /ValueError: kaput/);
      await assert.rejects(
        () => client.execute(APP, "nope"),
        (e) =>
          e instanceof DirtyAppError && /Unknown action: nope/.test(e.message),
      );
      await assert.rejects(
        () => client.execute("x:Y", "f"),
        (e) =>
          e instanceof DirtyNoWorkersAvailableError &&
          /No workers available for app: x:Y/.test(e.message),
      );
      await assert.rejects(
        () => client.execute(APP, "big"),
        (e) =>
          e instanceof DirtyAppError &&
          /int too large to convert/.test(e.message),
      );
      await assert.rejects(
        () => client.execute(APP, "unsupported"),
        (e) =>
          e instanceof DirtyAppError &&
          /Unsupported type for TLV encoding: set/.test(e.message),
      );
      // Streams: chunks, a plain RESPONSE, an error mid-stream, an abandoned stream.
      await checkStreams(client, APP, {
        stream: "stream",
        long: ["stream_slow", [4, 0.2]],
        fail: "stream_fail",
        add: "add",
      });
      // Our deadline, then the arbiter's own (dirty_timeout = 2 s).
      await assert.rejects(
        () => client.execute(APP, "sleep", [1], {}, { timeout: 200 }),
        (e) =>
          e instanceof DirtyTimeoutError && /Timeout waiting/.test(e.message),
      );
      // gunicorn races two equal timers here: the arbiter's wait for the
      // worker ("Worker timeout") and the worker's own wait_for, which it
      // reports as a DirtyAppError. The arbiter's starts first and usually
      // wins; on a loaded machine the worker's answer can arrive first.
      const wt = await client.execute(APP, "sleep", [3]).then(
        () => assert.fail("a 3 s sleep under a 2 s dirty_timeout succeeded"),
        (e: unknown) => e,
      );
      if (wt instanceof DirtyTimeoutError) {
        assert.match(wt.message, /Worker timeout/);
        assert.equal(wt.timeout, 2);
      } else {
        assert.ok(wt instanceof DirtyAppError, String(wt));
        assert.match(wt.message, /Execution of .*\.sleep timed out/);
      }
      assert.deepStrictEqual(
        await Promise.all(
          Array.from(
            { length: 6 },
            (_, i) => client.execute(APP, "add", [i, 10]),
          ),
        ),
        [10, 11, 12, 13, 14, 15],
      );
      const status = await client.status() as {
        worker_count: number;
        apps: string[];
      };
      assert.deepStrictEqual(status.apps, [APP]);
      assert.ok(status.worker_count >= 1);
      const added = await client.manage({ add: 1 }) as Record<string, unknown>;
      assert.equal(added.operation, "add");
      // Stash, including gunicorn bug 1 (missing key answered by a generic error).
      await using stash = new StashClient({ client });
      await checkStash(stash);
      // A malformed frame makes the arbiter close the connection without a reply.
      const raw = await Deno.connect({ transport: "unix", path: sock });
      try {
        const bad = encodeFrame("request", 1n, { app_path: APP });
        bad[0] = 0x58;
        await raw.write(bad);
        assert.equal(await raw.read(new Uint8Array(16)), null);
      } finally {
        raw.close();
      }
      // A fresh connection dropped by the arbiter: a typed error at once.
      await using fresh = new DirtyClient({ socketPath: sock, timeout: 5_000 });
      await assert.rejects(
        () =>
          fresh.request(() => Uint8Array.of(0x58, 0x58, ...new Uint8Array(14))),
        (e) =>
          e instanceof DirtyProtocolError &&
          /Connection closed/.test(e.message),
      );
      // Connections that were open when the arbiter forked a worker (MANAGE
      // add above) are inherited by that worker, so when the arbiter drops
      // one, no EOF arrives: the call still ends, typed, at its deadline.
      const err = await client.request(
        () => Uint8Array.of(0x58, 0x58, ...new Uint8Array(14)),
        { timeout: 500 },
      ).then(() => null, (e) => e);
      assert.ok(
        err instanceof DirtyTimeoutError || err instanceof DirtyProtocolError,
        String(err),
      );
    } catch (e) {
      console.error(`gunicorn dirty arbiter log:\n${log}`);
      throw e;
    } finally {
      child.kill("SIGTERM");
      await child.status;
      await stderr.catch(() => {});
    }
    // The runtime releases closed resources asynchronously.
    await waitFor("the fds to be released", () => openFdCount() === fdsBefore);
  },
  { requiredInCi: false },
);

peerTest(
  "interop: gunicorn 26.1.0's Python DirtyClient and StashClient against our codec (fake arbiter)",
  gunicornPeer(),
  GUNICORN_PEER_NAME,
  async (peer) => {
    await using dir = await tempDir();
    await using server = startFakeDirtyServer(dir.path);
    const script =
      new URL("./testdata/gunicorn_peer/python_client.py", import.meta.url)
        .pathname;
    const out = await new Deno.Command(peer.python, {
      args: ["-S", script, server.path],
      env: { GUNICORN_SRC: peer.src },
      stdout: "piped",
      stderr: "piped",
    }).output();
    const stderr = new TextDecoder().decode(out.stderr);
    assert.ok(out.success, stderr);
    const r = JSON.parse(new TextDecoder().decode(out.stdout));
    assert.equal(r.add, 5);
    // Python values survive our decoder and encoder (int vs float, bytes, None, bool).
    assert.equal(
      r.echo,
      "{'args': [1, 2.5, 's', b'\\x00\\xff', None, True, [1.0]], 'kwargs': {'k': {'n': -7}}}",
    );
    assert.deepStrictEqual(r.fail, ["DirtyAppError", "kaput", [
      "action",
      "app_path",
      "traceback",
    ]]);
    assert.deepStrictEqual(r.missing, [
      "DirtyNoWorkersAvailableError",
      "No workers available for app: missing:App",
      "missing:App",
    ]);
    assert.deepStrictEqual(r.stream, ["tok0", "tok1", "tok2"]);
    assert.deepStrictEqual(r.stream_fail, ["DirtyAppError", "stream broke"]);
    assert.equal(r.replay, "[0.5, 1.0, 2]");
    assert.deepStrictEqual(r.stash_get, { name: "Alice" });
    assert.deepStrictEqual(r.stash_keys, ["user:1"]);
    assert.deepStrictEqual(r.stash_info, { size: 1, table: "sessions" });
    // gunicorn's own client shows bug 1 (our fake arbiter answers like gunicorn's).
    assert.deepStrictEqual(r.stash_missing, [
      "StashError",
      "Key not found: nope",
    ]);
    // Python's uuid-hashed request ids were echoed back unchanged.
    assert.ok(server.frames.length >= 10);
  },
  { requiredInCi: false },
);
