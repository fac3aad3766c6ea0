// Copyright 2026 the @sidecar/ipc authors. MIT license.
import assert from "node:assert/strict";
import { cpuSecondsOf, processCpuSeconds, processTree } from "./proc_cpu.ts";
import { tempDir } from "./peers.ts";

/** Starts `sleep 60` from a copy of the binary named `name`. */
async function sleeper(dir: string, name: string): Promise<Deno.ChildProcess> {
  const path = `${dir}/${name}`;
  await Deno.copyFile("/bin/sleep", path);
  await Deno.chmod(path, 0o755);
  return new Deno.Command(path, { args: ["60"] }).spawn();
}

Deno.test("processTree: a process, its children and theirs; none once gone", async () => {
  await using dir = await tempDir();
  // sh starts sleep as its child: a grandchild of this process.
  const sh = new Deno.Command("sh", {
    args: ["-c", "/bin/sleep 60 & echo $!; wait"],
    stdout: "piped",
  }).spawn();
  const reader = sh.stdout.getReader();
  const { value } = await reader.read();
  const grandchild = Number(new TextDecoder().decode(value).trim());
  const child = await sleeper(dir.path, "plain");
  try {
    const tree = processTree(Deno.pid);
    assert.equal(tree[0], Deno.pid);
    for (const p of [sh.pid, grandchild, child.pid]) {
      assert.ok(tree.includes(p), `${p} in ${tree}`);
    }
    assert.deepEqual(processTree(sh.pid), [sh.pid, grandchild]);
  } finally {
    Deno.kill(grandchild, "SIGKILL");
    child.kill("SIGKILL");
    await child.status;
    await sh.status;
    reader.releaseLock();
    await sh.stdout.cancel();
  }
  assert.deepEqual(processTree(child.pid), []);
  assert.equal(processCpuSeconds(child.pid), 0);
});

Deno.test("processCpuSeconds: reads past a command name with spaces and parentheses", async () => {
  await using dir = await tempDir();
  const child = await sleeper(dir.path, "a) (b c) d");
  try {
    // The name is there as it is: cutting at its first ") " would read
    // "(b c" as a number (NaN).
    const stat = await Deno.readTextFile(`/proc/${child.pid}/stat`);
    assert.ok(stat.includes(" (a) (b c) d) "), stat);
    const s = processCpuSeconds(child.pid);
    assert.ok(Number.isFinite(s) && s >= 0, `got ${s}`);
  } finally {
    child.kill("SIGKILL");
    await child.status;
  }
});

Deno.test("cpuSecondsOf: sums the processes; this one has used some CPU", () => {
  const own = processCpuSeconds(Deno.pid);
  assert.ok(own > 0, `got ${own}`);
  const both = cpuSecondsOf([Deno.pid, Deno.pid]);
  assert.ok(both >= 2 * own, `${both} < 2 x ${own}`);
  assert.equal(cpuSecondsOf([]), 0);
});
