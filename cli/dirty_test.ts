// Copyright 2026 the @sidecar/ipc authors. MIT license.
import {
  GUNICORN_PEER_NAME,
  gunicornPeer,
} from "../_test_utils/dirty/gunicorn.ts";
import assert from "node:assert/strict";
import { peerTest, tempDir } from "../_test_utils/peers.ts";
import { type IpcResult, runIpc, spawnIpc } from "../_test_utils/cli_run.ts";
import { waitFor } from "../_test_utils/wait.ts";

const APP = "./cli/testdata/app.ts:TestApp";

Deno.test("ipc dirty against our arbiter started by ipc dirty serve", async (t) => {
  await using dir = await tempDir();
  const sock = `${dir.path}/arbiter.sock`;
  const server = spawnIpc([
    "dirty",
    "serve",
    "--app",
    APP,
    "--workers",
    "2",
    "--socket",
    sock,
  ]);
  try {
    assert.equal(await server.waitFor(/arbiter\.sock$/, "stdout"), sock);
    await server.waitFor(/2 worker\(s\) ready/, "stderr");

    await t.step("call prints the result as a Python repr", async () => {
      const r = await runIpc(["dirty", "call", sock, APP, "add", "2", "3"]);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout, "5\n");
    });

    await t.step(
      "call --json keeps strings, floats, bytes and dicts",
      async () => {
        const r = await runIpc([
          "dirty",
          "call",
          sock,
          APP,
          "echo",
          "hello",
          "1.5",
          '{"$bytes": "AAE="}',
          '[1, {"a": 2}]',
          "--json",
        ]);
        assert.equal(r.code, 0, r.stderr);
        assert.equal(r.stdout, '["hello",1.5,{"$bytes":"AAE="},[1,{"a":2}]]\n');
      },
    );

    await t.step("--kwargs become keyword arguments", async () => {
      const r = await runIpc([
        "dirty",
        "call",
        sock,
        APP,
        "scale",
        "7",
        "--kwargs",
        '{"by": 6}',
      ]);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout, "42\n");
    });

    await t.step("SIGINT during a slow call exits 130", async () => {
      const call = spawnIpc(["dirty", "call", sock, APP, "slow", "20000"]);
      await call.waitFor(/calling .* slow/, "stderr");
      call.kill("SIGINT");
      const r = await call.wait();
      assert.equal(r.code, 130, r.stderr);
      assert.match(r.stderr, /interrupted by SIGINT/);
    });

    await t.step("the socket comes from GUNICORN_DIRTY_SOCKET", async () => {
      const r = await runIpc(["dirty", "call", APP, "add", "1", "1"], {
        env: { GUNICORN_DIRTY_SOCKET: sock },
      });
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout, "2\n");
    });

    await t.step("stream prints one chunk per line", async () => {
      const r = await runIpc(["dirty", "stream", sock, APP, "count", "3"]);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout, "'tok0'\n'tok1'\n'tok2'\n");
      assert.match(r.stderr, /stream ended after 3 chunks/);
    });

    await t.step(
      "an app error exits 1 in one line; --verbose adds the remote traceback",
      async () => {
        const r = await runIpc(["dirty", "call", sock, APP, "fail", "boom"]);
        assert.equal(r.code, 1);
        assert.match(
          r.stderr,
          /^ipc dirty: Cannot call \S+ fail: DirtyAppError: boom \(--verbose shows the app's traceback\)$/m,
        );
        assert.doesNotMatch(r.stderr, /TestApp\.fail|^\s+at /m);
        for (
          const args of [
            ["dirty", "call", sock, APP, "fail", "boom", "--verbose"],
            ["--verbose", "dirty", "call", sock, APP, "fail", "boom"],
          ]
        ) {
          const v = await runIpc(args);
          assert.equal(v.code, 1);
          assert.match(v.stderr, /DirtyAppError: boom/);
          assert.match(v.stderr, /TestApp\.fail/);
        }
      },
    );

    await t.step("an unknown action exits 1 with no stack trace", async () => {
      const r = await runIpc(["dirty", "call", sock, APP, "_private"]);
      assert.equal(r.code, 1);
      assert.match(r.stderr, /Unknown action: _private/);
      // Before: the worker's stack (at resolveAction ... dirty/app.ts).
      assert.doesNotMatch(r.stderr, /^\s+at |app\.ts:\d+/m);
    });

    await t.step("status shows the workers", async () => {
      const r = await runIpc(["dirty", "status", sock]);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /^arbiter pid \d+, 2 worker\(s\), target 2$/m);
      assert.equal(
        r.stdout.match(/worker pid \d+ age \d+ booted True/g)?.length,
        2,
      );
      const j = await runIpc(["dirty", "status", sock, "--json"]);
      const status = JSON.parse(j.stdout);
      assert.equal(status.worker_count, 2);
      assert.deepEqual(status.apps, [APP]);
    });

    await t.step("scale +1 and -1", async () => {
      const up = await runIpc(["dirty", "scale", sock, "+1", "--json"]);
      assert.equal(up.code, 0, up.stderr);
      assert.equal(JSON.parse(up.stdout).target_workers, 3);
      const down = await runIpc(["dirty", "scale", sock, "-1", "--json"]);
      assert.equal(down.code, 0, down.stderr);
      assert.equal(JSON.parse(down.stdout).target_workers, 2);
    });

    await t.step("stash put, get, keys, info, delete, tables", async () => {
      const put = await runIpc([
        "dirty",
        "stash",
        sock,
        "put",
        "sessions",
        "alice",
        '{"seen": 3}',
      ]);
      assert.equal(put.code, 0, put.stderr);
      const get = await runIpc([
        "dirty",
        "stash",
        sock,
        "get",
        "sessions",
        "alice",
      ]);
      assert.equal(get.stdout, "{'seen': 3}\n");
      const keys = await runIpc([
        "dirty",
        "stash",
        sock,
        "keys",
        "sessions",
        "a*",
        "--json",
      ]);
      assert.equal(keys.stdout, '["alice"]\n');
      const info = await runIpc(["dirty", "stash", sock, "info", "sessions"]);
      assert.equal(info.stdout, "{'size': 1, 'table': 'sessions'}\n");
      const tables = await runIpc(
        ["dirty", "stash", sock, "tables", "--json"],
        {},
      );
      assert.deepEqual(JSON.parse(tables.stdout), ["sessions"]);
      const del = await runIpc([
        "dirty",
        "stash",
        sock,
        "delete",
        "sessions",
        "alice",
      ]);
      assert.equal(del.stdout, "True\n");
      const missing = await runIpc([
        "dirty",
        "stash",
        sock,
        "get",
        "sessions",
        "alice",
      ]);
      assert.equal(missing.code, 1);
      assert.match(missing.stderr, /no such key/);
    });

    await t.step("usage errors exit 2", async () => {
      for (
        const args of [
          ["dirty", "scale", sock, "3"],
          ["dirty", "scale", sock, "+0"],
          ["dirty", "call", sock, APP],
          ["dirty", "call", sock, APP, "add", "--kwargs", "[1]"],
          ["dirty", "stash", sock, "put", "t", "k"],
          ["dirty", "stash", sock, "frobnicate", "t"],
          ["dirty", "launch"],
          ["dirty", "call", sock, APP, "echo", '{"$set": [1]}'],
        ]
      ) {
        const r = await runIpc(args);
        assert.equal(r.code, 2, `${args.join(" ")}: ${r.stderr}`);
        assert.match(r.stderr, /^ipc dirty: Cannot /);
      }
    });
  } finally {
    server.kill("SIGINT");
    const r = await server.wait();
    // Stopped by a signal: 130, as the help says (it exited 0).
    assert.equal(r.code, 130, r.stderr);
    assert.match(r.stderr, /stopping \(SIGINT\)/);
  }
  await assert.rejects(Deno.lstat(sock), Deno.errors.NotFound);
});

