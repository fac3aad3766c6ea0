// Copyright 2026 the @sidecar/ipc authors. MIT license.
/**
 * gunicorn's own Python `DirtyClient` / `StashClient` (and raw STATUS /
 * MANAGE frames from its `BinaryProtocol`) against our arbiter. Needs the
 * gunicorn 26 source tree (not part of this repository): `$GUNICORN_SRC`
 * or `/tmp/gunicorn_src`; without it the test is skipped loudly, in CI too
 * (CI covers the same ground with our client and the vectors).
 */
import assert from "node:assert/strict";
import { startArbiter } from "./arbiter.ts";
import { peerTest } from "../_test_utils/peers.ts";
import {
  GUNICORN_PEER_NAME,
  gunicornPeer,
} from "../_test_utils/dirty/gunicorn.ts";
import { APP, ECHO } from "../_test_utils/dirty/apps.ts";

const EXACT = `${ECHO}:ExactEchoApp`;
const ORDERED = `${ECHO}:OrderedApp`;
const VALUES_SCRIPT =
  new URL("./testdata/python/gunicorn_values.py", import.meta.url).pathname;
const SCRIPT =
  new URL("./testdata/python/gunicorn_clients.py", import.meta.url).pathname;
const FLOATS_SCRIPT =
  new URL("./testdata/python/gunicorn_floats.py", import.meta.url).pathname;

peerTest(
  "python: gunicorn's DirtyClient and StashClient against our arbiter",
  gunicornPeer(),
  GUNICORN_PEER_NAME,
  async (peer) => {
    await using arb = await startArbiter({
      apps: [APP],
      workers: 1,
      timeout: 2000,
      log: () => {},
    });
    await arb.ready();
    const out = await new Deno.Command(peer.python, {
      args: ["-S", SCRIPT, peer.src, arb.socketPath, APP],
      stdout: "piped",
      stderr: "piped",
    }).output();
    const text = new TextDecoder().decode(out.stdout);
    assert.equal(
      out.code,
      0,
      text + new TextDecoder().decode(out.stderr),
    );
    assert.match(text, /ALL OK/);
    assert.doesNotMatch(text, /FAIL/);
  },
  { requiredInCi: false },
);

peerTest(
  "python: gunicorn's DirtyClient gets 1.0 back as 1.0 and 1 as 1 from our workers, nested too",
  gunicornPeer(),
  GUNICORN_PEER_NAME,
  async (peer) => {
    await using arb = await startArbiter({
      apps: [APP, EXACT],
      workers: 1,
      timeout: 10_000,
      log: () => {},
    });
    await arb.ready();
    const out = await new Deno.Command(peer.python, {
      args: ["-S", FLOATS_SCRIPT, peer.src, arb.socketPath, APP, EXACT],
      stdout: "piped",
      stderr: "piped",
    }).output();
    const text = new TextDecoder().decode(out.stdout);
    assert.equal(out.code, 0, text + new TextDecoder().decode(out.stderr));
    assert.match(text, /ALL OK/);
    assert.doesNotMatch(text, /FAIL/);
  },
  { requiredInCi: false },
);

for (
  const [what, name] of [
    ["kwargs", "keyword arguments arrive apart from a positional dict"],
    ["order", 'dict key order survives a TS app with static dicts = "map"'],
  ] as const
) {
  peerTest(
    `python: gunicorn's DirtyClient: ${name}`,
    gunicornPeer(),
    GUNICORN_PEER_NAME,
    async (peer) => {
      await using arb = await startArbiter({
        apps: [APP, ORDERED],
        workers: 1,
        log: () => {},
      });
      await arb.ready();
      const out = await new Deno.Command(peer.python, {
        args: [
          "-S",
          VALUES_SCRIPT,
          peer.src,
          arb.socketPath,
          APP,
          ORDERED,
          what,
        ],
        stdout: "piped",
        stderr: "piped",
      }).output();
      const text = new TextDecoder().decode(out.stdout);
      assert.equal(out.code, 0, text + new TextDecoder().decode(out.stderr));
      assert.match(text, /ALL OK/);
      assert.doesNotMatch(text, /FAIL/);
    },
    { requiredInCi: false },
  );
}
