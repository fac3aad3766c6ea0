// Copyright 2026 the @sidecar/ipc authors. MIT license.
/**
 * Reads the runnable examples out of README.md with the permission flags
 * written next to each, for `readme_examples_test.ts`.
 *
 * The README's convention: a ` ```ts ` block is an example; one whose
 * first line is `// name.ts` is a file of that name (a multi-file example,
 * such as an app and the program that hosts it). Each runnable example is
 * followed, before the next block, by a line
 * ``Run with: `deno run <flags> <file>.ts` `` naming the flags it needs and
 * the file to run; the files it runs with are the named blocks since the
 * previous such line (the command may also stand alone on the line after
 * `Run with:`). In the flags, `$PWD` stands for the directory the example
 * runs in, `$TMPDIR` for the temporary directory its `Deno.makeTempDir()`
 * uses, and `$DENO` for the Deno binary (`Deno.execPath()`), as a shell
 * would have them.
 *
 * @module
 */

/** One example to run. */
export interface ReadmeExample {
  /** The line of its `Run with:` note (1-based). */
  line: number;
  /** Its files: name and text. */
  files: { name: string; text: string }[];
  /** The file to run. */
  entry: string;
  /** The permission flags, as written. */
  flags: string[];
}

/** A code block that is no example and has no `Run with:` line. */
export interface UnrunBlock {
  /** The line of its fence (1-based). */
  line: number;
  /** The fence's info string ("ts", "ts ignore", "sh"). */
  info: string;
}

const RUN_WITH = /^(?:Run with: )?`deno run ((?:--\S+ )*)(\S+\.ts)`$/;

/**
 * Splits a README into the examples it says how to run, and the `ts`
 * blocks it does not.
 *
 * @param text The README.
 * @returns The examples, and the `ts` blocks without a `Run with:` line
 * that are not `ignore`d.
 */
export function readmeExamples(
  text: string,
): { examples: ReadmeExample[]; unrun: UnrunBlock[] } {
  const lines = text.split("\n");
  const examples: ReadmeExample[] = [];
  const unrun: UnrunBlock[] = [];
  let pending: { name: string; text: string; line: number; info: string }[] =
    [];
  let i = 0;
  while (i < lines.length) {
    const line = lines[i]!;
    const fence = /^```(\S*)(.*)$/.exec(line);
    if (fence !== null && fence[1] === "ts") {
      const info = (fence[1] + fence[2]).trim();
      const start = i;
      const body: string[] = [];
      i++;
      while (i < lines.length && !lines[i]!.startsWith("```")) {
        body.push(lines[i]!);
        i++;
      }
      const named = /^\/\/ ([\w.-]+\.ts)$/.exec(body[0] ?? "");
      if (named === null && info.includes("ignore")) {
        // An unnamed block that is not to be run (it needs a real peer).
        i++;
        continue;
      }
      if (named === null) {
        // One unnamed block per example: an earlier one without its own
        // Run with line stays unrun.
        const earlier = pending.find((p) => p.name === "");
        if (earlier !== undefined) {
          pending = pending.filter((p) => p !== earlier);
          if (!earlier.info.includes("ignore")) {
            unrun.push({ line: earlier.line, info: earlier.info });
          }
        }
      }
      pending.push({
        name: named?.[1] ?? "",
        text: body.join("\n") + "\n",
        line: start + 1,
        info,
      });
      i++;
      continue;
    }
    if (fence !== null && fence[1] !== "") {
      // Another language's block: skip it whole.
      i++;
      while (i < lines.length && !lines[i]!.startsWith("```")) i++;
      i++;
      continue;
    }
    let run = RUN_WITH.exec(line);
    if (run === null && line === "Run with:") {
      run = RUN_WITH.exec(lines[i + 1] ?? "");
      if (run !== null) i++;
    }
    if (run !== null) {
      const files = pending.map((p) =>
        p.name === "" ? { ...p, name: run[2]! } : p
      );
      examples.push({
        line: i + 1,
        files: files.map(({ name, text }) => ({ name, text })),
        entry: run[2]!,
        flags: run[1]!.trim() === "" ? [] : run[1]!.trim().split(" "),
      });
      pending = [];
    } else if (fence === null && line.startsWith("#")) {
      // A new section: blocks before it without a Run with line stay unrun.
      for (const p of pending) {
        if (!p.info.includes("ignore")) {
          unrun.push({ line: p.line, info: p.info });
        }
      }
      pending = [];
    }
    i++;
  }
  for (const p of pending) {
    if (!p.info.includes("ignore")) unrun.push({ line: p.line, info: p.info });
  }
  return { examples, unrun };
}
