// Copyright 2026 the @sidecar/ipc authors. MIT license.
import assert from "node:assert/strict";
import { fromHex, toHex } from "../_test_utils/hex.ts";
import { AuthenticationError, ProtocolError } from "./errors.ts";
import {
  type Digest,
  Handshake,
  type HandshakeOptions,
  hmac,
} from "./handshake.ts";
import { encodeMessage } from "./message_codec.ts";
import {
  fixedRandom,
  loadHandshakeVectors,
  protocolOf,
} from "../_test_utils/connection/vectors.ts";
import { concatBytes } from "../_internal/bytes.ts";

const vectors = await loadHandshakeVectors();

const enc = new TextEncoder();
const KEY = enc.encode("secret");
const CHALLENGE = enc.encode("#CHALLENGE#");
const WELCOME = enc.encode("#WELCOME#");
const FAILURE = enc.encode("#FAILURE#");

const cat = (...parts: Uint8Array[]): Uint8Array => concatBytes(parts);

/** Runs two state machines against each other, recording frames in wire order. */
function run(server: Handshake, client: Handshake): {
  frames: { dir: "S->C" | "C->S"; bytes: Uint8Array }[];
  serverError?: Error;
  clientError?: Error;
} {
  const frames: { dir: "S->C" | "C->S"; bytes: Uint8Array }[] = [];
  const result: { serverError?: Error; clientError?: Error } = {};
  assert.deepStrictEqual(client.start().send, []);
  const pending: ["S->C" | "C->S", Uint8Array][] = server.start().send.map((
    m,
  ) => ["S->C", m]);
  while (pending.length > 0) {
    const [dir, m] = pending.shift()!;
    frames.push({ dir, bytes: m });
    const toClient = dir === "S->C";
    if (toClient ? result.clientError : result.serverError) continue;
    const step = (toClient ? client : server).receive(m);
    for (const s of step.send) pending.push([toClient ? "C->S" : "S->C", s]);
    if (step.error) {
      if (toClient) result.clientError = step.error;
      else result.serverError = step.error;
    }
  }
  return { frames, ...result };
}

Deno.test("Handshake reproduces the recorded CPython handshakes byte for byte", async (t) => {
  for (const s of vectors.scenarios) {
    const name =
      `${s.server_python} server, ${s.client_python} client, key ${s.client_authkey}`;
    await t.step(name, () => {
      const server = new Handshake("listener", {
        authkey: enc.encode(s.server_authkey),
        protocol: protocolOf(s.server_python),
        randomBytes: fixedRandom(vectors.server_random),
      });
      const client = new Handshake("client", {
        authkey: enc.encode(s.client_authkey),
        protocol: protocolOf(s.client_python),
        randomBytes: fixedRandom(vectors.client_random),
      });
      const r = run(server, client);
      const handshakeFrames = s.server_result.ok
        ? s.frames.slice(0, 6)
        : s.frames;
      assert.deepStrictEqual(
        r.frames.map((f) => `${f.dir} ${toHex(encodeMessage(f.bytes))}`),
        handshakeFrames.map((f) => `${f.dir} ${f.wire_hex}`),
      );
      if (s.server_result.ok) {
        assert.ok(server.done && client.done);
        assert.deepStrictEqual([r.serverError, r.clientError], [
          undefined,
          undefined,
        ]);
      } else {
        assert.ok(r.serverError instanceof AuthenticationError);
        assert.ok(r.serverError.message.includes("digest received was wrong"));
        assert.ok(r.clientError instanceof AuthenticationError);
        assert.ok(r.clientError.message.includes("digest sent was rejected"));
        assert.deepStrictEqual([server.done, client.done], [false, false]);
      }
    });
  }
});

Deno.test("Handshake modern listener accepts every response form a 3.12+ server accepts", async (t) => {
  const table =
    vectors.responses_a_3_12_plus_server_accepts_for_modern_server_challenge;
  for (const [form, hex] of Object.entries(table.responses_hex)) {
    await t.step(form, () => {
      const server = new Handshake("listener", {
        authkey: KEY,
        randomBytes: fixedRandom(vectors.server_random),
      });
      const [challenge] = server.start().send;
      assert.deepStrictEqual(
        toHex(challenge!.subarray(11)),
        table["challenge_message_without_#CHALLENGE#"],
      );
      const step = server.receive(fromHex(hex));
      assert.deepStrictEqual(step.error, undefined);
      assert.deepStrictEqual(step.send, [WELCOME]);
    });
    await t.step(`${form} with allowLegacy false`, () => {
      const server = new Handshake("listener", {
        authkey: KEY,
        allowLegacy: false,
        randomBytes: fixedRandom(vectors.server_random),
      });
      server.start();
      const step = server.receive(fromHex(hex));
      if (form.includes("md5")) {
        assert.ok(step.error instanceof AuthenticationError);
        assert.deepStrictEqual(step.send, [FAILURE]);
      } else {
        assert.deepStrictEqual(step.send, [WELCOME]);
      }
    });
  }
});

