// Copyright 2026 the @sidecar/ipc authors. MIT license.
import net from "node:net";
import assert from "node:assert/strict";
import {
  ACCEPT_BACKOFF_MAX,
  ACCEPT_BACKOFF_MIN,
  acceptErrorName,
  classifyAcceptError,
  nextBackoff,
} from "./accept_error.ts";

Deno.test("classifyAcceptError() by errno name: a superset of the session acceptors' table", () => {
  // The names session/_accept.ts classifies, with "retry" read as "skip".
  for (
    const e of [
      "ECONNABORTED",
      "EPROTO",
      "EPERM",
      "ENETDOWN",
      "ENOPROTOOPT",
      "EHOSTDOWN",
      "ENONET",
      "EHOSTUNREACH",
      "EOPNOTSUPP",
      "ENETUNREACH",
      "ETIMEDOUT",
      "ECONNREFUSED",
    ]
  ) {
    assert.deepStrictEqual(classifyAcceptError(e), "skip", e);
  }
  for (const e of ["EBADF", "EINVAL", "ENOTSOCK", "EFAULT"]) {
    assert.deepStrictEqual(classifyAcceptError(e), "stop", e);
  }
  for (const e of ["EMFILE", "ENFILE", "ENOBUFS", "ENOMEM", "ENOSR", "E999"]) {
    assert.deepStrictEqual(classifyAcceptError(e), "backoff", e);
  }
  // Added here: what Deno's accept reports for a client reset before it
  // was accepted, and calls to retry at once.
  for (
    const e of [
      "ENOTCONN",
      "ECONNRESET",
      "ESOCKTNOSUPPORT",
      "EPROTONOSUPPORT",
      "EINTR",
      "EAGAIN",
      "EWOULDBLOCK",
    ]
  ) {
    assert.deepStrictEqual(classifyAcceptError(e), "skip", e);
  }
});

Deno.test("classifyAcceptError() by Deno error class, code and message", () => {
  const cases: [unknown, string | undefined, string][] = [
    [new Deno.errors.NotConnected("x"), "ENOTCONN", "skip"],
    [new Deno.errors.ConnectionReset("x"), "ECONNRESET", "skip"],
    [new Deno.errors.ConnectionAborted("x"), "ECONNABORTED", "skip"],
    [new Deno.errors.ConnectionRefused("x"), "ECONNREFUSED", "skip"],
    [new Deno.errors.TimedOut("x"), "ETIMEDOUT", "skip"],
    [new Deno.errors.Interrupted("x"), "EINTR", "skip"],
    [new Deno.errors.WouldBlock("x"), "EAGAIN", "skip"],
    [new Deno.errors.BadResource("Listener has been closed"), "EBADF", "stop"],
    // The code wins over the class: Deno throws EINVAL as a TypeError.
    [
      Object.assign(new TypeError("Invalid argument (os error 22)"), {
        code: "EINVAL",
      }),
      "EINVAL",
      "stop",
    ],
    [
      Object.assign(new Error("Too many open files (os error 24)"), {
        code: "EMFILE",
      }),
      "EMFILE",
      "backoff",
    ],
    // An errno name in the message, as Node writes them.
    [new Error("accept ENFILE"), "ENFILE", "backoff"],
    [new Error("accept EPROTO"), "EPROTO", "skip"],
    // A code that is not an errno name is ignored.
    [
      Object.assign(new Error("x ECONNABORTED"), { code: 42 }),
      "ECONNABORTED",
      "skip",
    ],
    // Nothing to go by: back off, never stop and never spin.
    [new TypeError("something else"), undefined, "backoff"],
    [undefined, undefined, "backoff"],
    [null, undefined, "backoff"],
    [42, undefined, "backoff"],
    [{ name: "hasOwnProperty" }, undefined, "backoff"],
  ];
  for (const [error, name, action] of cases) {
    assert.deepStrictEqual(acceptErrorName(error), name, String(error));
    assert.deepStrictEqual(classifyAcceptError(error), action, String(error));
  }
});

Deno.test("nextBackoff(): 10 ms doubling to 100 ms, from 0 or nonsense", () => {
  const seen: number[] = [];
  let b = 0;
  for (let i = 0; i < 7; i++) seen.push(b = nextBackoff(b));
  assert.deepStrictEqual(seen, [10, 20, 40, 80, 100, 100, 100]);
  assert.deepStrictEqual(ACCEPT_BACKOFF_MIN, 10);
  assert.deepStrictEqual(ACCEPT_BACKOFF_MAX, 100);
  assert.deepStrictEqual(nextBackoff(-5), 10);
  assert.deepStrictEqual(nextBackoff(NaN), 10);
  assert.deepStrictEqual(nextBackoff(Infinity), 100);
});

