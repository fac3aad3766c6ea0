// Copyright 2026 the @sidecar/ipc authors. MIT license.
/**
 * CPU time of other processes, read from Linux's `/proc`, for the
 * comparison scripts: what a server (and the processes it started) spent
 * per unit of work is far less disturbed by a noisy machine than its rate.
 *
 * @module
 */

/** Clock ticks per second of `/proc/<pid>/stat` (`USER_HZ`, 100 on Linux). */
const TICKS = 100;

/**
 * CPU seconds (user + system, all its threads) that process `pid` used so
 * far, or 0 once it is gone.
 *
 * @param pid The process.
 * @returns Seconds.
 */
export function processCpuSeconds(pid: number): number {
  let stat: string;
  try {
    stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
  } catch {
    return 0;
  }
  // The command name, in parentheses, may hold spaces: count from after it.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) / TICKS;
}

/**
 * A process and all its live descendants, from the `children` lists of
 * its threads in `/proc`.
 *
 * @param pid The root process.
 * @returns Its pid first, then its descendants' (none once it is gone).
 */
export function processTree(pid: number): number[] {
  const out: number[] = [];
  const visit = (p: number): void => {
    let tasks: Deno.DirEntry[];
    try {
      tasks = [...Deno.readDirSync(`/proc/${p}/task`)];
    } catch {
      return;
    }
    out.push(p);
    for (const t of tasks) {
      let kids = "";
      try {
        kids = Deno.readTextFileSync(`/proc/${p}/task/${t.name}/children`);
      } catch {
        continue;
      }
      for (const k of kids.split(" ")) if (k !== "") visit(Number(k));
    }
  };
  visit(pid);
  return out;
}

/**
 * CPU seconds used so far by the processes `pids`, summed.
 *
 * @param pids The processes (see {@linkcode processTree}).
 * @returns Seconds.
 */
export function cpuSecondsOf(pids: readonly number[]): number {
  let s = 0;
  for (const p of pids) s += processCpuSeconds(p);
  return s;
}
