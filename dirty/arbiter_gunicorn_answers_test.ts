// Copyright 2026 the @sidecar/ipc authors. MIT license.
/**
 * gunicorn 26.1's answers to malformed REQUESTs (args that are not a list,
 * kwargs that are not a dict, a missing app path or action), compared with
 * the answers its real arbiter gave, recorded in
 * `testdata/malformed_requests.gunicorn.json` by running
 * `testdata/gunicorn_peer/malformed_requests.py` against it (the peer test
 * below re-records them live when the gunicorn source is present).
 */
import assert from "node:assert/strict";
import { APP, quiet, test } from "../_test_utils/dirty/apps.ts";
import { RawDirtyConn } from "../_test_utils/dirty/arbiter_client.ts";
import {
  GUNICORN_PEER_NAME,
  gunicornPeer,
} from "../_test_utils/dirty/gunicorn.ts";
import { peerTest, tempDir } from "../_test_utils/peers.ts";
import { readUntil } from "../_test_utils/child.ts";
import { startArbiter } from "./arbiter.ts";
import {
  encodeFrame,
  encodeRequest,
  encodeStatus,
} from "./message_encoders.ts";
import type { DirtyInput, DirtyValue } from "./tlv.ts";

const here = new URL(".", import.meta.url).pathname;
const CASES = `${here}testdata/malformed_requests.json`;
const RECORDED = `${here}testdata/malformed_requests.gunicorn.json`;
const SCRIPT = `${here}testdata/gunicorn_peer/malformed_requests.py`;
const RUNNER = `${here}testdata/gunicorn_peer/run_arbiter.py`;

interface Case {
  name: string;
  payload: [string, unknown][];
}
interface Answer {
  name: string;
  reply: unknown;
}

function value(v: unknown, app: string): DirtyInput {
  if (Array.isArray(v)) return v.map((x) => value(x, app));
  if (v !== null && typeof v === "object") {
    const o = v as Record<string, unknown>;
    if ("$app" in o) return app;
    if ("$bytes" in o) return new TextEncoder().encode(String(o.$bytes));
    return new Map(Object.entries(o).map(([k, x]) => [k, value(x, app)]));
  }
  return v as DirtyInput;
}

function plain(v: DirtyValue): unknown {
  if (v instanceof Uint8Array) {
    return { $bytes: String.fromCharCode(...v) };
  }
  if (Array.isArray(v)) return v.map(plain);
  if (v !== null && typeof v === "object" && !(v instanceof Map)) {
    return Object.fromEntries(
      Object.entries(v).map(([k, x]) => [k, plain(x as DirtyValue)]),
    );
  }
  return v;
}

/** Our arbiter's answers, normalised as the Python script does. */
async function ours(socket: string, app: string): Promise<Answer[]> {
  const cases = JSON.parse(await Deno.readTextFile(CASES)) as Case[];
  const out: Answer[] = [];
  for (const [i, c] of cases.entries()) {
    const payload = new Map(c.payload.map(([k, v]) => [k, value(v, app)]));
    await using conn = await RawDirtyConn.open(socket);
    await conn.write(encodeFrame("request", BigInt(100 + i), payload));
    const f = await conn.read();
    let reply: unknown;
    if (f === null) {
      reply = { closed: "EOF" };
    } else if (f.type === "response") {
      reply = {
        result: plain((f.payload as Record<string, DirtyValue>).result!),
      };
    } else if (f.type === "error") {
      const e = (f.payload as Record<string, Record<string, unknown>>).error!;
      reply = {
        error_type: e.error_type,
        message: String(e.message).replace(
          /<[^<>]* object at 0x[0-9a-f]+>/g,
          "<APP object>",
        ),
        details: Object.keys(e.details as object).sort(),
      };
    } else {
      reply = { type: f.type };
    }
    out.push({ name: c.name, reply });
  }
  return out;
}

