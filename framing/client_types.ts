// Copyright 2026 the @sidecar/ipc authors. MIT license.
// This module is browser compatible.
/**
 * The options of `FramingClient` and of its calls.
 *
 * @module
 */
import type { CborDecodeOptions, CborValue } from "./cbor.ts";
import type { StreamDecoderOptions } from "./stream_encoding.ts";

/** Options of `FramingClient`. */
export interface FramingClientOptions {
  /**
   * Encodings to advertise, most preferred first; `null` sends no
   * sender-protocol-settings frame (the server then uses identity).
   * Encodings this runtime cannot decode (see `availableStreamEncodings()`)
   * are left out: where zstd is missing the client offers zlib and
   * identity.
   *
   * @default {["zstd-8mb", "zlib", "identity"]}
   */
  contentEncodings?: readonly string[] | null;
  /**
   * Most memory, in bytes, the client holds of responses: decoded values
   * no caller has read yet plus partly received values, over all calls,
   * each counted as its CBOR bytes plus 64 bytes per item
   * (`CBOR_ITEM_OVERHEAD`). Past it the client stops reading from the
   * connection until callers read (backpressure); partly received values
   * alone past it (reading cannot help) fail the call whose frame grew
   * them, with a `ProtocolError` of code `"LIMIT_EXCEEDED"`: keep it
   * above the largest value expected (CBOR bytes plus 64 per item).
   *
   * @default {67108864}
   */
  maxBufferedSize?: number;
  /**
   * Limits for decoding response CBOR.
   *
   * @default {{}}
   */
  cborOptions?: CborDecodeOptions;
  /**
   * Limits for stream decoders.
   *
   * @default {{}}
   */
  decoderOptions?: StreamDecoderOptions;
  /**
   * Largest frame payload accepted. A larger frame fails only the call it
   * belongs to (`ProtocolError`, code `"FRAME_TOO_LARGE"`); its bytes are
   * not kept.
   *
   * @default {65535}
   */
  maxPayloadSize?: number;
  /**
   * Largest payload accepted in a frame that may carry an error, which
   * Mercurial never splits (a command error, e.g. 70,048 bytes for an
   * argument of 70,000; see `FrameDecoderOptions.maxErrorPayloadSize`).
   * The default takes whatever Mercurial sends.
   *
   * @default {16777215}
   */
  maxErrorPayloadSize?: number;
  /**
   * Called once when the client has shut down (used to close sockets).
   *
   * @default {undefined}
   */
  onClose?: () => void;
  /**
   * Called with the decoded atoms of a `text-output` frame (servers other
   * than Mercurial may send them).
   *
   * @default {undefined}
   */
  onTextOutput?: (requestId: number, atoms: CborValue[]) => void;
  /**
   * Called with the decoded map of a `progress` frame.
   *
   * @default {undefined}
   */
  onProgress?: (requestId: number, progress: CborValue) => void;
  /**
   * How long `FramingClient.close` waits for unsent request bytes
   * to be written, in milliseconds (`Infinity`: no limit), before giving
   * up on them: a peer that stops reading cannot make `close()` hang. On
   * giving up, `onClose` runs at once (closing the socket for `connect`)
   * and the writable is aborted.
   *
   * @default {10000}
   */
  closeTimeout?: number;
}

/** Options of `FramingClient.call`. */
export interface CallOptions {
  /**
   * Command data (sent in `command-data` frames).
   *
   * @default {undefined}
   */
  data?: Uint8Array;
  /**
   * Aborts waiting for the response; the rest of it is discarded.
   *
   * @default {undefined}
   */
  signal?: AbortSignal;
  /**
   * A redirect map (`{targets, hashes}`).
   *
   * @default {undefined}
   */
  redirect?: CborValue;
}
