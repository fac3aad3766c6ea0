// Copyright 2026 the @sidecar/ipc authors. MIT license.
/**
 * Runs every module's comparison script (`<module>/bench/*compare.ts`): each
 * runs our code and the real reference peer on the same work in one run and
 * prints the ratios. Pass module names to run only those:
 * `deno task bench connection framing`.
 *
 * The micro benchmarks (`*_bench.ts`) run with `deno bench -A`.
 *
 * @module
 */

import { type GoalRow, goalTable, parseGoals } from "./bench_goal.ts";

const root = new URL("..", import.meta.url).pathname;
const only = new Set(Deno.args);
const scripts: string[] = [];
for (const mod of ["connection", "framing", "session", "dirty", "cli"]) {
  if (only.size > 0 && !only.has(mod)) continue;
  let entries: Deno.DirEntry[];
  try {
    entries = [...Deno.readDirSync(`${root}${mod}/bench`)];
  } catch {
    continue;
  }
  for (const e of entries.sort((a, b) => a.name.localeCompare(b.name))) {
    if (e.isFile && e.name.endsWith("compare.ts")) {
      scripts.push(`${mod}/bench/${e.name}`);
    }
  }
}

const failed: string[] = [];
const goals: GoalRow[] = [];
const took: string[] = [];
const start = performance.now();
for (const script of scripts) {
  console.log(`\n### ${script}\n`);
  const t0 = performance.now();
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", `${root}${script}`],
    cwd: root,
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  // Echo the script's output as it comes, and keep it for its goal rows.
  let text = "";
  const decoder = new TextDecoder();
  for await (const chunk of child.stdout) {
    await Deno.stdout.write(chunk);
    text += decoder.decode(chunk, { stream: true });
  }
  const { code } = await child.status;
  goals.push(...parseGoals(text));
  took.push(`${script} ${((performance.now() - t0) / 1000).toFixed(0)} s`);
  if (code !== 0) {
    failed.push(`${script} (exit code ${code})`);
    console.log(`${script} exited with code ${code}`);
  }
}
if (scripts.length === 0) console.log("No comparison scripts found");
console.log(
  `\nTook ${((performance.now() - start) / 1000).toFixed(0)} s (${
    took.join(", ")
  }); load average ${Deno.loadavg().map((x) => x.toFixed(2)).join(" ")}`,
);
if (goals.length > 0) {
  console.log("\n## Summary: every row with a goal\n");
  console.log(goalTable(goals));
}
if (failed.length > 0) {
  console.log(
    `\nFailed, so their rows may be missing above: ${failed.join(", ")}`,
  );
}
Deno.exit(failed.length === 0 ? 0 : 1);
