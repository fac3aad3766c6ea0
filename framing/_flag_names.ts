// Copyright 2026 the @sidecar/ipc authors. MIT license.
// This module is browser compatible.
/**
 * Reverse lookups in Mercurial's name tables (`FRAME_TYPES`,
 * `STREAM_FLAGS`, `FRAME_TYPE_FLAGS`), shared by the frame descriptions
 * of this module and of `ipc hg decode`; each caller writes unknown bits
 * its own way.
 *
 * @module
 */

/**
 * Splits `value` into the names of its known bits, in table order, and the
 * bits no name covers.
 *
 * @param value The flag bits.
 * @param names Bit values by name.
 * @returns The names and the remaining bits.
 */
export function splitFlags(
  value: number,
  names: Readonly<Record<string, number>>,
): { names: string[]; rest: number } {
  const out: string[] = [];
  let rest = value;
  for (const [name, bit] of Object.entries(names)) {
    if (value & bit) {
      out.push(name);
      rest &= ~bit;
    }
  }
  return { names: out, rest };
}

/**
 * The name whose value is `value`.
 *
 * @param value The value (e.g. a frame type id).
 * @param names Values by name.
 * @returns The first such name, or `undefined`.
 */
export function nameOf(
  value: number,
  names: Readonly<Record<string, number>>,
): string | undefined {
  for (const name in names) if (names[name] === value) return name;
  return undefined;
}
