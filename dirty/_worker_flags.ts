// Copyright 2026 the @sidecar/ipc authors. MIT license.
/**
 * The `deno run` flags of the arbiter's workers: least permissions (read
 * access to what they import, their socket and the arbiter's), and the
 * project's config so apps resolve bare specifiers as the project does.
 *
 * @module
 */

/**
 * The worker's permission flags: `flags`, plus read, write and net access
 * to each socket (Deno 2.9 asks for all three on Unix sockets) unless a
 * bare flag already covers it (a scoped flag next to a bare one would
 * narrow it).
 */
export function workerFlags(
  flags: readonly string[],
  sockets: string[],
): string[] {
  const out = [...flags];
  if (out.some((p) => p === "-A" || p === "--allow-all")) return out;
  for (const kind of ["read", "write", "net"]) {
    if (out.includes(`--allow-${kind}`)) continue;
    const targets = sockets.map((s) => kind === "net" ? `unix:${s}` : s);
    const i = out.findIndex((p) => p.startsWith(`--allow-${kind}=`));
    if (i >= 0) out[i] = `${out[i]},${targets.join(",")}`;
    else out.push(`--allow-${kind}=${targets.join(",")}`);
  }
  return out;
}

/**
 * `denoArgs`, plus `--config=<cwd>/deno.json(c)` when it exists and they
 * name no config: workers resolve bare specifiers like the project.
 */
export async function withProjectConfig(
  args: readonly string[],
  cwd: string,
): Promise<string[]> {
  const out = [...args];
  const hasConfig = out.some((a) =>
    a === "-c" || a === "--config" || a.startsWith("--config=") ||
    a === "--no-config"
  );
  if (hasConfig) return out;
  for (const name of ["deno.json", "deno.jsonc"]) {
    const path = `${cwd.replace(/\/$/, "")}/${name}`;
    const info = await Deno.stat(path).catch(() => null);
    if (info?.isFile) {
      out.push(`--config=${path}`);
      break;
    }
  }
  return out;
}
