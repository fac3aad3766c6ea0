// Copyright 2026 the @sidecar/ipc authors. MIT license.
// This module is browser compatible.

/**
 * Raw `sockaddr_in`, `sockaddr_in6` and `sockaddr_un` images as the socket
 * session wire carries them. They are host memory images, so their layout
 * depends on the OS: this file is the one place that knows those layouts.
 *
 * @module
 */

/** Operating systems whose socket address layouts are known. */
export type SessionOs = "linux" | "darwin";

/** Address family numbers and `sockaddr` layout facts of one OS. */
export interface SockaddrPlatform {
  /** `AF_UNIX`. */
  readonly unix: number;
  /** `AF_INET`. */
  readonly inet: number;
  /** `AF_INET6`. */
  readonly inet6: number;
  /** Size of `sockaddr_un.sun_path` (the path may use all but one byte). */
  readonly sunPathSize: number;
  /** True on BSDs: a 1-byte `sa_len` precedes a 1-byte `sa_family`. */
  readonly hasSaLen: boolean;
}

/**
 * The per-OS tables: Linux (x86_64 and aarch64, glibc) and macOS.
 *
 * @example Usage
 * ```ts
 * import { SOCKADDR_PLATFORMS } from "@sidecar/ipc/session";
 * import assert from "node:assert/strict";
 *
 * assert.equal(SOCKADDR_PLATFORMS.linux.inet6, 10);
 * assert.equal(SOCKADDR_PLATFORMS.darwin.inet6, 30);
 * ```
 */
export const SOCKADDR_PLATFORMS: Readonly<Record<SessionOs, SockaddrPlatform>> =
  Object.freeze({
    linux: Object.freeze({
      unix: 1,
      inet: 2,
      inet6: 10,
      sunPathSize: 108,
      hasSaLen: false,
    }),
    darwin: Object.freeze({
      unix: 1,
      inet: 2,
      inet6: 30,
      sunPathSize: 104,
      hasSaLen: true,
    }),
  });

/**
 * Size of `struct sockaddr_in`.
 *
 * @example Usage
 * ```ts
 * import { encodeSockaddr, SOCKADDR_IN_SIZE } from "@sidecar/ipc/session";
 * import assert from "node:assert/strict";
 *
 * assert.equal(encodeSockaddr({ hostname: "10.0.0.1", port: 1 }).length, SOCKADDR_IN_SIZE);
 * ```
 */
export const SOCKADDR_IN_SIZE = 16;
/**
 * Size of `struct sockaddr_in6`.
 *
 * @example Usage
 * ```ts
 * import { encodeSockaddr, SOCKADDR_IN6_SIZE } from "@sidecar/ipc/session";
 * import assert from "node:assert/strict";
 *
 * assert.equal(encodeSockaddr({ hostname: "::1", port: 1 }).length, SOCKADDR_IN6_SIZE);
 * ```
 */
export const SOCKADDR_IN6_SIZE = 28;
/**
 * Size of `struct sockaddr_storage`, the largest sockaddr the receiver accepts.
 *
 * @example Usage
 * ```ts
 * import { SOCKADDR_STORAGE_SIZE } from "@sidecar/ipc/session";
 * import assert from "node:assert/strict";
 *
 * assert.equal(SOCKADDR_STORAGE_SIZE, 128);
 * ```
 */
export const SOCKADDR_STORAGE_SIZE = 128;

/** An IP endpoint. */
export interface SocketAddress {
  /** Numeric address: `"192.0.2.1"` or `"2001:db8::1"` (no brackets). */
  hostname: string;
  /** Port, 0..65535. */
  port: number;
  /** Address family; inferred from `hostname` when absent. @default {undefined} */
  family?: "IPv4" | "IPv6";
  /** IPv6 scope id (interface index). @default {0} */
  scopeId?: number;
  /** IPv6 flow information. @default {0} */
  flowInfo?: number;
}

/** Options naming the OS whose layout to use. */
export interface SockaddrOptions {
  /** The OS layout. @default {"linux"} */
  os?: SessionOs;
}

