// Copyright 2026 the @sidecar/ipc authors. MIT license.
/**
 * Sans-I/O state machine of the mutual HMAC challenge that
 * `multiprocessing.connection` runs after connecting.
 *
 * @module
 */
import { createHmac } from "node:crypto";
import {
  concatBytes,
  equalBytes,
  timingSafeEqual,
} from "../_internal/bytes.ts";
import { AuthenticationError, ProtocolError } from "./errors.ts";

/** HMAC digests CPython 3.12+ accepts (`_ALLOWED_DIGESTS`), with Python's names. */
export type Digest = "md5" | "sha256" | "sha384" | "sha3_256" | "sha3_384";

/** Which side of the handshake this is. */
export type HandshakeRole = "listener" | "client";

/**
 * The largest handshake message either side accepts: every handshake read
 * in CPython is `recv_bytes(256)`.
 */
export const HANDSHAKE_MAX_MESSAGE_SIZE = 256;

const CHALLENGE = new TextEncoder().encode("#CHALLENGE#");
const WELCOME = new TextEncoder().encode("#WELCOME#");
const FAILURE = new TextEncoder().encode("#FAILURE#");
/**
 * Every {@linkcode Digest}: the HMAC digests CPython 3.12+ accepts, with
 * Python's names (`multiprocessing.connection._ALLOWED_DIGESTS`).
 *
 * @example Usage
 * ```ts
 * import { HANDSHAKE_DIGESTS } from "@sidecar/ipc/connection";
 * import assert from "node:assert/strict";
 *
 * assert.ok(HANDSHAKE_DIGESTS.includes("sha256"));
 * ```
 */
export const HANDSHAKE_DIGESTS: readonly Digest[] = [
  "md5",
  "sha256",
  "sha384",
  "sha3_256",
  "sha3_384",
];
const NODE_NAMES: Record<Digest, string> = {
  md5: "md5",
  sha256: "sha256",
  sha384: "sha384",
  "sha3_256": "sha3-256",
  "sha3_384": "sha3-384",
};

/** Options of {@linkcode Handshake}. */
export interface HandshakeOptions {
  /** The shared key (Python's `authkey`). */
  authkey: Uint8Array;
  /**
   * The digest our challenge asks for (CPython's `Listener`/`Client` always
   * ask for `sha256`). A 3.12+ peer answers with it; a 3.11 peer always
   * answers with raw MD5, which is accepted unless `allowLegacy` is false.
   *
   * @default {"sha256"}
   */
  digest?: Digest;
  /**
   * Accept MD5 (the legacy 16-byte raw MAC, 20-byte challenges and the
   * `{md5}` tag). When false, CPython 3.11 and older peers are refused with
   * an {@linkcode AuthenticationError}.
   *
   * @default {true}
   */
  allowLegacy?: boolean;
  /**
   * `"modern"` behaves as CPython 3.12+. `"legacy"` behaves exactly as
   * CPython 3.11 and older: a 20-byte challenge, only a raw HMAC-MD5
   * response accepted, and raw HMAC-MD5 over whatever follows
   * `#CHALLENGE#` as the answer. Meant for tests and for
   * reproducing recorded exchanges; needs `allowLegacy`.
   *
   * @default {"modern"}
   */
  protocol?: "modern" | "legacy";
  /**
   * Source of challenge bytes; inject a fixed one to reproduce recorded
   * exchanges.
   *
   * @default {crypto.getRandomValues}
   */
  randomBytes?: (size: number) => Uint8Array;
}

/** What the caller must do after a handshake step. */
export interface HandshakeStep {
  /** Messages (payloads, unframed) to send, in order, before anything else. */
  send: Uint8Array[];
  /** True when the handshake has succeeded; nothing more will be received. */
  done: boolean;
  /** Set when the handshake failed; raise it after sending `send`. */
  error?: AuthenticationError | ProtocolError;
}

type Phase =
  | "idle"
  | "await-response"
  | "await-challenge"
  | "await-welcome"
  | "done"
  | "failed";

