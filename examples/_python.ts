// Copyright 2026 the @sidecar/ipc authors. MIT license.
/**
 * The demo's Python peer: the first of `python3` and `python` on PATH that
 * can import the module a step needs.
 *
 * @module
 */

/**
 * The name of a Python on PATH that imports `module`, or `null`.
 *
 * @param module A module the step's Python side needs.
 * @returns `"python3"`, `"python"`, or `null`.
 */
export function findPython(module: string): string | null {
  for (const name of ["python3", "python"]) {
    try {
      const out = new Deno.Command(name, {
        args: ["-c", `import ${module}`],
        stdout: "null",
        stderr: "null",
      }).outputSync();
      if (out.success) return name;
    } catch {
      // Not on PATH.
    }
  }
  return null;
}
