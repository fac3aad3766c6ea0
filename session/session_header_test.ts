// Copyright 2026 the @sidecar/ipc authors. MIT license.
import fc from "fast-check";
import assert from "node:assert/strict";
import { fromHex, toHex } from "../_test_utils/hex.ts";
import { BAD_SESSION_CASES } from "../_test_utils/session/cases.ts";
import { SocketSessionError } from "./errors.ts";
import { type DecodedSession, SessionDecoder } from "./session_decoder.ts";
import {
  checkHeaderLength,
  decodeSessionHeader,
  encodeSessionHeader,
  MAX_DATA_SIZE,
  MAX_HEADER_LENGTH,
  SOCKET_SESSION_BUFSIZE,
} from "./session_header.ts";
import { decodeSockaddr, encodeSockaddr } from "./sockaddr.ts";

interface Capture {
  wire: string;
  family: number;
  type: number;
  protocol: number;
  local: unknown;
  remote: unknown;
  data: string;
}
const CAPTURE: { sessions: Capture[] } = JSON.parse(
  await Deno.readTextFile(
    new URL("./testdata/kea22_capture.json", import.meta.url),
  ),
);

Deno.test("session header constants match the reference", () => {
  assert.deepEqual(MAX_HEADER_LENGTH, 282);
  assert.deepEqual(MAX_DATA_SIZE, 65535);
  assert.deepEqual(SOCKET_SESSION_BUFSIZE, 131634);
});

Deno.test("encodeSessionHeader() reproduces the bytes captured from Kea 2.2", () => {
  for (const c of CAPTURE.sessions) {
    const data = new TextEncoder().encode(c.data);
    const header = encodeSessionHeader({
      family: c.family,
      type: c.type,
      protocol: c.protocol,
      local: encodeSockaddr(c.local as never),
      remote: encodeSockaddr(c.remote as never),
      dataLength: data.length,
    });
    assert.deepEqual(
      toHex(new Uint8Array([0, ...header, ...data])),
      c.wire.replace(/\s+/g, ""),
    );
  }
});

Deno.test("SessionDecoder decodes the Kea 2.2 capture in one stream, byte by byte", () => {
  const wire = fromHex(CAPTURE.sessions.map((c) => c.wire).join(""));
  const decoder = new SessionDecoder();
  const out: DecodedSession[] = [];
  for (const b of wire) {
    const s = decoder.feed(Uint8Array.of(b));
    if (s) out.push(s);
  }
  assert.deepEqual(out.length, 2);
  for (const [i, c] of CAPTURE.sessions.entries()) {
    const s = out[i]!;
    assert.deepEqual(s.family, c.family);
    assert.deepEqual(s.type, c.type);
    assert.deepEqual(s.protocol, c.protocol);
    assert.deepEqual(decodeSockaddr(s.local), c.local);
    assert.deepEqual(decodeSockaddr(s.remote), c.remote);
    assert.deepEqual(new TextDecoder().decode(s.data), c.data);
  }
  assert.deepEqual(decoder.atBoundary, true);
});

Deno.test("encodeSessionHeader() rejects what BIND 10's push() rejects", () => {
  const v4 = encodeSockaddr({ hostname: "192.0.2.1", port: 53 });
  const v6 = encodeSockaddr({ hostname: "2001:db8::1", port: 53 });
  const unspec = new Uint8Array(16);
  const base = {
    family: 2,
    type: 2,
    protocol: 17,
    local: v4,
    remote: v4,
    dataLength: 1,
  };
  assert.throws(() => encodeSessionHeader({ ...base, local: unspec }), {
    name: "TypeError",
    message: /invalid address family/,
  });
  assert.throws(() => encodeSessionHeader({ ...base, remote: unspec }), {
    name: "TypeError",
    message: /invalid address family/,
  });
  assert.throws(() => encodeSessionHeader({ ...base, local: v6 }), {
    name: "TypeError",
    message: /inconsistent/,
  });
  assert.throws(
    () => encodeSessionHeader({ ...base, family: 10, remote: v6 }),
    { name: "TypeError", message: /inconsistent/ },
  );
  assert.throws(() => encodeSessionHeader({ ...base, dataLength: 0 }), {
    name: "RangeError",
    message: /data size 0/,
  });
  assert.throws(() => encodeSessionHeader({ ...base, dataLength: 65536 }), {
    name: "RangeError",
    message: /65536/,
  });
  assert.throws(
    () => encodeSessionHeader({ ...base, local: v4.subarray(0, 15) }),
    { name: "TypeError", message: /too short/ },
  );
  assert.deepEqual(
    encodeSessionHeader({ ...base, dataLength: 65535 }).length,
    58,
  );
});

