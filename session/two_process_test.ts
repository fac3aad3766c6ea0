// Copyright 2026 the @sidecar/ipc authors. MIT license.
// Two Deno processes: a front accepts TCP connections and UDP datagrams
// (IPv4 and IPv6) and forwards them to a worker, which answers each client.
import dgram from "node:dgram";
import assert from "node:assert/strict";
import { tempDir } from "../_test_utils/peers.ts";
import { within } from "../_test_utils/wait.ts";
import {
  type JsonProcess,
  startJsonProcess,
} from "../_test_utils/session/kea.ts";
import { answerFor } from "../_test_utils/session/worker.ts";
import { concatBytes } from "../_internal/bytes.ts";

function spawn(script: string, args: string[]): JsonProcess {
  return startJsonProcess(Deno.execPath(), [
    "run",
    "-A",
    new URL(script, import.meta.url).pathname,
    ...args,
  ]);
}

function message(len: number, seed: number): Uint8Array {
  const m = new Uint8Array(4 + len);
  new DataView(m.buffer).setUint32(0, len, false);
  for (let i = 0; i < len; i++) m[4 + i] = (i * 7 + seed) & 0xff;
  return m;
}

function tcpSize(i: number): number {
  if (i % 100 === 0) return 65536 * 2; // more than one session can carry
  if (i % 50 === 0) return 65531; // exactly 65535 bytes with the prefix
  if (i % 10 === 0) return 4096 + i;
  if (i % 7 === 0) return 0;
  return (i * 37) % 600;
}

async function tcpClient(
  hostname: string,
  port: number,
  msg: Uint8Array,
): Promise<string> {
  using conn = await Deno.connect({ hostname, port });
  for (let o = 0; o < msg.length;) o += await conn.write(msg.subarray(o));
  const chunks: Uint8Array[] = [];
  const buf = new Uint8Array(4096);
  while (true) {
    const n = await conn.read(buf);
    if (n === null) break;
    chunks.push(buf.slice(0, n));
  }
  return new TextDecoder().decode(
    concatBytes(chunks),
  );
}

async function udpRoundTrip(
  type: "udp4" | "udp6",
  port: number,
  msg: Uint8Array,
): Promise<string> {
  const sock = dgram.createSocket(type);
  try {
    const answer = new Promise<string>((resolve) => {
      sock.once("message", (m) => resolve(m.toString()));
    });
    sock.send(msg, port, type === "udp4" ? "127.0.0.1" : "::1");
    return await within(answer, "the UDP answer");
  } finally {
    await new Promise<void>((r) => sock.close(() => r()));
  }
}

Deno.test({
  name:
    "two Deno processes: the front forwards 1000 TCP connections and UDP datagrams, the worker answers each, no fd leaks",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    await using dir = await tempDir();
    const path = `${dir.path}/worker.sock`;
    await using worker = spawn("../_test_utils/session/worker.ts", [path]);
    const wReady = await worker.next();
    await using front = spawn("../_test_utils/session/front.ts", [path]);
    const fReady = await front.next();

    // 1000 TCP connections, half IPv4 and half IPv6, 50 at a time.
    const total = 1000;
    let next = 0;
    let answered = 0;
    const runner = async (): Promise<void> => {
      while (next < total) {
        const i = next++;
        const v6 = i % 2 === 1;
        const msg = message(tcpSize(i), i);
        const reply = await tcpClient(
          v6 ? "::1" : "127.0.0.1",
          (v6 ? fReady.tcp6 : fReady.tcp4) as number,
          msg,
        );
        assert.deepEqual(reply, answerFor(msg), `connection ${i}`);
        answered++;
      }
    };
    await Promise.all(Array.from({ length: 50 }, runner));
    assert.deepEqual(answered, total);

    // UDP datagrams of 1 byte to 60000 bytes, IPv4 and IPv6.
    let datagrams = 0;
    for (const type of ["udp4", "udp6"] as const) {
      for (const len of [0, 1, 100, 1400, 4096, 30000, 60000]) {
        const msg = message(len, len);
        assert.deepEqual(
          await udpRoundTrip(type, fReady[type] as number, msg),
          answerFor(msg),
        );
        datagrams++;
      }
    }

    await front.writeLine("report");
    const fDone = await front.next();
    await front.closeStdin();
    assert.deepEqual(fDone.errors, []);
    assert.deepEqual(fDone.forwarded, total + datagrams);
    assert.deepEqual(fDone.fds, fReady.fds, "front process fd count");
    assert.deepEqual((await front.child.status).success, true);
    const wDone = await worker.next();
    assert.deepEqual(wDone.errors, []);
    assert.deepEqual(wDone.sessions, total + datagrams);
    assert.deepEqual(wDone.fds, wReady.fds, "worker process fd count");
    assert.deepEqual((await worker.child.status).success, true);
  },
});
