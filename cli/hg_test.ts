// Copyright 2026 the @sidecar/ipc authors. MIT license.
import assert from "node:assert/strict";
import { openFdCount, peerTest, tempDir } from "../_test_utils/peers.ts";
import { runIpc, spawnIpc } from "../_test_utils/cli_run.ts";
import { CommandError, serve } from "../framing/mod.ts";

const TESTDATA = new URL("./testdata/", import.meta.url).pathname;
// Made by Mercurial 6.3.2 (cli/testdata/make_captures.sh): requests from its
// clientreactor offering zstd-8mb, responses from its serverreactor.
const REQUESTS = `${TESTDATA}hg_requests.bin`;
const RESPONSES = `${TESTDATA}hg_responses_zstd.bin`;
// Mercurial's serverreactor over stdin/stdout, shared with the framing tests.
const HG_SERVER =
  new URL("../framing/testdata/hg_server.py", import.meta.url).pathname;

function mercurial(): string | null {
  try {
    const out = new Deno.Command("/usr/bin/python3", {
      args: ["-c", "import mercurial.wireprotoframing"],
      stdout: "null",
      stderr: "null",
    }).outputSync();
    return out.success ? "/usr/bin/python3" : null;
  } catch {
    return null;
  }
}
const HG = mercurial();

/** Offsets of each frame's payload in a capture. */
function frames(
  bytes: Uint8Array,
): { at: number; size: number; streamFlags: number }[] {
  const out = [];
  let o = 0;
  while (o + 8 <= bytes.length) {
    const size = bytes[o]! | (bytes[o + 1]! << 8) | (bytes[o + 2]! << 16);
    out.push({ at: o + 8, size, streamFlags: bytes[o + 6]! });
    o += 8 + size;
  }
  return out;
}

Deno.test("ipc hg decode shows Mercurial's frames, zstd undone, CBOR decoded", async () => {
  const r = await runIpc(["hg", "decode", REQUESTS, RESPONSES]);
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stdout.split("\n");
  assert.equal(lines[0], `== client -> server (${REQUESTS}) ==`);
  assert.ok(lines.includes(
    "1 1 stream-begin sender-protocol-settings eos cbor:{b'contentencodings': [b'zstd-8mb', b'zlib', b'identity']}",
  ));
  assert.ok(
    lines.includes(
      "3 1 0 command-request new cbor:{b'args': {b'count': 3}, b'name': b'many'}",
    ),
  );
  assert.ok(
    lines.includes(
      "7 1 0 command-request new|have-data cbor:{b'name': b'digest'}",
    ),
  );
  assert.ok(lines.includes(`== server -> client (${RESPONSES}) ==`));
  assert.ok(
    lines.includes("1 2 stream-begin stream-settings eos cbor:b'zstd-8mb'"),
  );
  // The many(3) response: one encoded frame, four CBOR values.
  const many = lines.findIndex((l) =>
    l.startsWith("3 2 encoded command-response eos ")
  );
  assert.ok(many > 0, r.stdout);
  assert.deepEqual(lines.slice(many + 1, many + 6), [
    "  zstd-8mb -> 14 bytes",
    "  cbor: {b'status': b'ok'}",
    "  cbor: 0",
    "  cbor: 1",
    "  cbor: 2",
  ]);
  assert.ok(
    lines.includes(
      "  cbor: {b'sha1': b'370e9ef830a8fc98c17e02798843ec071fa7c309', b'size': 100}",
    ),
  );
  assert.match(r.stderr, /6 frames[\s\S]*5 frames/);
});

Deno.test("ipc hg decode --json from stdin joins indefinite byte strings", async () => {
  const r = await runIpc(["hg", "decode", "-", "--json"], {
    stdin: await Deno.readFile(RESPONSES),
  });
  assert.equal(r.code, 0, r.stderr);
  const objs = r.stdout.trim().split("\n").map((l) => JSON.parse(l));
  assert.equal(objs.length, 5);
  assert.deepEqual(objs[0].values, [{ $bytes: btoa("zstd-8mb") }]);
  const chunks = objs.find((o) => o.requestId === 5);
  assert.equal(chunks.encoding, "zstd-8mb");
  assert.deepEqual(chunks.streamFlags, ["encoded"]);
  assert.deepEqual(chunks.flags, ["eos"]);
  assert.equal(chunks.values.length, 2);
  const joined = atob(chunks.values[1].$bytes);
  assert.equal(joined, "a".repeat(10) + "b".repeat(40000) + "c");
});