function platformOf(options: SockaddrOptions | undefined): SockaddrPlatform {
  return SOCKADDR_PLATFORMS[options?.os ?? "linux"];
}

/**
 * Reads the `sa_family` of a raw sockaddr image, or `-1` when the image is
 * too short to hold one.
 *
 * @param bytes The sockaddr image.
 * @param options The OS layout.
 * @returns The address family number.
 *
 * @example Usage
 * ```ts
 * import { sockaddrFamily } from "@sidecar/ipc/session";
 * import assert from "node:assert/strict";
 *
 * assert.equal(sockaddrFamily(new Uint8Array([10, 0, 0, 0])), 10);
 * ```
 */
export function sockaddrFamily(
  bytes: Uint8Array,
  options?: SockaddrOptions,
): number {
  if (bytes.length < 2) return -1;
  if (platformOf(options).hasSaLen) return bytes[1]!;
  return bytes[0]! | (bytes[1]! << 8);
}

/**
 * The length BIND 10 sends for a sockaddr (its `getSALength`): 16 for
 * IPv4, 28 for IPv6, `-1` for other families.
 *
 * @param family The address family number.
 * @param options The OS layout.
 * @returns The sockaddr length.
 *
 * @example Usage
 * ```ts
 * import { sockaddrLength } from "@sidecar/ipc/session";
 * import assert from "node:assert/strict";
 *
 * assert.equal(sockaddrLength(2), 16);
 * assert.equal(sockaddrLength(10), 28);
 * ```
 */
export function sockaddrLength(
  family: number,
  options?: SockaddrOptions,
): number {
  const p = platformOf(options);
  if (family === p.inet) return SOCKADDR_IN_SIZE;
  if (family === p.inet6) return SOCKADDR_IN6_SIZE;
  return -1;
}

function writeFamily(
  out: Uint8Array,
  family: number,
  len: number,
  p: SockaddrPlatform,
): void {
  if (p.hasSaLen) {
    out[0] = len;
    out[1] = family;
  } else {
    out[0] = family & 0xff;
    out[1] = family >> 8;
  }
}

function parseIpv4(text: string): Uint8Array | null {
  const parts = text.split(".");
  if (parts.length !== 4) return null;
  const out = new Uint8Array(4);
  for (let i = 0; i < 4; i++) {
    const s = parts[i]!;
    if (!/^(0|[1-9][0-9]{0,2})$/.test(s)) return null;
    const n = Number(s);
    if (n > 255) return null;
    out[i] = n;
  }
  return out;
}

function parseIpv6(text: string): Uint8Array | null {
  let head = text;
  let v4: Uint8Array | null = null;
  const lastColon = head.lastIndexOf(":");
  if (lastColon >= 0 && head.includes(".", lastColon)) {
    v4 = parseIpv4(head.slice(lastColon + 1));
    if (v4 === null) return null;
    head = head.slice(0, lastColon + 1) + "0:0";
  }
  const halves = head.split("::");
  if (halves.length > 2) return null;
  const groupsOf = (s: string): number[] | null => {
    if (s === "") return [];
    const out: number[] = [];
    for (const g of s.split(":")) {
      if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return null;
      out.push(Number.parseInt(g, 16));
    }
    return out;
  };
  const left = groupsOf(halves[0]!);
  const right = halves.length === 2 ? groupsOf(halves[1]!) : [];
  if (left === null || right === null) return null;
  let groups: number[];
  if (halves.length === 2) {
    const fill = 8 - left.length - right.length;
    if (fill < 1) return null;
    groups = [...left, ...new Array<number>(fill).fill(0), ...right];
  } else {
    groups = left;
  }
  if (groups.length !== 8) return null;
  const out = new Uint8Array(16);
  groups.forEach((g, i) => {
    out[i * 2] = g >> 8;
    out[i * 2 + 1] = g & 0xff;
  });
  if (v4 !== null) out.set(v4, 12);
  return out;
}

