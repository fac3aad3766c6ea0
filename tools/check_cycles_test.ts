// Copyright 2026 the @sidecar/ipc authors. MIT license.
import assert from "node:assert/strict";
import { findCycles, type ImportEdge, importEdges } from "./check_cycles.ts";

const edge = (from: string, to: string): ImportEdge => ({
  from,
  to,
  typeOnly: false,
});

Deno.test("findCycles() finds each cycle once, as a closed path, self-imports too", () => {
  assert.deepEqual(
    findCycles([edge("a", "b"), edge("b", "c"), edge("c", "d")]),
    [],
  );
  assert.deepEqual(
    findCycles([
      edge("a", "b"),
      edge("b", "c"),
      edge("c", "a"),
      edge("c", "d"),
      edge("d", "d"),
      edge("x", "y"),
      edge("y", "x"),
    ]).sort(),
    [["a", "b", "c", "a"], ["d", "d"], ["x", "y", "x"]],
  );
});

Deno.test("importEdges() sees type-only imports and re-exports, not comments, strings or import()", async () => {
  const dir = await Deno.makeTempDir({ prefix: "check-cycles-test-" });
  try {
    const write = (name: string, text: string) =>
      Deno.writeTextFile(`${dir}/${name}`, text);
    await write(
      "a.ts",
      'import type { B } from "./b.ts";\nexport type A = B;\n',
    );
    await write(
      "b.ts",
      'export type { A } from "./a.ts";\nexport type B = 1;\n',
    );
    await write(
      "c.ts",
      [
        '// import "./d.ts";',
        '/** ```ts\n * import { x } from "./d.ts";\n * ``` */',
        'const s = `import "./d.ts";`;',
        'export const later = () => import("./d.ts");',
        "export { s };",
      ].join("\n"),
    );
    await write("d.ts", 'import "./c.ts";\n');
    const edges = await importEdges(dir);
    assert.deepEqual(
      edges.map((e) => `${e.from} ${e.typeOnly ? "-type->" : "->"} ${e.to}`)
        .sort(),
      ["a.ts -type-> b.ts", "b.ts -type-> a.ts", "d.ts -> c.ts"],
    );
    assert.deepEqual(findCycles(edges), [["a.ts", "b.ts", "a.ts"]]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
