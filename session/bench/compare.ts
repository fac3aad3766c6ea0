// Copyright 2026 the @sidecar/ipc authors. MIT license.
/**
 * Compares our socket session forwarding with the real BIND 10 code in Kea
 * 2.2 (C++, `libkea-util-io.so.0`) on the same machine, one run each:
 *
 * - sessions forwarded per second, forwarder process -> receiver process,
 *   64 B, 4 KiB and 64 KiB data (rate measured by the receiver, first
 *   session to last), Deno -> Deno beside Kea -> Kea, plus the two mixed
 *   pairs;
 * - end to end: TCP connections accepted by a front process, forwarded,
 *   answered by a worker process, per second (the same Deno client drives
 *   both).
 *
 * Run: `deno run -A session/bench/compare.ts` (needs kea-common and g++).
 *
 * @module
 */
import {
  type JsonProcess,
  keaPeer,
  startJsonProcess,
} from "../../_test_utils/session/kea.ts";

const PEER_TS = new URL("./_peer.ts", import.meta.url).pathname;
const dir = await Deno.makeTempDir({ prefix: "session-compare-" });

type Proc = JsonProcess;

function start(cmd: string, args: string[]): Proc {
  return startJsonProcess(cmd, args);
}

function deno(args: string[]): Proc {
  return start(Deno.execPath(), ["run", "-A", PEER_TS, ...args]);
}

async function sessionsPerSecond(
  recv: (path: string, n: number) => Proc,
  send: (path: string, n: number, len: number) => Proc,
  n: number,
  len: number,
): Promise<number> {
  const path = `${dir}/s-${crypto.randomUUID().slice(0, 8)}.sock`;
  const r = recv(path, n);
  await r.next();
  const s = send(path, n, len);
  const sent = await s.next();
  if (sent.error) throw new Error(`sender failed: ${sent.error}`);
  const got = await r.next();
  if (got.error) throw new Error(`receiver failed: ${got.error}`);
  await s.child.status;
  await r.closeStdin();
  await r.child.status;
  return n / (got.seconds as number);
}

async function e2e(
  front: (path: string) => Proc,
  worker: (path: string) => Proc,
  total: number,
): Promise<number> {
  const path = `${dir}/e-${crypto.randomUUID().slice(0, 8)}.sock`;
  const w = worker(path);
  await w.next();
  const f = front(path);
  const { port } = await f.next() as { port: number };
  let next = 0;
  let ok = 0;
  const t0 = performance.now();
  const buf = new Uint8Array(16);
  const run = async (): Promise<void> => {
    while (next < total) {
      next++;
      using conn = await Deno.connect({ hostname: "127.0.0.1", port });
      await conn.write(new TextEncoder().encode("GET / HTTP/1.0\r\n\r\n"));
      let text = "";
      while (true) {
        const n = await conn.read(buf);
        if (n === null) break;
        text += new TextDecoder().decode(buf.subarray(0, n));
      }
      if (text === "ok") ok++;
    }
  };
  await Promise.all(Array.from({ length: 50 }, run));
  const seconds = (performance.now() - t0) / 1000;
  if (ok !== total) throw new Error(`end to end: ${ok}/${total} answered`);
  await f[Symbol.asyncDispose]();
  await w.child.status;
  return total / seconds;
}

const kea = keaPeer();
if (kea === null) {
  console.error(
    "kea-common 2.2 (libkea-util-io.so.0) or g++ is missing: Kea columns are skipped",
  );
}
const denoRecv = (p: string, n: number): Proc => deno(["recv", p, String(n)]);
const denoSend = (p: string, n: number, len: number): Proc =>
  deno(["send", p, String(n), String(len)]);
const keaRecv = (p: string, n: number): Proc =>
  start(kea!, ["bench-recv", p, String(n)]);
const keaSend = (p: string, n: number, len: number): Proc =>
  start(kea!, ["bench-send", p, String(n), String(len)]);

const rows: [string, number, number | null][] = [];
for (
  const [label, len, n] of [["64 B", 64, 200000], ["4 KiB", 4096, 100000], [
    "64 KiB",
    65535,
    20000,
  ]] as const
) {
  const ours = await sessionsPerSecond(denoRecv, denoSend, n, len);
  const theirs = kea ? await sessionsPerSecond(keaRecv, keaSend, n, len) : null;
  rows.push([
    `sessions/s, ${label} data (forwarder -> receiver)`,
    ours,
    theirs,
  ]);
}
if (kea) {
  rows.push([
    "sessions/s, 64 B: Kea forwarder -> our receiver",
    await sessionsPerSecond(denoRecv, keaSend, 200000, 64),
    null,
  ]);
  rows.push([
    "sessions/s, 64 B: our forwarder -> Kea receiver",
    await sessionsPerSecond(keaRecv, denoSend, 200000, 64),
    null,
  ]);
}
rows.push([
  "TCP conns/s end to end (accept, forward, answer)",
  await e2e(
    (p) => deno(["e2e-front", p]),
    (p) => deno(["e2e-worker", p]),
    5000,
  ),
  kea
    ? await e2e(
      (p) => start(kea, ["e2e-front", p]),
      (p) => start(kea, ["e2e-worker", p]),
      5000,
    )
    : null,
]);

const fmt = (x: number | null): string =>
  x === null ? "-" : Math.round(x).toLocaleString("en-US");
console.log(
  `\nsession/ vs Kea 2.2 C++ (${Deno.build.arch}, ${navigator.hardwareConcurrency} CPUs, one run each)\n`,
);
console.log("| measurement | @sidecar/ipc (Deno) | Kea 2.2 C++ | Deno / Kea |");
console.log("| --- | ---: | ---: | ---: |");
for (const [label, ours, theirs] of rows) {
  const ratio = theirs ? `${(ours / theirs).toFixed(2)}x` : "-";
  console.log(`| ${label} | ${fmt(ours)} | ${fmt(theirs)} | ${ratio} |`);
}
await Deno.remove(dir, { recursive: true }).catch(() => {});
