// Copyright 2026 the @sidecar/ipc authors. MIT license.
/**
 * The real Mercurial as a test peer: Debian's `/usr/bin/python3` with the
 * `mercurial` package, and the scripts in `framing/testdata/` that run its
 * `wireprotoframing` reactors over stdin/stdout.
 *
 * @module
 */

/** The Python that imports `mercurial.wireprotoframing`, or `null`. */
export function findHgPython(): { path: string } | null {
  for (const path of ["/usr/bin/python3"]) {
    try {
      const out = new Deno.Command(path, {
        args: ["-c", "import mercurial.wireprotoframing"],
        stderr: "null",
      }).outputSync();
      if (out.success) return { path };
    } catch {
      // Not installed.
    }
  }
  return null;
}

/** The Mercurial peer, found once. */
export const HG: { path: string } | null = findHgPython();

/** What `peerTest` prints when Mercurial is missing. */
export const HG_PEER_NAME =
  "python3 with mercurial (apt-get install -y mercurial)";

const TESTDATA = new URL("../../framing/testdata/", import.meta.url);

/** Mercurial's serverreactor over stdin/stdout (`[--defer]`). */
export const HG_SERVER: string = new URL("hg_server.py", TESTDATA).pathname;
/** Mercurial's clientreactor over stdin/stdout. */
export const HG_CLIENT: string = new URL("hg_client.py", TESTDATA).pathname;
/** Resets N TCP clients before the server accepts them. */
export const RESET_CLIENTS: string =
  new URL("reset_clients.py", TESTDATA).pathname;
/** Our `serveStdio` with the interop handlers (`[--defer]`). */
export const STDIO_SERVER: string =
  new URL("stdio_server.ts", TESTDATA).pathname;

/** What a child process did with its input. */
export interface ChildResult {
  /** Exit code. */
  code: number;
  /** Everything it wrote to stdout. */
  stdout: Uint8Array;
  /** Everything it wrote to stderr. */
  stderr: string;
}

/**
 * Runs `cmd args`, writes `input` to its stdin and, unless `keepOpen`,
 * closes stdin; waits for it to exit on its own.
 */
export async function runWithInput(
  cmd: string,
  args: string[],
  input: Uint8Array,
  keepOpen = false,
): Promise<ChildResult> {
  const child = new Deno.Command(cmd, {
    args,
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
    env: { DENO_NO_UPDATE_CHECK: "1" },
  }).spawn();
  const stdout = new Response(child.stdout).arrayBuffer();
  const stderr = new Response(child.stderr).text();
  const w = child.stdin.getWriter();
  await w.write(input).catch(() => {});
  if (!keepOpen) await w.close().catch(() => {});
  const status = await child.status;
  if (keepOpen) await w.close().catch(() => {});
  return {
    code: status.code,
    stdout: new Uint8Array(await stdout),
    stderr: await stderr,
  };
}

/** Runs our stdio server (`framing/testdata/stdio_server.ts`) on `input`. */
export function runStdioServer(
  input: Uint8Array,
  keepOpen = false,
  args: string[] = [],
): Promise<ChildResult> {
  return runWithInput(
    Deno.execPath(),
    ["run", "--no-lock", "-A", STDIO_SERVER, ...args],
    input,
    keepOpen,
  );
}
