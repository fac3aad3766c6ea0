// Copyright 2026 the @sidecar/ipc authors. MIT license.
/**
 * Proving that an entry point runs outside Deno: bundle it for the browser
 * with `deno bundle --platform=browser --format=esm`, scan the bundle for
 * `node:` imports and `Deno` references, and run a round-trip check module
 * (bundled the same way) in Node and in headless Chromium, reading its
 * result back. Used by `tools/browser_codecs_test.ts`.
 *
 * @module
 */
import { which } from "./peers.ts";
import { killAfter } from "./child.ts";
import { within } from "./wait.ts";

/** The repository root (where `deno.json` is). */
export const ROOT: string = new URL("..", import.meta.url).pathname;

/** What {@linkcode runInNode} and {@linkcode runInChromium} read back. */
export interface CheckResult {
  /** The runtime (`node --version`, or the browser's user agent). */
  runtime: string;
  /** What the check module's `check()` returned. */
  result: string;
}

/** The file behind an export of `deno.json` (`"@sidecar/ipc/framing/frames"`). */
export function entryFile(specifier: string): string {
  const config = JSON.parse(Deno.readTextFileSync(`${ROOT}deno.json`)) as {
    name: string;
    exports: Record<string, string>;
  };
  const key = `.${specifier.slice(config.name.length)}`;
  const file = specifier.startsWith(config.name)
    ? config.exports[key]
    : undefined;
  if (file === undefined) {
    throw new Error(`Cannot find ${specifier} in deno.json's exports`);
  }
  return `${ROOT}${file.replace(/^\.\//, "")}`;
}

/**
 * Bundles `input` for the browser as one ES module at `output`, with the
 * Deno running this test (the repository's `deno.json` resolves
 * `@sidecar/ipc/...`). Throws with the bundler's output when it fails.
 */
export async function bundleForBrowser(
  input: string,
  output: string,
  options: { minify?: boolean } = {},
): Promise<string> {
  return await bundle(input, output, { ...options, platform: "browser" });
}

/**
 * Bundles `input` as one ES module at `output` for `platform`: `"deno"`
 * keeps `node:` imports as they are, so Node can run the bundle.
 */
export async function bundle(
  input: string,
  output: string,
  options: { minify?: boolean; platform: "browser" | "deno" },
): Promise<string> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      "bundle",
      "--quiet",
      `--platform=${options.platform}`,
      "--format=esm",
      ...(options.minify ? ["--minify"] : []),
      "-o",
      output,
      input,
    ],
    cwd: ROOT,
    env: { NO_COLOR: "1", DENO_NO_UPDATE_CHECK: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(out.stderr) +
    new TextDecoder().decode(out.stdout);
  if (!out.success) {
    throw new Error(
      `Cannot bundle ${input} for ${options.platform}:\n${text}`,
    );
  }
  return await Deno.readTextFile(output);
}

/**
 * What a minified browser bundle must not contain: `node:` module
 * specifiers, `require(` calls and references to the `Deno` global.
 * Comments are gone after minifying, so what is left is code or strings.
 */
