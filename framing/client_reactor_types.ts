// Copyright 2026 the @sidecar/ipc authors. MIT license.
// This module is browser compatible.
/**
 * What `ClientReactor` takes and answers: its options, the requests it
 * issues, and its actions.
 *
 * @module
 */
import type { CborValue } from "./cbor.ts";
import type { ProtocolError, ServerError } from "./errors.ts";
import type { Frame } from "./frame_codec.ts";
import type { StreamDecoderOptions } from "./stream_encoding.ts";

/** Life cycle of a {@linkcode ClientRequest}. */
export type ClientRequestState =
  | "pending"
  | "sending"
  | "sent"
  | "receiving"
  | "received"
  | "errored";

/**
 * One command issued through a `ClientReactor`.
 *
 * @example Usage
 * ```ts
 * import { ClientReactor } from "@sidecar/ipc/framing";
 * import assert from "node:assert/strict";
 *
 * const { request } = new ClientReactor().callCommand("heads", {});
 * assert.equal(request.requestId, 1);
 * assert.equal(request.state, "pending");
 * ```
 */
export class ClientRequest {
  /** The request id. */
  readonly requestId: number;
  /** The command name. */
  readonly name: string;
  /** The arguments. */
  readonly args: ReadonlyMap<string, CborValue> | {
    readonly [key: string]: CborValue;
  };
  /** The command data, if any. */
  readonly data: Uint8Array | undefined;
  /** The redirect map, if any. */
  readonly redirect: CborValue | undefined;
  /** Where the request is in its life cycle. */
  state: ClientRequestState = "pending";
  /**
   * Creates a request record (done by `ClientReactor.callCommand`).
   *
   * @param requestId The id.
   * @param name The command.
   * @param args The arguments.
   * @param data The command data.
   * @param redirect The redirect map.
   */
  constructor(
    requestId: number,
    name: string,
    args: ReadonlyMap<string, CborValue> | {
      readonly [key: string]: CborValue;
    },
    data: Uint8Array | undefined,
    redirect: CborValue | undefined,
  ) {
    this.requestId = requestId;
    this.name = name;
    this.args = args;
    this.data = data;
    this.redirect = redirect;
  }
}

/** What the caller of `ClientReactor` must do next. */
export type ClientAction =
  | { action: "noop" }
  | { action: "sendframes"; frames: Iterable<Frame> }
  | {
    action: "responsedata";
    request: ClientRequest;
    expectMore: boolean;
    eos: boolean;
    data: Uint8Array;
  }
  | {
    action: "error";
    message: string;
    error: ProtocolError | ServerError;
    request?: ClientRequest;
    type?: string;
  }
  | { action: "textoutput"; request: ClientRequest; atoms: CborValue[] }
  | { action: "progress"; request: ClientRequest; progress: CborValue };

/** Options of `ClientReactor`. */
export interface ClientReactorOptions {
  /**
   * Whether the transport can send more than once (full duplex).
   *
   * @default {false}
   */
  hasMultipleSend?: boolean;
  /**
   * Queue commands until {@linkcode ClientReactor.flushCommands}.
   *
   * @default {true}
   */
  bufferSends?: boolean;
  /**
   * Encodings to advertise in a sender-protocol-settings frame, most
   * preferred first; `null` sends no such frame. Encodings this runtime
   * cannot decode (see `availableStreamEncodings()`) are left out, and no
   * frame is sent when none is left.
   *
   * @default {null}
   */
  clientContentEncoders?: readonly string[] | null;
  /**
   * Split size of request CBOR.
   *
   * @default {32768}
   */
  maxFrameSize?: number;
  /**
   * Limits of the per-stream decoders.
   *
   * @default {{}}
   */
  decoderOptions?: StreamDecoderOptions;
}

/** Options of `ClientReactor.callCommand`. */
export interface CallCommandOptions {
  /**
   * Command data.
   *
   * @default {undefined}
   */
  data?: Uint8Array | undefined;
  /**
   * The redirect map (`{targets, hashes}`).
   *
   * @default {undefined}
   */
  redirect?: CborValue | undefined;
}