function listenerAfterChallenge(
  options: Partial<HandshakeOptions> = {},
): [Handshake, Uint8Array] {
  const server = new Handshake("listener", {
    authkey: KEY,
    randomBytes: fixedRandom(vectors.server_random),
    ...options,
  });
  const challenge = server.start().send[0]!.subarray(CHALLENGE.length);
  return [server, challenge];
}

Deno.test("Handshake listener refuses bad responses with #FAILURE#", async (t) => {
  const cases: [string, (m: Uint8Array) => Uint8Array, string][] = [
    [
      "{sha512} tag",
      (m) => cat(enc.encode("{sha512}"), new Uint8Array(64).fill(m[0]!)),
      "unsupported",
    ],
    [
      "{sha256} with a 16-byte MAC",
      () => cat(enc.encode("{sha256}"), new Uint8Array(16)),
      "length 32, got 16",
    ],
    [
      "20 arbitrary bytes",
      () => new Uint8Array(20).fill(1),
      "length 16, got 20",
    ],
    [
      "{sha256} with 32 zero bytes",
      () => cat(enc.encode("{sha256}"), new Uint8Array(32)),
      "wrong",
    ],
    [
      "{sha256} MAC over the random bytes only",
      (m) => cat(enc.encode("{sha256}"), hmac("sha256", KEY, m.subarray(8))),
      "wrong",
    ],
    ["15 bogus bytes", () => enc.encode("something bogus"), "unsupported"],
    ["empty", () => new Uint8Array(0), "unsupported"],
    [
      "} too far",
      () => enc.encode("{sha256xxxx}" + "x".repeat(32)),
      "unsupported",
    ],
  ];
  for (const [name, make, text] of cases) {
    await t.step(name, () => {
      const [server, challenge] = listenerAfterChallenge();
      const step = server.receive(make(challenge));
      assert.deepStrictEqual(step.send, [FAILURE]);
      assert.ok(step.error instanceof AuthenticationError, String(step.error));
      assert.ok(step.error.message.includes(text), step.error.message);
      assert.throws(() => server.receive(WELCOME), TypeError);
    });
  }
  await t.step(
    "a 300-byte response is a ProtocolError and sends nothing",
    () => {
      const [server] = listenerAfterChallenge();
      const step = server.receive(new Uint8Array(300));
      assert.deepStrictEqual(step.send, []);
      assert.ok(step.error instanceof ProtocolError);
    },
  );
});

function clientReceiving(
  challenge: Uint8Array,
  options: Partial<HandshakeOptions> = {},
) {
  const client = new Handshake("client", { authkey: KEY, ...options });
  client.start();
  return { client, step: client.receive(challenge) };
}

Deno.test("Handshake client answers each challenge form as CPython 3.12+ does", async (t) => {
  const random40 = fromHex(vectors.server_random.modern_40);
  const random20 = fromHex(vectors.server_random.legacy_20);
  await t.step("20 bytes: raw HMAC-MD5", () => {
    const { step } = clientReceiving(cat(CHALLENGE, random20));
    assert.deepStrictEqual(step.send, [hmac("md5", KEY, random20)]);
  });
  for (
    const d of ["md5", "sha256", "sha384", "sha3_256", "sha3_384"] as Digest[]
  ) {
    await t.step(`{${d}} + 40 bytes: tagged HMAC-${d}`, () => {
      const m = cat(enc.encode(`{${d}}`), random40);
      const { step } = clientReceiving(cat(CHALLENGE, m));
      assert.deepStrictEqual(step.send, [
        cat(enc.encode(`{${d}}`), hmac(d, KEY, m)),
      ]);
    });
  }
  await t.step("{md5} + 40 bytes gives 21 bytes", () => {
    const { step } = clientReceiving(
      cat(CHALLENGE, enc.encode("{md5}"), random40),
    );
    assert.deepStrictEqual(step.send[0]!.length, 21);
  });
  const refused: [string, Uint8Array, string][] = [
    [
      "no #CHALLENGE# prefix",
      cat(enc.encode("#HELLO#"), random20),
      "expected a challenge",
    ],
    ["19 bytes", cat(CHALLENGE, random20.subarray(1)), "too short"],
    ["bare #CHALLENGE#", CHALLENGE, "too short"],
    [
      "25 bytes without a tag",
      cat(CHALLENGE, random40.subarray(0, 25)),
      "unsupported",
    ],
    [
      "{blake2b}",
      cat(CHALLENGE, enc.encode("{blake2b}"), random40),
      "unsupported",
    ],
  ];
  for (const [name, m, text] of refused) {
    await t.step(`refuses ${name}`, () => {
      const { step } = clientReceiving(m);
      assert.deepStrictEqual(step.send, []);
      assert.ok(step.error instanceof AuthenticationError);
      assert.ok(step.error.message.includes(text), step.error.message);
    });
  }
  await t.step("a 300-byte challenge is a ProtocolError", () => {
    const { step } = clientReceiving(cat(CHALLENGE, new Uint8Array(289)));
    assert.ok(step.error instanceof ProtocolError);
  });
  await t.step("allowLegacy false refuses 20-byte and {md5} challenges", () => {
    for (const m of [random20, cat(enc.encode("{md5}"), random40)]) {
      const { step } = clientReceiving(cat(CHALLENGE, m), {
        allowLegacy: false,
      });
      assert.ok(step.error instanceof AuthenticationError);
    }
  });
  await t.step(
    "#FAILURE# after the answer is 'digest sent was rejected'",
    () => {
      const { client } = clientReceiving(cat(CHALLENGE, random20));
      const step = client.receive(FAILURE);
      assert.ok(step.error instanceof AuthenticationError);
      assert.ok(step.error.message.includes("rejected"));
    },
  );
  await t.step(
    "legacy protocol answers raw MD5 over any challenge length",
    () => {
      const m = cat(enc.encode("{sha256}"), random40);
      const { step } = clientReceiving(cat(CHALLENGE, m), {
        protocol: "legacy",
      });
      assert.deepStrictEqual(step.send, [hmac("md5", KEY, m)]);
    },
  );
});

