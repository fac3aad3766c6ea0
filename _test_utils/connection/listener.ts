// Copyright 2026 the @sidecar/ipc authors. MIT license.
/**
 * Helpers for the `Listener` tests: collecting `onError` reports and
 * waiting on events with a bound, so that a broken build fails instead of
 * hanging (the bound is not a timing assertion).
 *
 * @module
 */

/** How long a test waits for an event before it fails. */
export const EVENT_TIMEOUT = 20_000;

/** Resolves with `p`, or rejects naming `what` after {@linkcode EVENT_TIMEOUT}. */
export function within<T>(p: Promise<T>, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout>;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`Cannot see ${what}: timed out`)),
      EVENT_TIMEOUT,
    );
  });
  return Promise.race([p, late]).finally(() => clearTimeout(timer));
}

/**
 * Checks `check()` every 5 ms until it holds, for up to
 * {@linkcode EVENT_TIMEOUT}; throws naming `what` if it never does. For
 * states only the kernel shows (`/proc/net/tcp`).
 */
export async function until(what: string, check: () => boolean): Promise<void> {
  const end = Date.now() + EVENT_TIMEOUT;
  while (!check()) {
    if (Date.now() > end) throw new Error(`Cannot see ${what}: timed out`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** Collects `onError` reports; `next()` waits for the next unread one. */
export class Reports {
  /** Every report, in order. */
  readonly seen: unknown[] = [];
  #read = 0;
  #wake: (() => void) | null = null;
  /** The hook to pass as `onError`. */
  push = (e: unknown): void => {
    this.seen.push(e);
    this.#wake?.();
  };
  /** The next report not returned yet. */
  async next(): Promise<unknown> {
    while (this.#read === this.seen.length) {
      await within(
        new Promise<void>((r) => this.#wake = r),
        `onError report #${this.#read + 1}`,
      );
    }
    return this.seen[this.#read++];
  }
}

function socketInodes(): Map<string, number> {
  const out = new Map<string, number>();
  for (const e of Deno.readDirSync("/proc/self/fd")) {
    try {
      const m = /^socket:\[(\d+)\]$/.exec(
        Deno.readLinkSync(`/proc/self/fd/${e.name}`),
      );
      if (m) out.set(m[1]!, Number(e.name));
    } catch {
      // Closed while listing.
    }
  }
  return out;
}

/** Rows of `/proc/net/tcp{,6}`: [local port, remote port, state, inode, rx queue]. */
function tcpRows(): [number, number, string, string, number][] {
  const rows: [number, number, string, string, number][] = [];
  for (const file of ["/proc/net/tcp", "/proc/net/tcp6"]) {
    let text = "";
    try {
      text = Deno.readTextFileSync(file);
    } catch {
      continue;
    }
    for (const line of text.split("\n").slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f.length < 10) continue;
      rows.push([
        Number.parseInt(f[1]!.split(":")[1]!, 16),
        Number.parseInt(f[2]!.split(":")[1]!, 16),
        f[3]!,
        f[9]!,
        Number.parseInt(f[4]!.split(":")[1]!, 16),
      ]);
    }
  }
  return rows;
}

/**
 * Connections waiting in the kernel accept queue of the socket listening
 * on `port` (the `rx_queue` of its LISTEN row), or null if none listens.
 */
export function acceptQueueLength(port: number): number | null {
  const row = tcpRows().find(([l, , state]) => l === port && state === "0A");
  return row === undefined ? null : row[4];
}

/**
 * The sockets this process accepted on `port` and still holds (server
 * sides: local port `port`, not the listening socket itself).
 */
export function acceptedSockets(port: number): number {
  const inodes = socketInodes();
  return tcpRows().filter(([l, , state, inode]) =>
    l === port && state !== "0A" && inodes.has(inode)
  ).length;
}

/** The fd of this process's socket listening on TCP `port`. */
export function listeningFd(port: number): number {
  const inodes = socketInodes();
  const row = tcpRows().find(([l, , state, inode]) =>
    l === port && state === "0A" && inodes.has(inode)
  );
  if (row === undefined) throw new Error(`Cannot find a listener on ${port}`);
  return inodes.get(row[3])!;
}

/**
 * `shutdown(fd, SHUT_RDWR)` through FFI: a listening socket stops
 * listening, and `accept()` fails with `EINVAL` (the fd stays open).
 */
export function shutdownSocket(fd: number): void {
  const lib = Deno.dlopen("libc.so.6", {
    shutdown: { parameters: ["i32", "i32"], result: "i32" },
  });
  try {
    if (lib.symbols.shutdown(fd, 2) < 0) {
      throw new Error(`Cannot shut down fd ${fd}`);
    }
  } finally {
    lib.close();
  }
}

/** Reads exactly `n` bytes, or fewer if the peer closes first. */
export async function readSome(conn: Deno.Conn, n: number): Promise<number> {
  const buf = new Uint8Array(n);
  let got = 0;
  while (got < n) {
    const r = await conn.read(buf.subarray(got));
    if (r === null) break;
    got += r;
  }
  return got;
}

/** Reads until the peer closes; returns the number of bytes read. */
export async function readToEnd(conn: Deno.Conn): Promise<number> {
  const buf = new Uint8Array(1024);
  let total = 0;
  for (let n; (n = await conn.read(buf)) !== null;) total += n;
  return total;
}
