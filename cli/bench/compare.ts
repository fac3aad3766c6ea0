// Copyright 2026 the @sidecar/ipc authors. MIT license.
/**
 * Compares the `ipc` commands with doing the same work in Python, end to
 * end as commands (process start included):
 *
 * - `ipc hg decode` against Mercurial decoding the same capture
 *   (`hg_decode.py`: readframe, its stream decoders, cborutil), on
 *   captures Mercurial's own reactors produced: large zstd responses and
 *   many small CBOR values;
 * - `ipc mp connect` against a Python client (`mp_client.py`) sending the
 *   same JSON lines as pickles to a CPython echo listener and printing
 *   each reply's repr.
 *
 * Run: `deno run -A cli/bench/compare.ts` (needs /usr/bin/python3 with
 * Mercurial, and python3).
 *
 * @module
 */

const HERE = new URL(".", import.meta.url).pathname;
const HG = new URL("../../framing/testdata/", import.meta.url).pathname;
const MAIN = new URL("../main.ts", import.meta.url).pathname;
const PY = "/usr/bin/python3";

async function run(cmd: string, args: string[], stdin?: Uint8Array) {
  const child = new Deno.Command(cmd, {
    args,
    stdin: stdin ? "piped" : "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  // Feed stdin while the output is read, or a full stdout pipe deadlocks.
  const feeding = stdin
    ? (async () => {
      const w = child.stdin.getWriter();
      await w.write(stdin);
      await w.close();
    })()
    : Promise.resolve();
  const [out] = await Promise.all([child.output(), feeding]);
  if (!out.success) {
    throw new Error(
      `${cmd} ${args.join(" ")} failed: ${
        new TextDecoder().decode(out.stderr)
      }`,
    );
  }
  return out.stdout;
}

async function capture(
  dir: string,
  name: string,
  calls: unknown,
): Promise<string> {
  await Deno.writeTextFile(`${dir}/calls.json`, JSON.stringify(calls));
  const requests = await run(PY, [
    `${HG}hg_client.py`,
    `${dir}/results.json`,
    "zstd-8mb,zlib,identity",
    `${dir}/calls.json`,
  ]);
  const responses = await run(PY, [`${HG}hg_server.py`], requests);
  const path = `${dir}/${name}.bin`;
  await Deno.writeFile(path, responses);
  return path;
}

async function median(fn: () => Promise<unknown>, runs = 5): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    await fn();
    times.push(performance.now() - t);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(runs / 2)]!;
}

if (import.meta.main) {
  const dir = await Deno.makeTempDir({ prefix: "ipc-bench-" });
  try {
    const cases = [
      [
        "5 x 2 MB responses (zstd)",
        await capture(
          dir,
          "big",
          Array(5).fill(["big", { size: 2_000_000 }, null]),
        ),
      ],
      [
        "50k small CBOR values (zstd)",
        await capture(dir, "many", [["many", { count: 50_000 }, null]]),
      ],
    ] as const;
    // Mercurial's script prints every value whole, as `--full` does; the
    // default output cuts long values, which is less work.
    console.log(
      "| capture | bytes | ipc hg decode --full (ms) | ipc hg decode (ms) | Mercurial 6.3.2 in Python (ms) | ratio Mercurial / --full |",
    );
    console.log("| --- | --- | --- | --- | --- | --- |");
    for (const [label, path] of cases) {
      const size = (await Deno.stat(path)).size;
      const full = await median(() =>
        run(Deno.execPath(), [
          "run",
          "-A",
          MAIN,
          "hg",
          "decode",
          "--full",
          path,
        ])
      );
      const ours = await median(() =>
        run(Deno.execPath(), ["run", "-A", MAIN, "hg", "decode", path])
      );
      const theirs = await median(() => run(PY, [`${HERE}hg_decode.py`, path]));
      console.log(
        `| ${label} | ${size} | ${full.toFixed(0)} | ${ours.toFixed(0)} | ${
          theirs.toFixed(0)
        } | ${(theirs / full).toFixed(2)} |`,
      );
    }
    await compareMp(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

async function compareMp(dir: string): Promise<void> {
  const echo = new Deno.Command("python3", {
    args: [`${HERE}mp_echo.py`, "k"],
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const reader = echo.stdout.pipeThrough(new TextDecoderStream()).getReader();
  const port = Number((await reader.read()).value?.trim());
  try {
    const count = 20_000;
    const lines = Array.from(
      { length: count },
      (_, i) =>
        JSON.stringify({
          id: i,
          name: `item ${i}`,
          tags: ["a", "b"],
          score: i + 0.5,
        }),
    ).join("\n") + "\n";
    const input = new TextEncoder().encode(lines);
    await Deno.writeFile(`${dir}/lines.json`, input);
    const ours = await median(() =>
      run(Deno.execPath(), [
        "run",
        "-A",
        MAIN,
        "mp",
        "connect",
        `127.0.0.1:${port}`,
        "--authkey",
        "k",
        "--count",
        String(count),
      ], input)
    );
    const theirs = await median(() =>
      run(
        "python3",
        [`${HERE}mp_client.py`, String(port), "k", String(count)],
        input,
      )
    );
    console.log();
    console.log(
      "| session | ipc mp connect (ms) | CPython client (ms) | ratio CPython / ipc |",
    );
    console.log("| --- | --- | --- | --- |");
    console.log(
      `| ${count} JSON lines -> pickles -> CPython echo -> reprs | ${
        ours.toFixed(0)
      } | ${theirs.toFixed(0)} | ${(theirs / ours).toFixed(2)} |`,
    );
  } finally {
    echo.kill("SIGTERM");
    await reader.cancel();
    await echo.status;
  }
}
