// Copyright 2026 the @sidecar/ipc authors. MIT license.
import assert from "node:assert/strict";

Deno.test("manager client: a proxy garbage collected unclosed is released (decref, connection closed)", async () => {
  const child =
    new URL("../_test_utils/connection/manager_gc_child.ts", import.meta.url)
      .pathname;
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--quiet", "--v8-flags=--expose-gc", child],
    env: { DENO_NO_UPDATE_CHECK: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(out.stdout);
  assert.ok(out.success, text + new TextDecoder().decode(out.stderr));
  assert.deepEqual(text.trim().split("\n"), ["[2,2]", "[1,1]", "true"]);
});
