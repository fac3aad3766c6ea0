// Copyright 2026 the @sidecar/ipc authors. MIT license.
import { assertEquals } from "../_test_utils/assert.ts";
import { setLongTimeout, timeoutSignal } from "./_abort.ts";

Deno.test("timeoutSignal() waits out timeouts longer than setTimeout's 2^31 - 1 ms", async () => {
  // setTimeout runs a longer delay at once: a handshakeTimeout of 2^31 ms
  // failed every handshake.
  const t = timeoutSignal(2 ** 31, undefined);
  await new Promise((r) => setTimeout(r, 5));
  assertEquals(t.signal.aborted, false);
  assertEquals(t.timedOut(), false);
  t.clear();
});

Deno.test("setLongTimeout() runs short delays and can be cancelled", async () => {
  const fired: string[] = [];
  const cancel = setLongTimeout(() => fired.push("cancelled"), 0);
  cancel();
  await new Promise<void>((r) => setLongTimeout(r, 1));
  assertEquals(fired, []);
});