export function forbiddenReferences(code: string): string[] {
  const found = new Set<string>();
  for (const m of code.matchAll(/["'`](node:[\w/]+)["'`]/g)) found.add(m[1]!);
  if (/\brequire\s*\(/.test(code)) found.add("require(");
  for (const m of code.matchAll(/\bDeno\b(\.\w+)?/g)) found.add(m[0]);
  return [...found].sort();
}

/** Node on `PATH`, or `null`. */
export function findNode(): string | null {
  return which("node");
}

/** Chromium (Debian's `chromium`, or `chromium-browser`) on `PATH`, or `null`. */
export function findChromium(): string | null {
  return which("chromium") ?? which("chromium-browser");
}

async function drain(stream: ReadableStream<Uint8Array>): Promise<string> {
  let text = "";
  for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
    // Keep the end: that is where an error is.
    text = (text + chunk).slice(-64 * 1024);
  }
  return text;
}

/**
 * Imports `bundle` (an ES module exporting `check()`) in Node, calls
 * `check()` and returns what it returned; throws with Node's output when
 * the import or the check fails.
 */
export async function runInNode(
  node: string,
  dir: string,
  bundle: string,
): Promise<CheckResult> {
  const runner = `${dir}/run_in_node.mjs`;
  await Deno.writeTextFile(
    runner,
    `import { check } from ${JSON.stringify(`./${bundle}`)};\n` +
      `const result = await check();\n` +
      `console.log(JSON.stringify({ runtime: "node " + process.version, result }));\n`,
  );
  const out = await new Deno.Command(node, {
    args: [runner],
    cwd: dir,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const stdout = new TextDecoder().decode(out.stdout);
  const stderr = new TextDecoder().decode(out.stderr);
  if (!out.success) {
    throw new Error(
      `Cannot run the check in Node (exit code ${out.code}):\n${stderr}${stdout}`,
    );
  }
  const last = stdout.trim().split("\n").pop() ?? "";
  return JSON.parse(last) as CheckResult;
}

const PAGE = `<!doctype html>
<meta charset="utf-8">
<title>codec check</title>
<script type="module">
const report = (r) =>
  fetch("/result", { method: "POST", body: JSON.stringify(r) });
try {
  const m = await import("/check.js");
  const result = await m.check();
  await report({ ok: true, runtime: navigator.userAgent, result });
} catch (e) {
  await report({ ok: false, runtime: navigator.userAgent, error: String(e && e.stack || e) });
}
</script>
`;

/** Options of {@linkcode runInChromium}. */
export interface ChromiumOptions {
  /** Give up (and fail) after this many ms without a result (default 60000). */
  timeout?: number;
}

/**
 * Loads a page from an HTTP server on 127.0.0.1 in headless Chromium; the
 * page imports `code` as an ES module, calls `check()` and posts the
 * outcome back. Returns what `check()` returned; throws with the error
 * from the page, or with Chromium's output when it exits or the result
 * never comes. Chromium runs with a fresh profile directory, and is
 * stopped (and its profile removed) before this returns.
 */
export async function runInChromium(
  chromium: string,
  code: string,
  options: ChromiumOptions = {},
): Promise<CheckResult> {
  const outcome = Promise.withResolvers<
    { ok: boolean; runtime: string; result?: string; error?: string }
  >();
  const server = Deno.serve({
    hostname: "127.0.0.1",
    port: 0,
    onListen() {},
  }, async (req) => {
    const path = new URL(req.url).pathname;
    if (req.method === "GET" && path === "/") {
      return new Response(PAGE, {
        headers: { "content-type": "text/html; charset=utf-8" },
      });
    }
    if (req.method === "GET" && path === "/check.js") {
      return new Response(code, {
        headers: { "content-type": "text/javascript; charset=utf-8" },
      });
    }
    if (req.method === "POST" && path === "/result") {
      outcome.resolve(await req.json());
      return new Response("ok");
    }
    return new Response("not found", { status: 404 });
  });
  const profile = await Deno.makeTempDir({ prefix: "sidecar-ipc-chromium-" });
  const child = new Deno.Command(chromium, {
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--no-first-run",
      `--user-data-dir=${profile}`,
      `http://127.0.0.1:${server.addr.port}/`,
    ],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const output = Promise.all([drain(child.stdout), drain(child.stderr)]);
  const timeout = options.timeout ?? 60_000;
  const exited = child.status.then(async (s): Promise<never> => {
    throw new Error(
      `Cannot run the check in Chromium: it exited (code ${s.code}) before the page reported\n${
        (await output).join("\n")
      }`,
    );
  });
  // Chromium exits after the result too (we stop it): not a failure then.
  exited.catch(() => {});
  try {
    const r = await within(
      Promise.race([outcome.promise, exited]),
      "the check's result in Chromium",
      timeout,
    );
    if (!r.ok) {
      throw new Error(
        `The check failed in Chromium (${r.runtime}):\n${r.error}`,
      );
    }
    return { runtime: r.runtime, result: r.result ?? "" };
  } finally {
    try {
      child.kill("SIGTERM");
    } catch {
      // Already gone.
    }
    const stopWatchdog = killAfter(child, 10_000);
    await child.status;
    stopWatchdog();
    await output;
    await server.shutdown();
    await Deno.remove(profile, { recursive: true }).catch(() => {});
  }
}
