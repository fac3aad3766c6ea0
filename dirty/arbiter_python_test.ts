// Copyright 2026 the @sidecar/ipc authors. MIT license.
/**
 * gunicorn's own Python `DirtyClient` / `StashClient` (and raw STATUS /
 * MANAGE frames from its `BinaryProtocol`) against our arbiter. Needs the
 * gunicorn 26 source tree (not part of this repository): `$GUNICORN_SRC`
 * or `/tmp/gunicorn_src`; without it the test is ignored with a warning
 * (CI covers the same ground with our client and the vectors).
 */
import assert from "node:assert/strict";
import { startArbiter } from "./arbiter.ts";
import { findPython } from "../_test_utils/peers.ts";

const APP = `${
  new URL("./testdata/apps/echo.ts", import.meta.url).href
}:EchoApp`;
const SCRIPT =
  new URL("./testdata/python/gunicorn_clients.py", import.meta.url).pathname;

function gunicornSource(): string | null {
  for (const dir of [Deno.env.get("GUNICORN_SRC"), "/tmp/gunicorn_src"]) {
    if (!dir) continue;
    try {
      Deno.statSync(`${dir}/gunicorn/dirty/client.py`);
      return dir;
    } catch {
      // Not there.
    }
  }
  return null;
}

const src = gunicornSource();
const python = findPython("3.11");
if (src === null || python === null) {
  console.warn(
    "\n!!! IGNORING gunicorn client test: set GUNICORN_SRC to a gunicorn 26 source tree\n",
  );
}

Deno.test({
  name: "python: gunicorn's DirtyClient and StashClient against our arbiter",
  ignore: src === null || python === null,
  async fn() {
    await using arb = await startArbiter({
      apps: [APP],
      workers: 1,
      timeout: 2,
      log: () => {},
    });
    await arb.ready();
    const out = await new Deno.Command(python!.path, {
      args: ["-S", SCRIPT, src!, arb.socketPath, APP],
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
});
