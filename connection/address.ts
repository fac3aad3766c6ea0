// Copyright 2026 the @sidecar/ipc authors. MIT license.
// This module is browser compatible.
/**
 * Addresses understood by {@linkcode connect} and {@linkcode Listener}.
 *
 * @module
 */

/** A TCP address (Python's `(host, port)` tuple). */
export interface TcpAddress {
  /**
   * Host name or IP.
   *
   * @default {"127.0.0.1"}
   */
  hostname?: string;
  /** Port; 0 picks a free one when listening. */
  port: number;
}

/**
 * A TCP address, or a Unix socket path. A path starting with `"\0"` is a
 * Linux abstract address (no file), as in Python.
 */
export type Address = string | TcpAddress;

/**
 * Whether `address` is a Linux abstract Unix address (starts with NUL).
 *
 * @param address The address.
 * @returns True for `"\0name"`.
 *
 * @example Usage
 * ```ts
 * import { isAbstractAddress } from "@sidecar/ipc/connection";
 * import assert from "node:assert/strict";
 *
 * assert.equal(isAbstractAddress("\0sidecar"), true);
 * assert.equal(isAbstractAddress("/tmp/s.sock"), false);
 * ```
 */
export function isAbstractAddress(address: Address): boolean {
  return typeof address === "string" && address.startsWith("\0");
}
