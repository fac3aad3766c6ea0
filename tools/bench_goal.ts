// Copyright 2026 the @sidecar/ipc authors. MIT license.
/**
 * How a comparison script (`<module>/bench/*compare.ts`) reports a row that
 * has a goal: {@linkcode reportGoal} prints it as one marked line, which
 * `tools/bench.ts` collects into the summary table it ends with; and the
 * {@linkcode median} the scripts report their rounds by.
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
    const c = goalCells(r);
    lines.push(
      `| ${r.module} | ${r.workload} | ${c.ratio} | ${c.goal} | ${c.met} |`,
    );
  }
  return lines.join("\n");
}

/** The ratio, goal and met cells of a row (`range`: after the ratio). */
function goalCells(
  r: GoalRow,
  range = "",
): { ratio: string; goal: string; met: string } {
  // JSON has no NaN: a row whose reference was missing has a null ratio.
  const measured = typeof r.ratio === "number" && Number.isFinite(r.ratio);
  let met = measured && r.ratio >= r.goal ? "yes" : "NO";
  if (met === "NO" && typeof r.floor === "number" && r.floor < r.goal) {
    met += `: beyond reach, the floor itself reaches ${r.floor.toFixed(2)}`;
  }
  return {
    ratio: `${measured ? r.ratio.toFixed(2) + range : "not measured"}${
      r.against ? ` (${r.against})` : ""
    }`,
    goal: `>= ${r.goal}`,
    met,
  };
}

/**
 * The median of `xs`, the statistic every comparison script reports: the
 * middle value, or the mean of the two middle ones when their number is
 * even; `NaN` for none.
 *
 * @param xs The values (not changed).
 * @returns Their median.
 */
export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/**
 * The ratio of two sides measured in paired rounds: the median of the
 * rounds' ratios `a[i] / b[i]`. Each round measures the sides back to
 * back, so a slow phase of the machine touches both (CONTRIBUTING).
 *
 * @param a One side's value in each round.
 * @param b The other side's, in the same rounds.
 * @returns The median of the paired ratios.
 */
export function pairedRatio(
  a: readonly number[],
  b: readonly number[],
): number {
  return median(a.map((x, i) => x / b[i]!));
}

/**
 * The summary of several runs of the same comparisons: one line per row
 * (module and workload), in the order rows first appear. A row's ratio is
 * the median of its measured runs, with their range and how many of them
 * met the goal; its floor, where it has one, is the median of the runs'
 * floors. Met is read from the medians, as {@linkcode goalTable} reads one
 * run. On a shared machine one run's ratio moves with the load of the
 * moment; the median of whole runs, with the range beside it, moves less.
 *
 * @param runs The goal rows of each run, in run order.
 * @returns The table as Markdown.
 */
export function goalRunsTable(runs: readonly (readonly GoalRow[])[]): string {
  const byRow = new Map<string, { first: GoalRow; rows: GoalRow[] }>();
  for (const rows of runs) {
    for (const r of rows) {
      const key = `${r.module}\n${r.workload}`;
      const seen = byRow.get(key);
      if (seen === undefined) byRow.set(key, { first: r, rows: [r] });
      else seen.rows.push(r);
    }
  }
  const lines = [
    `| module | workload | ratio: median of ${runs.length} runs [range] | goal | met | runs that met it |`,
    "| --- | --- | ---: | ---: | --- | ---: |",
  ];
  const finite = (x: unknown): x is number =>
    typeof x === "number" && Number.isFinite(x);
  for (const { first, rows } of byRow.values()) {
    const ratios = rows.map((r) => r.ratio).filter(finite);
    const floors = rows.map((r) => r.floor).filter(finite);
    const { floor: _, ...rest } = first;
    const row: GoalRow = {
      ...rest,
      ratio: ratios.length > 0 ? median(ratios) : NaN,
      ...(floors.length > 0 ? { floor: median(floors) } : {}),
    };
    const range = ratios.length > 1
      ? ` [${Math.min(...ratios).toFixed(2)}-${Math.max(...ratios).toFixed(2)}]`
      : "";
    const c = goalCells(row, range);
    const metRuns = ratios.filter((x) => x >= first.goal).length;
    lines.push(
      `| ${first.module} | ${first.workload} | ${c.ratio} | ${c.goal} | ${c.met} | ${metRuns} of ${rows.length} |`,
    );
  }
  return lines.join("\n");
}