Deno.test("ipc dirty without an arbiter exits 1, without a socket exits 2", async () => {
  await using dir = await tempDir();
  const r = await runIpc(["dirty", "status", `${dir.path}/none.sock`]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /Cannot get the arbiter status/);
  const u = await runIpc(["dirty", "call", APP, "add", "1", "2"], {
    env: { GUNICORN_DIRTY_SOCKET: "" },
  });
  assert.equal(u.code, 2);
  assert.match(u.stderr, /give SOCKET or set GUNICORN_DIRTY_SOCKET/);
});

Deno.test("ipc dirty serve: SIGINT while workers boot removes the socket", async () => {
  await using dir = await tempDir();
  const sock = `${dir.path}/boot.sock`;
  const server = spawnIpc(["dirty", "serve", "--app", APP, "--socket", sock]);
  await server.waitFor(/boot\.sock$/, "stdout");
  server.kill("SIGINT");
  const r = await server.wait();
  assert.equal(r.code, 130, r.stderr);
  await assert.rejects(Deno.lstat(sock), Deno.errors.NotFound);
});

Deno.test("ipc dirty serve: SIGTERM once the workers are ready exits 130 and removes the socket", async () => {
  await using dir = await tempDir();
  const sock = `${dir.path}/term.sock`;
  const server = spawnIpc(["dirty", "serve", "--app", APP, "--socket", sock]);
  await server.waitFor(/worker\(s\) ready/, "stderr");
  server.kill("SIGTERM");
  const r = await server.wait();
  assert.equal(r.code, 130, r.stderr);
  assert.match(r.stderr, /stopping \(SIGTERM\)/);
  await assert.rejects(Deno.lstat(sock), Deno.errors.NotFound);
});

