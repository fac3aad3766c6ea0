// Copyright 2026 the @sidecar/ipc authors. MIT license.
/**
 * Runs every module's comparison script (`<module>/bench/*compare.ts`): each
 * runs our code and the real reference peer on the same work in one run and
 * prints the ratios. Pass module names to run only those:
 * `deno task bench connection framing`. `--runs N` runs them all N times
 * over and ends with the median of the runs for every row with a goal,
 * its range, and in how many runs it met its goal: on a shared machine one
 * run's ratio moves with the load of the moment.
 *
 * The output starts with what most moves the rates on a virtual machine:
 * the CPUs, and how an idle CPU waits (with `cpuidle-haltpoll` and
 * `guest_halt_poll_ns` at 0, an idle vCPU halts at once, so every wake-up
 * of a process that slept costs a VM exit).
 *
 * The micro benchmarks (`*_bench.ts`) run with `deno bench -A`.
 *
 * @module
 */

import { parseArgs } from "node:util";
import {
  type GoalRow,
  goalRunsTable,
  goalTable,
  parseGoals,
} from "./bench_goal.ts";

const { values, positionals } = parseArgs({
  args: Deno.args,
  options: { runs: { type: "string" } },
  allowPositionals: true,
});
const RUNS = Number(values.runs ?? "1");
if (!Number.isInteger(RUNS) || RUNS < 1) {
  throw new RangeError(
    `--runs must be a whole number >= 1, got ${values.runs}`,
  );
}
const root = new URL("..", import.meta.url).pathname;
const only = new Set(positionals);
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

/** One line about the CPUs and the way an idle one waits, from sysfs. */
function hostLine(): string {
  const read = (path: string): string | undefined => {
    try {
      return Deno.readTextFileSync(path).trim();
    } catch {
      return undefined;
    }
  };
  const idle = "/sys/devices/system/cpu/cpuidle";
  const parts = [`${navigator.hardwareConcurrency} CPUs`];
  const driver = read(`${idle}/current_driver`);
  if (driver !== undefined) {
    parts.push(
      `cpuidle driver ${driver}, governor ${
        read(`${idle}/current_governor`) ?? read(`${idle}/current_governor_ro`)
      }`,
    );
  }
  const poll = read("/sys/module/haltpoll/parameters/guest_halt_poll_ns");
  if (poll !== undefined) parts.push(`guest_halt_poll_ns ${poll}`);
  return `Host: ${parts.join("; ")}`;
}

/** Runs every script once: their goal rows, and the scripts that failed. */
async function runAll(): Promise<{ goals: GoalRow[]; failed: string[] }> {
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
  return { goals, failed };
}

console.log(hostLine());
const runs: GoalRow[][] = [];
let failures = 0;
for (let run = 1; run <= RUNS; run++) {
  if (RUNS > 1) console.log(`\n# Run ${run} of ${RUNS}`);
  const { goals, failed } = await runAll();
  runs.push(goals);
  failures += failed.length;
}
if (RUNS > 1 && runs.some((g) => g.length > 0)) {
  console.log(`\n## Summary of the ${RUNS} runs: every row with a goal\n`);
  console.log(goalRunsTable(runs));
}
Deno.exit(failures === 0 ? 0 : 1);
