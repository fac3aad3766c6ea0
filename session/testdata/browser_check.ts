// Copyright 2026 the @sidecar/ipc authors. MIT license.
// This module is browser compatible.
/**
 * The round-trip check of `@sidecar/ipc/session/header` that
 * `tools/browser_codecs_test.ts` bundles for the browser and runs in Node
 * and in headless Chromium, on sessions Kea 2.2's `SocketSessionForwarder`
 * wrote (`kea22_sessions.json`: TCP and UDP over IPv4 and IPv6, data of 1
 * to 65535 bytes; `kea22_capture.json`): each header decodes to what Kea
 * was given, its sockaddrs decode and re-encode byte for byte, the whole
 * session re-encodes byte for byte, the stream decoder finds every session
 * fed one byte at a time, and a header cut short fails with a typed error.
 *
 * @module
 */
import recorded from "./kea22_sessions.json" with { type: "json" };
import capture from "./kea22_capture.json" with { type: "json" };
import {
  decodeSessionHeader,
  decodeSockaddr,
  encodeSessionHeader,
  encodeSockaddr,
  SessionDecoder,
  type SessionHeader,
  SocketSessionError,
} from "@sidecar/ipc/session/header";
import { expectEqual } from "../../_test_utils/codec_check.ts";
import { fromHex, toHex } from "../../_test_utils/hex.ts";

interface Expected {
  name: string;
  wire: Uint8Array;
  family: number;
  type: number;
  protocol: number;
  /** The sockaddr images Kea was given, when recorded. */
  local?: string;
  remote?: string;
  data: Uint8Array;
}

function letters(n: number): Uint8Array {
  return Uint8Array.from({ length: n }, (_, i) => 0x61 + i % 26);
}

function sessions(): Expected[] {
  const out: Expected[] = recorded.sessions.map((s) => ({
    name: s.spec,
    wire: fromHex(s.wire),
    family: s.family,
    type: s.type,
    protocol: s.protocol,
    local: s.local,
    remote: s.remote,
    data: letters(s.dataLength),
  }));
  for (const [i, s] of capture.sessions.entries()) {
    out.push({
      name: `capture ${i}`,
      wire: fromHex(s.wire.replace(/\s+/g, "")),
      family: s.family,
      type: s.type,
      protocol: s.protocol,
      data: new TextEncoder().encode(s.data),
    });
  }
  return out;
}

function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    if (e instanceof SocketSessionError) return e.code;
    throw e;
  }
  return "none";
}

/** Runs the check; throws on the first mismatch. */
export function check(): string {
  const list = sessions();
  for (const s of list) {
    const { wire, name } = s;
    expectEqual(wire[0], 0, `${name}: the dummy byte`);
    const length = (wire[1]! << 8) | wire[2]!;
    const body = wire.subarray(3, 3 + length);
    const header = decodeSessionHeader(body);
    expectEqual(header.family, s.family, `${name}: family`);
    expectEqual(header.type, s.type, `${name}: type`);
    expectEqual(header.protocol, s.protocol, `${name}: protocol`);
    expectEqual(header.dataLength, s.data.length, `${name}: data length`);
    expectEqual(
      toHex(wire.subarray(3 + length)),
      toHex(s.data),
      `${name}: data`,
    );
    if (s.local !== undefined) {
      expectEqual(toHex(header.local), s.local, `${name}: local as Kea had it`);
    }
    if (s.remote !== undefined) {
      expectEqual(toHex(header.remote), s.remote, `${name}: remote`);
    }
    for (
      const [which, image] of [["local", header.local], [
        "remote",
        header.remote,
      ]] as const
    ) {
      const address = decodeSockaddr(image);
      expectEqual(
        address.family,
        s.family === 2 ? "IPv4" : "IPv6",
        `${name}: ${which} family`,
      );
      expectEqual(
        toHex(encodeSockaddr(address)),
        toHex(image),
        `${name}: ${which} sockaddr re-encoded`,
      );
    }
    const again: SessionHeader = {
      family: header.family,
      type: header.type,
      protocol: header.protocol,
      local: encodeSockaddr(decodeSockaddr(header.local)),
      remote: encodeSockaddr(decodeSockaddr(header.remote)),
      dataLength: header.dataLength,
    };
    const encoded = encodeSessionHeader(again);
    const session = new Uint8Array(1 + encoded.length + s.data.length);
    session.set(encoded, 1);
    session.set(s.data, 1 + encoded.length);
    expectEqual(toHex(session), toHex(wire), `${name}: re-encoded`);
    expectEqual(
      codeOf(() => decodeSessionHeader(body.subarray(0, body.length - 1))),
      "BOGUS_HEADER",
      `${name}: header cut short`,
    );
  }
  // Kea's UDP sessions name the remote endpoint it was given.
  const udp6 = list.find((s) => s.name === "udp6:300");
  const remote = decodeSockaddr(
    decodeSessionHeader(
      udp6!.wire.subarray(3, 3 + udp6!.wire[2]!),
    ).remote,
  );
  expectEqual(remote.hostname, "2001:db8::1", "udp6 remote address");
  expectEqual(remote.port, 5300, "udp6 remote port");
  // All of them as one stream, one byte at a time.
  const stream = new Uint8Array(list.reduce((n, s) => n + s.wire.length, 0));
  let at = 0;
  for (const s of list) {
    stream.set(s.wire, at);
    at += s.wire.length;
  }
  const decoder = new SessionDecoder();
  const found = [];
  for (let i = 0; i < stream.length; i++) {
    const d = decoder.feed(stream.subarray(i, i + 1));
    if (d !== null) found.push(d);
  }
  expectEqual(found.length, list.length, "sessions in the stream");
  for (const [i, d] of found.entries()) {
    expectEqual(toHex(d.data), toHex(list[i]!.data), `${list[i]!.name}: data`);
    expectEqual(d.type, list[i]!.type, `${list[i]!.name}: streamed type`);
  }
  expectEqual(decoder.atBoundary, true, "the stream ends between sessions");
  return `${list.length} sessions from Kea 2.2's forwarder (TCP and UDP, IPv4 and IPv6, 1 to 65535 data bytes) decode and re-encode byte for byte, streamed too`;
}
