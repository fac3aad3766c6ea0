// Copyright 2026 the @sidecar/ipc authors. MIT license.
// Run with --v8-flags=--expose-gc: a proxy dropped without close() is
// released once collected. Prints the server's object count and the
// client's live proxies before and after.
import {
  ManagerDict,
  ManagerServer,
  SyncManagerClient,
} from "../../connection/mod.ts";
import { waitFor } from "../wait.ts";

const gc = (globalThis as { gc?: () => void }).gc!;
await using server = new ManagerServer({ hostname: "127.0.0.1", port: 0 }, {
  authkey: "k",
});
server.register("dict", ManagerDict);
server.serve();
await using m = new SyncManagerClient(server.address, { authkey: "k" });
await using kept = await m.dict({ kept: true });
await (async () => {
  const dropped = await m.dict({ a: 1 });
  await dropped.get("a"); // its connection is open too
})();
console.log(JSON.stringify([server.objectCount, m.liveProxies]));
// Collected garbage is released some turns later: collect until it is.
await waitFor("the dropped proxy to be released", () => {
  gc();
  return server.objectCount <= 1;
}, 5000).catch(() => {});
console.log(JSON.stringify([server.objectCount, m.liveProxies]));
console.log(JSON.stringify(await kept.get("kept")));
