// Copyright 2026 the @sidecar/ipc authors. MIT license.
// Runs a workload through an arbiter and prints the fd count before and
// after (arbiter_test.ts runs it in a process of its own). On a mismatch
// the new fds go to stderr.
import { startArbiter } from "../arbiter.ts";
import { encodeRequest } from "../message_encoders.ts";
import { RawDirtyConn } from "../../_test_utils/dirty/arbiter_client.ts";
import { openFdCount } from "../../_test_utils/peers.ts";
import { openRuntimeSignalSockets } from "../../_test_utils/sockets.ts";

const APP = `${new URL("./apps/echo.ts", import.meta.url).href}:EchoApp`;
const fds = () =>
  [...Deno.readDirSync("/proc/self/fd")].map((e) => {
    try {
      return `${e.name} -> ${Deno.readLinkSync(`/proc/self/fd/${e.name}`)}`;
    } catch {
      return e.name;
    }
  });

// Warm up the fds the runtime and a first arbiter open once and keep (the
// runtime's signal sockets, which Deno opens by itself after about half a
// second, are opened at once).
openRuntimeSignalSockets();
{
  await using arb = await startArbiter({ apps: [APP], log: () => {} });
  await using c = await RawDirtyConn.open(arb.socketPath);
  await c.call(APP, "add", [1, 2]);
}
const before = openFdCount();
const list = fds();
{
  await using arb = await startArbiter({
    apps: [APP],
    workers: 2,
    timeout: 1000,
    killGrace: 200,
    log: () => {},
  });
  await using c = await RawDirtyConn.open(arb.socketPath);
  await c.call(APP, "add", [1, 2]);
  await c.stream(APP, "stream", [3]);
  await c.call(APP, "fail", ["x"]).catch(() => {});
  // Timed out: aborted on the worker.
  await c.call(APP, "sleep", [3000]).catch(() => {});
  // Timed out and killed.
  await c.call(APP, "spin", [2000]).catch(() => {});
  const bad = await RawDirtyConn.open(arb.socketPath);
  await bad.write(
    Uint8Array.of(0x58, 0x58, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1),
  );
  await bad.read();
  bad.close();
  const open = await RawDirtyConn.open(arb.socketPath);
  await open.write(encodeRequest(1n, APP, "sleep", [50]));
  arb.scale(3);
  arb.scale(1);
  // close() must end the connection left open.
  await arb.close();
  open.close();
}
const after = openFdCount();
if (after !== before) console.error(fds().filter((x) => !list.includes(x)));
console.log(before, after);