Deno.test("SessionDecoder gives the reference's error kind for every badPop header case", () => {
  for (const c of BAD_SESSION_CASES) {
    if (!c.fd) continue;
    const decoder = new SessionDecoder();
    decoder.feed(Uint8Array.of(0));
    let code = "INCOMPLETE";
    try {
      let o = 0;
      while (o < c.rest.length) {
        const n = Math.min(decoder.needed, c.rest.length - o);
        decoder.feed(c.rest.subarray(o, o + n));
        o += n;
      }
      // The stream ended: a decoder that still needs bytes is truncated.
      assert.deepEqual(decoder.atBoundary, false, c.name);
    } catch (err) {
      if (!(err instanceof SocketSessionError)) throw err;
      code = err.code;
    }
    assert.deepEqual(code, c.code, c.name);
  }
});

Deno.test("checkHeaderLength() and decodeSessionHeader() bound sizes before allocating", () => {
  assert.deepEqual(checkHeaderLength(282), 282);
  assert.throws(() => checkHeaderLength(283), {
    name: "SocketSessionError",
    message: /283/,
  });
  assert.throws(
    () => decodeSessionHeader(new Uint8Array(283)),
    SocketSessionError,
  );
  assert.throws(() => new SessionDecoder().feed(new Uint8Array(2)), RangeError);
});

const addressArb = fc.oneof(
  fc.record({
    hostname: fc.ipV4(),
    port: fc.integer({ min: 0, max: 65535 }),
    family: fc.constant("IPv4" as const),
  }),
  fc.record({
    hostname: fc.ipV6(),
    port: fc.integer({ min: 0, max: 65535 }),
    family: fc.constant("IPv6" as const),
    scopeId: fc.nat(),
    flowInfo: fc.nat(),
  }),
);

Deno.test("session header round trips through encode and SessionDecoder at random splits (fast-check)", () => {
  fc.assert(
    fc.property(
      fc.boolean(),
      addressArb,
      addressArb,
      fc.integer({ min: 0, max: 255 }),
      fc.integer({ min: 0, max: 255 }),
      fc.uint8Array({ minLength: 1, maxLength: 600 }),
      fc.array(fc.integer({ min: 1, max: 70 }), { maxLength: 30 }),
      (v6, a, b, type, protocol, data, cuts) => {
        const fam = v6 ? "IPv6" as const : "IPv4" as const;
        const fix = (x: typeof a) =>
          x.family === fam ? x : fam === "IPv6"
            ? {
              hostname: "::ffff:" +
                (x.hostname.includes(":") ? "1.2.3.4" : x.hostname),
              port: x.port,
            }
            : { hostname: "10.0.0.1", port: x.port };
        const local = encodeSockaddr(fix(a));
        const remote = encodeSockaddr(fix(b));
        const family = v6 ? 10 : 2;
        const header = encodeSessionHeader({
          family,
          type,
          protocol,
          local,
          remote,
          dataLength: data.length,
        });
        const wire = new Uint8Array([0, ...header, ...data]);
        const decoder = new SessionDecoder();
        let o = 0;
        let out = null;
        let ci = 0;
        while (out === null) {
          const n = Math.min(
            decoder.needed,
            cuts[ci++ % Math.max(1, cuts.length)] ?? 70,
          );
          out = decoder.feed(wire.subarray(o, o + n));
          o += n;
        }
        assert.deepEqual(o, wire.length);
        assert.deepEqual(out.family, family);
        assert.deepEqual(out.type, type);
        assert.deepEqual(out.protocol, protocol);
        assert.deepEqual(out.local, local);
        assert.deepEqual(out.remote, remote);
        assert.deepEqual(out.data, data);
      },
    ),
    { numRuns: 200 },
  );
});

Deno.test("SessionDecoder never hangs or throws untyped errors on random bytes (fast-check)", () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 400 }), (bytes) => {
      const decoder = new SessionDecoder();
      let o = 0;
      try {
        while (o < bytes.length) {
          const n = Math.min(decoder.needed, bytes.length - o);
          decoder.feed(bytes.subarray(o, o + n));
          o += n;
        }
      } catch (err) {
        if (!(err instanceof SocketSessionError)) throw err;
      }
    }),
    { numRuns: 300 },
  );
});
