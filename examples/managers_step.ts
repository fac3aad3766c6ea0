// Copyright 2026 the @sidecar/ipc authors. MIT license.
/**
 * Demo step 5: `multiprocessing.managers` both ways.
 *
 * 1. A Python `BaseManager` hosts a job queue; a Deno HTTP handler feeds it
 *    (`POST /jobs`), a Python worker consumes it, and Deno reads the
 *    results through the manager's proxies.
 * 2. Deno hosts the queues (`ManagerServer`); two Python workers connect to
 *    it with a plain `BaseManager` subclass and consume the jobs the same
 *    HTTP handler takes.
 *
 * @module
 */
import {
  connectManager,
  ManagerQueue,
  ManagerServer,
  QueueProxy,
} from "../connection/mod.ts";
import { findPython } from "./_python.ts";

const SCRIPT = new URL("./manager_jobs.py", import.meta.url).pathname;
const TEXTS = [
  "managers share queues between processes",
  "deno feeds the python workers",
  "proxies keep their reference counts balanced",
];

function python(
  path: string,
  args: string[],
  authkey: string,
): Deno.ChildProcess {
  return new Deno.Command(path, {
    args: [SCRIPT, ...args],
    env: { SIDECAR_AUTHKEY: authkey },
    stdin: "piped",
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
}

async function firstLine(child: Deno.ChildProcess): Promise<string> {
  const reader = child.stdout.pipeThrough(new TextDecoderStream())
    .getReader();
  let text = "";
  while (!text.includes("\n")) {
    const { value, done } = await reader.read();
    if (done) throw new Error("Cannot start python: it exited early");
    text += value;
  }
  reader.releaseLock();
  return text.slice(0, text.indexOf("\n"));
}

/** The HTTP front: `POST /jobs` with `{ "text": ... }` queues a job. */
function jobServer(
  put: (job: Record<string, unknown>) => Promise<void>,
): Deno.HttpServer<Deno.NetAddr> {
  let next = 0;
  return Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    async (req) => {
      if (req.method !== "POST" || new URL(req.url).pathname !== "/jobs") {
        return new Response("not found", { status: 404 });
      }
      const { text } = await req.json();
      const job = { id: ++next, text: String(text) };
      await put(job);
      return Response.json({ queued: job.id }, { status: 202 });
    },
  );
}

async function postJobs(http: Deno.HttpServer<Deno.NetAddr>): Promise<void> {
  for (const text of TEXTS) {
    const res = await fetch(`http://127.0.0.1:${http.addr.port}/jobs`, {
      method: "POST",
      body: JSON.stringify({ text }),
    });
    console.log(`  POST /jobs ${JSON.stringify(text)} -> ${await res.text()}`);
  }
}

async function collect(
  get: () => Promise<unknown>,
  n: number,
): Promise<Set<unknown>> {
  const workers = new Set<unknown>();
  for (let i = 0; i < n; i++) {
    const r = await get() as Record<string, unknown>;
    console.log(
      `  result ${r.id}: ${r.words} words, "${r.upper}" (python pid ${r.worker})`,
    );
    workers.add(r.worker);
  }
  return workers;
}

async function pythonHostsTheQueue(py: string, authkey: string): Promise<void> {
  console.log("  1. a Python BaseManager hosts the job queue");
  const server = python(py, ["serve"], authkey);
  const hello = JSON.parse(await firstLine(server));
  console.log(
    `  Python ${hello.python} manager on ${JSON.stringify(hello.address)}`,
  );
  const worker = python(py, ["work", JSON.stringify(hello.address)], authkey);
  try {
    await firstLine(worker); // connected
    await using manager = await connectManager(hello.address, {
      authkey,
      signal: AbortSignal.timeout(10_000),
      // The typeids this BaseManager registers, as typed proxies.
      proxies: { jobs: QueueProxy, results: QueueProxy },
    });
    await using jobs = await manager.create<QueueProxy>("jobs");
    await using results = await manager.create<QueueProxy>("results");
    const http = jobServer((job) => jobs.put(job));
    await postJobs(http);
    await collect(() => results.get({ timeout: 10_000 }), TEXTS.length);
    await jobs.put(null); // the worker stops
    await http.shutdown();
    const status = await worker.status;
    if (!status.success) throw new Error("Cannot finish: the worker failed");
    console.log(
      `  objects left in the Python manager: ${await manager
        .numberOfObjects()} (our 2 proxies)`,
    );
  } finally {
    await worker.stdin.close().catch(() => {});
    await worker.stdout.cancel().catch(() => {});
    await server.stdin.close().catch(() => {});
    await server.stdout.cancel().catch(() => {});
    await server.status;
  }
}

async function denoHostsTheQueue(py: string, authkey: string): Promise<void> {
  console.log("  2. Deno hosts the job queue; two Python workers consume it");
  const jobs = new ManagerQueue();
  const results = new ManagerQueue();
  await using server = new ManagerServer({ hostname: "127.0.0.1", port: 0 }, {
    authkey,
  });
  server.register("jobs", { create: () => jobs })
    .register("results", { create: () => results });
  server.serve();
  console.log(`  Deno manager on ${JSON.stringify(server.address)}`);
  const workers = [0, 1].map(() =>
    python(py, ["work", JSON.stringify(server.address)], authkey)
  );
  try {
    for (const w of workers) await firstLine(w); // both connected
    const http = jobServer((job) => Promise.resolve(jobs.put(job)));
    await postJobs(http);
    await postJobs(http);
    const pids = await collect(
      () => Promise.resolve(results.get()),
      2 * TEXTS.length,
    );
    for (const _ of workers) jobs.put(null);
    await http.shutdown();
    for (const w of workers) {
      if (!(await w.status).success) {
        throw new Error("Cannot finish: a worker failed");
      }
    }
    console.log(
      `  results from ${pids.size} Python worker(s); objects left: ${server.objectCount}`,
    );
  } finally {
    for (const w of workers) {
      await w.stdin.close().catch(() => {});
      await w.stdout.cancel().catch(() => {});
    }
  }
}

/** Runs the step; returns a reason when it has to be skipped. */
export async function managersStep(): Promise<string | void> {
  console.log("== managers: multiprocessing.managers, both ways ==");
  const py = findPython("multiprocessing.managers");
  if (py === null) return "needs python3 (the manager peers are Python)";
  const authkey = crypto.randomUUID();
  await pythonHostsTheQueue(py, authkey);
  await denoHostsTheQueue(py, authkey);
}
