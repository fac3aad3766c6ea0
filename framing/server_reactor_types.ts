// Copyright 2026 the @sidecar/ipc authors. MIT license.
// This module is browser compatible.
/**
 * What `ServerReactor` takes and answers: its options, states and actions.
 *
 * @module
 */
import type { CborKey, CborValue } from "./cbor.ts";
import type { ProtocolError } from "./errors.ts";
import type { Frame } from "./frame_codec.ts";

/** States of `ServerReactor`. */
export type ServerReactorState =
  | "initial"
  | "protocol-settings-receiving"
  | "idle"
  | "command-receiving"
  | "errored";

/** A fully received command, ready to run. */
export interface RunCommandAction {
  /** Action name. */
  action: "runcommand";
  /** The request id. */
  requestId: number;
  /** The command name. */
  command: string;
  /** The arguments (an empty map when the request had none). */
  args: Map<CborKey, CborValue>;
  /** The `redirect` map, or `null`. */
  redirect: CborValue | null;
  /** The command data, or `null` when the request had none. */
  data: Uint8Array | null;
  /**
   * Estimated memory of the request in bytes: its CBOR bytes, 64 bytes per
   * decoded item, and its data; for servers that hold requests.
   */
  size: number;
}

/** What the caller of `ServerReactor` must do next. */
export type ServerAction =
  | { action: "wantframe"; state: ServerReactorState }
  | RunCommandAction
  | { action: "sendframes"; frames: Iterable<Frame> }
  | { action: "noop" }
  | { action: "error"; message: string; error: ProtocolError };

/** Options of `ServerReactor`. */
export interface ServerReactorOptions {
  /**
   * Hold all output until `ServerReactor.onInputEof` (half-duplex
   * transports).
   *
   * @default {false}
   */
  deferOutput?: boolean;
  /**
   * The server's encoding preference order. Encodings this runtime cannot
   * run (see `availableStreamEncodings()`) are skipped, so a client that
   * offers zstd gets zlib or identity where zstd is missing.
   *
   * @default {["zstd-8mb", "zlib", "identity"]}
   */
  encoders?: readonly string[];
  /**
   * Largest payload of frames the server emits.
   *
   * @default {32768}
   */
  maxFrameSize?: number;
  /**
   * Most requests that may be partially received at once.
   *
   * @default {64}
   */
  maxPendingRequests?: number;
  /**
   * Largest CBOR request (name, args, redirect) in bytes; also the most
   * bytes of sender protocol settings accepted.
   *
   * @default {16777216}
   */
  maxRequestSize?: number;
  /**
   * Largest command data of one request in bytes.
   *
   * @default {268435456}
   */
  maxCommandDataSize?: number;
  /**
   * Most memory, in bytes, that all partially received requests may hold
   * together: the request and data bytes as buffered (copied out of the
   * input, so that no input chunk is pinned), and
   * `PARTIAL_REQUEST_OVERHEAD` per request.
   *
   * @default {268435456}
   */
  maxBufferedSize?: number;
}