Deno.test("classifyAcceptError() on what Deno.Listener.accept() really throws: a reset client skips, a closed listener stops", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  // A client that resets (RST) before accept() picks it up.
  await new Promise<void>((resolve, reject) => {
    const s = net.connect(listener.addr.port, "127.0.0.1", () => {
      s.resetAndDestroy();
      resolve();
    });
    s.on("error", reject);
  });
  const reset = await listener.accept().then(
    (c) => {
      c.close();
      return null;
    },
    (e) => e,
  );
  assert.ok(reset instanceof Deno.errors.NotConnected, String(reset));
  assert.deepStrictEqual(classifyAcceptError(reset), "skip");
  const pending = listener.accept().then(() => null, (e) => e);
  listener.close();
  const closed = await pending;
  assert.ok(closed instanceof Deno.errors.BadResource, String(closed));
  assert.deepStrictEqual(classifyAcceptError(closed), "stop");
});

// A child with its fd table full (soft RLIMIT_NOFILE lowered through FFI,
// then /dev/null opened until it fails) tries to accept a waiting
// connection, prints what accept() threw, frees the table and accepts it.
// A listening socket shut down under accept() shows what "not listening"
// looks like.
const CHILD = String.raw`
const lib = Deno.dlopen("libc.so.6", {
  getrlimit: { parameters: ["i32", "buffer"], result: "i32" },
  setrlimit: { parameters: ["i32", "buffer"], result: "i32" },
  shutdown: { parameters: ["i32", "i32"], result: "i32" },
});
const shape = (e) => ({ class: e.constructor.name, name: e.name, code: e.code, message: e.message });
const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
const client = await Deno.connect({ hostname: "127.0.0.1", port: listener.addr.port });
let highest = 0;
for (const e of Deno.readDirSync("/proc/self/fd")) highest = Math.max(highest, Number(e.name));
const lim = new BigUint64Array(2);
lib.symbols.getrlimit(7, lim);
lim[0] = BigInt(highest + 16);
lib.symbols.setrlimit(7, lim);
const held = [];
try { for (;;) held.push(Deno.openSync("/dev/null")); } catch { /* full */ }
const out = { filled: held.length };
try { (await listener.accept()).close(); out.emfile = "accepted"; } catch (e) { out.emfile = shape(e); }
for (const f of held) f.close();
(await listener.accept()).close();
client.close();
const hexPort = ":" + listener.addr.port.toString(16).toUpperCase().padStart(4, "0");
const inode = Deno.readTextFileSync("/proc/net/tcp").split("\n").map((l) => l.trim().split(/\s+/))
  .find((f) => f[1]?.endsWith(hexPort) && f[3] === "0A")[9];
const fd = [...Deno.readDirSync("/proc/self/fd")].map((e) => Number(e.name)).find((n) => {
  try { return Deno.readLinkSync("/proc/self/fd/" + n) === "socket:[" + inode + "]"; } catch { return false; }
});
lib.symbols.shutdown(fd, 2);
try { (await listener.accept()).close(); out.shutdown = "accepted"; } catch (e) { out.shutdown = shape(e); }
listener.close();
console.log(JSON.stringify(out));
`;

Deno.test("classifyAcceptError() on what Deno.Listener.accept() really throws: EMFILE backs off, a shut-down listener stops", async () => {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["eval", CHILD],
    env: { DENO_NO_UPDATE_CHECK: "1" },
    stdout: "piped",
    stderr: "inherit",
  }).output();
  assert.ok(out.success, "the child failed");
  const report = JSON.parse(new TextDecoder().decode(out.stdout));
  assert.ok(report.filled > 0, JSON.stringify(report));
  // Deno 2.9.6: a plain Error carrying code "EMFILE".
  assert.deepStrictEqual(report.emfile, {
    class: "Error",
    name: "Error",
    code: "EMFILE",
    message: "Too many open files (os error 24)",
  });
  assert.deepStrictEqual(classifyAcceptError(report.emfile), "backoff");
  // Deno 2.9.6: a TypeError carrying code "EINVAL".
  assert.deepStrictEqual(report.shutdown, {
    class: "TypeError",
    name: "TypeError",
    code: "EINVAL",
    message: "Invalid argument (os error 22)",
  });
  assert.deepStrictEqual(classifyAcceptError(report.shutdown), "stop");
});
