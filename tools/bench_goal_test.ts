// Copyright 2026 the @sidecar/ipc authors. MIT license.
import assert from "node:assert/strict";
import { goalTable, parseGoals, reportGoal } from "./bench_goal.ts";

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