/**
 * The handshake of one side, as a state machine that takes received
 * messages and returns messages to send. A listener delivers a challenge
 * and then answers one; a client answers and then delivers, as CPython's
 * `Listener.accept()` and `Client()` do.
 *
 * Differences from CPython, on purpose: MACs are compared in constant time;
 * with `protocol: "modern"` a challenge shorter than 20 bytes is refused
 * (as 3.12+ does); `allowLegacy: false` refuses MD5 in every form.
 *
 * @example Both sides in memory
 * ```ts
 * import { Handshake } from "@sidecar/ipc/connection";
 * import assert from "node:assert/strict";
 *
 * const authkey = new TextEncoder().encode("secret");
 * const server = new Handshake("listener", { authkey });
 * const client = new Handshake("client", { authkey });
 * client.start();
 * let toClient = server.start().send;
 * let toServer: Uint8Array[] = [];
 * while (!(server.done && client.done)) {
 *   for (const m of toClient) toServer.push(...client.receive(m).send);
 *   toClient = [];
 *   for (const m of toServer) toClient.push(...server.receive(m).send);
 *   toServer = [];
 * }
 * assert.ok(server.done && client.done);
 * ```
 */
export class Handshake {
  #role: HandshakeRole;
  #key: Uint8Array;
  #digest: Digest;
  #allowLegacy: boolean;
  #legacy: boolean;
  #random: (size: number) => Uint8Array;
  #phase: Phase = "idle";
  #delivered = false;
  #answered = false;
  #challenge: Uint8Array = new Uint8Array(0);

  /**
   * Creates the state machine.
   *
   * @param role `"listener"` (deliver, then answer) or `"client"` (answer, then deliver).
   * @param options The key and choices.
   */
  constructor(role: HandshakeRole, options: HandshakeOptions) {
    if (role !== "listener" && role !== "client") {
      throw new TypeError(`Cannot create handshake: unknown role "${role}"`);
    }
    if (!(options.authkey instanceof Uint8Array)) {
      throw new TypeError(
        "Cannot create handshake: authkey must be a Uint8Array",
      );
    }
    const digest = options.digest ?? "sha256";
    if (!HANDSHAKE_DIGESTS.includes(digest)) {
      throw new TypeError(
        `Cannot create handshake: unsupported digest "${digest}"`,
      );
    }
    this.#role = role;
    this.#key = options.authkey;
    this.#digest = digest;
    this.#allowLegacy = options.allowLegacy ?? true;
    this.#legacy = (options.protocol ?? "modern") === "legacy";
    if (this.#legacy && !this.#allowLegacy) {
      throw new TypeError(
        'Cannot create handshake: protocol "legacy" conflicts with allowLegacy false',
      );
    }
    if (!this.#allowLegacy && digest === "md5") {
      throw new TypeError(
        'Cannot create handshake: digest "md5" conflicts with allowLegacy false',
      );
    }
    this.#random = options.randomBytes ?? defaultRandom;
  }

  /**
   * True once both directions have been authenticated.
   *
   * @returns Whether the handshake succeeded.
   *
   * @example Usage
   * ```ts
   * import { Handshake } from "@sidecar/ipc/connection";
   * import assert from "node:assert/strict";
   *
   * assert.equal(new Handshake("client", { authkey: new Uint8Array(1) }).done, false);
   * ```
   */
  get done(): boolean {
    return this.#phase === "done";
  }