/** Runs `fn` with the socket of gunicorn's own arbiter (its demo app), live. */
async function withGunicornArbiter(
  peer: { python: string; src: string },
  fn: (socket: string) => Promise<void>,
): Promise<void> {
  await using dir = await tempDir();
  const sock = `${dir.path}/arbiter.sock`;
  const child = new Deno.Command(peer.python, {
    args: ["-S", RUNNER, "--gunicorn", peer.src, "--timeout", "10", sock],
    env: { TMPDIR: dir.path },
    stdout: "piped",
    stderr: "null",
  }).spawn();
  try {
    await readUntil(child, "ready", "gunicorn's arbiter did not start");
    await fn(sock);
  } finally {
    child.kill("SIGTERM");
    await child.status;
    await child.stdout.cancel().catch(() => {});
  }
}

test("gunicorn answers: malformed requests get the error types and messages of gunicorn 26.1", async () => {
  await using arb = await startArbiter({ apps: [APP], workers: 1, log: quiet });
  await arb.ready();
  const recorded = JSON.parse(await Deno.readTextFile(RECORDED)) as Answer[];
  const got = await ours(arb.socketPath, APP);
  for (const [i, want] of recorded.entries()) {
    assert.deepEqual(got[i], want, want.name);
  }
  assert.equal(got.length, recorded.length);
});

peerTest(
  "gunicorn answers: the recorded answers are gunicorn 26.1's own, and its Python client gets the same from ours",
  gunicornPeer(),
  GUNICORN_PEER_NAME,
  async (peer) => {
    const recorded = JSON.parse(await Deno.readTextFile(RECORDED));
    const run = async (socket: string, app: string) => {
      const out = await new Deno.Command(peer.python, {
        args: ["-S", SCRIPT, peer.src, socket, app, CASES],
        stdout: "piped",
        stderr: "piped",
      }).output();
      assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
      return JSON.parse(new TextDecoder().decode(out.stdout));
    };
    // gunicorn's arbiter, live.
    await withGunicornArbiter(peer, async (sock) => {
      assert.deepEqual(await run(sock, "dirty_demo_app:DemoApp"), recorded);
    });
    // Ours, through gunicorn's own protocol code.
    await using arb = await startArbiter({
      apps: [APP],
      workers: 1,
      log: quiet,
    });
    await arb.ready();
    assert.deepEqual(await run(arb.socketPath, APP), recorded);
  },
  { requiredInCi: false },
);

/**
 * What a client sees when it writes a STATUS, a request that takes a while
 * (`sleep` with `args`), then a frame with a bad magic, all at once or one
 * write each: each frame's type and id, then "EOF".
 */
async function beforeBadFrame(
  socket: string,
  app: string,
  args: DirtyInput[],
  oneWrite: boolean,
): Promise<string[]> {
  await using c = await RawDirtyConn.open(socket);
  const frames = [
    encodeStatus(7n),
    encodeRequest(8n, app, "sleep", args),
    Uint8Array.from([0x58, 0x58, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]),
  ];
  if (oneWrite) {
    await c.write(new Uint8Array(frames.flatMap((f) => [...f])));
  } else {
    for (const f of frames) await c.write(f);
  }
  const seen: string[] = [];
  for (;;) {
    const f = await c.read();
    if (f === null) return [...seen, "EOF"];
    seen.push(`${f.type} ${f.id}`);
  }
}

peerTest(
  "gunicorn answers: the frames before a malformed one are answered, then the connection closes, as gunicorn 26.1 does",
  gunicornPeer(),
  GUNICORN_PEER_NAME,
  async (peer) => {
    const want = ["response 7", "response 8", "EOF"];
    await withGunicornArbiter(peer, async (sock) => {
      for (const oneWrite of [true, false]) {
        assert.deepEqual(
          await beforeBadFrame(sock, "dirty_demo_app:DemoApp", [0.2], oneWrite),
          want,
          `gunicorn, one write: ${oneWrite}`,
        );
      }
    });
    await using arb = await startArbiter({
      apps: [APP],
      workers: 1,
      log: quiet,
    });
    await arb.ready();
    for (const oneWrite of [true, false]) {
      assert.deepEqual(
        await beforeBadFrame(arb.socketPath, APP, [200], oneWrite),
        want,
        `ours, one write: ${oneWrite}`,
      );
    }
  },
  { requiredInCi: false },
);
