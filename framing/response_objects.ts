// Copyright 2026 the @sidecar/ipc authors. MIT license.
// This module is browser compatible.
/**
 * What a command handler may produce besides plain CBOR values: objects
 * already encoded, and content redirects (with their payload, keyed in
 * Mercurial's order).
 *
 * @module
 */
import { concatBytes } from "../_internal/bytes.ts";
import type { CborValue } from "./cbor.ts";
import { encodeCbor } from "./cbor_encoder.ts";

/**
 * A response object that is already CBOR (Mercurial's `encodedresponse`);
 * it still goes through the stream's encoder.
 *
 * @example Usage
 * ```ts
 * import { EncodedResponse, encodeCbor } from "@sidecar/ipc/framing";
 * import assert from "node:assert/strict";
 *
 * assert.equal(new EncodedResponse(encodeCbor(1)).data.length, 1);
 * ```
 */
export class EncodedResponse {
  /** The CBOR bytes. */
  readonly data: Uint8Array;
  /**
   * Wraps pre-encoded CBOR.
   *
   * @param data The CBOR bytes.
   */
  constructor(data: Uint8Array) {
    this.data = data;
  }
}

/** Where a redirected response can be fetched (`alternatelocationresponse`). */
export interface RedirectLocation {
  /** The URL. */
  url: string;
  /** The media type. */
  mediatype: string;
  /**
   * Size in bytes.
   *
   * @default {undefined}
   */
  size?: number;
  /**
   * Full hashes of the content.
   *
   * @default {undefined}
   */
  fullhashes?: CborValue;
  /**
   * Seed of the hashes.
   *
   * @default {undefined}
   */
  fullhashseed?: CborValue;
  /**
   * Server certificates (DER).
   *
   * @default {undefined}
   */
  serverdercerts?: CborValue;
  /**
   * CA certificates (DER).
   *
   * @default {undefined}
   */
  servercadercerts?: CborValue;
}

/**
 * A content redirect response; it must be the only object of a response.
 *
 * @example Usage
 * ```ts
 * import { RedirectResponse } from "@sidecar/ipc/framing";
 * import assert from "node:assert/strict";
 *
 * const r = new RedirectResponse({ url: "http://example.com/x", mediatype: "application/x" });
 * assert.equal(r.location.url, "http://example.com/x");
 * ```
 */
export class RedirectResponse {
  /** The location. */
  readonly location: RedirectLocation;
  /**
   * Creates a redirect.
   *
   * @param location Where the content is.
   */
  constructor(location: RedirectLocation) {
    this.location = location;
  }
}

/** Anything a command handler may produce as one response object. */
export type ResponseObject = CborValue | EncodedResponse | RedirectResponse;

/**
 * The `{status: redirect, location}` payload, keyed in Mercurial's order:
 * its optional location keys are `bytestr` objects, which Python sorts
 * after plain `bytes` keys, so they follow `mediatype` and `url`.
 */
export function redirectPayload(location: RedirectLocation): Uint8Array {
  const parts: Uint8Array[] = [];
  let count = 0;
  const add = (k: string, v: CborValue): void => {
    parts.push(encodeCbor(k), encodeCbor(v));
    count++;
  };
  add("mediatype", location.mediatype);
  add("url", location.url);
  for (
    const k of [
      "fullhashes",
      "fullhashseed",
      "servercadercerts",
      "serverdercerts",
      "size",
    ] as const
  ) {
    const v = location[k];
    if (v !== undefined && v !== null) add(k, v);
  }
  const loc = concatBytes(
    [Uint8Array.of(0xa0 | count), ...parts],
    parts.reduce((n, p) => n + p.length, 1),
  );
  const head = encodeCbor("location");
  const tail = encodeCbor(new Map([["status", "redirect"]])).subarray(1);
  return concatBytes(
    [Uint8Array.of(0xa2), head, loc, tail],
    1 + head.length + loc.length + tail.length,
  );
}
