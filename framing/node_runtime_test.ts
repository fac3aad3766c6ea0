// Copyright 2026 the @sidecar/ipc authors. MIT license.
/**
 * The encoding selection in a real runtime without zstd: Node 20's
 * `node:zlib` has no `createZstdCompress`. `testdata/node_encodings.ts`
 * (a server answering a client that offers zstd first, as Mercurial's
 * does) is bundled and run in Node; before the fix it died with
 * `zlib.createZstdCompress is not a function`.
 */
import assert from "node:assert/strict";
import { bundle, findNode, ROOT } from "../_test_utils/browser_codecs.ts";
import { peerTest, tempDir } from "../_test_utils/peers.ts";

peerTest(
  "framing in Node: the server picks an encoding Node has (zlib on Node 20) and answers",
  findNode(),
  "node (Node.js 20)",
  async (node) => {
    await using dir = await tempDir();
    const script = `${dir.path}/node_encodings.mjs`;
    await bundle(`${ROOT}framing/testdata/node_encodings.ts`, script, {
      platform: "deno",
    });
    const probe = await new Deno.Command(node, {
      args: [
        "-e",
        'const z = require("node:zlib"); console.log(process.version, typeof z.createZstdCompress)',
      ],
      stdout: "piped",
    }).output();
    const [version, zstd] = new TextDecoder().decode(probe.stdout).trim()
      .split(" ");
    const out = await new Deno.Command(node, {
      args: [script],
      stdout: "piped",
      stderr: "piped",
    }).output();
    const stderr = new TextDecoder().decode(out.stderr);
    assert.equal(out.code, 0, `node ${version}:\n${stderr}`);
    const r = JSON.parse(new TextDecoder().decode(out.stdout).trim());
    console.log(`  node ${version}: ${JSON.stringify(r)}`);
    const hasZstd = zstd === "function";
    assert.deepEqual(
      r.available,
      hasZstd ? ["zstd-8mb", "zlib", "identity"] : ["zlib", "identity"],
    );
    assert.equal(r.chosen, hasZstd ? "zstd-8mb" : "zlib");
    assert.deepEqual(r.values, [0, 1, 2]);
  },
);
