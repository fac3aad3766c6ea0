// Copyright 2026 the @sidecar/ipc authors. MIT license.
// The pickle codec over a real multiprocessing.connection pair: a CPython
// Client connects to our Listener (Unix socket, authkey), send()s a 10 MB
// nested structure that we recv(), then checks every value we send().
import assert from "node:assert/strict";
import fc from "fast-check";
import { Listener } from "./listener.ts";
import { loads, pickleCodec, Tuple } from "./pickle.ts";
import { fromHex } from "../_test_utils/hex.ts";
import { findPython, peerTest, tempDir } from "../_test_utils/peers.ts";
import {
  picklableValue,
  PICKLE_VECTORS as VECTORS,
  TEN_MB_EXPR,
  tenMbValue,
  toPyExpr,
  toTagged,
} from "../_test_utils/connection/pickle.ts";
import { unixSocketFds } from "../_test_utils/sockets.ts";

const TESTDATA = new URL("./testdata/", import.meta.url).pathname;

const CLIENT = `
import sys
sys.path.insert(0, sys.argv[3])
from pickle_peer import tag
from multiprocessing.connection import Client
c = Client(sys.argv[1], family="AF_UNIX", authkey=sys.argv[2].encode())
import pickle
big = eval(sys.argv[4])
c.send(big)
c.send_bytes(pickle.dumps(big, 5))  # what Python 3.14's send() writes
n = 0
while True:
    msg = c.recv()
    if msg is None:
        break
    expr, value = msg
    c.send(True if tag(value) == tag(eval(expr)) else repr(value)[:300])
    n += 1
c.send(n)
c.close()
`;

for (const minor of ["3.11", "3.13"] as const) {
  peerTest(
    `Connection send()/recv() exchange pickles with CPython ${minor}`,
    findPython(minor),
    `python${minor}`,
    async (py) => {
      await using dir = await tempDir();
      const path = `${dir.path}/pickle.sock`;
      {
        await using listener = new Listener(path, {
          authkey: "secret",
          codec: pickleCodec({ floats: "wrap" }),
        });
        const child = new Deno.Command(py.path, {
          args: ["-c", CLIENT, path, "secret", TESTDATA, TEN_MB_EXPR],
          stdout: "piped",
          stderr: "piped",
        }).spawn();
        const output = child.output();
        await using conn = await listener.accept();
        // The listening and the accepted socket.
        assert.equal(unixSocketFds(path), 2);
        // Compared as tagged JSON text (deepEqual on trees this big is
        // slow); one decoded tree alive at a time keeps memory down.
        const expected = JSON.stringify(toTagged(tenMbValue()));
        const tagged = (v: unknown): string => JSON.stringify(toTagged(v));
        assert.ok(tagged(await conn.recv()) === expected, "10 MB, p4");
        const p5 = await conn.recvBytes();
        assert.ok(p5.length >= 10_000_000, `only ${p5.length} bytes`);
        assert.equal(p5[1], 5);
        // Protocol 5 differs only in its header here: spot checks suffice.
        const natural = loads(p5) as {
          rows: Record<string, unknown>[];
          meta: unknown;
        };
        assert.equal(natural.rows.length, 120000);
        assert.deepEqual(natural.rows[119999], {
          id: 119999,
          name: "row119999",
          vals: [59999.5, 119999, "119999"],
          tags: new Tuple(["a", "b"]),
          blob: new Uint8Array(16),
          big: 2n ** 70n + 119999n,
        });
        assert.equal(natural.rows[0]!.tags, natural.rows[1]!.tags);
        assert.deepEqual(natural.meta, {
          n: 120000,
          nested: [[[[[1]]]]],
          none: null,
        });
        // Every vector value and some generated ones, each with the Python
        // expression the peer compares it with.
        const cases: [string, unknown][] = VECTORS.map((v) => [
          v.python_expr,
          loads(fromHex(v.hex), { floats: "wrap", dicts: "map" }),
        ]);
        for (
          const value of fc.sample(picklableValue(), { seed: 7, numRuns: 50 })
        ) {
          cases.push([toPyExpr(value), value]);
        }
        for (const [expr, value] of cases) {
          await conn.send(new Tuple([expr, value]));
          assert.equal(await conn.recv(), true, expr.slice(0, 80));
        }
        await conn.send(null);
        assert.equal(await conn.recv(), cases.length);
        const out = await output;
        assert.ok(out.success, new TextDecoder().decode(out.stderr));
      }
      // Nothing leaked (a process-wide fd count would be disturbed by the
      // other test files that --parallel runs in this process).
      assert.equal(unixSocketFds(path), 0);
    },
  );
}