  /**
   * Starts the handshake. A listener gets its challenge to send; a client
   * gets nothing and waits for the listener's challenge.
   *
   * @returns The first step.
   *
   * @example Usage
   * ```ts
   * import { Handshake } from "@sidecar/ipc/connection";
   * import assert from "node:assert/strict";
   *
   * const hs = new Handshake("listener", {
   *   authkey: new Uint8Array(1),
   *   randomBytes: (n) => new Uint8Array(n),
   * });
   * const [challenge] = hs.start().send;
   * assert.equal(challenge!.length, 11 + 8 + 40); // #CHALLENGE# {sha256} random
   * ```
   */
  start(): HandshakeStep {
    if (this.#phase !== "idle") {
      throw new TypeError("Cannot start handshake: already started");
    }
    if (this.#role === "listener") {
      return { send: [this.#deliver()], done: false };
    }
    this.#phase = "await-challenge";
    return { send: [], done: false };
  }

  /**
   * Feeds one received handshake message (a payload, unframed).
   *
   * @param message The received payload.
   * @returns What to send, and whether the handshake is over or failed.
   *
   * @example A wrong key
   * ```ts
   * import { AuthenticationError, Handshake } from "@sidecar/ipc/connection";
   * import assert from "node:assert/strict";
   *
   * const server = new Handshake("listener", { authkey: new Uint8Array([1]) });
   * const client = new Handshake("client", { authkey: new Uint8Array([2]) });
   * client.start();
   * const response = client.receive(server.start().send[0]!).send[0]!;
   * const step = server.receive(response);
   * assert.deepEqual(step.send, [new TextEncoder().encode("#FAILURE#")]);
   * assert.ok(step.error instanceof AuthenticationError);
   * ```
   */
  receive(message: Uint8Array): HandshakeStep {
    if (message.length > HANDSHAKE_MAX_MESSAGE_SIZE) {
      return this.#fail(
        new ProtocolError(
          `Cannot authenticate: handshake message of ${message.length} bytes exceeds ${HANDSHAKE_MAX_MESSAGE_SIZE}`,
        ),
      );
    }
    switch (this.#phase) {
      case "await-response":
        return this.#onResponse(message);
      case "await-challenge":
        return this.#onChallenge(message);
      case "await-welcome":
        return this.#onWelcome(message);
      default:
        throw new TypeError(
          `Cannot receive handshake message: handshake is ${this.#phase}`,
        );
    }
  }

  #deliver(): Uint8Array {
    let payload: Uint8Array;
    if (this.#legacy) {
      payload = randomOf(this.#random, 20);
    } else {
      const tag = new TextEncoder().encode(`{${this.#digest}}`);
      const random = randomOf(this.#random, 40);
      payload = concatBytes([tag, random]);
    }
    this.#challenge = payload;
    this.#phase = "await-response";
    return concatBytes([CHALLENGE, payload]);
  }

  #onResponse(response: Uint8Array): HandshakeStep {
    // CPython 3.11 and older take the whole response as a raw HMAC-MD5.
    const parsed: [Digest, Uint8Array, boolean] | undefined = this.#legacy
      ? ["md5", response, false]
      : parseTagged(response);
    if (parsed === undefined) {
      return this.#failWith(
        `Cannot authenticate: unsupported response of ${response.length} bytes (length, digest prefix or digest)`,
      );
    }
    const [digest, mac] = parsed;
    if (digest === "md5" && !this.#allowLegacy) {
      return this.#failWith(
        "Cannot authenticate: the peer answered with MD5 and allowLegacy is false",
      );
    }
    const expected = hmac(digest, this.#key, this.#challenge);
    if (expected.length !== mac.length) {
      return this.#failWith(
        `Cannot authenticate: expected "${digest}" of length ${expected.length}, got ${mac.length}`,
      );
    }
    if (!timingSafeEqual(expected, mac)) {
      return this.#failWith("Cannot authenticate: digest received was wrong");
    }
    this.#delivered = true;
    if (this.#answered) {
      this.#phase = "done";
      return { send: [WELCOME.slice()], done: true };
    }
    this.#phase = "await-challenge";
    return { send: [WELCOME.slice()], done: false };
  }

  #onChallenge(message: Uint8Array): HandshakeStep {
    if (!startsWith(message, CHALLENGE)) {
      return this.#fail(
        new AuthenticationError(
          "Cannot authenticate: protocol error, expected a challenge",
        ),
        [],
      );
    }
    const challenge = message.subarray(CHALLENGE.length);
    let response: Uint8Array;
    if (this.#legacy) {
      response = hmac("md5", this.#key, challenge);
    } else {
      if (challenge.length < 20) {
        return this.#fail(
          new AuthenticationError(
            `Cannot authenticate: challenge too short: ${challenge.length} bytes`,
          ),
          [],
        );
      }
      const parsed = parseTagged(challenge);
      if (parsed === undefined) {
        return this.#fail(
          new AuthenticationError(
            `Cannot authenticate: unsupported challenge of ${challenge.length} bytes (length, digest prefix or digest)`,
          ),
          [],
        );
      }
      const [digest, , tagged] = parsed;
      if (digest === "md5" && !this.#allowLegacy) {
        return this.#fail(
          new AuthenticationError(
            "Cannot authenticate: the peer asked for MD5 and allowLegacy is false",
          ),
          [],
        );
      }
      const mac = hmac(digest, this.#key, challenge);
      response = tagged
        ? concatBytes([new TextEncoder().encode(`{${digest}}`), mac])
        : mac;
    }
    this.#phase = "await-welcome";
    return { send: [response], done: false };
  }

  #onWelcome(message: Uint8Array): HandshakeStep {
    if (!equalBytes(message, WELCOME)) {
      return this.#fail(
        new AuthenticationError(
          "Cannot authenticate: digest sent was rejected",
        ),
        [],
      );
    }
    this.#answered = true;
    if (this.#delivered) {
      this.#phase = "done";
      return { send: [], done: true };
    }
    return { send: [this.#deliver()], done: false };
  }

  #failWith(message: string): HandshakeStep {
    return this.#fail(new AuthenticationError(message), [FAILURE.slice()]);
  }

  #fail(
    error: AuthenticationError | ProtocolError,
    send: Uint8Array[] = [],
  ): HandshakeStep {
    this.#phase = "failed";
    return { send, done: false, error };
  }
}

