// Copyright 2026 the @sidecar/ipc authors. MIT license.
// This module is browser compatible.
/**
 * Checks shared by the two settings frames (sender-protocol-settings on the
 * server, stream-settings on the client): both use `continuation` (0x01)
 * and `eos` (0x02), exactly one of which must be set.
 *
 * @module
 */

/**
 * Returns Mercurial's message for bad settings-frame flags, or `null`.
 *
 * @param flags The frame flags.
 * @param subject `sender protocol settings frame` or `stream encoding
 * settings frame`.
 */
export function settingsFlagsError(
  flags: number,
  subject: string,
): string | null {
  const more = flags & 0x01;
  const eos = flags & 0x02;
  if (more && eos) {
    return `${subject} cannot have both continuation and end of stream flags set`;
  }
  if (!more && !eos) {
    return `${subject} must have continuation or end of stream flag set`;
  }
  return null;
}
