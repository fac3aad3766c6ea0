// Copyright 2026 the @sidecar/ipc authors. MIT license.
/**
 * In-memory byte channels for framing tests.
 *
 * @module
 */

/** A bidirectional byte channel (the shape `FramingClient` takes). */
export interface Channel {
  /** Bytes from the other end. */
  readable: ReadableStream<Uint8Array>;
  /** Bytes to the other end. */
  writable: WritableStream<Uint8Array>;
}

/** Two ends of an in-memory connection. */
export function pair(): { client: Channel; server: Channel } {
  const a = new TransformStream<Uint8Array, Uint8Array>();
  const b = new TransformStream<Uint8Array, Uint8Array>();
  return {
    client: { readable: b.readable, writable: a.writable },
    server: { readable: a.readable, writable: b.writable },
  };
}