Deno.test("Handshake legacy listener refuses tagged responses, as CPython 3.11 does", () => {
  const random20 = fromHex(vectors.server_random.legacy_20);
  for (const digest of ["md5", "sha256", "sha3_256"] as Digest[]) {
    const server = new Handshake("listener", {
      authkey: KEY,
      protocol: "legacy",
      randomBytes: () => random20,
    });
    server.start();
    // A correct MAC with a tag: the 3.12+ form, which 3.11 never accepts.
    const tagged = cat(enc.encode(`{${digest}}`), hmac(digest, KEY, random20));
    const step = server.receive(tagged);
    assert.deepStrictEqual(step.send, [FAILURE]);
    assert.ok(step.error instanceof AuthenticationError, digest);
  }
  const server = new Handshake("listener", {
    authkey: KEY,
    protocol: "legacy",
    randomBytes: () => random20,
  });
  server.start();
  assert.deepStrictEqual(server.receive(hmac("md5", KEY, random20)).send, [
    WELCOME,
  ]);
});

Deno.test("Handshake digest option selects the challenge tag, and both sides agree", () => {
  for (
    const digest of [
      "md5",
      "sha256",
      "sha384",
      "sha3_256",
      "sha3_384",
    ] as Digest[]
  ) {
    const server = new Handshake("listener", { authkey: KEY, digest });
    const client = new Handshake("client", { authkey: KEY, digest });
    const r = run(server, client);
    assert.ok(server.done && client.done, digest);
    assert.ok(
      toHex(r.frames[0]!.bytes).startsWith(
        toHex(cat(CHALLENGE, enc.encode(`{${digest}}`))),
      ),
    );
    assert.deepStrictEqual(r.frames.length, 6);
  }
});

Deno.test("Handshake validates its options", () => {
  assert.throws(
    () =>
      new Handshake("listener", { authkey: KEY, digest: "sha512" as Digest }),
    TypeError,
  );
  assert.throws(
    () => new Handshake("peer" as "client", { authkey: KEY }),
    TypeError,
  );
  assert.throws(
    () => new Handshake("client", { authkey: "k" as unknown as Uint8Array }),
    TypeError,
  );
  assert.throws(() =>
    new Handshake("client", {
      authkey: KEY,
      protocol: "legacy",
      allowLegacy: false,
    }), TypeError);
  assert.throws(() =>
    new Handshake("client", {
      authkey: KEY,
      digest: "md5",
      allowLegacy: false,
    }), TypeError);
  const hs = new Handshake("listener", {
    authkey: KEY,
    randomBytes: () => new Uint8Array(3),
  });
  assert.throws(() => hs.start(), TypeError);
  const ok = new Handshake("client", { authkey: KEY });
  ok.start();
  assert.throws(() => ok.start(), TypeError);
});

Deno.test("Handshake uses the empty key like CPython 3.13", () => {
  const server = new Handshake("listener", { authkey: new Uint8Array(0) });
  const client = new Handshake("client", { authkey: new Uint8Array(0) });
  run(server, client);
  assert.ok(server.done && client.done);
});
