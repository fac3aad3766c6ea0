// Copyright 2026 the @sidecar/ipc authors. MIT license.
/**
 * `ipc session forward|receive`: BIND 10 / Kea socket sessions from a
 * shell. `forward` accepts TCP connections and hands each one (its fd, its
 * endpoints, its first bytes) to a receiver; `receive` listens for
 * forwarders, shows every session and serves its connection.
 *
 * @module
 */
import {
  adoptTcpSession,
  forwardTcpConnections,
  type SocketAddress,
  type SocketSession,
  SocketSessionForwarder,
  SocketSessionListener,
  type SocketSessionReceiver,
} from "../session/mod.ts";
import {
  type CommandContext,
  err,
  EXIT,
  expectPositionals,
  failed,
  flag,
  int,
  interrupted,
  out,
  parseSubcommand,
  str,
  usage,
} from "./_args.ts";
import { bytesRepr, toJson } from "./_render.ts";

const HELP = `
Usage:
  ipc session receive SOCKET [--reply TEXT] [--count N] [--json]
  ipc session forward SOCKET [--listen HOST:PORT] [--count N]

receive listens on the Unix socket SOCKET for forwarders (ours, BIND 10's
or Kea's SocketSessionForwarder), prints each session received (type,
endpoints, first bytes) and serves TCP sessions: it writes --reply TEXT and
closes, or by default echoes back everything the client sends, first bytes
included. UDP sessions are printed and closed.
A client should wait for the answer before closing its side: after the
client's FIN, writes on the adopted socket fail (EPIPE) in Deno 2.9.6.

forward connects to the receiver at SOCKET, accepts TCP connections on
--listen (default 127.0.0.1:0; the bound address is printed on stdout) and
hands each one over with its first bytes.

Both run until SIGINT/SIGTERM (exit 130), or until --count sessions went
through (exit 0). They need --allow-ffi (FFI means full trust).

Options:
  --listen HOST:PORT   forward: where to accept TCP connections
  --reply TEXT         receive: answer each TCP session with TEXT, then close
  --count N            stop after N sessions
  --json               receive: one JSON object per session
  --verbose            print the stack traces of errors
  -h, --help           show this help

Exit codes: 0 ok (--count reached), 1 failed, 2 usage, 130 interrupted
(SIGINT/SIGTERM).
`;

function addr(a: SocketAddress): string {
  return a.hostname.includes(":")
    ? `[${a.hostname}]:${a.port}`
    : `${a.hostname}:${a.port}`;
}

/** Runs `ipc session ...`. */
export async function sessionCommand(
  args: string[],
  ctx: CommandContext,
): Promise<number> {
  const parsed = parseSubcommand(args, {
    listen: { type: "string" },
    reply: { type: "string" },
    count: { type: "string" },
  }, HELP);
  if (typeof parsed === "number") return parsed;
  const { sub, p } = parsed;
  if (sub !== "forward" && sub !== "receive") {
    throw usage(`Cannot run "session ${sub}": expected forward or receive`);
  }
  expectPositionals(p, 1, 1, "SOCKET");
  const path = p.positionals[0]!;
  const count = int(p, "count", Infinity, 1);
  if (sub === "receive") {
    return await receive(path, count, str(p, "reply"), flag(p, "json"), ctx);
  }
  return await forward(path, count, str(p, "listen") ?? "127.0.0.1:0", ctx);
}

async function serveSession(
  session: SocketSession,
  reply: string | undefined,
  signal: AbortSignal,
): Promise<void> {
  if (session.type !== 1) {
    session.close();
    return;
  }
  await using conn = adoptTcpSession(session);
  const writer = conn.writable.getWriter();
  if (reply !== undefined) {
    await writer.write(new TextEncoder().encode(reply));
    await writer.close();
    await conn.readable.cancel().catch(() => {});
    return;
  }
  // Echo until the client closes, or until we are stopped (the socket is
  // then closed under an idle client).
  const reader = conn.readable.getReader();
  const stop = (): void => void reader.cancel().catch(() => {});
  signal.addEventListener("abort", stop, { once: true });
  try {
    if (signal.aborted) return;
    await writer.write(conn.data);
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      await writer.write(value);
    }
    if (!signal.aborted) await writer.close();
  } finally {
    signal.removeEventListener("abort", stop);
  }
}