Deno.test("ipc hg decode exits 4 on a truncated capture, after the whole frames", async () => {
  await using dir = await tempDir();
  const bytes = await Deno.readFile(REQUESTS);
  for (const cut of [3, 20]) {
    const path = `${dir.path}/cut${cut}.bin`;
    await Deno.writeFile(path, bytes.subarray(0, bytes.length - cut));
    const r = await runIpc(["hg", "decode", path]);
    assert.equal(r.code, 4, r.stderr);
    assert.match(
      r.stderr,
      /Cannot decode .* after 5 frames: (frame length error|received incomplete frame)/,
    );
    assert.match(r.stdout, /command-request new\|have-data/);
  }
});

Deno.test("ipc hg decode exits 4 on a corrupt zstd stream", async () => {
  await using dir = await tempDir();
  const bytes = new Uint8Array(await Deno.readFile(RESPONSES));
  const encoded = frames(bytes).find((f) => f.streamFlags & 4)!;
  bytes.fill(0xff, encoded.at, encoded.at + Math.min(8, encoded.size));
  const path = `${dir.path}/corrupt.bin`;
  await Deno.writeFile(path, bytes);
  const r = await runIpc(["hg", "decode", path]);
  assert.equal(r.code, 4, r.stderr);
  assert.match(
    r.stderr,
    /Cannot decode frame 1 \(command-response on stream 2\)/,
  );
});

Deno.test("ipc hg decode: garbage and missing files", async () => {
  await using dir = await tempDir();
  const path = `${dir.path}/garbage.bin`;
  // A frame header announcing a command-response on a stream that says it
  // is encoded, with no stream-settings first.
  await Deno.writeFile(path, Uint8Array.of(1, 0, 0, 1, 0, 2, 5, 0x32, 0x41));
  const g = await runIpc(["hg", "decode", path]);
  assert.equal(g.code, 4);
  assert.match(g.stderr, /no stream-settings frame came first/);
  const m = await runIpc(["hg", "decode", `${dir.path}/missing.bin`]);
  assert.equal(m.code, 1);
  assert.match(m.stderr, /Cannot read .*missing\.bin/);
  const u = await runIpc(["hg", "decode", "-", "-"]);
  assert.equal(u.code, 2);
});

