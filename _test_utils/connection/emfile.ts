// Copyright 2026 the @sidecar/ipc authors. MIT license.
/**
 * A child process for the `Listener` EMFILE test: it runs a `Listener`
 * (no key) and fills its own fd table on command, so that the listener's
 * `accept()` fails with `EMFILE`.
 *
 * Run as `deno run -A _test_utils/connection/emfile.ts`. It prints `{"port":P}`, then
 * obeys stdin lines: `fill` fills the fd table (`../fd_table.ts`: the soft
 * `RLIMIT_NOFILE` 64 above the highest open fd, every slot below it taken;
 * prints `{"filled":N}`); `accept` starts one `listener.accept()`, which prints
 * `{"accepted":<first byte received>}` or `{"rejected":<error name and
 * code>}` when it settles; `free` closes the fill (`{"freed":N}`);
 * `close` awaits `listener.close()` (`{"closed":true}`). Each `onError`
 * report prints `{"error":<its code or name>}`.
 *
 * @module
 */
import { Listener } from "../../connection/listener.ts";
import { printJson as print, stdinLines } from "../child.ts";
import { fillFdTable, openLibc } from "../fd_table.ts";

function nameOf(e: unknown): string {
  const { code, name } = e as { code?: unknown; name?: unknown };
  return typeof code === "string" ? code : String(name);
}

if (import.meta.main) {
  const lib = openLibc();
  const listener = new Listener({ port: 0 }, {
    onError: (e) => print({ error: nameOf(e) }),
  });
  print({ port: (listener.address as { port: number }).port });
  let held: number[] = [];
  const accepting: Promise<void>[] = [];
  for await (const cmd of stdinLines()) {
    if (cmd === "fill") {
      held = fillFdTable(lib);
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
      for (const fd of held) lib.symbols.close(fd);
      print({ freed: held.length });
      held = [];
    } else if (cmd === "close") {
      await listener.close();
      await Promise.all(accepting);
      print({ closed: true });
    }
  }
  for (const fd of held) lib.symbols.close(fd);
  await listener.close();
  lib.close();
}