/**
 * Computes the HMAC of `message` with `key` and one of the digests CPython
 * allows (Python names, e.g. `sha3_256`).
 *
 * @param digest The digest.
 * @param key The key.
 * @param message The message.
 * @returns The MAC.
 *
 * @example Usage
 * ```ts
 * import { hmac } from "@sidecar/ipc/connection";
 * import assert from "node:assert/strict";
 *
 * const enc = new TextEncoder();
 * const mac = hmac("md5", enc.encode("key"), enc.encode("The quick brown fox jumps over the lazy dog"));
 * const hex = Array.from(mac, (b) => b.toString(16).padStart(2, "0")).join("");
 * assert.equal(hex, "80070713463e7749b90c2dc24911e275");
 * ```
 */
export function hmac(
  digest: Digest,
  key: Uint8Array,
  message: Uint8Array,
): Uint8Array {
  const out = createHmac(NODE_NAMES[digest], key).update(message).digest();
  return new Uint8Array(out.buffer, out.byteOffset, out.length);
}

/**
 * Classifies a challenge payload or response as CPython 3.12+ does
 * (`_get_digest_name_and_payload`): 16 or 20 bytes mean legacy MD5,
 * otherwise a `{name}` prefix of an allowed digest.
 * Returns [digest, mac-or-payload, tagged].
 */
function parseTagged(m: Uint8Array): [Digest, Uint8Array, boolean] | undefined {
  if (m.length === 16 || m.length === 20) return ["md5", m, false];
  if (m[0] !== 0x7b) return undefined;
  const end = m.subarray(0, 10).indexOf(0x7d, 1);
  if (end < 1) return undefined;
  const name = new TextDecoder().decode(m.subarray(1, end)) as Digest;
  if (!HANDSHAKE_DIGESTS.includes(name)) return undefined;
  return [name, m.subarray(end + 1), true];
}

function defaultRandom(size: number): Uint8Array {
  return crypto.getRandomValues(new Uint8Array(size));
}

function randomOf(
  source: (size: number) => Uint8Array,
  size: number,
): Uint8Array {
  const bytes = source(size);
  if (!(bytes instanceof Uint8Array) || bytes.length !== size) {
    throw new TypeError(
      `Cannot create challenge: randomBytes did not return ${size} bytes`,
    );
  }
  return bytes;
}

function startsWith(m: Uint8Array, prefix: Uint8Array): boolean {
  if (m.length < prefix.length) return false;
  for (let i = 0; i < prefix.length; i++) if (m[i] !== prefix[i]) return false;
  return true;
}
