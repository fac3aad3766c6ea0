// Copyright 2026 the @sidecar/ipc authors. MIT license.
/**
 * The Deno floor, checked on real old Denos fetched with npx: a script that
 * connects with a framing transport fails on Deno 2.8.3 with an error
 * naming 2.9.0 and 2.8.3 (before, 2.8 went on until a confusing failure
 * deep inside), and on Deno 2.9.0, the floor, gets past the check (to
 * `ECONNREFUSED`: nobody listens). Without npx or the registry this
 * skips loudly locally and fails with `CI=true`.
 */
import assert from "node:assert/strict";
import { IN_CI, tempDir, which } from "../_test_utils/peers.ts";

/** The binary of `deno@<version>` from npm, or null when npx cannot get it. */
async function denoFromNpm(version: string): Promise<string | null> {
  const npx = which("npx");
  if (npx === null) return null;
  try {
    const out = await new Deno.Command(npx, {
      args: ["-y", `deno@${version}`, "eval", "console.log(Deno.execPath())"],
      env: { DENO_NO_UPDATE_CHECK: "1", NO_COLOR: "1" },
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).output();
    const path = new TextDecoder().decode(out.stdout).trim();
    return out.success && path !== "" ? path : null;
  } catch {
    return null;
  }
}

async function connectWith(deno: string, dir: string): Promise<string> {
  const url = new URL("./mod.ts", import.meta.url).href;
  const script = `${dir}/floor.ts`;
  await Deno.writeTextFile(
    script,
    `import { connect } from ${JSON.stringify(url)};
try {
  await connect({ hostname: "127.0.0.1", port: 9 });
  console.log("connected");
} catch (e) {
  console.log(e.code ?? e.name, "|", e.message);
}
`,
  );
  const out = await new Deno.Command(deno, {
    args: ["run", "--no-config", "--no-lock", "-A", script],
    env: { DENO_NO_UPDATE_CHECK: "1", NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  return new TextDecoder().decode(out.stdout).trim() ||
    new TextDecoder().decode(out.stderr);
}

Deno.test("deno floor: a framing transport on Deno 2.8.3 fails with an error naming 2.9.0; on 2.9.0 it runs", async (t) => {
  const old = await denoFromNpm("2.8.3");
  const floor = await denoFromNpm("2.9.0");
  if (old === null || floor === null) {
    if (IN_CI) {
      throw new Error(
        "Cannot run test: npx could not fetch deno@2.8.3 and deno@2.9.0 and CI=true",
      );
    }
    console.warn(
      "\n!!! SKIPPING the Deno floor test: npx could not fetch deno@2.8.3 or deno@2.9.0 (this fails in CI)\n",
    );
    await t.step({
      name: "run on deno@2.8.3 and deno@2.9.0",
      ignore: true,
      fn() {},
    });
    return;
  }
  await using dir = await tempDir();
  assert.equal(
    await connectWith(old, dir.path),
    "UNSUPPORTED_DENO | Cannot connect: @sidecar/ipc needs Deno 2.9.0 or later, this is Deno 2.8.3",
  );
  assert.match(await connectWith(floor, dir.path), /^ECONNREFUSED \| /);
});
