// Copyright 2026 the @sidecar/ipc authors. MIT license.
import assert from "node:assert/strict";
import { runIpc } from "../_test_utils/cli_run.ts";

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
