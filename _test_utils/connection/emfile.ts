// Copyright 2026 the @sidecar/ipc authors. MIT license.
/**
 * A child process for the `Listener` EMFILE test: it runs a `Listener`
 * (no key) and fills its own fd table on command, so that the listener's
 * `accept()` fails with `EMFILE`.
 *
 * Run as `deno run -A _test_utils/connection/emfile.ts`. It prints `{"port":P}`, then
 * obeys stdin lines: `fill` sets the soft `RLIMIT_NOFILE` to 16 above the
 * highest open fd and opens `/dev/null` until that fails (prints
 * `{"filled":N}`); `accept` starts one `listener.accept()`, which prints
 * `{"accepted":<first byte received>}` or `{"rejected":<error name and
 * code>}` when it settles; `free` closes the fill (`{"freed":N}`);
 * `close` awaits `listener.close()` (`{"closed":true}`). Each `onError`
 * report prints `{"error":<its code or name>}`.
 *
 * @module
 */
import { Listener } from "../../connection/listener.ts";

const RLIMIT_NOFILE = 7;

function print(o: unknown): void {
  console.log(JSON.stringify(o));
}

function nameOf(e: unknown): string {
  const { code, name } = e as { code?: unknown; name?: unknown };
  return typeof code === "string" ? code : String(name);
}

function fill(): Deno.FsFile[] {
  const lib = Deno.dlopen("libc.so.6", {
    getrlimit: { parameters: ["i32", "buffer"], result: "i32" },
    setrlimit: { parameters: ["i32", "buffer"], result: "i32" },
  });
  try {
    let highest = 0;
    for (const e of Deno.readDirSync("/proc/self/fd")) {
      highest = Math.max(highest, Number(e.name));
    }
    const lim = new BigUint64Array(2);
    if (lib.symbols.getrlimit(RLIMIT_NOFILE, lim) < 0) {
      throw new Error("Cannot read RLIMIT_NOFILE");
    }
    lim[0] = BigInt(highest + 16);
    if (lib.symbols.setrlimit(RLIMIT_NOFILE, lim) < 0) {
      throw new Error("Cannot set RLIMIT_NOFILE");
    }
  } finally {
    lib.close();
  }
  const held: Deno.FsFile[] = [];
  try {
    for (;;) held.push(Deno.openSync("/dev/null"));
  } catch {
    // Full.
  }
  return held;
}

if (import.meta.main) {
  const listener = new Listener({ port: 0 }, {
    onError: (e) => print({ error: nameOf(e) }),
  });
  print({ port: (listener.address as { port: number }).port });
  let held: Deno.FsFile[] = [];
  const accepting: Promise<void>[] = [];
  const lines = Deno.stdin.readable.pipeThrough(new TextDecoderStream());
  let rest = "";
  for await (const chunk of lines) {
    rest += chunk;
    let nl;
    while ((nl = rest.indexOf("\n")) >= 0) {
      const cmd = rest.slice(0, nl);
      rest = rest.slice(nl + 1);
      if (cmd === "fill") {
        held = fill();
        print({ filled: held.length });
      } else if (cmd === "accept") {
        accepting.push(
          listener.accept().then(async (conn) => {
            const got = await conn.recvBytes();
            print({ accepted: got[0] });
            await conn.close();
          }, (e) => print({ rejected: nameOf(e) })),
        );
      } else if (cmd === "free") {
        for (const f of held) f.close();
        print({ freed: held.length });
        held = [];
      } else if (cmd === "close") {
        await listener.close();
        await Promise.all(accepting);
        print({ closed: true });
      }
    }
  }
  for (const f of held) f.close();
  await listener.close();
}
