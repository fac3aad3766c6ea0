// Copyright 2026 the @sidecar/ipc authors. MIT license.
import assert from "node:assert/strict";
import { OP } from "./_pickle_opcodes.ts";

Deno.test("the decoder's case literals are the opcodes named beside them", async () => {
  // The dispatch switch uses number literals (a jump table in V8); each
  // carries its opcode's name in a comment. Every opcode is handled once.
  const source = await Deno.readTextFile(
    new URL("./_pickle_decoder.ts", import.meta.url),
  );
  const seen = new Map<string, number>();
  for (const m of source.matchAll(/case (0x[0-9a-f]+):(?: \{)? \/\/ (\w+)/g)) {
    const name = m[2]! as keyof typeof OP;
    assert.ok(name in OP, `unknown opcode name ${name}`);
    assert.equal(Number(m[1]), OP[name], `case ${m[1]} is not ${name}`);
    assert.ok(!seen.has(name), `${name} handled twice`);
    seen.set(name, Number(m[1]));
  }
  const unhandled = Object.keys(OP).filter((n) => !seen.has(n));
  // STRING (protocol 0 quoted str) is refused as an invalid opcode.
  assert.deepEqual(unhandled, ["STRING"]);
  assert.ok(!/case OP\.\w+:/.test(source), "a case compares with OP.NAME");
});
