// Copyright 2026 the @sidecar/ipc authors. MIT license.
/**
 * Precise socket-leak checks for tests that may run in parallel with other
 * test modules in the same process (`deno test --parallel` runs every module
 * in one process, so a plain count of `/proc/self/fd` moves with the other
 * modules' sockets). These helpers list only the sockets this process holds
 * that are bound to or connected with a given TCP port or Unix path.
 *
 * @module
 */

/** Inodes of every socket this process holds open. */
function ownSocketInodes(): Set<string> {
  const out = new Set<string>();
  for (const e of Deno.readDirSync("/proc/self/fd")) {
    try {
      const m = /^socket:\[(\d+)\]$/.exec(
        Deno.readLinkSync(`/proc/self/fd/${e.name}`),
      );
      if (m) out.add(m[1]!);
    } catch {
      // Closed while listing.
    }
  }
  return out;
}

function readLines(path: string): string[] {
  try {
    return Deno.readTextFileSync(path).split("\n").slice(1).filter((l) =>
      l.trim() !== ""
    );
  } catch {
    return [];
  }
}

/**
 * This process's open TCP sockets whose local or remote port is `port`,
 * described as `"local -> remote (state)"`. Empty when nothing leaked.
 */
export function ownTcpSockets(port: number): string[] {
  const inodes = ownSocketInodes();
  const out: string[] = [];
  for (const file of ["/proc/net/tcp", "/proc/net/tcp6"]) {
    for (const line of readLines(file)) {
      const f = line.trim().split(/\s+/);
      const [local, remote, state, inode] = [f[1]!, f[2]!, f[3]!, f[9]!];
      if (!inodes.has(inode)) continue;
      const lport = Number.parseInt(local.split(":")[1]!, 16);
      const rport = Number.parseInt(remote.split(":")[1]!, 16);
      if (lport === port || rport === port) {
        out.push(`${lport} -> ${rport} (state ${state})`);
      }
    }
  }
  return out;
}

/**
 * This process's open Unix sockets whose bound path starts with `prefix`
 * (listening sockets and the connections they accepted). Abstract names
 * are written with a leading `@`, as Linux shows them.
 */
export function ownUnixSockets(prefix: string): string[] {
  const inodes = ownSocketInodes();
  const want = prefix.startsWith("\0") ? `@${prefix.slice(1)}` : prefix;
  const out: string[] = [];
  for (const line of readLines("/proc/net/unix")) {
    const f = line.trim().split(/\s+/);
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
