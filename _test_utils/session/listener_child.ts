// Copyright 2026 the @sidecar/ipc authors. MIT license.
/**
 * A child process that runs `SocketSessionListener.accept()` with its fd
 * table full on command (to provoke `EMFILE`). Args: the Unix path to
 * listen on. Prints `{"ready":true}`, then obeys stdin lines: `fill` fills
 * the fd table (`{"filled":N}`) and starts an `accept()`; `free` closes
 * the fill again (`{"freed":N}`). Each `onError` prints `{"error":<code>}`,
 * the accept prints `{"accepted":true}` or `{"failed":<code>}`.
 *
 * @module
 */
import { SocketSessionListener } from "../../session/listener.ts";
import type { SocketSessionError } from "../../session/errors.ts";
import { printJson as print, stdinLines } from "../child.ts";
import { fillFdTable, openLibc } from "../fd_table.ts";

if (import.meta.main) {
  const lib = openLibc();
  const listener = SocketSessionListener.listen(Deno.args[0]!, {
    onError: (e) => print({ error: (e as SocketSessionError).code }),
  });
  let held: number[] = [];
  let accepting: Promise<void> = Promise.resolve();
  print({ ready: true });
  for await (const cmd of stdinLines()) {
    if (cmd === "fill") {
      held = fillFdTable(lib);
      print({ filled: held.length });
      accepting = listener.accept().then(
        (r) => {
          r.close();
          print({ accepted: true });
        },
        (e) => print({ failed: (e as SocketSessionError).code ?? String(e) }),
      );
    } else if (cmd === "free") {
      for (const fd of held) lib.symbols.close(fd);
      print({ freed: held.length });
      held = [];
    }
  }
  await accepting;
  for (const fd of held) lib.symbols.close(fd);
  listener.close();
  lib.close();
}
