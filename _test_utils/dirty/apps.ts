// Copyright 2026 the @sidecar/ipc authors. MIT license.
/**
 * What the dirty arbiter tests share: the test apps' module
 * (`dirty/testdata/apps/echo.ts`), its EchoApp spec, a silent logger and
 * a test wrapper with Deno's sanitizers on.
 *
 * @module
 */

/** URL of the test apps' module; `${ECHO}:<ClassName>` is an app spec. */
export const ECHO: string =
  new URL("../../dirty/testdata/apps/echo.ts", import.meta.url).href;

/** The spec of EchoApp. */
export const APP = `${ECHO}:EchoApp`;

/** An arbiter `log` option that drops everything. */
export function quiet(): void {}

/** Tests with Deno's op and resource sanitizers on (off by default in 2.9). */
export function test(name: string, fn: () => Promise<void>): void {
  Deno.test({ name, sanitizeOps: true, sanitizeResources: true, fn });
}
