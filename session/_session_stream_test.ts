// Copyright 2026 the @sidecar/ipc authors. MIT license.
import fc from "fast-check";
import assert from "node:assert/strict";
import { END, MAX_SESSION_BYTES, SessionStream } from "./_session_stream.ts";
import { encodeSessionHeader } from "./session_header.ts";
import { encodeSockaddr } from "./sockaddr.ts";

const local = encodeSockaddr({ hostname: "127.0.0.1", port: 53 });
const remote4 = encodeSockaddr({ hostname: "192.0.2.2", port: 5300 });

function wire(data: Uint8Array): Uint8Array {
  const header = encodeSessionHeader({
    family: 2,
    type: 2,
    protocol: 17,
    local,
    remote: remote4,
    dataLength: data.length,
  });
  return new Uint8Array([0, ...header, ...data]);
}

/** A piece the sender wrote in one call, with the fds attached to it. */
interface Segment {
  bytes: Uint8Array;
  fds: number[];
}

/**
 * Reads `segments` as Linux does on a stream socket: a read takes at most
 * `size` bytes across segments, gets the fds of the segment whose first
 * byte it takes, and stops right after a segment that carries fds.
 */
function* kernelReads(
  segments: Segment[],
  sizes: number[],
): Generator<{ bytes: Uint8Array; fds: number[] }> {
  let s = 0;
  let o = 0;
  let r = 0;
  while (s < segments.length) {
    const size = sizes[r++ % sizes.length]!;
    const out: number[] = [];
    let fds: number[] = [];
    while (out.length < size && s < segments.length) {
      const seg = segments[s]!;
      if (o === 0 && seg.fds.length > 0) {
        if (fds.length > 0) break; // one fd-carrying segment per read
        fds = seg.fds;
      }
      const take = Math.min(size - out.length, seg.bytes.length - o);
      out.push(...seg.bytes.subarray(o, o + take));
      o += take;
      if (o === seg.bytes.length) {
        s++;
        o = 0;
        if (seg.fds.length > 0) break;
      }
    }
    yield { bytes: new Uint8Array(out), fds };
  }
}

function feed(stream: SessionStream, bytes: Uint8Array, fds: number[]): void {
  stream.reserve(bytes.length);
  stream.buffer.set(bytes, stream.end);
  stream.append(stream.end, bytes.length, fds, false);
}

Deno.test("SessionStream gives every session its own fd, whatever the reads, for our forwarder's layout and BIND 10's (fast-check)", () => {
  fc.assert(
    fc.property(
      fc.array(
        fc.record({
          size: fc.integer({ min: 1, max: 3000 }),
          kea: fc.boolean(),
          cut: fc.integer({ min: 1, max: 5000 }),
        }),
        { minLength: 1, maxLength: 20 },
      ),
      fc.array(fc.integer({ min: 1, max: 9000 }), {
        minLength: 1,
        maxLength: 10,
      }),
      (sessions, sizes) => {
        const segments: Segment[] = [];
        sessions.forEach((x, i) => {
          const bytes = wire(new Uint8Array(x.size).fill(i & 0xff));
          const fd = 100 + i;
          if (x.kea) {
            // BIND 10: the dummy byte with the fd, then header and data.
            segments.push({ bytes: bytes.subarray(0, 1), fds: [fd] });
            segments.push({ bytes: bytes.subarray(1), fds: [] });
          } else if (x.cut < bytes.length) {
            // Ours, cut by the kernel: the tail follows without an fd.
            segments.push({ bytes: bytes.subarray(0, x.cut), fds: [fd] });
            segments.push({ bytes: bytes.subarray(x.cut), fds: [] });
          } else {
            segments.push({ bytes, fds: [fd] });
          }
        });
        const stream = new SessionStream(MAX_SESSION_BYTES + 16384);
        const got: [number, number, number][] = [];
        for (const read of kernelReads(segments, sizes)) {
          feed(stream, read.bytes, read.fds);
          for (let s = stream.next(); s !== null; s = stream.next()) {
            assert.notEqual(s, END);
            if (s === END) break;
            got.push([s.fd, s.data.length, s.data[0]!]);
          }
        }
        stream.append(stream.end, 0, [], false);
        assert.equal(stream.next(), END);
        assert.deepEqual(
          got,
          sessions.map((x, i) => [100 + i, x.size, i & 0xff]),
        );
        assert.deepEqual(stream.releaseFds(), []);
      },
    ),
    { numRuns: 300 },
  );
});

Deno.test("SessionStream: a session without an fd is NO_FD, an fd inside one is EXTRA_FDS, a cut stream INCOMPLETE; held fds are handed back", () => {
  const a = wire(new Uint8Array([1, 2, 3]));
  const b = wire(new Uint8Array([4]));
  // Two sessions in one read with one fd: the second has none.
  let stream = new SessionStream(MAX_SESSION_BYTES + 1024);
  feed(stream, new Uint8Array([...a, ...b]), [7]);
  const first = stream.next();
  assert.ok(first !== null && first !== END && first.fd === 7);
  assert.throws(() => stream.next(), {
    name: "SocketSessionError",
    code: "NO_FD",
  });
  // The same error again.
  assert.throws(() => stream.next(), { code: "NO_FD" });
  // The dummy byte came without an fd; one came later, with the header.
  stream = new SessionStream(MAX_SESSION_BYTES + 1024);
  feed(stream, a.subarray(0, 1), []);
  feed(stream, a.subarray(1), [7]);
  assert.throws(() => stream.next(), { code: "NO_FD" });
  assert.deepEqual(stream.releaseFds(), [7]);
  // An fd that came with a read ending inside the header.
  stream = new SessionStream(MAX_SESSION_BYTES + 1024);
  feed(stream, a.subarray(0, 1), [7]);
  feed(stream, a.subarray(1, 10), [8]);
  assert.throws(() => stream.next(), { code: "EXTRA_FDS" });
  assert.deepEqual(stream.releaseFds().sort(), [7, 8]);
  // Two fds with one dummy byte.
  stream = new SessionStream(MAX_SESSION_BYTES + 1024);
  feed(stream, a, [7, 8]);
  assert.throws(() => stream.next(), { code: "EXTRA_FDS" });
  assert.deepEqual(stream.releaseFds().sort(), [7, 8]);
  // The end of the stream inside a session.
  stream = new SessionStream(MAX_SESSION_BYTES + 1024);
  feed(stream, a.subarray(0, 20), [7]);
  assert.equal(stream.next(), null);
  assert.equal(stream.atBoundary, false);
  stream.append(stream.end, 0, [], false);
  assert.throws(() => stream.next(), { code: "INCOMPLETE" });
  assert.deepEqual(stream.releaseFds(), [7]);
  // A header length above 282, before the header arrives.
  stream = new SessionStream(MAX_SESSION_BYTES + 1024);
  feed(stream, new Uint8Array([0, 0x01, 0x1b]), [7]);
  assert.throws(() => stream.next(), { code: "HEADER_TOO_LARGE" });
  assert.throws(() => new SessionStream(1000), RangeError);
});
