// Copyright 2026 the @sidecar/ipc authors. MIT license.
import assert from "node:assert/strict";
import { findPython, peerTest, tempDir, which } from "../_test_utils/peers.ts";
import { runIpc, spawnIpc } from "../_test_utils/cli_run.ts";

const ECHO_LISTENER = `
import sys
from multiprocessing.connection import Listener
with Listener(('127.0.0.1', 0), authkey=b'secret') as l:
    print(l.address[1], flush=True)
    try:
        c = l.accept()
    except Exception as e:
        print('refused', type(e).__name__, flush=True)
        sys.exit(0)
    with c:
        while True:
            try:
                o = c.recv_bytes() if '--bytes' in sys.argv else c.recv()
            except EOFError:
                break
            if '--bytes' in sys.argv:
                c.send_bytes(o[::-1])
            else:
                c.send(('echo', o))
            if o == 'bye':
                break
`;

async function startEcho(python: string, ...args: string[]) {
  const child = new Deno.Command(python, {
    args: ["-c", ECHO_LISTENER, ...args],
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  while (!text.includes("\n")) {
    const { value, done } = await reader.read();
    if (done) throw new Error("Cannot start the Python listener");
    text += value;
  }
  return {
    port: Number(text.trim()),
    async finish(): Promise<string> {
      let rest = text.slice(text.indexOf("\n") + 1);
      while (true) {
        const { value, done } = await reader.read();
        if (done) break;
        rest += value;
      }
      await child.stderr.cancel();
      const status = await child.status;
      assert.equal(status.code, 0, "the Python listener failed");
      return rest;
    },
  };
}

const py313 = findPython("3.13");
const py311 = findPython("3.11");

for (const [label, python] of [["3.13", py313], ["3.11", py311]] as const) {
  peerTest(
    `ipc mp connect exchanges pickled objects with CPython ${label}`,
    python,
    `python${label}`,
    async (py) => {
      const echo = await startEcho(py.path);
      const r = await runIpc(
        ["mp", "connect", `127.0.0.1:${echo.port}`, "--authkey", "secret"],
        {
          stdin: [
            "1",
            "2.0",
            "123456789012345678901234567890",
            '{"$tuple": [1, "a", {"$bytes": "AAE="}]}',
            '{"$set": [1]}',
            '{"$dict": [[1, "one"]]}',
            '{"a": [null, true, -0.0]}',
            '"bye"',
          ].join("\n"),
        },
      );
      await echo.finish();
      assert.equal(r.code, 0, r.stderr);
      assert.deepEqual(r.stdout.trim().split("\n"), [
        "('echo', 1)",
        "('echo', 2.0)",
        "('echo', 123456789012345678901234567890)",
        "('echo', (1, 'a', b'\\x00\\x01'))",
        "('echo', {1})",
        "('echo', {1: 'one'})",
        "('echo', {'a': [None, True, -0.0]})",
        "('echo', 'bye')",
      ]);
      assert.match(r.stderr, /session ended after 8 messages/);
      // Progress is for terminals only: nothing of it in a pipe.
      assert.doesNotMatch(r.stderr, /\r|sent, \d+ received/);
    },
  );
}

peerTest(
  "ipc mp connect --json renders Python values faithfully",
  py313,
  "python3.13",
  async (py) => {
    const echo = await startEcho(py.path);
    const r = await runIpc(
      [
        "mp",
        "connect",
        `127.0.0.1:${echo.port}`,
        "--authkey-env",
        "KEY",
        "--json",
      ],
      {
        env: { KEY: "secret" },
        stdin:
          '1.5\n{"$frozenset": [2]}\n{"$bytearray": "/w=="}\n{"$float": "nan"}\n18446744073709551616\n"bye"\n',
      },
    );
    await echo.finish();
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(r.stdout.trim().split("\n"), [
      '{"$tuple":["echo",1.5]}',
      '{"$tuple":["echo",{"$frozenset":[2]}]}',
      '{"$tuple":["echo",{"$bytearray":"/w=="}]}',
      '{"$tuple":["echo",{"$float":"nan"}]}',
      '{"$tuple":["echo",18446744073709551616]}',
      '{"$tuple":["echo","bye"]}',
    ]);
  },
);

peerTest(
  "ipc mp connect --bytes sends and receives raw messages",
  py313,
  "python3.13",
  async (py) => {
    const echo = await startEcho(py.path, "--bytes");
    const r = await runIpc(
      [
        "mp",
        "connect",
        String(echo.port),
        "--authkey",
        "secret",
        "--bytes",
        "--count",
        "2",
      ],
      { stdin: '"abc"\n{"$bytes": "AAEC"}\n' },
    );
    await echo.finish();
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(r.stdout.trim().split("\n"), [
      "b'cba'",
      "b'\\x02\\x01\\x00'",
    ]);
  },
);

peerTest(
  "ipc mp listen serves a CPython Client over a Unix socket",
  py313,
  "python3.13",
  async (py) => {
    await using dir = await tempDir();
    const path = `${dir.path}/mp.sock`;
    await using ipc = spawnIpc([
      "mp",
      "listen",
      path,
      "--authkey",
      "k",
      "--json",
    ]);
    await ipc.waitFor(/listening on/, "stderr");
    await ipc.write('{"$tuple": ["from", "deno", 1.0]}\n');
    const client = await new Deno.Command(py.path, {
      args: [
        "-c",
        `
from multiprocessing.connection import Client
with Client(${JSON.stringify(path)}, authkey=b'k') as c:
    print(repr(c.recv()))
    c.send((1, b'\\xff', {2: 3.0}, frozenset({4}), 2**70, bytearray(b'x')))
`,
      ],
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.equal(client.code, 0, new TextDecoder().decode(client.stderr));
    assert.equal(
      new TextDecoder().decode(client.stdout).trim(),
      "('from', 'deno', 1.0)",
    );
    const r = await ipc.wait();
    assert.equal(r.code, 0, r.stderr);
    assert.equal(
      r.stdout.trim(),
      '{"$tuple":[1,{"$bytes":"/w=="},{"$dict":[[2,3.0]]},{"$frozenset":[4]},1180591620717411303424,{"$bytearray":"eA=="}]}',
    );
    await assert.rejects(Deno.lstat(path), Deno.errors.NotFound);
  },
);

peerTest(
  "ipc mp listen --count 1 sends every stdin line even when the client speaks first",
  py313,
  "python3.13",
  async (py) => {
    // The client sends first, then waits for a line that reaches stdin only
    // after its message was received: the session must not end (and close)
    // at the received message while stdin may still bring lines (it did,
    // and the line was dropped with exit 0).
    await using dir = await tempDir();
    const path = `${dir.path}/count.sock`;
    await using ipc = spawnIpc(["mp", "listen", path, "--count", "1"]);
    await ipc.waitFor(/listening on/, "stderr");
    const client = new Deno.Command(py.path, {
      args: [
        "-c",
        `
from multiprocessing.connection import Client
with Client(${JSON.stringify(path)}) as c:
    c.send('question')
    print(c.recv())
`,
      ],
      stdout: "piped",
      stderr: "piped",
    }).output();
    await ipc.waitFor(/^'question'$/, "stdout");
    await ipc.write('"reply"\n');
    await ipc.closeStdin();
    const done = await client;
    assert.equal(done.code, 0, new TextDecoder().decode(done.stderr));
    assert.equal(new TextDecoder().decode(done.stdout), "reply\n");
    const r = await ipc.wait();
    assert.equal(r.code, 0, r.stderr);
  },
);

peerTest(
  "ipc mp listen refuses a client with a wrong key, reports it, and serves the next",
  py313,
  "python3.13",
  async (py) => {
    await using dir = await tempDir();
    const path = `${dir.path}/keys.sock`;
    await using ipc = spawnIpc(
      ["mp", "listen", path, "--authkey", "good", "--count", "1"],
    );
    await ipc.waitFor(/listening on/, "stderr");
    const client = (key: string) =>
      new Deno.Command(py.path, {
        args: [
          "-c",
          `
from multiprocessing.connection import Client
with Client(${JSON.stringify(path)}, authkey=b'${key}') as c:
    c.send('hello')
`,
        ],
        stdout: "piped",
        stderr: "piped",
      }).output();
    const bad = await client("bad");
    assert.notEqual(bad.code, 0);
    assert.match(new TextDecoder().decode(bad.stderr), /AuthenticationError/);
    await ipc.waitFor(/refused a client/, "stderr");
    const good = await client("good");
    assert.equal(good.code, 0, new TextDecoder().decode(good.stderr));
    const r = await ipc.wait();
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.trim(), "'hello'");
  },
);

peerTest(
  "ipc mp listen on a Linux abstract address (@name)",
  py313,
  "python3.13",
  async (py) => {
    const name = `ipc-cli-test-${crypto.randomUUID()}`;
    await using ipc = spawnIpc(["mp", "listen", `@${name}`, "--count", "1"]);
    await ipc.waitFor(/listening on @/, "stderr");
    await ipc.write('"hi"\n');
    const client = await new Deno.Command(py.path, {
      args: [
        "-c",
        `
from multiprocessing.connection import Client
with Client('\\0${name}') as c:
    print(c.recv())
    c.send_bytes(b'x')
`,
      ],
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.equal(client.code, 0, new TextDecoder().decode(client.stderr));
    assert.equal(new TextDecoder().decode(client.stdout), "hi\n");
    const r = await ipc.wait();
    // send_bytes(b'x') is not a pickle: malformed input, exit 4.
    assert.equal(r.code, 4, r.stderr);
    assert.match(r.stderr, /accepted a client/);
    assert.match(r.stderr, /Cannot receive: Cannot unpickle/);
  },
);

const SCRIPT = which("script");

peerTest(
  "ipc mp shows progress on a terminal (under script(1))",
  py313 && SCRIPT ? { py: py313, script: SCRIPT } : null,
  "python3.13 and script(1)",
  async ({ py, script }) => {
    await using dir = await tempDir();
    await Deno.writeTextFile(`${dir.path}/in.txt`, '1\n"bye"\n');
    const echo = await startEcho(py.path);
    const main = new URL("./main.ts", import.meta.url).pathname;
    // script(1) gives the command a terminal on stdout and stderr.
    const out = await new Deno.Command(script, {
      args: [
        "-qec",
        `"${Deno.execPath()}" run -A --quiet "${main}" mp connect 127.0.0.1:${echo.port} --authkey secret < "${dir.path}/in.txt"`,
        "/dev/null",
      ],
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).output();
    await echo.finish();
    const text = new TextDecoder().decode(out.stdout);
    assert.equal(out.code, 0, text);
    assert.ok(text.includes("\r\x1b[Kipc mp: 2 sent, 1 received"), text);
    assert.match(text, /\('echo', 'bye'\)/);
  },
);

peerTest(
  "ipc mp connect with a wrong key exits 3",
  py313,
  "python3.13",
  async (py) => {
    const echo = await startEcho(py.path);
    const r = await runIpc([
      "mp",
      "connect",
      `127.0.0.1:${echo.port}`,
      "--authkey",
      "wrong",
    ]);
    assert.match(await echo.finish(), /refused AuthenticationError/);
    assert.equal(r.code, 3);
    assert.match(r.stderr, /authentication failed/);
  },
);

Deno.test("ipc mp rejects bad addresses and options with exit 2", async () => {
  for (
    const args of [
      ["mp", "connect", "host:99999"],
      ["mp", "connect", "no-port-here"],
      ["mp", "connect", "127.0.0.1:1", "--digest", "crc32"],
      ["mp", "connect", "127.0.0.1:1", "--authkey-env", "IPC_TEST_UNSET_VAR"],
      ["mp", "connect", "127.0.0.1:1", "--bytes", "--pickle"],
      ["mp", "dial", "127.0.0.1:1"],
      ["mp", "connect", "127.0.0.1:1", "--nope"],
    ]
  ) {
    const r = await runIpc(args);
    assert.equal(r.code, 2, `${args.join(" ")}: ${r.stderr}`);
    assert.match(r.stderr, /^ipc mp: Cannot /);
  }
});

Deno.test("ipc mp connect to a closed port exits 1", async () => {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = l.addr.port;
  l.close();
  const r = await runIpc(["mp", "connect", `127.0.0.1:${port}`]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /Cannot connect to 127\.0\.0\.1:\d+/);
});

Deno.test("ipc mp exits 4 on a malformed stdin line", async () => {
  await using dir = await tempDir();
  const path = `${dir.path}/bad.sock`;
  await using listener = spawnIpc(["mp", "listen", path]);
  await listener.waitFor(/listening on/, "stderr");
  const r = await runIpc(["mp", "connect", path], {
    stdin: '1\n{"unterminated": \n',
  });
  assert.equal(r.code, 4, r.stderr);
  assert.match(r.stderr, /Cannot parse stdin line 2/);
  const l = await listener.wait();
  assert.equal(l.code, 0, l.stderr);
  assert.equal(l.stdout.trim(), "1");
  await assert.rejects(Deno.lstat(path), Deno.errors.NotFound);
});

Deno.test("ipc mp listen: SIGINT while waiting removes the socket file", async () => {
  await using dir = await tempDir();
  const path = `${dir.path}/int.sock`;
  const ipc = spawnIpc(["mp", "listen", path]);
  await ipc.waitFor(/listening on/, "stderr");
  assert.ok((await Deno.lstat(path)).isSocket);
  ipc.kill("SIGINT");
  const r = await ipc.wait();
  assert.equal(r.code, 130, r.stderr);
  assert.match(r.stderr, /interrupted/);
  await assert.rejects(Deno.lstat(path), Deno.errors.NotFound);
});

Deno.test("ipc mp: SIGINT mid-session closes and removes the socket file", async () => {
  await using dir = await tempDir();
  const path = `${dir.path}/mid.sock`;
  const listener = spawnIpc(["mp", "listen", path]);
  await listener.waitFor(/listening on/, "stderr");
  const client = spawnIpc(["mp", "connect", path]);
  await client.waitFor(/connected/, "stderr");
  await client.write("[1, 2]\n");
  await listener.waitFor(/^\[1, 2\]$/, "stdout");
  listener.kill("SIGINT");
  const l = await listener.wait();
  assert.equal(l.code, 130, l.stderr);
  await assert.rejects(Deno.lstat(path), Deno.errors.NotFound);
  // The peer sees the end of the session.
  const c = await client.wait();
  assert.equal(c.code, 0, c.stderr);
});

Deno.test("ipc mp --help prints usage and exits 0", async () => {
  const r = await runIpc(["mp", "--help"]);
  assert.equal(r.code, 0);
  assert.match(r.stdout, /Usage: ipc mp listen\|connect ADDRESS/);
});