peerTest(
  "ipc hg decode reads a live Mercurial server's zstd output",
  HG,
  "python3 with mercurial",
  async (python) => {
    const server = await new Deno.Command(python, {
      args: [HG_SERVER],
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const w = server.stdin.getWriter();
    await w.write(await Deno.readFile(REQUESTS));
    await w.close();
    const out = await server.output();
    assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
    const r = await runIpc(["hg", "decode", "--json"], { stdin: out.stdout });
    assert.equal(r.code, 0, r.stderr);
    const objs = r.stdout.trim().split("\n").map((l) => JSON.parse(l));
    assert.deepEqual(
      objs.filter((o) => o.type === "command-response").map((o) =>
        o.values.length
      ),
      [2, 4, 2, 2],
    );
  },
);

peerTest(
  "ipc hg call runs commands on Mercurial's serverreactor (--stdio-cmd)",
  HG,
  "python3 with mercurial",
  async (python) => {
    const cmd = `${python} ${HG_SERVER}`;
    const many = await runIpc([
      "hg",
      "call",
      "--stdio-cmd",
      cmd,
      "many",
      '{"count": 3}',
    ]);
    assert.equal(many.code, 0, many.stderr);
    assert.equal(many.stdout, "0\n1\n2\n");
    assert.match(many.stderr, /many: 3 objects/);

    const echo = await runIpc([
      "hg",
      "call",
      "--stdio-cmd",
      cmd,
      "echo",
      '{"foo": "bar", "n": 7}',
      "--json",
      "--encoding",
      "zlib",
    ]);
    assert.equal(echo.code, 0, echo.stderr);
    assert.deepEqual(JSON.parse(echo.stdout), {
      args: { foo: { $bytes: btoa("bar") }, n: 7 },
      command: { $bytes: btoa("echo") },
      data: null,
    });

    await using dir = await tempDir();
    await Deno.writeFile(`${dir.path}/data`, new Uint8Array(1000).fill(7));
    const digest = await runIpc([
      "hg",
      "call",
      "--stdio-cmd",
      cmd,
      "digest",
      "--data-file",
      `${dir.path}/data`,
    ]);
    assert.equal(digest.code, 0, digest.stderr);
    assert.match(digest.stdout, /b'size': 1000/);

    const bad = await runIpc(["hg", "call", "--stdio-cmd", cmd, "cmderror"]);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /the server said: bad thing: oops/);
  },
);

Deno.test("ipc hg call over a Unix socket to our server, and bad addresses", async () => {
  const fds = openFdCount();
  await using dir = await tempDir();
  const path = `${dir.path}/hg.sock`;
  await using server = serve({ transport: "unix", path }, {
    *heads() {
      yield [new Uint8Array(20).fill(0xab)];
    },
    nope() {
      throw new CommandError("no such thing: %s", ["x"]);
    },
  });
  const r = await runIpc(["hg", "call", path, "heads"]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, `[b'${"\\xab".repeat(20)}']\n`);
  const e = await runIpc(["hg", "call", path, "nope"]);
  assert.equal(e.code, 1);
  assert.match(e.stderr, /no such thing: x/);

  const refused = await runIpc([
    "hg",
    "call",
    `${dir.path}/none.sock`,
    "heads",
  ]);
  assert.equal(refused.code, 1);
  assert.match(refused.stderr, /Cannot connect to/);
  for (
    const args of [
      ["hg", "call", "host:port", "heads"],
      ["hg", "call", "@abstract", "heads"],
      ["hg", "call", path, "heads", "[1, 2]"],
      ["hg", "call", path, "heads", '{"x": 1.5}'],
      ["hg", "call", path, "heads", "--encoding", "brotli"],
      ["hg", "call", path],
      ["hg", "frob"],
    ]
  ) {
    const u = await runIpc(args);
    assert.equal(u.code, 2, `${args.join(" ")}: ${u.stderr}`);
  }
  await server.close();
  assert.equal(openFdCount(), fds);
});

Deno.test("ipc hg --help exits 0", async () => {
  const r = await runIpc(["hg", "--help"]);
  assert.equal(r.code, 0);
  assert.match(r.stdout, /ipc hg decode/);
});

Deno.test("ipc hg call --stdio-cmd: a server ignoring SIGTERM is killed after an interrupt", async () => {
  // The server never answers, ignores EOF on stdin and SIGTERM; the PID
  // file lets the test check that it is gone.
  await using dir = await tempDir();
  const pidFile = `${dir.path}/pid`;
  const cmd =
    `echo $$ > ${pidFile}; echo ready >&2; trap "" TERM; exec sleep 20`;
  const p = spawnIpc(["hg", "call", "--stdio-cmd", cmd, "heads"], {
    timeout: 15_000,
  });
  await p.waitFor(/^ready$/, "stderr");
  p.kill("SIGINT");
  const r = await p.wait();
  assert.equal(r.code, 130, r.stderr);
  const pid = (await Deno.readTextFile(pidFile)).trim();
  const ps = await new Deno.Command("ps", { args: ["-o", "stat=", "-p", pid] })
    .output();
  // Gone, or a zombie nobody waits for any more.
  const state = new TextDecoder().decode(ps.stdout).trim();
  assert.ok(state === "" || state.startsWith("Z"), `server state ${state}`);
});

Deno.test("ipc hg call --stdio-cmd: an interrupt ends a call whose data the server never reads", async () => {
  // 1 MiB of command data fills the pipe to a server that never reads it;
  // closing the client waits for that write until the server is stopped.
  await using dir = await tempDir();
  await Deno.writeFile(`${dir.path}/data`, new Uint8Array(1024 * 1024));
  const p = spawnIpc([
    "hg",
    "call",
    "--stdio-cmd",
    "echo ready >&2; exec sleep 20",
    "digest",
    "--data-file",
    `${dir.path}/data`,
  ], { timeout: 15_000 });
  await p.waitFor(/^ready$/, "stderr");
  p.kill("SIGINT");
  const r = await p.wait();
  assert.equal(r.code, 130, r.stderr);
});