Deno.test("ipc dirty serve: an --app that does not load fails at once, in one line, exit 1", async () => {
  const r = await runIpc(["dirty", "serve", "--app", "./nonexistent.ts:App"]);
  // Before: workers respawned forever, a stack trace each time.
  assert.equal(r.code, 1, r.stderr);
  assert.equal(r.stdout, "");
  assert.equal(
    r.stderr,
    'ipc dirty: Cannot serve ./nonexistent.ts:App: Dirty app not found: ./nonexistent.ts:App (Module not found "' +
      new URL("../nonexistent.ts", import.meta.url).href + '".)\n',
  );
  const noExport = await runIpc([
    "dirty",
    "serve",
    "--app",
    "./cli/testdata/app.ts:NoSuchApp",
  ]);
  assert.equal(noExport.code, 1);
  assert.match(
    noExport.stderr,
    /^ipc dirty: Cannot serve .*no export NoSuchApp\)\n$/,
  );
  const malformed = await runIpc(["dirty", "serve", "--app", "no-colon"]);
  assert.equal(malformed.code, 2);
  assert.match(
    malformed.stderr,
    /^ipc dirty: Cannot serve no-colon: Invalid import path format/,
  );
  // --verbose (before or after the command) shows the stack and the cause.
  for (
    const args of [
      ["--verbose", "dirty", "serve", "--app", "./nonexistent.ts:App"],
      ["dirty", "serve", "--app", "./nonexistent.ts:App", "--verbose"],
    ]
  ) {
    const v = await runIpc(args);
    assert.equal(v.code, 1);
    assert.match(v.stderr, /^\s+at .*importAppClass/m);
    assert.match(v.stderr, /Caused by: TypeError: Module not found/);
  }
});

Deno.test("ipc dirty serve: an app whose workers fail to boot stops it with exit 1, no stack trace", async () => {
  const r = await runIpc([
    "dirty",
    "serve",
    "--app",
    "./cli/testdata/app.ts:BrokenApp",
  ]);
  assert.equal(r.code, 1, r.stderr);
  assert.match(
    r.stderr,
    /^ipc dirty: Cannot serve: Dirty worker \d+ failed to boot: .*BrokenApp: Failed to instantiate .*: cannot open the model file$/m,
  );
  assert.doesNotMatch(r.stderr, /^\s+at /m);
  // The arbiter did not respawn it.
  assert.equal(r.stderr.match(/Spawned dirty worker/g)?.length, 1);
  const v = await runIpc([
    "dirty",
    "serve",
    "--app",
    "./cli/testdata/app.ts:BrokenApp",
    "--verbose",
  ]);
  assert.equal(v.code, 1);
  assert.match(v.stderr, /^\s+at new BrokenApp /m);
});

Deno.test("ipc dirty serve refuses an existing socket path and a missing --app", async () => {
  await using dir = await tempDir();
  const path = `${dir.path}/taken.sock`;
  await Deno.writeTextFile(path, "");
  const r = await runIpc(["dirty", "serve", "--app", APP, "--socket", path]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /the path exists/);
  assert.equal(await Deno.readTextFile(path), "");
  const n = await runIpc(["dirty", "serve"]);
  assert.equal(n.code, 2);
  assert.match(n.stderr, /--app/);
});