async function receive(
  path: string,
  count: number,
  reply: string | undefined,
  json: boolean,
  ctx: CommandContext,
): Promise<number> {
  let listener: SocketSessionListener;
  try {
    listener = SocketSessionListener.listen(path);
  } catch (e) {
    throw failed(`listen on ${path}`, e);
  }
  const receivers = new Set<SocketSessionReceiver>();
  const serving = new Set<Promise<void>>();
  let received = 0;
  const done = new AbortController();
  const signal = AbortSignal.any([ctx.signal, done.signal]);
  err(`ipc session: receiving on ${path}`);
  const drain = async (r: SocketSessionReceiver): Promise<void> => {
    try {
      while (received < count) {
        const s = await r.pop({ signal });
        received++;
        if (json) {
          out(
            `{"type":${
              JSON.stringify(
                s.type === 1 ? "tcp" : s.type === 2 ? "udp" : String(s.type),
              )
            },` +
              `"local":${JSON.stringify(s.local)},"remote":${
                JSON.stringify(s.remote)
              },"data":${toJson(s.data)}}`,
          );
        } else {
          out(
            `session ${received}: ${
              s.type === 1 ? "tcp" : s.type === 2 ? "udp" : `type ${s.type}`
            } ${addr(s.remote)} -> ${addr(s.local)} data ${bytesRepr(s.data)}`,
          );
        }
        const t = serveSession(s, reply, ctx.signal).catch((e) =>
          err(
            `ipc session: serving session ${received} failed: ${
              (e as Error).message
            }`,
          )
        );
        serving.add(t);
        t.finally(() => serving.delete(t));
        if (received >= count) done.abort("count reached");
      }
    } catch {
      // The forwarder went away, or we are stopping.
    } finally {
      receivers.delete(r);
      r.close();
    }
  };
  try {
    while (!signal.aborted) {
      let r: SocketSessionReceiver;
      try {
        r = await listener.accept({ signal });
      } catch (e) {
        if (signal.aborted) break;
        throw failed(`accept a forwarder`, e);
      }
      receivers.add(r);
      void drain(r);
    }
  } finally {
    listener.close();
    for (const r of receivers) r.close();
    await Promise.allSettled([...serving]);
  }
  err(`ipc session: ${received} session${received === 1 ? "" : "s"} received`);
  // Stopped by SIGINT/SIGTERM rather than by --count: 130.
  if (ctx.signal.aborted) throw interrupted(ctx.signal);
  return EXIT.OK;
}

async function forward(
  path: string,
  count: number,
  listen: string,
  ctx: CommandContext,
): Promise<number> {
  const m = /^(?:\[([^\]]+)\]|([^:]+)):(\d+)$/.exec(listen);
  if (!m || Number(m[3]) > 65535) {
    throw usage(
      `Cannot parse --listen ${
        JSON.stringify(listen)
      }: expected HOST:PORT with a numeric host`,
    );
  }
  await using forwarder = new SocketSessionForwarder(path);
  try {
    forwarder.connect();
  } catch (e) {
    throw failed(`connect to the receiver at ${path}`, e);
  }
  const stop = new AbortController();
  const signal = AbortSignal.any([ctx.signal, stop.signal]);
  let acceptor;
  try {
    acceptor = forwardTcpConnections({
      forwarder,
      hostname: m[1] ?? m[2]!,
      port: Number(m[3]),
      signal,
      onError: (e) => err(`ipc session: ${(e as Error).message}`),
    });
  } catch (e) {
    throw failed(`listen on ${listen}`, e);
  }
  out(addr(acceptor.addr));
  err(`ipc session: forwarding TCP ${addr(acceptor.addr)} to ${path}`);
  let watch: ReturnType<typeof setInterval> | undefined;
  if (Number.isFinite(count)) {
    watch = setInterval(() => {
      if (acceptor.forwarded >= count) stop.abort("count reached");
    }, 50);
  }
  try {
    await acceptor.finished;
  } catch (e) {
    if (!signal.aborted) {
      throw failed(`forward`, e);
    }
  } finally {
    clearInterval(watch);
    await acceptor.close();
  }
  err(
    `ipc session: ${acceptor.forwarded} connection${
      acceptor.forwarded === 1 ? "" : "s"
    } forwarded`,
  );
  if (ctx.signal.aborted) throw interrupted(ctx.signal);
  return EXIT.OK;
}
