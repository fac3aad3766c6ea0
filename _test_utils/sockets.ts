// Copyright 2026 the @sidecar/ipc authors. MIT license.
/**
 * What Linux shows of this process's sockets (`/proc/self/fd`,
 * `/proc/net/{tcp,tcp6,unix}`), for leak checks that hold while other test
 * modules run in the same process (`deno test --parallel`: a plain count
 * of `/proc/self/fd` moves with their sockets), and for states only the
 * kernel knows (an accept queue); and a connected pair of Unix sockets.
 *
 * @module
 */
import { waitFor } from "./wait.ts";

/** Each of this process's socket fds with its socket's inode. */
function socketFds(): { fd: number; inode: string }[] {
  const out: { fd: number; inode: string }[] = [];
  for (const e of Deno.readDirSync("/proc/self/fd")) {
    try {
      const m = /^socket:\[(\d+)\]$/.exec(
        Deno.readLinkSync(`/proc/self/fd/${e.name}`),
      );
      if (m) out.push({ fd: Number(e.name), inode: m[1]! });
    } catch {
      // Closed while listing (the directory's own fd).
    }
  }
  return out;
}

/** The inodes of this process's sockets, each with one of its fds. */
function socketInodes(): Map<string, number> {
  return new Map(socketFds().map(({ fd, inode }) => [inode, fd]));
}

/** The rows of a `/proc/net` table, split into columns (none if unreadable). */
function table(path: string): string[][] {
  let text: string;
  try {
    text = Deno.readTextFileSync(path);
  } catch {
    return [];
  }
  return text.split("\n").slice(1).filter((l) => l.trim() !== "").map((l) =>
    l.trim().split(/\s+/)
  );
}

/** A row of `/proc/net/tcp{,6}`. */
interface TcpRow {
  localPort: number;
  remotePort: number;
  /** `0A` is LISTEN. */
  state: string;
  inode: string;
  /** Bytes (or, when listening, connections) waiting to be read. */
  rxQueue: number;
}

function tcpRows(): TcpRow[] {
  const rows: TcpRow[] = [];
  for (const file of ["/proc/net/tcp", "/proc/net/tcp6"]) {
    for (const f of table(file)) {
      if (f.length < 10) continue;
      rows.push({
        localPort: Number.parseInt(f[1]!.split(":")[1]!, 16),
        remotePort: Number.parseInt(f[2]!.split(":")[1]!, 16),
        state: f[3]!,
        inode: f[9]!,
        rxQueue: Number.parseInt(f[4]!.split(":")[1]!, 16),
      });
    }
  }
  return rows;
}

/**
 * This process's open TCP sockets whose local or remote port is `port`,
 * described as `"local -> remote (state)"`. Empty when nothing leaked.
 */
export function ownTcpSockets(port: number): string[] {
  const inodes = socketInodes();
  return tcpRows().filter((r) =>
    inodes.has(r.inode) && (r.localPort === port || r.remotePort === port)
  ).map((r) => `${r.localPort} -> ${r.remotePort} (state ${r.state})`);
}

/**
 * Connections waiting in the kernel accept queue of the TCP socket
 * listening on `port` (the `rx_queue` of its LISTEN row), or null when no
 * such socket listens.
 */
export function acceptQueueLength(port: number): number | null {
  const row = tcpRows().find((r) => r.localPort === port && r.state === "0A");
  return row === undefined ? null : row.rxQueue;
}

/**
 * The sockets this process accepted on `port` and still holds (server
 * sides: local port `port`, not the listening socket itself).
 */
export function acceptedSockets(port: number): number {
  const inodes = socketInodes();
  return tcpRows().filter((r) =>
    r.localPort === port && r.state !== "0A" && inodes.has(r.inode)
  ).length;
}

/** The fd of this process's socket listening on TCP `port`. */
export function listeningFd(port: number): number {
  const inodes = socketInodes();
  const row = tcpRows().find((r) =>
    r.localPort === port && r.state === "0A" && inodes.has(r.inode)
  );
  if (row === undefined) throw new Error(`Cannot find a listener on ${port}`);
  return inodes.get(row.inode)!;
}

/**
 * This process's open Unix sockets whose bound path starts with `prefix`
 * (listening sockets and the connections they accepted), described as
 * `"path (inode N)"`. Abstract names are written with a leading `@`, as
 * Linux shows them.
 */
export function ownUnixSockets(prefix: string): string[] {
  const inodes = socketInodes();
  const want = prefix.startsWith("\0") ? `@${prefix.slice(1)}` : prefix;
  const out: string[] = [];
  for (const f of table("/proc/net/unix")) {
    const inode = f[6];
    const path = f[7];
    if (
      inode !== undefined && path !== undefined && inodes.has(inode) &&
      path.startsWith(want)
    ) {
      out.push(`${path} (inode ${inode})`);
    }
  }
  return out;
}

/**
 * How many of this process's fds are Unix sockets bound to (or accepted
 * on) exactly `path`.
 */
export function unixSocketFds(path: string): number {
  const bound = new Set<string>();
  for (const f of table("/proc/net/unix")) {
    if (f[7] === path && f[6] !== undefined) bound.add(f[6]);
  }
  return socketFds().filter(({ inode }) => bound.has(inode)).length;
}

/**
 * This process's open sockets and pipes: what the package's transports
 * open, not the runtime's other fds (files, its event loop), which come
 * and go by themselves.
 */
export function socketAndPipeCount(): number {
  let n = 0;
  for (const e of Deno.readDirSync("/proc/self/fd")) {
    try {
      const target = Deno.readLinkSync(`/proc/self/fd/${e.name}`);
      if (target.startsWith("socket:") || target.startsWith("pipe:")) n++;
    } catch {
      // Closed meanwhile (the directory's own fd).
    }
  }
  return n;
}

/**
 * {@linkcode socketAndPipeCount}, once it is `want` (a close is seen a
 * little later), or after 5 s whatever it is then: the count a leak check
 * compares with `want`.
 */
export async function socketAndPipeCountNear(want: number): Promise<number> {
  await waitFor(
    "the sockets and pipes to be released",
    () => socketAndPipeCount() === want,
    5000,
  ).catch(() => {});
  return socketAndPipeCount();
}

/**
 * Two connected Unix sockets: `[accepted, connected]`, made through a
 * listener at `${dir}/s` that is closed again (the path stays until `dir`
 * is removed).
 */
export async function unixSocketPair(
  dir: string,
): Promise<[Deno.UnixConn, Deno.UnixConn]> {
  const path = `${dir}/s`;
  const listener = Deno.listen({ transport: "unix", path });
  try {
    return await Promise.all([
      listener.accept(),
      Deno.connect({ transport: "unix", path }),
    ]);
  } finally {
    listener.close();
  }
}

/**
 * Opens now the socket pair Deno keeps for its signal handling, so that fd
 * counts taken after it do not move by themselves. Deno opens that pair
 * the first time a signal listener is added, and Deno 2.9.6 adds one of
 * its own about half a second after it starts: a count taken before then
 * grows by two sockets later, with nothing leaked.
 */
export function openRuntimeSignalSockets(): void {
  const noop = (): void => {};
  // SIGURG: ignored by default, so the moment without a listener is harmless.
  Deno.addSignalListener("SIGURG", noop);
  Deno.removeSignalListener("SIGURG", noop);
}
