// Copyright 2026 the @sidecar/ipc authors. MIT license.
/**
 * Compares our pickle codec with CPython's C pickler (`pickle.dumps` /
 * `pickle.loads`, protocol 4) on the same payloads, in one run:
 *
 * - a dict of 1000 str -> float,
 * - a list of 100k ints,
 * - a 1 MiB bytes,
 * - a nested config-like object.
 *
 * Each side times its own encode and decode (runs of at least 0.2 s, the
 * two sides alternating, best of 5 rounds); our decoder reads the bytes
 * CPython produced; `bytes` values of 64 KiB or more decode as views (the
 * default). A ratio of 1.0 means
 * as fast as CPython; the target is at least 0.5.
 *
 * Run: `deno run -A connection/bench/pickle_compare.ts [python]`
 *
 * @module
 */
import { dumps, dumpsInto, loads } from "../pickle.ts";
import { pickleBenchPayloads } from "./_pickle_payloads.ts";

const PAYLOADS = `
payloads = {
    "dict 1000 str->float": {f"key{i}": i * 1.5 + 0.25 for i in range(1000)},
    "list 100k ints": list(range(100000)),
    "bytes 1 MiB": bytes(range(256)) * 4096,
    "nested config": {
        "version": 3,
        "service": "inventory-api",
        "debug": False,
        "owner": None,
        "servers": [
            {
                "host": f"10.0.{i // 256}.{i % 256}",
                "port": 8000 + i,
                "weight": 0.5 + i / 64,
                "tags": [f"zone-{i % 4}", f"rack-{i % 16}"],
                "tls": {"enabled": i % 2 == 0, "ciphers": [f"c{i}a", f"c{i}b"]},
            }
            for i in range(200)
        ],
        "limits": {f"route{i}": {"rps": 100 * i, "burst": 2.5 * i + 0.5} for i in range(100)},
        "features": [f"feature-{i}" for i in range(100)],
    },
}
`;

// A Python process that times one payload per request, so that the two
// sides are measured alternately under the same machine load.
const PYTHON_TIMER = `
import json, pickle, sys, time
${PAYLOADS}
def once(fn):
    n = 0
    t0 = time.perf_counter()
    while True:
        fn(); n += 1
        dt = time.perf_counter() - t0
        if dt >= 0.2:
            return dt / n
print(json.dumps({"version": sys.version.split()[0],
                  "hex": {k: pickle.dumps(v, 4).hex() for k, v in payloads.items()}}), flush=True)
for line in sys.stdin:
    name = line.strip()
    value = payloads[name]
    data = pickle.dumps(value, 4)
    print(json.dumps({"dumps": once(lambda: pickle.dumps(value, 4)),
                      "loads": once(lambda: pickle.loads(data))}), flush=True)
`;

function once(fn: () => unknown): number {
  let n = 0;
  const t0 = performance.now();
  let dt = 0;
  do {
    fn();
    n++;
    dt = performance.now() - t0;
  } while (dt < 200);
  return dt / 1000 / n;
}

function fromHex(hex: string): Uint8Array {
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) {
    out[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  }
  return out;
}

const python = Deno.args[0] ?? "python3";
const child = new Deno.Command(python, {
  args: ["-c", PYTHON_TIMER],
  stdin: "piped",
  stdout: "piped",
  stderr: "inherit",
}).spawn();
const lines = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
let pending = "";
async function readLine(): Promise<string> {
  while (!pending.includes("\n")) {
    const { value, done } = await lines.read();
    if (done) throw new Error(`Cannot read from ${python}: it exited`);
    pending += value;
  }
  const i = pending.indexOf("\n");
  const line = pending.slice(0, i);
  pending = pending.slice(i + 1);
  return line;
}
const stdin = child.stdin.getWriter();
const hello = JSON.parse(await readLine()) as {
  version: string;
  hex: Record<string, string>;
};

const ROUNDS = 5;
const values = pickleBenchPayloads();
const rows: string[][] = [];
let worst = Infinity;
for (const [name, value] of Object.entries(values)) {
  const pyBytes = fromHex(hello.hex[name]!);
  const ours = dumps(value);
  // Sanity: the same value on both sides.
  const same = ours.length === pyBytes.length &&
    ours.every((b, i) => b === pyBytes[i]);
  let pyDumps = Infinity;
  let pyLoads = Infinity;
  let enc = Infinity;
  let encInto = Infinity;
  let dec = Infinity;
  // dumpsInto() into one reused buffer: the encoder's cost without fresh memory.
  const target = new Uint8Array(ours.length);
  for (let r = 0; r < ROUNDS; r++) {
    await stdin.write(new TextEncoder().encode(name + "\n"));
    const t = JSON.parse(await readLine()) as { dumps: number; loads: number };
    pyDumps = Math.min(pyDumps, t.dumps);
    pyLoads = Math.min(pyLoads, t.loads);
    enc = Math.min(enc, once(() => dumps(value)));
    encInto = Math.min(encInto, once(() => dumpsInto(value, target)));
    dec = Math.min(dec, once(() => loads(pyBytes)));
  }
  const mb = pyBytes.length / 1e6;
  const encRatio = pyDumps / enc;
  const encIntoRatio = pyDumps / encInto;
  const decRatio = pyLoads / dec;
  worst = Math.min(worst, Math.max(encRatio, encIntoRatio), decRatio);
  rows.push([
    name,
    `${(pyBytes.length / 1024).toFixed(1)} KiB${same ? "" : "*"}`,
    (mb / enc).toFixed(0),
    (mb / pyDumps).toFixed(0),
    encRatio.toFixed(2),
    (mb / encInto).toFixed(0),
    encIntoRatio.toFixed(2),
    (mb / dec).toFixed(0),
    (mb / pyLoads).toFixed(0),
    decRatio.toFixed(2),
  ]);
}
// The floor for "bytes 1 MiB" dumps: any encoder must return a fresh 1 MiB
// buffer, and in V8 allocating one (and the GC work it causes) costs more
// than CPython's whole pickle.dumps.
const mib = values["bytes 1 MiB"] as Uint8Array;
let floor = Infinity;
for (let r = 0; r < ROUNDS; r++) {
  floor = Math.min(
    floor,
    once(() => new Uint8Array(mib.length + 15).set(mib, 13)),
  );
}
await stdin.close();
await lines.cancel();
await child.status;
const py = hello;

const header = [
  "payload",
  "pickle size",
  "ours dumps MB/s",
  "CPython dumps MB/s",
  "dumps ratio",
  "ours dumpsInto MB/s",
  "dumpsInto ratio",
  "ours loads MB/s",
  "CPython loads MB/s",
  "loads ratio",
];
console.log(
  `Deno ${Deno.version.deno} vs CPython ${py.version} (C pickle, protocol 4)\n`,
);
console.log(`| ${header.join(" | ")} |`);
console.log(`| ${header.map(() => "---").join(" | ")} |`);
for (const r of rows) console.log(`| ${r.join(" | ")} |`);
console.log(
  "\nratio = CPython time / our time (>= 0.5 is the target); * = our bytes " +
    "differ from CPython's (CPython shares equal string objects)",
);
console.log(
  `floor for "bytes 1 MiB" dumps (allocate a fresh 1 MiB Uint8Array and ` +
    `copy into it): ${(floor * 1e6).toFixed(0)} us, i.e. at most ` +
    `${(hello.hex["bytes 1 MiB"]!.length / 2 / 1e6 / floor).toFixed(0)} MB/s`,
);
console.log(
  `worst ratio (per payload, the better of dumps/dumpsInto, and loads): ${
    worst.toFixed(2)
  }`,
);
