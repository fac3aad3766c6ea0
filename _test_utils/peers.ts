// Copyright 2026 the @sidecar/ipc authors. MIT license.
/**
 * Finding real peers (CPython, Mercurial, Kea, ...) and registering tests
 * that need them. Locally a missing peer skips the test with a loud message;
 * in CI (`CI=true`) a missing peer is a failing test.
 *
 * @module
 */

/** True when running under CI (`CI=true`), where missing peers fail. */
export const IN_CI: boolean =
  (Deno.env.get("CI") ?? "").toLowerCase() === "true";

function isExecutable(path: string): boolean {
  try {
    const info = Deno.statSync(path);
    return info.isFile && ((info.mode ?? 0o111) & 0o111) !== 0;
  } catch {
    return false;
  }
}

function pyenvRoot(): string {
  const env = Deno.env.get("PYENV_ROOT");
  if (env) return env;
  try {
    const out = new Deno.Command("pyenv", {
      args: ["root"],
      stdout: "piped",
      stderr: "null",
    })
      .outputSync();
    if (out.success) return new TextDecoder().decode(out.stdout).trim();
  } catch {
    // pyenv missing: fall through to the usual place.
  }
  return `${Deno.env.get("HOME") ?? "/root"}/.pyenv`;
}

/** Looks up an executable on `PATH`. */
export function which(name: string): string | null {
  for (const dir of (Deno.env.get("PATH") ?? "").split(":")) {
    if (dir && isExecutable(`${dir}/${name}`)) return `${dir}/${name}`;
  }
  return null;
}

/** A CPython interpreter usable as a peer. */
export interface Python {
  /** Short label such as `"3.11"`. */
  label: string;
  /** Absolute path of the interpreter. */
  path: string;
}

/**
 * Finds a CPython `major.minor`: pyenv's `versions/<major.minor>.*` first,
 * then `python<major.minor>` on PATH; 3.11 also accepts plain `python3`.
 */
export function findPython(minor: "3.11" | "3.12" | "3.13"): Python | null {
  const root = `${pyenvRoot()}/versions`;
  try {
    const names = [...Deno.readDirSync(root)].map((e) => e.name)
      .filter((n) => n.startsWith(`${minor}.`)).sort();
    for (const n of names.reverse()) {
      const p = `${root}/${n}/bin/python`;
      if (isExecutable(p)) return { label: minor, path: p };
    }
  } catch {
    // No pyenv tree.
  }
  const onPath = which(`python${minor}`);
  if (onPath) return { label: minor, path: onPath };
  if (minor === "3.11") {
    const p3 = which("python3");
    if (p3) return { label: minor, path: p3 };
  }
  return null;
}

/** Every CPython the interop tests run against, in order; missing ones are `null`. */
export function pythons(): {
  minor: "3.11" | "3.12" | "3.13";
  python: Python | null;
}[] {
  return (["3.11", "3.12", "3.13"] as const).map((minor) => ({
    minor,
    python: findPython(minor),
  }));
}

/**
 * Registers a test that needs a peer. When `peer` is null the test is
 * skipped with a loud warning locally, and fails in CI.
 */
export function peerTest<P>(
  name: string,
  peer: P | null,
  peerName: string,
  fn: (peer: P, t: Deno.TestContext) => void | Promise<void>,
  options: {
    sanitizeResources?: boolean;
    sanitizeOps?: boolean;
    /**
     * False for a reference peer that no registry here provides (for
     * example gunicorn 26's source, which developers fetch by hand): then a
     * missing peer skips loudly in CI too.
     */
    requiredInCi?: boolean;
  } = {},
): void {
  const { requiredInCi = true, ...testOptions } = options;
  if (peer === null) {
    if (IN_CI && requiredInCi) {
      Deno.test(name, () => {
        throw new Error(
          `Cannot run test: peer ${peerName} is missing and CI=true`,
        );
      });
    } else {
      console.warn(
        `\n!!! SKIPPING "${name}": peer ${peerName} is missing${
          requiredInCi ? " (this fails in CI)" : " (a local-only reference)"
        }\n`,
      );
      Deno.test({ name, ignore: true, fn() {} });
    }
    return;
  }
  Deno.test({ name, ...testOptions, fn: (t) => fn(peer, t) });
}

/** Number of open file descriptors of this process (Linux `/proc/self/fd`). */
export function openFdCount(): number {
  let n = 0;
  for (const _ of Deno.readDirSync("/proc/self/fd")) n++;
  return n;
}

/** A fresh temporary directory removed by `await using`. */
export async function tempDir(): Promise<{ path: string } & AsyncDisposable> {
  const path = await Deno.makeTempDir({ prefix: "sidecar-ipc-test-" });
  return {
    path,
    async [Symbol.asyncDispose]() {
      await Deno.remove(path, { recursive: true }).catch(() => {});
    },
  };
}
