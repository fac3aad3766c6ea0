// Copyright 2026 the @sidecar/ipc authors. MIT license.
/**
 * Every README example runs with exactly the permission flags written next
 * to it, from a project outside this repository that imports the package
 * by name (as a JSR user's would), and fails without any one of them: the
 * README's flags are enough, and none is more than the example needs.
 *
 * @module
 */
import assert from "node:assert/strict";
import { readmeExamples } from "./readme_examples.ts";

const ROOT = new URL("..", import.meta.url);
const README = await Deno.readTextFile(new URL("README.md", ROOT));

/** An import map naming every export of the package, as a user's project has. */
async function importMap(): Promise<Record<string, string>> {
  const config = JSON.parse(
    await Deno.readTextFile(new URL("deno.json", ROOT)),
  ) as {
    name: string;
    exports: Record<string, string>;
    imports: Record<string, string>;
  };
  const imports: Record<string, string> = { ...config.imports };
  for (const [key, path] of Object.entries(config.exports)) {
    const name = key === "." ? config.name : `${config.name}${key.slice(1)}`;
    imports[name] = new URL(path, ROOT).href;
  }
  return imports;
}

interface RunResult {
  code: number;
  output: string;
}

async function run(
  dir: string,
  entry: string,
  flags: string[],
): Promise<RunResult> {
  const tmp = await Deno.makeTempDir({ dir });
  const args = flags.map((f) =>
    f.replaceAll("$TMPDIR", tmp).replaceAll("$PWD", dir)
      .replaceAll("$DENO", Deno.execPath())
  );
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--no-prompt", "--quiet", ...args, entry],
    cwd: dir,
    env: { TMPDIR: tmp, DENO_NO_UPDATE_CHECK: "1", NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const decoder = new TextDecoder();
  return {
    code: out.code,
    output: decoder.decode(out.stdout) + decoder.decode(out.stderr),
  };
}

Deno.test("README: every runnable example says how to run it", () => {
  const { examples, unrun } = readmeExamples(README);
  assert.deepEqual(unrun, [], "ts blocks with no Run with: line");
  assert.ok(examples.length >= 8, `only ${examples.length} examples found`);
});

const { examples } = readmeExamples(README);
for (const example of examples) {
  Deno.test(
    `README example at line ${example.line} runs with exactly \`${
      example.flags.join(" ") || "no flags"
    }\``,
    async () => {
      const dir = await Deno.makeTempDir({ prefix: "readme-example-" });
      try {
        await Deno.writeTextFile(
          `${dir}/deno.json`,
          JSON.stringify({ imports: await importMap() }),
        );
        for (const f of example.files) {
          await Deno.writeTextFile(`${dir}/${f.name}`, f.text);
        }
        const ok = await run(dir, example.entry, example.flags);
        assert.equal(
          ok.code,
          0,
          `with ${example.flags.join(" ")}:\n${ok.output}`,
        );
        // Each flag is needed: without it, the example fails.
        for (const flag of example.flags) {
          const fewer = example.flags.filter((f) => f !== flag);
          const r = await run(dir, example.entry, fewer);
          assert.notEqual(
            r.code,
            0,
            `the example also runs without ${flag}: the README asks for more than it needs`,
          );
          assert.match(
            r.output,
            /NotCapable|Requires \w+ access|PermissionDenied/,
            `without ${flag} it failed for another reason:\n${r.output}`,
          );
        }
      } finally {
        await Deno.remove(dir, { recursive: true });
      }
    },
  );
}
