// Copyright 2026 the @sidecar/ipc authors. MIT license.
/**
 * Binding a Unix socket path that no other user can reach, even briefly
 * (for `Listener`).
 *
 * @module
 */

function dirOf(path: string): string {
  const i = path.lastIndexOf("/");
  if (i < 0) return ".";
  if (i === 0) return "/";
  return path.slice(0, i);
}

/**
 * Binds a Unix socket at `path` that is never accessible to others.
 *
 * With `--allow-sys`, the socket is bound at `path` itself under a umask of
 * 0177 (restored at once; binding is synchronous, so no other JavaScript
 * runs in between), which needs only `--allow-net=unix:<path>` and
 * read/write on `path`. Without it, the socket is bound in a fresh 0700
 * directory beside `path`, chmod-ed to 0600 and hard-linked into place,
 * which needs net access to that random temporary path (plain
 * `--allow-net`) and read/write on the directory.
 */
export function bindPrivate(path: string): Deno.Listener {
  if (Deno.permissions.querySync({ name: "sys" }).state === "granted") {
    if (pathExists(path)) {
      throw new Deno.errors.AddrInUse(
        `Cannot listen: address already in use: "${path}"`,
      );
    }
    const old = Deno.umask(0o177);
    try {
      return Deno.listen({ transport: "unix", path });
    } finally {
      Deno.umask(old);
    }
  }
  return bindViaLink(path);
}

function pathExists(path: string): boolean {
  try {
    Deno.lstatSync(path);
    return true;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return false;
    throw e;
  }
}

/** {@linkcode bindPrivate} without `--allow-sys`: bind elsewhere, then link. */
function bindViaLink(path: string): Deno.Listener {
  const tmp = Deno.makeTempDirSync({ dir: dirOf(path), prefix: ".l" });
  const tmpPath = `${tmp}/s`;
  try {
    const l = Deno.listen({ transport: "unix", path: tmpPath });
    try {
      Deno.chmodSync(tmpPath, 0o600);
      Deno.linkSync(tmpPath, path);
    } catch (e) {
      l.close();
      if (e instanceof Deno.errors.AlreadyExists) {
        throw new Deno.errors.AddrInUse(
          `Cannot listen: address already in use: "${path}"`,
        );
      }
      throw e;
    }
    return l;
  } finally {
    try {
      Deno.removeSync(tmpPath);
    } catch {
      // Bind failed before creating it.
    }
    Deno.removeSync(tmp);
  }
}
