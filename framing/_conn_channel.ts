// Copyright 2026 the @sidecar/ipc authors. MIT license.
/**
 * A byte channel over a `Deno.Conn` that supports half-close: the readable
 * side ends at the peer's EOF without closing the socket, and closing the
 * writable side only shuts down sending (`closeWrite`). The owner closes
 * the connection itself.
 *
 * @module
 */
import type { ByteChannel } from "./client.ts";

const READ_SIZE = 64 * 1024;

/** Wraps a connection in half-close-friendly streams. */
export function connChannel(conn: Deno.Conn): ByteChannel {
  const readable = new ReadableStream<Uint8Array>({
    async pull(controller) {
      const buf = new Uint8Array(READ_SIZE);
      let n: number | null;
      try {
        n = await conn.read(buf);
      } catch (e) {
        controller.error(e);
        return;
      }
      if (n === null) {
        controller.close();
        return;
      }
      // Small reads are copied so a frame view does not pin 64 KiB.
      controller.enqueue(
        n < READ_SIZE / 4 ? buf.slice(0, n) : buf.subarray(0, n),
      );
    },
  });
  const writable = new WritableStream<Uint8Array>({
    async write(chunk) {
      let o = 0;
      while (o < chunk.length) o += await conn.write(chunk.subarray(o));
    },
    async close() {
      await conn.closeWrite().catch(() => {});
    },
  });
  return { readable, writable };
}
