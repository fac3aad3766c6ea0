// Copyright 2026 the @sidecar/ipc authors. MIT license.
/**
 * Byte channels over `Deno.Conn`s and stdio, and the write queue the
 * client and the server put on a channel. A conn channel supports
 * half-close: the readable side ends at the peer's EOF without closing the
 * socket, and closing the writable side only shuts down sending
 * (`closeWrite`); the owner closes the connection itself. Its writes go
 * straight to the connection, so the queue can reuse its batch buffers.
 *
 * @module
 */
import {
  type ByteSink,
  streamSink,
  WriteQueue,
  type WriteQueueOptions,
} from "../_internal/write_queue.ts";
import type { ByteChannel } from "./byte_channel.ts";

const READ_SIZE = 64 * 1024;

/** Channels whose bytes can go straight to a `write()`-able resource. */
const DIRECT = new WeakMap<ByteChannel, ByteSink>();

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
  const channel = { readable, writable };
  DIRECT.set(channel, conn);
  return channel;
}

/** This process's stdin and stdout as a channel (writes go to stdout). */
export function stdioChannel(): ByteChannel {
  const channel = {
    readable: Deno.stdin.readable,
    writable: Deno.stdout.writable,
  };
  DIRECT.set(channel, Deno.stdout);
  return channel;
}

/**
 * The write queue for a channel whose writer is `writer`: straight to the
 * resource for the channels made here, else through the stream writer
 * (which may keep the chunks it is given, so batches are not reused).
 */
export function channelQueue(
  channel: ByteChannel,
  writer: WritableStreamDefaultWriter<Uint8Array>,
  options: Omit<WriteQueueOptions, "sinkKeepsChunks">,
): WriteQueue {
  const direct = DIRECT.get(channel);
  return direct !== undefined
    ? new WriteQueue(direct, options)
    : new WriteQueue(streamSink(writer), { ...options, sinkKeepsChunks: true });
}
