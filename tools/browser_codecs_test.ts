// Copyright 2026 the @sidecar/ipc authors. MIT license.
/**
 * The runtime-neutral entry points really are: each one is bundled for the
 * browser (`deno bundle --platform=browser --format=esm`), its bundle holds
 * no `node:` import and no `Deno` reference, and a round-trip check on
 * vectors from the real peer (its module's `testdata/browser_check.ts`,
 * bundled the same way) passes in Node (20 on CI) and in headless Chromium.
 * A missing `node` or `chromium` skips loudly locally and fails with
 * `CI=true` (`.ci/run` installs Debian's `chromium`).
 *
 * To prove another entry point, add one row to `ENTRIES`: its name in
 * `deno.json`'s exports, and a check module exporting
 * `check(): string | Promise<string>` that throws on a mismatch.
 */
import assert from "node:assert/strict";
import {
  bundleForBrowser,
  entryFile,
  findChromium,
  findNode,
  forbiddenReferences,
  ROOT,
  runInChromium,
  runInNode,
} from "../_test_utils/browser_codecs.ts";
import { peerTest } from "../_test_utils/peers.ts";

/** Entry point (as exported in deno.json) and its round-trip check module. */
const ENTRIES: { specifier: string; check: string }[] = [
  {
    specifier: "@sidecar/ipc/framing/frames",
    check: "framing/testdata/browser_check.ts",
  },
  {
    specifier: "@sidecar/ipc/dirty/tlv",
    check: "dirty/testdata/browser_check.ts",
  },
  {
    specifier: "@sidecar/ipc/connection/pickle",
    check: "connection/testdata/browser_check.ts",
  },
  {
    specifier: "@sidecar/ipc/session/header",
    check: "session/testdata/browser_check.ts",
  },
];

// One temporary directory for every bundle, removed at unload.
const DIR = Deno.makeTempDirSync({ prefix: "sidecar-ipc-bundles-" });
globalThis.addEventListener("unload", () => {
  try {
    Deno.removeSync(DIR, { recursive: true });
  } catch {
    // Already gone.
  }
});

const checkBundles = new Map<string, Promise<string>>();

/** The check module bundled for the browser (once per entry), as a file name in DIR. */
function checkBundle(
  entry: { specifier: string; check: string },
): Promise<string> {
  let p = checkBundles.get(entry.specifier);
  if (p === undefined) {
    const name = `${entry.specifier.replace(/\W+/g, "_")}.check.js`;
    p = bundleForBrowser(`${ROOT}${entry.check}`, `${DIR}/${name}`).then(
      () => name,
    );
    checkBundles.set(entry.specifier, p);
  }
  return p;
}

for (const entry of ENTRIES) {
  Deno.test(`${entry.specifier} bundles for the browser with no node: import and no Deno API`, async () => {
    const file = entryFile(entry.specifier);
    const code = await bundleForBrowser(
      file,
      `${DIR}/${entry.specifier.replace(/\W+/g, "_")}.min.js`,
      { minify: true },
    );
    assert.deepEqual(forbiddenReferences(code), [], `in the bundle of ${file}`);
    const source = await Deno.readTextFile(file);
    assert.match(source, /^\/\/ This module is browser compatible\.$/m);
  });

  peerTest(
    `${entry.specifier}: the round trip on the real peer's vectors passes in Node`,
    findNode(),
    "node (Node.js 20)",
    async (node) => {
      const name = await checkBundle(entry);
      const r = await runInNode(node, DIR, name);
      console.log(`  ${r.runtime}: ${r.result}`);
      assert.ok(r.result.length > 0);
    },
  );

  peerTest(
    `${entry.specifier}: the round trip on the real peer's vectors passes in headless Chromium`,
    findChromium(),
    "chromium (Debian's chromium package)",
    async (chromium) => {
      const name = await checkBundle(entry);
      const code = await Deno.readTextFile(`${DIR}/${name}`);
      const r = await runInChromium(chromium, code);
      console.log(`  ${r.runtime}: ${r.result}`);
      assert.match(r.runtime, /Chrom/);
      assert.ok(r.result.length > 0);
    },
  );
}

Deno.test("the harness catches what it must: a node: import, a Deno call, a failing check", async () => {
  assert.deepEqual(
    forbiddenReferences(
      'import{inflateSync as a}from"node:zlib";let b=Deno.env.get("X");',
    ),
    ["Deno.env", "node:zlib"],
  );
  assert.deepEqual(forbiddenReferences('const x="deno";Denominator;'), []);
  // deno bundle keeps node: imports (and Deno calls) as they are: the scan
  // is what finds them, as it does in each whole module.
  for (
    const [mod, expected] of [
      ["framing", "node:zlib"],
      ["dirty", "node:async_hooks"],
      ["connection", "node:crypto"],
      ["session", "node:net"],
    ]
  ) {
    const found = forbiddenReferences(
      await bundleForBrowser(`${ROOT}${mod}/mod.ts`, `${DIR}/${mod}.min.js`, {
        minify: true,
      }),
    );
    assert.ok(found.includes(expected!), `${mod}: ${found}`);
    assert.ok(found.some((f) => f.startsWith("Deno")), `${mod}: ${found}`);
  }
  // A failing check is reported as a failure, with its message.
  const node = findNode();
  if (node !== null) {
    await Deno.writeTextFile(
      `${DIR}/failing.js`,
      'export function check() { throw new Error("wrong bytes"); }\n',
    );
    await assert.rejects(runInNode(node, DIR, "failing.js"), /wrong bytes/);
  }
  const chromium = findChromium();
  if (chromium !== null) {
    await assert.rejects(
      runInChromium(
        chromium,
        'export function check() { throw new Error("wrong bytes"); }',
      ),
      /failed in Chromium[^]*wrong bytes/,
    );
  }
});

Deno.test("every entry point in the table is exported by deno.json", () => {
  for (const e of ENTRIES) {
    assert.ok(Deno.statSync(entryFile(e.specifier)).isFile, e.specifier);
    assert.ok(Deno.statSync(`${ROOT}${e.check}`).isFile, e.check);
  }
});
