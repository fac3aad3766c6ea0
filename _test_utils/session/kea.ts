// Copyright 2026 the @sidecar/ipc authors. MIT license.
/**
 * Builds the Kea 2.2 socket session peer (`kea_peer.cc`) with g++
 * against Debian's `libkea-util-io.so.0`, into a temporary directory, once
 * per process; and reads its JSON lines.
 *
 * @module
 */
import { which } from "../peers.ts";

const TRIPLETS = ["x86_64-linux-gnu", "aarch64-linux-gnu"];

function keaLibraries(): [string, string] | null {
  for (const t of TRIPLETS) {
    const io = `/usr/lib/${t}/libkea-util-io.so.0`;
    const ex = `/usr/lib/${t}/libkea-exceptions.so.13`;
    try {
      Deno.statSync(io);
      Deno.statSync(ex);
      return [io, ex];
    } catch {
      // Try the next triplet.
    }
  }
  return null;
}

let built: string | null | undefined;

/** Path of the built peer, or null when kea-common or g++ is missing. */
export function keaPeer(): string | null {
  if (built !== undefined) return built;
  const libs = keaLibraries();
  const gpp = which("g++");
  if (libs === null || gpp === null) return built = null;
  const dir = Deno.makeTempDirSync({ prefix: "sidecar-kea-peer-" });
  const out = `${dir}/kea_peer`;
  const source = new URL("./kea_peer.cc", import.meta.url).pathname;
  const r = new Deno.Command(gpp, {
    args: ["-O2", "-o", out, source, ...libs],
    stdout: "piped",
    stderr: "piped",
  }).outputSync();
  if (!r.success) {
    throw new Error(
      `Cannot build the Kea peer: ${new TextDecoder().decode(r.stderr)}`,
    );
  }
  globalThis.addEventListener("unload", () => {
    try {
      Deno.removeSync(dir, { recursive: true });
    } catch {
      // Already gone.
    }
  });
  return built = out;
}

/** A child process that prints one JSON object a line. */
export interface JsonProcess extends AsyncDisposable {
  /** The child. */
  child: Deno.ChildProcess;
  /** The next JSON line from stdout. */
  next(): Promise<Record<string, unknown>>;
  /** Writes a line to the child's stdin. */
  writeLine(text: string): Promise<void>;
  /** Closes the child's stdin. */
  closeStdin(): Promise<void>;
}

/** Starts `cmd args` with piped stdin/stdout; disposal kills it and waits. */
export function startJsonProcess(cmd: string, args: string[]): JsonProcess {
  const child = new Deno.Command(cmd, {
    args,
    // No background update check: it opens sockets and files at moments
    // of its own, which the fd-counting tests would see.
    env: { DENO_NO_UPDATE_CHECK: "1" },
    stdin: "piped",
    stdout: "piped",
    stderr: "inherit",
  })
    .spawn();
  const lines = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let buf = "";
  return {
    child,
    async next() {
      while (!buf.includes("\n")) {
        const r = await lines.read();
        if (r.done) {
          throw new Error(
            `${cmd} ${args.join(" ")} ended early; output so far: ${buf}`,
          );
        }
        buf += r.value;
      }
      const i = buf.indexOf("\n");
      const line = buf.slice(0, i);
      buf = buf.slice(i + 1);
      return JSON.parse(line);
    },
    async writeLine(text: string) {
      const w = child.stdin.getWriter();
      await w.write(new TextEncoder().encode(text + "\n"));
      w.releaseLock();
    },
    async closeStdin() {
      await child.stdin.close().catch(() => {});
    },
    async [Symbol.asyncDispose]() {
      try {
        child.kill("SIGTERM");
      } catch {
        // Already exited.
      }
      await child.stdin.close().catch(() => {});
      await lines.cancel().catch(() => {});
      await child.status;
    },
  };
}

/** Starts the Kea peer with `args`. */
export function startPeer(peer: string, args: string[]): JsonProcess {
  return startJsonProcess(peer, args);
}
