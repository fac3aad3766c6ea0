// Copyright 2026 the @sidecar/ipc authors. MIT license.
/**
 * Filling a process's fd table (to provoke `EMFILE` in an accept loop) and
 * shutting a listening socket down, through libc: for the tests of every
 * accept loop and their child processes (count the sockets and pipes with
 * `sockets.ts`).
 *
 * @module
 */

const RLIMIT_NOFILE = 7;

const FD_SYMBOLS = {
  shutdown: { parameters: ["i32", "i32"], result: "i32" },
  dup: { parameters: ["i32"], result: "i32" },
  close: { parameters: ["i32"], result: "i32" },
  getrlimit: { parameters: ["i32", "buffer"], result: "i32" },
  setrlimit: { parameters: ["i32", "buffer"], result: "i32" },
} as const;

/** libc calls the fd-table helpers use. */
export type FdLib = Deno.DynamicLibrary<typeof FD_SYMBOLS>;

/** Opens the libc calls the fd-table helpers use. */
export function openLibc(): FdLib {
  return Deno.dlopen("libc.so.6", FD_SYMBOLS);
}

/** `shutdown(fd, SHUT_RDWR)`: a listening socket stops listening (accept then fails with `EINVAL`). */
export function shutdownSocket(fd: number): void {
  const lib = openLibc();
  try {
    if (lib.symbols.shutdown(fd, 2) < 0) {
      throw new Error(`Cannot shut down fd ${fd}`);
    }
  } finally {
    lib.close();
  }
}

/**
 * Slots the fill takes above the highest open fd, so that `free` always
 * frees many: with only the gaps below it (one or two in a process that
 * inherited no stray fds, as in CI) the connection accepted after `free`
 * takes the last slot, and the acceptor's next `accept()` fails with
 * `EMFILE` again (Linux reserves the new fd before it looks at the queue).
 */
const FILL_ABOVE = 64;

/**
 * Sets the soft `RLIMIT_NOFILE` to {@linkcode FILL_ABOVE} slots above the
 * highest open fd and fills every free slot below it.
 */
export function fillFdTable(lib: FdLib): number[] {
  let highest = 0;
  for (const e of Deno.readDirSync("/proc/self/fd")) {
    highest = Math.max(highest, Number(e.name));
  }
  const lim = new BigUint64Array(2);
  if (lib.symbols.getrlimit(RLIMIT_NOFILE, lim) < 0) {
    throw new Error("Cannot read RLIMIT_NOFILE");
  }
  const soft = BigInt(highest + 1 + FILL_ABOVE);
  if (soft > lim[1]!) {
    throw new Error(`Cannot fill the fd table: hard limit ${lim[1]} < ${soft}`);
  }
  lim[0] = soft;
  if (lib.symbols.setrlimit(RLIMIT_NOFILE, lim) < 0) {
    throw new Error("Cannot set RLIMIT_NOFILE");
  }
  const held: number[] = [];
  while (true) {
    const fd = lib.symbols.dup(1);
    if (fd < 0) return held;
    held.push(fd);
  }
}
