// Copyright 2026 the @sidecar/ipc authors. MIT license.
/**
 * Running a module's transports on real old Denos fetched with npx: the
 * last release before the floor (2.8.3), which must fail with an error
 * naming both versions, and the floor itself (2.9.0), which must get past
 * the check. Without npx or the registry a test skips loudly locally and
 * fails with `CI=true`.
 *
 * @module
 */
import { IN_CI, tempDir, which } from "./peers.ts";
import { MIN_DENO_VERSION } from "../_internal/deno_version.ts";

/** The release before the floor: 2.8 rejects `--allow-net=unix:<path>`. */
export const BELOW_FLOOR = "2.8.3";

/** The Denos a floor test runs on. */
export interface FloorDenos {
  /** Deno {@linkcode BELOW_FLOOR}. */
  old: string;
  /** Deno {@linkcode MIN_DENO_VERSION}. */
  floor: string;
}

const fetched = new Map<string, Promise<string | null>>();

/** The binary of `deno@<version>` from npm, or null when npx cannot get it. */
export function denoFromNpm(version: string): Promise<string | null> {
  let p = fetched.get(version);
  if (p === undefined) {
    p = (async () => {
      const npx = which("npx");
      if (npx === null) return null;
      try {
        const out = await new Deno.Command(npx, {
          args: [
            "-y",
            `deno@${version}`,
            "eval",
            "console.log(Deno.execPath())",
          ],
          env: { DENO_NO_UPDATE_CHECK: "1", NO_COLOR: "1" },
          stdin: "null",
          stdout: "piped",
          stderr: "piped",
        }).output();
        const path = new TextDecoder().decode(out.stdout).trim();
        return out.success && path !== "" ? path : null;
      } catch {
        return null;
      }
    })();
    fetched.set(version, p);
  }
  return p;
}

/**
 * Writes `source` to `<dir>/<name>` and runs it with `deno` (`-A`, no
 * config file, no lock file); returns its stdout, or its stderr when it
 * printed nothing.
 */
export async function runScript(
  deno: string,
  dir: string,
  name: string,
  source: string,
): Promise<string> {
  const script = `${dir}/${name}`;
  await Deno.writeTextFile(script, source);
  const out = await new Deno.Command(deno, {
    args: ["run", "--no-config", "--no-lock", "-A", script],
    env: { DENO_NO_UPDATE_CHECK: "1", NO_COLOR: "1" },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  return new TextDecoder().decode(out.stdout).trim() ||
    new TextDecoder().decode(out.stderr);
}

/**
 * A script line that prints how `expr` (an awaited expression) ended:
 * `ok`, or the error's `code` (else its name), `|` and its message.
 */
export function outcomeLine(expr: string): string {
  return `try { await (${expr}); console.log("ok"); } catch (e) { console.log(e.code ?? e.name, "|", e.message); }`;
}

/**
 * Registers a test that runs `fn` with Deno {@linkcode BELOW_FLOOR} and
 * Deno {@linkcode MIN_DENO_VERSION} from npm and a fresh temporary
 * directory.
 */
export function denoFloorTest(
  name: string,
  fn: (denos: FloorDenos, dir: string) => Promise<void>,
): void {
  Deno.test(name, async (t) => {
    const [old, floor] = await Promise.all([
      denoFromNpm(BELOW_FLOOR),
      denoFromNpm(MIN_DENO_VERSION),
    ]);
    if (old === null || floor === null) {
      if (IN_CI) {
        throw new Error(
          `Cannot run test: npx could not fetch deno@${BELOW_FLOOR} and deno@${MIN_DENO_VERSION} and CI=true`,
        );
      }
      console.warn(
        `\n!!! SKIPPING "${name}": npx could not fetch deno@${BELOW_FLOOR} or deno@${MIN_DENO_VERSION} (this fails in CI)\n`,
      );
      await t.step({
        name: `run on deno@${BELOW_FLOOR} and deno@${MIN_DENO_VERSION}`,
        ignore: true,
        fn() {},
      });
      return;
    }
    await using dir = await tempDir();
    await fn({ old, floor }, dir.path);
  });
}
