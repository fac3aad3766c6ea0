// Copyright 2026 the @sidecar/ipc authors. MIT license.
/**
 * A tour of the whole package, one short step per protocol:
 *
 * 1. **connection**: a Python sidecar (`examples/sidecar.py`, a
 *    `multiprocessing.connection` `Listener`) and Deno exchange pickled
 *    objects and raw bytes after the mutual HMAC handshake. Without
 *    `python3` the same exchange runs Deno-to-Deno.
 * 2. **dirty**: a Deno dirty arbiter hosts a TypeScript app
 *    (`examples/apps/text_app.ts`) in worker processes; Deno calls one
 *    action and streams another, over gunicorn's dirty protocol.
 * 3. **framing**: an hgrpc server and client (Mercurial's frame protocol)
 *    over a Unix socket, with the responses zstd-compressed; the captured
 *    bytes are decoded to show the frames on the wire.
 * 4. **session**: a TCP connection accepted by this process is handed, as
 *    a live socket, to another Deno process (`ipc session receive`), which
 *    answers the client (BIND 10 socket sessions over a Unix socket).
 * 5. **managers**: `multiprocessing.managers` both ways: a Deno HTTP
 *    handler feeds a Python `BaseManager` job queue that a Python worker
 *    consumes, then Python workers consume a queue Deno hosts
 *    (`examples/manager_jobs.py`).
 *
 * Each step ends with `demo: <step> step ok`; a step whose peer or
 * permission is missing says so and is skipped. Run:
 * `npx -y deno@2.9.6 task demo` (`deno run -A examples/demo.ts`; the
 * session step uses FFI, which means full trust).
 *
 * @module
 */
import {
  connect,
  type Connection,
  Listener,
  Tuple,
} from "../connection/mod.ts";
import { dirtyStep } from "./dirty_step.ts";
import { framingStep } from "./framing_step.ts";
import { managersStep } from "./managers_step.ts";
import { sessionStep } from "./session_step.ts";
import { findPython } from "./_python.ts";

const AUTHKEY = crypto.randomUUID();
const enc = new TextEncoder();
const dec = new TextDecoder();

function show(label: string, value: unknown): void {
  console.log(
    `  ${label}: ${Deno.inspect(value, { depth: 6, colors: false })}`,
  );
}

/** The exchange the demo performs against any peer that serves the requests. */
async function exchange(conn: Connection): Promise<void> {
  const request = { op: "sum", values: [1, 2, 3.5, 2n ** 70n] };
  show("deno sends", request);
  await conn.send(request);
  show("deno received", await conn.recv());

  const value = new Tuple(["tuple", 1, null, new Uint8Array([0, 255])]);
  show("deno sends", { op: "describe", value });
  await conn.send({ op: "describe", value });
  show("deno received", await conn.recv());

  await conn.send({ op: "bytes" });
  await conn.sendBytes(enc.encode("raw bytes, no pickle"));
  show("deno received raw", dec.decode(await conn.recvBytes()));

  await conn.send({ op: "shutdown" });
  show("deno received", await conn.recv());
}

async function withPython(python: string): Promise<void> {
  const script = new URL("./sidecar.py", import.meta.url).pathname;
  const child = new Deno.Command(python, {
    args: [script],
    env: { SIDECAR_AUTHKEY: AUTHKEY },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  // The sidecar's log lines, printed whole so they never split Deno's lines.
  const logs = (async () => {
    let rest = "";
    for await (
      const text of child.stderr.pipeThrough(new TextDecoderStream())
    ) {
      const parts = (rest + text).split("\n");
      rest = parts.pop() ?? "";
      for (const line of parts) console.log(`  ${line}`);
    }
    if (rest) console.log(`  ${rest}`);
  })();
  const lines = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let first = "";
  while (!first.includes("\n")) {
    const { value, done } = await lines.read();
    if (done) {
      throw new Error(
        "Cannot start the sidecar: it exited before printing its address",
      );
    }
    first += value;
  }
  lines.releaseLock();
  const hello = JSON.parse(first.slice(0, first.indexOf("\n")));
  console.log(
    `Python ${hello.python} sidecar listening on ${
      JSON.stringify(hello.address)
    }`,
  );
  {
    await using conn = await connect(hello.address, {
      authkey: AUTHKEY,
      signal: AbortSignal.timeout(10_000),
    });
    console.log("Deno connected and both sides proved the key");
    await exchange(conn);
  }
  await child.stdout.cancel().catch(() => {});
  const status = await child.status;
  await logs;
  console.log(`Python sidecar exited with code ${status.code}`);
  if (!status.success) {
    throw new Error(
      `Cannot finish the demo: sidecar exited with ${status.code}`,
    );
  }
}

/** The same requests served by Deno, for machines without Python. */
async function serveLikeTheSidecar(conn: Connection): Promise<void> {
  while (true) {
    const request = await conn.recv() as Record<string, unknown>;
    const get = (k: string): unknown => request[k];
    console.log(
      `  [deno sidecar] received ${Deno.inspect(request, { colors: false })}`,
    );
    switch (get("op")) {
      case "sum": {
        let sum = 0n;
        let float = 0;
        for (const v of get("values") as (number | bigint)[]) {
          if (typeof v === "bigint") sum += v;
          else float += v;
        }
        await conn.send({ ok: true, sum: Number(sum) + float });
        break;
      }
      case "describe":
        await conn.send(
          new Tuple([typeof get("value"), Deno.inspect(get("value"))]),
        );
        break;
      case "bytes":
        await conn.sendBytes((await conn.recvBytes()).reverse());
        break;
      default:
        await conn.send("bye");
        return;
    }
  }
}

async function withoutPython(): Promise<void> {
  console.log("python3 was not found: running the same exchange Deno-to-Deno");
  await using listener = new Listener({ hostname: "127.0.0.1", port: 0 }, {
    authkey: AUTHKEY,
  });
  const served = (async () => {
    await using conn = await listener.accept({
      signal: AbortSignal.timeout(10_000),
    });
    await serveLikeTheSidecar(conn);
  })();
  {
    await using conn = await connect(listener.address, { authkey: AUTHKEY });
    await exchange(conn);
  }
  await served;
}

async function connectionStep(): Promise<void> {
  console.log(
    "== @sidecar/ipc demo: Deno <-> Python multiprocessing.connection ==",
  );
  const python = findPython("multiprocessing.connection");
  if (python) await withPython(python);
  else await withoutPython();
}

/** The steps, in order; each returns normally, throws, or returns a skip reason. */
const STEPS: [string, () => Promise<string | void>][] = [
  ["connection", connectionStep],
  ["dirty", dirtyStep],
  ["framing", framingStep],
  ["session", sessionStep],
  ["managers", managersStep],
];

if (import.meta.main) {
  const only = Deno.args.length > 0 ? new Set(Deno.args) : null;
  let failed = 0;
  for (const [name, step] of STEPS) {
    if (only && !only.has(name)) continue;
    try {
      const skipped = await step();
      if (typeof skipped === "string") {
        console.log(`demo: ${name} step skipped: ${skipped}`);
      } else {
        console.log(`demo: ${name} step ok`);
      }
    } catch (e) {
      failed++;
      console.log(
        `demo: ${name} step FAILED: ${e instanceof Error ? e.message : e}`,
      );
    }
  }
  if (failed > 0) Deno.exit(1);
}
