// Copyright 2026 the @sidecar/ipc authors. MIT license.
import assert from "node:assert/strict";

const DEMO = new URL("./demo.ts", import.meta.url).pathname;

async function runDemo(
  flags: string[],
  steps: string[] = [],
  env: Record<string, string> = {},
): Promise<{ code: number; out: string }> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--quiet", ...flags, DEMO, ...steps],
    env: { NO_COLOR: "1", ...env },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(out.stdout) +
    new TextDecoder().decode(out.stderr);
  return { code: out.code, out: text };
}

Deno.test("the demo runs every step to its success line", async () => {
  const { code, out } = await runDemo(["-A"]);
  assert.equal(code, 0, out);
  for (
    const step of ["connection", "dirty", "framing", "session", "managers"]
  ) {
    assert.match(out, new RegExp(`^demo: ${step} step ok$`, "m"), out);
  }
  assert.doesNotMatch(out, /FAILED|skipped/);
  // What each step shows.
  assert.match(out, /Python sidecar exited with code 0|Deno-to-Deno/);
  assert.match(
    out,
    /stream shout\(\.\.\.\) -> DIRTY WORKERS .* \(10 chunks, then END\)/,
  );
  assert.match(
    out,
    /wire: 1 2 stream-begin stream-settings eos cbor:b'zstd-8mb'/,
  );
  assert.match(out, /client got: "served by the receiver process"/);
  assert.match(out, /result 1: 5 words, "MANAGERS SHARE QUEUES/);
  assert.match(out, /results from [12] Python worker\(s\); objects left: 0/);
});

Deno.test("a demo step without its permission says so and is skipped", async () => {
  const { code, out } = await runDemo(
    ["--allow-read", "--allow-write", "--allow-net", "--allow-env"],
    ["dirty", "session"],
  );
  assert.equal(code, 0, out);
  assert.match(
    out,
    /^demo: dirty step skipped: needs --allow-run \(worker processes, Unix socket\)$/m,
  );
  assert.match(out, /^demo: session step skipped: needs --allow-ffi/m);
});

Deno.test("without python3 the connection step runs Deno-to-Deno", async () => {
  // A PATH holding only an empty directory: no python3 to be found.
  const empty = await Deno.makeTempDir();
  try {
    const { code, out } = await runDemo(["-A"], ["connection"], {
      PATH: empty,
    });
    assert.equal(code, 0, out);
    assert.match(
      out,
      /python3 was not found: running the same exchange Deno-to-Deno/,
    );
    assert.match(out, /^demo: connection step ok$/m);
  } finally {
    await Deno.remove(empty);
  }
});