Deno.test("ipc dirty --help exits 0", async () => {
  const r = await runIpc(["dirty", "--help"]);
  assert.equal(r.code, 0);
  assert.match(r.stdout, /ipc dirty stream/);
});

peerTest(
  "ipc dirty against gunicorn 26.1.0's own dirty arbiter",
  gunicornPeer(),
  GUNICORN_PEER_NAME,
  async (peer) => {
    await using dir = await tempDir();
    const sock = `${dir.path}/gunicorn.sock`;
    const runner = new URL(
      "../dirty/testdata/gunicorn_peer/run_arbiter.py",
      import.meta.url,
    ).pathname;
    const child = new Deno.Command(peer.python, {
      args: ["-S", runner, "--timeout", "10", "--workers", "1", sock],
      env: { GUNICORN_SRC: peer.src, TMPDIR: dir.path },
      stdout: "null",
      stderr: "null",
    }).spawn();
    try {
      const app = "dirty_demo_app:DemoApp";
      // The first calls wait for the socket and the worker to come up.
      let r!: IpcResult;
      await waitFor("gunicorn's arbiter to answer", async () => {
        r = await runIpc(["dirty", "call", sock, app, "add", "2", "3"]);
        return r.code === 0;
      }).catch(() => {});
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout, "5\n");
      const types = await runIpc(["dirty", "call", sock, app, "types"]);
      assert.equal(
        types.stdout,
        "{'int': 1, 'float': 1.0, 'big': 4611686018427387904, 'neg': -5, " +
          "'bytes': b'\\x00\\xff', 'none': None, 'list': [True, False], " +
          "'nested': {'a': [1.5]}}\n",
      );
      const echo = await runIpc([
        "dirty",
        "call",
        sock,
        app,
        "echo",
        "2.0",
        "--kwargs",
        '{"k": "v"}',
        "--json",
      ]);
      assert.equal(echo.stdout, '{"args":[2.0],"kwargs":{"k":"v"}}\n');
      const stream = await runIpc([
        "dirty",
        "stream",
        sock,
        app,
        "stream",
        "3",
      ]);
      assert.equal(stream.stdout, "'tok0'\n'tok1'\n'tok2'\n");
      const broken = await runIpc([
        "dirty",
        "stream",
        sock,
        app,
        "stream_fail",
        "1",
      ]);
      assert.equal(broken.code, 1);
      assert.equal(broken.stdout, "'tok0'\n");
      assert.match(broken.stderr, /stream broke/);
      const fail = await runIpc(["dirty", "call", sock, app, "fail", "kaput"]);
      assert.equal(fail.code, 1);
      assert.match(fail.stderr, /DirtyAppError: kaput \(--verbose/);
      assert.doesNotMatch(fail.stderr, /Traceback|ValueError/);
      const verbose = await runIpc([
        "dirty",
        "call",
        sock,
        app,
        "fail",
        "kaput",
        "--verbose",
      ]);
      assert.equal(verbose.code, 1);
      assert.match(verbose.stderr, /ValueError: kaput/);
      // gunicorn's worker sends a traceback for an unknown action too.
      const unknown = await runIpc(["dirty", "call", sock, app, "nope"]);
      assert.equal(unknown.code, 1);
      assert.match(unknown.stderr, /Unknown action: nope/);
      assert.doesNotMatch(unknown.stderr, /Traceback|File "/);
      const status = await runIpc(["dirty", "status", sock, "--json"]);
      assert.equal(JSON.parse(status.stdout).worker_count, 1);
      const put = await runIpc([
        "dirty",
        "stash",
        sock,
        "put",
        "t",
        "k",
        "[1, 2.5]",
      ]);
      assert.equal(put.code, 0, put.stderr);
      const get = await runIpc(["dirty", "stash", sock, "get", "t", "k"]);
      assert.equal(get.stdout, "[1, 2.5]\n");
    } finally {
      child.kill("SIGTERM");
      await child.status;
    }
  },
  { requiredInCi: false },
);
