// Copyright 2026 the @sidecar/ipc authors. MIT license.
/**
 * How a comparison script (`<module>/bench/*compare.ts`) reports a row that
 * has a goal: {@linkcode reportGoal} prints it as one marked line, which
 * `tools/bench.ts` collects into the summary table it ends with.
 *
 * @module
 */

/** One measured row against its goal. */
export interface GoalRow {
  /** The module ("connection", "framing", "session", "dirty"). */
  module: string;
  /** What was measured, as the issue or README names it. */
  workload: string;
  /**
   * Ours against the reference (above 1: ours is faster or larger); `NaN`
   * when the reference could not be measured (it arrives as `null`).
   */
  ratio: number;
  /** The least ratio that meets the goal. */
  goal: number;
  /** What the ratio compares ("ours/CPython"), printed after it. */
  against?: string;
  /**
   * The ratio that the least possible implementation of the workload
   * reached in the same run (for example the bare stream hops, with no
   * work in them). When it is under the goal, the goal is beyond reach of
   * any implementation on this platform, and the summary says so with it.
   */
  floor?: number;
}

/** The prefix of a goal line in a comparison script's output. */
export const GOAL_PREFIX = "##goal ";

/**
 * Prints `row` as a goal line (`##goal {json}`).
 *
 * @param row The row.
 */
export function reportGoal(row: GoalRow): void {
  console.log(GOAL_PREFIX + JSON.stringify(row));
}

/**
 * Reads the goal lines out of a script's output.
 *
 * @param text The output.
 * @returns The rows, in order.
 */
export function parseGoals(text: string): GoalRow[] {
  const rows: GoalRow[] = [];
  for (const line of text.split("\n")) {
    if (!line.startsWith(GOAL_PREFIX)) continue;
    try {
      rows.push(JSON.parse(line.slice(GOAL_PREFIX.length)) as GoalRow);
    } catch {
      // A torn line: not a row.
    }
  }
  return rows;
}

/**
 * The summary table: module, workload, ratio, goal, met.
 *
 * @param rows The rows.
 * @returns The table as Markdown.
 */
export function goalTable(rows: readonly GoalRow[]): string {
  const lines = [
    "| module | workload | ratio | goal | met |",
    "| --- | --- | ---: | ---: | --- |",
  ];
  for (const r of rows) {
    // JSON has no NaN: a row whose reference was missing has a null ratio.
    const measured = typeof r.ratio === "number" && Number.isFinite(r.ratio);
    const ratio = measured ? r.ratio.toFixed(2) : "not measured";
    let met = measured && r.ratio >= r.goal ? "yes" : "NO";
    if (met === "NO" && typeof r.floor === "number" && r.floor < r.goal) {
      met += `: beyond reach, the floor itself reaches ${r.floor.toFixed(2)}`;
    }
    lines.push(
      `| ${r.module} | ${r.workload} | ${ratio}${
        r.against ? ` (${r.against})` : ""
      } | >= ${r.goal} | ${met} |`,
    );
  }
  return lines.join("\n");
}
