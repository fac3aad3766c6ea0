// Copyright 2026 the @sidecar/ipc authors. MIT license.
/**
 * Compares our TLV codec with gunicorn 26.1.0's own Python `TLVEncoder`
 * on the same values (a typical request and response: a dict with 4 KiB of
 * bytes, a list of 1,000 floats, nested dicts), and checks that both sides
 * produce the same bytes. Target: ours >= 10 x gunicorn for encode and
 * decode.
 *
 * gunicorn's source (a local copy of the public repository at 26.1.0;
 * nothing is installed) is looked up in `$GUNICORN_SRC`, then
 * `/tmp/gunicorn_src`, and run with `python3 -S`. Without it, only our
 * numbers are printed, and the script says so.
 *
 * Run: `npx -y deno@2.9.6 run -A dirty/bench/compare.ts [--quick]`
 *
 * @module
 */
import { findGunicornSource } from "../../_test_utils/dirty/gunicorn.ts";
import { decodeTlv } from "../tlv_decoder.ts";
import { encodeTlv } from "../tlv_encoder.ts";
import { PYTHON_VALUES, typicalRequest, typicalResponse } from "./typical.ts";

const quick = Deno.args.includes("--quick");
const ITER = quick ? 300 : 3000;

const PY = PYTHON_VALUES + String.raw`
import hashlib, json, os, sys, time
sys.path.insert(0, os.environ["GUNICORN_SRC"])
from gunicorn.dirty.tlv import TLVEncoder as E
n = int(sys.argv[1])
out = {}
for name, value in (("request", typical_request()), ("response", typical_response())):
    data = E.encode(value)
    assert E.decode_full(data) == value
    for _ in range(max(1, n // 10)):
        E.encode(value); E.decode_full(data)
    t = time.perf_counter()
    for _ in range(n):
        E.encode(value)
    enc = (time.perf_counter() - t) / n
    t = time.perf_counter()
    for _ in range(n):
        E.decode_full(data)
    dec = (time.perf_counter() - t) / n
    out[name] = {"encode": enc * 1e6, "decode": dec * 1e6, "size": len(data),
                 "sha256": hashlib.sha256(data).hexdigest()}
print(json.dumps(out))
`;

interface Side {
  encode: number;
  decode: number;
  size: number;
  sha256: string;
}

async function sha256(bytes: Uint8Array<ArrayBuffer>): Promise<string> {
  const d = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  return Array.from(d, (b) => b.toString(16).padStart(2, "0")).join("");
}

function time(fn: () => void, n: number): number {
  for (let i = 0; i < Math.max(10, n / 10); i++) fn();
  const t = performance.now();
  for (let i = 0; i < n; i++) fn();
  return ((performance.now() - t) / n) * 1000;
}

async function ours(): Promise<Record<string, Side>> {
  const out: Record<string, Side> = {};
  for (
    const [name, value] of [["request", typicalRequest()], [
      "response",
      typicalResponse(),
    ]] as const
  ) {
    const data = encodeTlv(value);
    out[name] = {
      encode: time(() => encodeTlv(value), ITER),
      decode: time(() => decodeTlv(data, { dict: "object" }), ITER),
      size: data.length,
      sha256: await sha256(data),
    };
  }
  return out;
}

async function gunicorn(): Promise<Record<string, Side> | null> {
  const src = findGunicornSource();
  if (src === null) return null;
  const out = await new Deno.Command("python3", {
    args: ["-S", "-c", PY, String(Math.max(50, Math.floor(ITER / 10)))],
    env: { GUNICORN_SRC: src },
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!out.success) {
    throw new Error(
      `gunicorn side failed: ${new TextDecoder().decode(out.stderr)}`,
    );
  }
  return JSON.parse(new TextDecoder().decode(out.stdout));
}

const mine = await ours();
const theirs = await gunicorn();
const rows: string[][] = [[
  "work",
  "bytes",
  "gunicorn µs/op",
  "ours µs/op",
  "ratio (x faster)",
  "target",
  "same bytes",
]];
for (const name of ["request", "response"]) {
  for (const op of ["encode", "decode"] as const) {
    const m = mine[name]!;
    const t = theirs?.[name];
    rows.push([
      `${op} ${name}`,
      String(m.size),
      t ? t[op].toFixed(1) : "n/a",
      m[op].toFixed(1),
      t ? (t[op] / m[op]).toFixed(1) : "n/a",
      ">= 10",
      t ? (t.sha256 === m.sha256 ? "yes" : "NO") : "n/a",
    ]);
  }
}
const widths = rows[0]!.map((_, i) =>
  Math.max(...rows.map((r) => r[i]!.length))
);
for (const [i, r] of rows.entries()) {
  console.log("| " + r.map((c, j) => c.padEnd(widths[j]!)).join(" | ") + " |");
  if (i === 0) {
    console.log("| " + widths.map((w) => "-".repeat(w)).join(" | ") + " |");
  }
}
if (theirs === null) {
  console.log(
    "\ngunicorn reference absent: set GUNICORN_SRC to a local copy of gunicorn 26.1.0's source " +
      "(e.g. a git checkout of benoitc/gunicorn) to compare; only our numbers are shown.",
  );
}