/**
 * RFC 5952 text: lowercase hex groups, the longest run of two or more zero
 * groups (the first of equal ones) as `::`, and an IPv4-mapped address
 * (`::ffff:0:0/96`) with its IPv4 part dotted, as `inet_ntop`, Kea and
 * Deno's `NetAddr` print it (`::ffff:127.0.0.1`).
 */
function formatIpv6(b: Uint8Array): string {
  let mapped = b[10] === 0xff && b[11] === 0xff;
  for (let i = 0; i < 10 && mapped; i++) mapped = b[i] === 0;
  if (mapped) return `::ffff:${b[12]}.${b[13]}.${b[14]}.${b[15]}`;
  const groups: number[] = [];
  for (let i = 0; i < 8; i++) groups.push((b[i * 2]! << 8) | b[i * 2 + 1]!);
  let bestStart = -1;
  let bestLen = 1;
  for (let i = 0; i < 8;) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = (gs: number[]): string => gs.map((g) => g.toString(16)).join(":");
  if (bestStart < 0) return hex(groups);
  return `${hex(groups.slice(0, bestStart))}::${
    hex(groups.slice(bestStart + bestLen))
  }`;
}

function checkPort(port: number): void {
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new RangeError(
      `Cannot encode sockaddr: port ${port} is not in 0..65535`,
    );
  }
}

/**
 * Encodes an IP endpoint as a raw `sockaddr_in` (16 bytes) or `sockaddr_in6`
 * (28 bytes) image of the given OS.
 *
 * @param address The endpoint; `hostname` must be a numeric address.
 * @param options The OS layout.
 * @returns The sockaddr image.
 * @throws {TypeError} When the hostname is not a numeric address of the family.
 * @throws {RangeError} When the port, scope id or flow info is out of range.
 *
 * @example Usage
 * ```ts
 * import { encodeSockaddr } from "@sidecar/ipc/session";
 * import assert from "node:assert/strict";
 *
 * const sa = encodeSockaddr({ hostname: "127.0.0.1", port: 53535 });
 * assert.deepEqual([...sa.subarray(0, 8)], [2, 0, 0xd1, 0x1f, 127, 0, 0, 1]);
 * ```
 */
export function encodeSockaddr(
  address: SocketAddress,
  options?: SockaddrOptions,
): Uint8Array<ArrayBuffer> {
  const p = platformOf(options);
  checkPort(address.port);
  let host = address.hostname;
  let scopeId = address.scopeId ?? 0;
  const zone = host.indexOf("%");
  if (zone >= 0) {
    const z = host.slice(zone + 1);
    if (!/^[0-9]+$/.test(z)) {
      throw new TypeError(
        `Cannot encode sockaddr: zone "${z}" is not a numeric scope id`,
      );
    }
    if (address.scopeId === undefined) scopeId = Number(z);
    host = host.slice(0, zone);
  }
  if (host.startsWith("[") && host.endsWith("]")) host = host.slice(1, -1);
  const family = address.family ?? (host.includes(":") ? "IPv6" : "IPv4");
  if (family === "IPv4") {
    const ip = parseIpv4(host);
    if (ip === null) {
      throw new TypeError(
        `Cannot encode sockaddr: "${address.hostname}" is not an IPv4 address`,
      );
    }
    const out = new Uint8Array(SOCKADDR_IN_SIZE);
    writeFamily(out, p.inet, SOCKADDR_IN_SIZE, p);
    out[2] = address.port >> 8;
    out[3] = address.port & 0xff;
    out.set(ip, 4);
    return out;
  }
  if (family !== "IPv6") {
    throw new TypeError(
      `Cannot encode sockaddr: unknown family "${String(family)}"`,
    );
  }
  const ip = parseIpv6(host);
  if (ip === null) {
    throw new TypeError(
      `Cannot encode sockaddr: "${address.hostname}" is not an IPv6 address`,
    );
  }
  const flow = address.flowInfo ?? 0;
  for (
    const [name, v] of [["scope id", scopeId], ["flow info", flow]] as const
  ) {
    if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) {
      throw new RangeError(
        `Cannot encode sockaddr: ${name} ${v} is not a 32-bit unsigned integer`,
      );
    }
  }
  const out = new Uint8Array(SOCKADDR_IN6_SIZE);
  const view = new DataView(out.buffer);
  writeFamily(out, p.inet6, SOCKADDR_IN6_SIZE, p);
  view.setUint16(2, address.port, false);
  view.setUint32(4, flow, false);
  out.set(ip, 8);
  view.setUint32(24, scopeId, true);
  return out;
}

