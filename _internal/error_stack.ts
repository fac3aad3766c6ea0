// Copyright 2026 the @sidecar/ipc authors. MIT license.
// This module is browser compatible.
/**
 * The text of an error for a log or `--verbose`: its stack and the stacks
 * of the causes under it.
 *
 * @module
 */

/** How many causes deep {@linkcode stackWithCauses} goes. */
export const MAX_CAUSES = 8;

/**
 * The stack of `e` (or `name: message` when it has none), then of each
 * `cause` under it, up to {@linkcode MAX_CAUSES} deep.
 *
 * @param e The error (anything thrown).
 * @returns The text, one cause after the other ("Caused by: ").
 */
export function stackWithCauses(e: unknown): string {
  const parts: string[] = [];
  let c = e;
  for (let depth = 0; c !== undefined && depth < MAX_CAUSES; depth++) {
    parts.push(
      c instanceof Error ? c.stack ?? `${c.name}: ${c.message}` : String(c),
    );
    c = c instanceof Error ? c.cause : undefined;
  }
  return parts.join("\nCaused by: ");
}
