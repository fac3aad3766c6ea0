// Copyright 2026 the @sidecar/ipc authors. MIT license.
// deno-lint-ignore-file camelcase -- the keys are those of the recorded JSON vectors
/**
 * The recorded CPython handshakes of `connection/testdata/handshake-vectors.json`,
 * typed, with the fixed random sources they were recorded with.
 *
 * @module
 */
import { fromHex } from "../hex.ts";

/** One recorded run between two real interpreters. */
export interface HandshakeScenario {
  server_python: string;
  client_python: string;
  server_authkey: string;
  client_authkey: string;
  server_result: { ok: boolean; exc?: string };
  client_result: { ok: boolean; exc?: string };
  frames: { dir: "S->C" | "C->S"; wire_hex: string }[];
}

/** Random bytes a side used: 20 for a legacy challenge, 40 for a modern one. */
export interface RecordedRandom {
  legacy_20: string;
  modern_40: string;
}

/** The whole vector file. */
export interface HandshakeVectors {
  server_random: RecordedRandom;
  client_random: RecordedRandom;
  scenarios: HandshakeScenario[];
  responses_a_3_12_plus_server_accepts_for_modern_server_challenge: {
    "challenge_message_without_#CHALLENGE#": string;
    responses_hex: Record<string, string>;
  };
}

/** Reads the vectors from the connection module's testdata. */
export async function loadHandshakeVectors(): Promise<HandshakeVectors> {
  const url = new URL(
    "../../connection/testdata/handshake-vectors.json",
    import.meta.url,
  );
  return JSON.parse(await Deno.readTextFile(url)) as HandshakeVectors;
}

/** A `randomBytes` source that replays what a side recorded. */
export function fixedRandom(r: RecordedRandom): (n: number) => Uint8Array {
  return (n) => fromHex(n === 20 ? r.legacy_20 : r.modern_40);
}

/** The handshake protocol an interpreter version speaks. */
export function protocolOf(version: string): "legacy" | "modern" {
  return version.startsWith("3.11") ? "legacy" : "modern";
}
