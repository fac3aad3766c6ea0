// Copyright 2026 the @sidecar/ipc authors. MIT license.
// This module is browser compatible.
/**
 * Reading a REQUEST the way gunicorn 26.1's arbiter and worker do, for
 * requests whose `args` are not a list or whose `kwargs` are not a dict
 * (`parseFrame` refuses those): the arbiter applies Python's
 * `list(args) if args else []` and `kwargs or {}` when it forwards a
 * request, and the worker's `app(action, *args, **kwargs)` fails on kwargs
 * that are not a mapping. Sans-I/O.
 *
 * @module
 */

import { DirtyProtocolError } from "./errors.ts";
import { decodeHeader } from "./header.ts";
import { decodeFramePayload } from "./_payload.ts";
import { encodeRequest } from "./message_encoders.ts";
import type { DirtyValue } from "./tlv.ts";
import { dictGet, isDict } from "./_dict.ts";
import { pyListOf, pyTruthy } from "./_py_repr.ts";

/** The fields of a REQUEST, read leniently. */
export interface RequestFields {
  /** `app_path` (`""` when absent). */
  appPath: string;
  /** `action` (`""` when absent). */
  action: string;
  /** `args`, whatever it is (`[]` when absent). */
  args: DirtyValue;
  /** `kwargs`, whatever it is (`{}` when absent). */
  kwargs: DirtyValue;
}

function text(payload: DirtyValue, key: string): string {
  const v = dictGet(payload, key);
  if (v === undefined) return "";
  if (typeof v !== "string") {
    throw new DirtyProtocolError(
      `Cannot read request message: ${key} is not a string`,
    );
  }
  return v;
}

/**
 * The fields of a decoded REQUEST payload; only a payload that is not a
 * dict, or an `app_path` or `action` that is not a string, is refused.
 *
 * @param payload The decoded payload.
 * @returns The fields.
 * @throws {DirtyProtocolError} On a payload that is not a dict or a
 * non-string `app_path` / `action`.
 */
export function requestFields(payload: DirtyValue): RequestFields {
  if (!isDict(payload)) {
    throw new DirtyProtocolError(
      "Cannot read request message: payload is not a dict",
    );
  }
  return {
    appPath: text(payload, "app_path"),
    action: text(payload, "action"),
    args: dictGet(payload, "args") ?? [],
    kwargs: dictGet(payload, "kwargs") ??
      (payload instanceof Map ? new Map() : {}),
  };
}

/** A client's REQUEST as the arbiter forwards it. */
export interface ForwardedRequest {
  /** The app to route to (`""`: any worker, as gunicorn). */
  appPath: string;
  /** The action (for log lines). */
  action: string;
  /** The frame to send (the client's, or rewritten as gunicorn re-encodes it). */
  frame: Uint8Array<ArrayBuffer>;
  /**
   * gunicorn's error for args Python cannot make a list of (`'int' object
   * is not iterable`): the request fails with it once routed.
   */
  refusal: string | null;
}

/**
 * Reads a client's REQUEST frame for forwarding: args that are not a list
 * become Python's `list(args)` (or a refusal), falsy kwargs that are not a
 * dict become `{}`; other kwargs go to the worker as they are.
 *
 * @param frame The whole frame, validated header included.
 * @returns What to forward.
 * @throws {DirtyProtocolError} On malformed input (the arbiter then closes
 * the connection without a reply, as gunicorn does).
 */
export function forwardedRequest(
  frame: Uint8Array<ArrayBuffer>,
): ForwardedRequest {
  // The splitter checked the header: only the payload is decoded here.
  const f = requestFields(decodeFramePayload(frame, { float: "tagged" }));
  let args = f.args;
  let kwargs = f.kwargs;
  let rewrite = false;
  if (!Array.isArray(args)) {
    const list = pyListOf(args);
    if (!Array.isArray(list)) {
      return {
        appPath: f.appPath,
        action: f.action,
        frame,
        refusal: `Worker communication failed: ${list.error}`,
      };
    }
    args = list as DirtyValue[];
    rewrite = true;
  }
  if (!isDict(kwargs) && !pyTruthy(kwargs)) {
    kwargs = new Map();
    rewrite = true;
  }
  return {
    appPath: f.appPath,
    action: f.action,
    frame: rewrite
      ? encodeRequest(
        decodeHeader(frame).id,
        f.appPath,
        f.action,
        args as DirtyValue[],
        kwargs as Map<string, DirtyValue>,
      )
      : frame,
    refusal: null,
  };
}
