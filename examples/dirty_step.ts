// Copyright 2026 the @sidecar/ipc authors. MIT license.
/**
 * Demo step 2: a Deno dirty arbiter (gunicorn 26's dirty-worker protocol)
 * hosting a TypeScript app in a worker process; Deno calls one action and
 * streams another.
 *
 * @module
 */
import { DirtyClient } from "../dirty/mod.ts";
import { startArbiter } from "../dirty/arbiter.ts";

/** Runs the step; returns a reason when it has to be skipped. */
export async function dirtyStep(): Promise<string | void> {
  console.log("== dirty: a Deno arbiter hosting a TypeScript app ==");
  for (const name of ["run", "read", "write"] as const) {
    if ((await Deno.permissions.query({ name })).state !== "granted") {
      return `needs --allow-${name} (worker processes, Unix socket)`;
    }
  }
  const app = `${new URL("./apps/text_app.ts", import.meta.url).href}:TextApp`;
  await using arbiter = await startArbiter({
    apps: [app],
    workers: 1,
    log: () => {},
  });
  await arbiter.ready(AbortSignal.timeout(20_000));
  const worker = arbiter.status().workers[0];
  console.log(
    `  arbiter listening on ${arbiter.socketPath}, worker pid ${worker?.pid}`,
  );
  await using client = new DirtyClient({ socketPath: arbiter.socketPath });
  const text = "dirty workers keep heavy state out of the web workers";
  const stats = await client.execute(app, "stats", [text], {}, {
    timeout: 10_000,
  }) as Record<string, unknown>;
  console.log(`  call stats(...) -> ${JSON.stringify(stats)}`);
  if (stats.worker !== worker?.pid) {
    throw new Error("Cannot run the dirty step: the action ran elsewhere");
  }
  const words: string[] = [];
  Deno.stdout.writeSync(new TextEncoder().encode("  stream shout(...) ->"));
  for await (
    const word of client.stream(app, "shout", [text], {}, { timeout: 10_000 })
  ) {
    words.push(String(word));
    Deno.stdout.writeSync(new TextEncoder().encode(` ${word}`));
  }
  console.log(` (${words.length} chunks, then END)`);
  if (words.length !== stats.words) {
    throw new Error("Cannot run the dirty step: the stream lost chunks");
  }
  await arbiter.close();
  console.log("  arbiter stopped, socket removed");
}
