// Copyright 2026 the @sidecar/ipc authors. MIT license.
import assert from "node:assert/strict";
import { runIpc } from "../_test_utils/cli_run.ts";
import { tempDir } from "../_test_utils/peers.ts";

Deno.test("ipc and every group without a subcommand exit 2 with the usage on stderr", async () => {
  for (const args of [[], ["mp"], ["hg"], ["dirty"], ["session"]]) {
    const r = await runIpc(args);
    assert.equal(r.code, 2, `ipc ${args.join(" ")}: ${r.stderr}`);
    assert.equal(r.stdout, "", `ipc ${args.join(" ")} printed on stdout`);
    assert.match(r.stderr, /Usage:\s+ipc/);
  }
});

Deno.test("ipc --help and a group's --help exit 0 with the help on stdout", async () => {
  for (const args of [["--help"], ["mp", "--help"], ["hg", "-h"]]) {
    const r = await runIpc(args);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /Usage:\s+ipc/);
  }
});

Deno.test("--verbose is in every help text", async () => {
  for (
    const args of [
      ["--help"],
      ["mp", "--help"],
      ["hg", "--help"],
      ["dirty", "--help"],
      ["session", "--help"],
    ]
  ) {
    const r = await runIpc(args);
    assert.equal(r.code, 0);
    assert.match(r.stdout, /--verbose/, args.join(" "));
  }
  // Before the group, it is taken and the group still runs.
  const v = await runIpc(["--verbose", "dirty", "--help"]);
  assert.equal(v.code, 0);
  assert.match(v.stdout, /ipc dirty stream/);
});

Deno.test("an unknown command exits 2 with one line and no stack trace", async () => {
  for (
    const args of [["nope"], ["dirty", "launch"], [
      "mp",
      "connect",
      "x",
      "--frob",
    ]]
  ) {
    const r = await runIpc(args);
    assert.equal(r.code, 2, args.join(" "));
    assert.equal(r.stderr.trim().split("\n").length, 1, r.stderr);
    assert.doesNotMatch(r.stderr, /^\s+at /m);
  }
});

Deno.test("an error that escaped every command is one line, exit 1; --verbose adds its stack", async () => {
  await using dir = await tempDir();
  const main = new URL("./main.ts", import.meta.url).href;
  const script = `${dir.path}/escape.ts`;
  // An internal failure outside any command's try (an unhandled rejection)
  // while a long-running command waits.
  await Deno.writeTextFile(
    script,
    `import { runMain } from ${JSON.stringify(main)};
const running = runMain(Deno.args);
Promise.reject(new Error("internal failure\\nsecond line"));
await running;
`,
  );
  for (const verbose of [false, true]) {
    const out = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "-A",
        "--quiet",
        script,
        "mp",
        "listen",
        "127.0.0.1:0",
        ...(verbose ? ["--verbose"] : []),
      ],
      env: { NO_COLOR: "1", DENO_NO_UPDATE_CHECK: "1" },
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).output();
    const stderr = new TextDecoder().decode(out.stderr);
    assert.equal(out.code, 1, stderr);
    assert.match(stderr, /^ipc: internal failure$/m);
    if (verbose) {
      assert.match(stderr, /^\s+at .*escape\.ts/m);
    } else {
      assert.doesNotMatch(stderr, /second line|^\s+at |Uncaught/m);
    }
  }
});
