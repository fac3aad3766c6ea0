// Copyright 2026 the @sidecar/ipc authors. MIT license.
import fc from "fast-check";
import assert from "node:assert/strict";
import { toHex } from "../_test_utils/hex.ts";
import {
  decodeSockaddr,
  encodeSockaddr,
  encodeUnixSockaddr,
  sockaddrFamily,
  sockaddrLength,
} from "./sockaddr.ts";

Deno.test("encodeSockaddr() matches the Linux images captured from Kea", () => {
  assert.deepEqual(
    toHex(encodeSockaddr({ hostname: "127.0.0.1", port: 53535 })),
    "0200d11f7f0000010000000000000000",
  );
  assert.deepEqual(
    toHex(encodeSockaddr({ hostname: "2001:db8::1", port: 5300 })),
    "0a0014b40000000020010db800000000000000000000000100000000",
  );
});

Deno.test("encodeSockaddr() writes sa_len and a 1-byte family on macOS", () => {
  const v4 = encodeSockaddr({ hostname: "192.0.2.2", port: 5300 }, {
    os: "darwin",
  });
  assert.deepEqual(toHex(v4.subarray(0, 4)), "100214b4");
  const v6 = encodeSockaddr({ hostname: "::1", port: 1 }, { os: "darwin" });
  assert.deepEqual(toHex(v6.subarray(0, 2)), "1c1e");
  assert.deepEqual(sockaddrFamily(v6, { os: "darwin" }), 30);
  assert.deepEqual(decodeSockaddr(v6, { os: "darwin" }).hostname, "::1");
});

Deno.test("encodeSockaddr() handles scope ids, zones, brackets and embedded IPv4", () => {
  const sa = encodeSockaddr({ hostname: "fe80::1%3", port: 53 });
  assert.deepEqual(decodeSockaddr(sa), {
    hostname: "fe80::1",
    port: 53,
    family: "IPv6",
    scopeId: 3,
    flowInfo: 0,
  });
  assert.deepEqual(
    decodeSockaddr(encodeSockaddr({ hostname: "[::ffff:1.2.3.4]", port: 1 }))
      .hostname,
    "::ffff:1.2.3.4",
  );
  assert.deepEqual(
    decodeSockaddr(encodeSockaddr({ hostname: "1:0:0:2:0:0:0:3", port: 1 }))
      .hostname,
    "1:0:0:2::3",
  );
  assert.deepEqual(
    decodeSockaddr(encodeSockaddr({ hostname: "::", port: 1 })).hostname,
    "::",
  );
});

Deno.test("encodeSockaddr() rejects bad addresses and ports", () => {
  assert.throws(
    () => encodeSockaddr({ hostname: "localhost", port: 1 }),
    TypeError,
  );
  assert.throws(
    () => encodeSockaddr({ hostname: "1.2.3.256", port: 1 }),
    TypeError,
  );
  assert.throws(
    () => encodeSockaddr({ hostname: "01.2.3.4", port: 1 }),
    TypeError,
  );
  assert.throws(
    () => encodeSockaddr({ hostname: "1::2::3", port: 1 }),
    TypeError,
  );
  assert.throws(
    () => encodeSockaddr({ hostname: "1:2:3:4:5:6:7:8:9", port: 1 }),
    TypeError,
  );
  assert.throws(
    () => encodeSockaddr({ hostname: "fe80::1%eth0", port: 1 }),
    TypeError,
  );
  assert.throws(
    () => encodeSockaddr({ hostname: "1.2.3.4", port: 65536 }),
    RangeError,
  );
  assert.throws(
    () => encodeSockaddr({ hostname: "::1", port: 1, scopeId: -1 }),
    RangeError,
  );
  assert.throws(() => decodeSockaddr(new Uint8Array(16)), TypeError);
  assert.throws(() => decodeSockaddr(new Uint8Array([10, 0, 0])), TypeError);
  assert.deepEqual(sockaddrFamily(new Uint8Array(1)), -1);
  assert.deepEqual(sockaddrLength(1), -1);
});

Deno.test("encodeUnixSockaddr() accepts 107 bytes and rejects 108, as BIND 10", () => {
  assert.deepEqual(encodeUnixSockaddr("x".repeat(107)).length, 110);
  assert.throws(() => encodeUnixSockaddr("x".repeat(108)), RangeError);
  assert.throws(() => encodeUnixSockaddr(""), RangeError);
  assert.throws(
    () => encodeUnixSockaddr("x".repeat(104), { os: "darwin" }),
    RangeError,
  );
  assert.deepEqual(toHex(encodeUnixSockaddr("/a")), "01002f6100");
});

Deno.test("sockaddr round trips for any IPv4/IPv6 endpoint (fast-check)", () => {
  fc.assert(
    fc.property(
      fc.oneof(fc.ipV4(), fc.ipV6()),
      fc.integer({ min: 0, max: 65535 }),
      fc.constantFrom("linux" as const, "darwin" as const),
      (hostname, port, os) => {
        const a = decodeSockaddr(encodeSockaddr({ hostname, port }, { os }), {
          os,
        });
        const b = decodeSockaddr(
          encodeSockaddr({ hostname: a.hostname, port }, { os }),
          { os },
        );
        assert.deepEqual(b, a);
        if (!hostname.includes(":")) assert.deepEqual(a.hostname, hostname);
        assert.deepEqual(a.port, port);
      },
    ),
    { numRuns: 300 },
  );
});

Deno.test("decodeSockaddr() writes IPv6 addresses as glibc's inet_ntop does, IPv4-mapped ones dotted (::ffff:127.0.0.1)", () => {
  const libc = Deno.dlopen("libc.so.6", {
    inet_ntop: {
      parameters: ["i32", "buffer", "buffer", "u32"],
      result: "pointer",
    },
  });
  const ntop = (ip: Uint8Array): string => {
    const out = new Uint8Array(64);
    if (libc.symbols.inet_ntop(10, ip.slice(), out, 64) === null) {
      throw new Error("inet_ntop failed");
    }
    return new TextDecoder().decode(out.subarray(0, out.indexOf(0)));
  };
  const text = (ip: Uint8Array): string => {
    const sa = new Uint8Array(28);
    sa[0] = 10;
    sa.set(ip, 8);
    return decodeSockaddr(sa).hostname;
  };
  const mapped = Uint8Array.of(
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    255,
    255,
    127,
    0,
    0,
    1,
  );
  assert.deepEqual(text(mapped), "::ffff:127.0.0.1");
  assert.deepEqual(text(mapped), ntop(mapped));
  // Groups that are mostly zero (runs to compress) or mapped prefixes.
  const group = fc.oneof(
    fc.constant([0, 0]),
    fc.constant([0, 0]),
    fc.constant([255, 255]),
    fc.tuple(fc.nat(255), fc.nat(255)),
  );
  fc.assert(
    fc.property(fc.array(group, { minLength: 8, maxLength: 8 }), (groups) => {
      const ip = new Uint8Array(groups.flat());
      // glibc also dots the deprecated IPv4-compatible form (::a.b.c.d);
      // RFC 5952 and Deno's NetAddr do not, and neither do we.
      if (ip.subarray(0, 12).every((b) => b === 0)) return;
      assert.deepEqual(text(ip), ntop(ip));
    }),
    { numRuns: 2000 },
  );
  libc.close();
});
