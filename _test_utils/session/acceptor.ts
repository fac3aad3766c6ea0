// Copyright 2026 the @sidecar/ipc authors. MIT license.
/**
 * A child process for the acceptor tests that runs an acceptor with its fd
 * table full on command (to provoke `EMFILE`).
 *
 * The child (`import.meta.main`, args: the receiver's Unix path) connects a
 * forwarder, starts `forwardTcpConnections`, prints
 * `{"ready":true,"port":P,"fds":N}`
 * and then obeys stdin lines: `fill` fills every free fd slot below a
 * `RLIMIT_NOFILE` set 64 above the highest open fd (prints
 * `{"filled":N}`: those 64 plus the gaps below), `free` closes them again
 * (`{"freed":N}`), `close` closes the acceptor and prints
 * `{"closed":true,"finished":"ok"|<error>,"fds":N}` (N: open fds after
 * it, with the table freed, to compare with the `fds` of the ready line,
 * counted before the acceptor started). Each `onError` prints
 * `{"error":<code>}`; an acceptor that stops by itself prints
 * `{"stopped":<code>}`.
 *
 * @module
 */
import { forwardTcpConnections } from "../../session/tcp_acceptor.ts";
import { SocketSessionForwarder } from "../../session/forwarder.ts";
import type { SocketSessionError } from "../../session/errors.ts";
import { poller } from "../../session/_poller.ts";
import { printJson as print, stdinLines, stdinReadStarted } from "../child.ts";
import { fillFdTable, openLibc } from "../fd_table.ts";
import {
  openRuntimeSignalSockets,
  socketAndPipeCount as fdCount,
} from "../sockets.ts";
import { waitFor } from "../wait.ts";

if (import.meta.main) {
  const lib = openLibc();
  const forwarder = new SocketSessionForwarder(Deno.args[0]!);
  forwarder.connect();
  // Read stdin before counting fds: reading it opens fds of its own.
  const commands: string[] = [];
  let wakeUp = (): void => {};
  const stdinDone = (async () => {
    for await (const line of stdinLines()) {
      commands.push(line);
      wakeUp();
    }
    commands.push("eof");
    wakeUp();
  })();
  // Deno opens sockets of its own for signal handling about half a second
  // after it starts, and an fd to read stdin with once the read started;
  // with the table filled later they could not be opened.
  openRuntimeSignalSockets();
  await stdinReadStarted();
  const fds = fdCount();
  const acceptor = forwardTcpConnections({
    forwarder,
    onError: (e) => print({ error: (e as SocketSessionError).code }),
  });
  // A stop that the test did not ask for shows up as a line, not a hang.
  acceptor.finished.catch((e) =>
    print({ stopped: (e as SocketSessionError).code ?? String(e) })
  );
  let held: number[] = [];
  print({ ready: true, port: acceptor.addr.port, fds });
  while (true) {
    if (commands.length === 0) {
      await new Promise<void>((r) => wakeUp = r);
      continue;
    }
    const cmd = commands.shift();
    if (cmd === "eof") break;
    if (cmd === "fill") {
      // A connection just forwarded may not be closed yet; its fd would
      // free a slot after the fill.
      await waitFor(
        "the forwarded connection closed",
        () => acceptor.pending === 0,
      );
      held = fillFdTable(lib);
      print({ filled: held.length });
    } else if (cmd === "free") {
      for (const fd of held) lib.symbols.close(fd);
      print({ freed: held.length });
      held = [];
    } else if (cmd === "close") {
      await acceptor.close();
      const finished = await acceptor.finished.then(
        () => "ok",
        (e) => String(e),
      );
      for (const fd of held) lib.symbols.close(fd);
      held = [];
      poller.closeIdle();
      print({ closed: true, finished, fds: fdCount() });
    }
  }
  await stdinDone;
  for (const fd of held) lib.symbols.close(fd);
  await acceptor.close();
  forwarder.close();
  lib.close();
}