/**
 * Decodes a raw `sockaddr_in` / `sockaddr_in6` image into an endpoint.
 * IPv6 addresses are written as RFC 5952 asks (and as `inet_ntop` and
 * Deno's `NetAddr` write them): an IPv4 client of a dual-stack socket reads
 * `::ffff:192.0.2.1` (family `"IPv6"`).
 *
 * @param bytes The sockaddr image (at least 16 or 28 bytes).
 * @param options The OS layout.
 * @returns The endpoint, with `family`, and `scopeId`/`flowInfo` for IPv6.
 * @throws {TypeError} When the family is not IPv4/IPv6 or the image is too short.
 *
 * @example Usage
 * ```ts
 * import { decodeSockaddr, encodeSockaddr } from "@sidecar/ipc/session";
 * import assert from "node:assert/strict";
 *
 * const sa = encodeSockaddr({ hostname: "2001:db8::1", port: 5300 });
 * assert.deepEqual(decodeSockaddr(sa), {
 *   hostname: "2001:db8::1",
 *   port: 5300,
 *   family: "IPv6",
 *   scopeId: 0,
 *   flowInfo: 0,
 * });
 * ```
 */
export function decodeSockaddr(
  bytes: Uint8Array,
  options?: SockaddrOptions,
): SocketAddress {
  const p = platformOf(options);
  const family = sockaddrFamily(bytes, options);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (family === p.inet && bytes.length >= SOCKADDR_IN_SIZE) {
    return {
      hostname: Array.from(bytes.subarray(4, 8)).join("."),
      port: view.getUint16(2, false),
      family: "IPv4",
    };
  }
  if (family === p.inet6 && bytes.length >= SOCKADDR_IN6_SIZE) {
    return {
      hostname: formatIpv6(bytes.subarray(8, 24)),
      port: view.getUint16(2, false),
      family: "IPv6",
      scopeId: view.getUint32(24, true),
      flowInfo: view.getUint32(4, false),
    };
  }
  throw new TypeError(
    `Cannot decode sockaddr: family ${family} with ${bytes.length} bytes is not IPv4 or IPv6`,
  );
}

/**
 * Encodes a `sockaddr_un` for a filesystem path. The result's length is the
 * `socklen_t` to pass to `bind`/`connect` (family, path and its NUL).
 *
 * @param path The socket path.
 * @param options The OS layout.
 * @returns The sockaddr image.
 * @throws {RangeError} When the path is empty or does not fit `sun_path`.
 *
 * @example Usage
 * ```ts
 * import { encodeUnixSockaddr } from "@sidecar/ipc/session";
 * import assert from "node:assert/strict";
 *
 * const sa = encodeUnixSockaddr("/tmp/s");
 * assert.equal(sa.length, 2 + 6 + 1);
 * assert.throws(() => encodeUnixSockaddr("/".repeat(108)), RangeError);
 * ```
 */
export function encodeUnixSockaddr(
  path: string,
  options?: SockaddrOptions,
): Uint8Array<ArrayBuffer> {
  const p = platformOf(options);
  const bytes = new TextEncoder().encode(path);
  if (
    bytes.length === 0 || bytes.length > p.sunPathSize - 1 || bytes.includes(0)
  ) {
    throw new RangeError(
      `Cannot use socket path: ${bytes.length} bytes, must be 1..${
        p.sunPathSize - 1
      } without NUL`,
    );
  }
  const out = new Uint8Array(2 + bytes.length + 1);
  writeFamily(out, p.unix, out.length, p);
  out.set(bytes, 2);
  return out;
}
