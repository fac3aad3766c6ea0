// Copyright 2026 the @sidecar/ipc authors. MIT license.
import assert from "node:assert/strict";
import {
  goalRunsTable,
  goalTable,
  median,
  pairedRatio,
  parseGoals,
  reportGoal,
} from "./bench_goal.ts";

Deno.test("goal rows survive the trip through a script's output into the summary", () => {
  const lines: string[] = [];
  const log = console.log;
  console.log = (s: string) => lines.push(s);
  try {
    reportGoal({
      module: "connection",
      workload: "pickle dumps",
      ratio: 0.9,
      goal: 0.8,
    });
    reportGoal({
      module: "session",
      workload: "64 B sessions/s",
      ratio: 0.5,
      goal: 1,
      against: "ours/Kea",
    });
  } finally {
    console.log = log;
  }
  const rows = parseGoals(["noise", ...lines, "##goal {torn"].join("\n"));
  assert.equal(rows.length, 2);
  const table = goalTable(rows);
  assert.match(
    table,
    /\| connection \| pickle dumps \| 0\.90 \| >= 0\.8 \| yes \|/,
  );
  assert.match(
    table,
    /\| session \| 64 B sessions\/s \| 0\.50 \(ours\/Kea\) \| >= 1 \| NO \|/,
  );
});

Deno.test("a row whose reference was missing reads as not measured, not met", () => {
  const lines: string[] = [];
  const log = console.log;
  console.log = (s: string) => lines.push(s);
  try {
    reportGoal({ module: "dirty", workload: "echo", ratio: NaN, goal: 3 });
  } finally {
    console.log = log;
  }
  assert.equal(
    lines[0],
    '##goal {"module":"dirty","workload":"echo","ratio":null,"goal":3}',
  );
  assert.match(
    goalTable(parseGoals(lines.join("\n"))),
    /\| dirty \| echo \| not measured \| >= 3 \| NO \|/,
  );
});

Deno.test("a missed row whose floor is under its goal says it is beyond reach", () => {
  const rows = [
    { module: "framing", workload: "a", ratio: 2, goal: 10, floor: 8.25 },
    { module: "framing", workload: "b", ratio: 2, goal: 10, floor: 12 },
    { module: "framing", workload: "c", ratio: 11, goal: 10, floor: 9 },
  ];
  const table = goalTable(parseGoals(
    rows.map((r) => "##goal " + JSON.stringify(r)).join("\n"),
  ));
  assert.match(
    table,
    /\| framing \| a \| 2\.00 \| >= 10 \| NO: beyond reach, the floor itself reaches 8\.25 \|/,
  );
  // A floor above the goal leaves the miss a plain miss.
  assert.match(table, /\| framing \| b \| 2\.00 \| >= 10 \| NO \|/);
  assert.match(table, /\| framing \| c \| 11\.00 \| >= 10 \| yes \|/);
});

Deno.test("the summary of several runs reads each row from the median of its runs", () => {
  const row = (workload: string, ratio: number, floor?: number) => ({
    module: "dirty",
    workload,
    ratio,
    goal: 3,
    against: "ours/gunicorn",
    ...(floor === undefined ? {} : { floor }),
  });
  const table = goalRunsTable([
    [row("a", 2.65), row("b", 1.5, 2), row("c", NaN)],
    [row("a", 3.23), row("b", 1.25, 2.5)],
    [row("a", 3.09), row("b", 1.75, 1.5), row("c", 4)],
  ]);
  const lines = table.split("\n");
  assert.equal(lines.length, 5);
  assert.match(lines[0]!, /median of 3 runs \[range\]/);
  // One miss in three runs: the median meets the goal.
  assert.equal(
    lines[2],
    "| dirty | a | 3.09 [2.65-3.23] (ours/gunicorn) | >= 3 | yes | 2 of 3 |",
  );
  // The median of the floors, under the goal: beyond reach.
  assert.equal(
    lines[3],
    "| dirty | b | 1.50 [1.25-1.75] (ours/gunicorn) | >= 3 | NO: beyond reach, the floor itself reaches 2.00 | 0 of 3 |",
  );
  // A run that could not measure the row counts as a run, not as a ratio.
  assert.equal(
    lines[4],
    "| dirty | c | 4.00 (ours/gunicorn) | >= 3 | yes | 1 of 2 |",
  );
});

Deno.test("median takes the middle value, the mean of the middle two when even, and leaves its input alone", () => {
  const xs = [5, 1, 4];
  assert.equal(median(xs), 4);
  assert.deepEqual(xs, [5, 1, 4]);
  assert.equal(median([4, 1, 3, 10]), 3.5);
  assert.ok(Number.isNaN(median([])));
});

Deno.test("pairedRatio is the median of the rounds' ratios, not the ratio of the medians", () => {
  // Round i of one side is divided by round i of the other.
  const ours = [2, 9, 4];
  const peer = [1, 3, 8];
  assert.equal(pairedRatio(ours, peer), 2); // ratios 2, 3 and 0.5
  assert.equal(median(ours) / median(peer), 4 / 3);
});
