// Copyright 2026 the @sidecar/ipc authors. MIT license.
/**
 * Finds import cycles among the `.ts` files of a tree, type-only imports
 * included (`import type`, `export type ... from`): the rule is "no import
 * cycles, type-only ones included". Dynamic `import()` does not count.
 *
 * The module graph is Deno's own (`deno info --json` of one entry that
 * imports every file), so every form of static import is seen as the
 * runtime and the type checker see it, and nothing in a comment or a
 * string is taken for one.
 *
 * Run: `deno run -A tools/check_cycles.ts [root]` (root: the package, by
 * default). Prints each cycle as `a.ts -(type)-> b.ts -> a.ts` (a type-only
 * import marked) and exits 1 when there is one; prints a count and exits 0
 * when there is none.
 *
 * @module
 */

/** An edge of the graph: `from` imports `to`. */
export interface ImportEdge {
  from: string;
  to: string;
  /** Only `import type` / `export type` (no runtime import). */
  typeOnly: boolean;
}

/** The `.ts` files under `root`, relative, sorted (hidden folders skipped). */
export async function tsFiles(root: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (dir: string, rel: string): Promise<void> => {
    for await (const e of Deno.readDir(dir)) {
      if (e.name.startsWith(".") || e.name === "node_modules") continue;
      const path = `${dir}/${e.name}`;
      const relPath = rel === "" ? e.name : `${rel}/${e.name}`;
      if (e.isDirectory) await walk(path, relPath);
      else if (e.isFile && e.name.endsWith(".ts")) out.push(relPath);
    }
  };
  await walk(root, "");
  return out.sort();
}

interface InfoDependency {
  code?: { specifier?: string };
  type?: { specifier?: string };
  isDynamic?: boolean;
}

interface InfoModule {
  specifier: string;
  dependencies?: InfoDependency[];
}

/**
 * The static imports between the `.ts` files under `root`, from
 * `deno info --json` of an entry that imports them all.
 *
 * @param root The tree's folder (absolute).
 * @returns The edges between files of the tree, by relative path.
 */
export async function importEdges(root: string): Promise<ImportEdge[]> {
  const files = await tsFiles(root);
  const base = new URL(`file://${root.replace(/\/?$/, "/")}`);
  const dir = await Deno.makeTempDir({ prefix: "check-cycles-" });
  try {
    const entry = `${dir}/entry.ts`;
    await Deno.writeTextFile(
      entry,
      files.map((f) => `import ${JSON.stringify(new URL(f, base).href)};\n`)
        .join(""),
    );
    const config = `${root}/deno.json`;
    const hasConfig = await Deno.stat(config).then(() => true, () => false);
    const out = await new Deno.Command(Deno.execPath(), {
      args: [
        "info",
        "--json",
        ...(hasConfig ? [`--config=${config}`] : ["--no-config"]),
        entry,
      ],
      env: { DENO_NO_UPDATE_CHECK: "1", NO_COLOR: "1" },
      stdout: "piped",
      stderr: "piped",
    }).output();
    if (!out.success) {
      throw new Error(
        `Cannot read the module graph: deno info failed\n${
          new TextDecoder().decode(out.stderr)
        }`,
      );
    }
    const info = JSON.parse(new TextDecoder().decode(out.stdout)) as {
      modules: InfoModule[];
    };
    const inTree = (specifier: string | undefined): string | null => {
      if (specifier === undefined || !specifier.startsWith(base.href)) {
        return null;
      }
      return decodeURIComponent(specifier.slice(base.href.length));
    };
    const edges: ImportEdge[] = [];
    for (const m of info.modules) {
      const from = inTree(m.specifier);
      if (from === null) continue;
      for (const d of m.dependencies ?? []) {
        if (d.isDynamic) continue;
        const code = inTree(d.code?.specifier);
        const type = inTree(d.type?.specifier);
        const to = code ?? type;
        if (to === null) continue;
        edges.push({ from, to, typeOnly: code === null });
      }
    }
    return edges;
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/**
 * The cycles of a graph: one per strongly connected component of more
 * than one file (or a file that imports itself), each as a closed path.
 *
 * @param edges The graph.
 * @returns Each cycle as the files along it, the first repeated at the end.
 */
export function findCycles(edges: readonly ImportEdge[]): string[][] {
  const next = new Map<string, string[]>();
  for (const { from, to } of edges) {
    if (!next.has(from)) next.set(from, []);
    if (!next.has(to)) next.set(to, []);
    next.get(from)!.push(to);
  }
  // Tarjan's strongly connected components, iteratively.
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const onStack = new Set<string>();
  const stack: string[] = [];
  const components: string[][] = [];
  let counter = 0;
  for (const start of [...next.keys()].sort()) {
    if (index.has(start)) continue;
    const work: { node: string; i: number }[] = [{ node: start, i: 0 }];
    index.set(start, counter);
    low.set(start, counter++);
    stack.push(start);
    onStack.add(start);
    while (work.length > 0) {
      const top = work[work.length - 1]!;
      const targets = next.get(top.node)!;
      if (top.i < targets.length) {
        const to = targets[top.i++]!;
        if (!index.has(to)) {
          index.set(to, counter);
          low.set(to, counter++);
          stack.push(to);
          onStack.add(to);
          work.push({ node: to, i: 0 });
        } else if (onStack.has(to)) {
          low.set(top.node, Math.min(low.get(top.node)!, index.get(to)!));
        }
        continue;
      }
      work.pop();
      if (work.length > 0) {
        const parent = work[work.length - 1]!.node;
        low.set(parent, Math.min(low.get(parent)!, low.get(top.node)!));
      }
      if (low.get(top.node) === index.get(top.node)) {
        const component: string[] = [];
        let n: string;
        do {
          n = stack.pop()!;
          onStack.delete(n);
          component.push(n);
        } while (n !== top.node);
        const selfLoop = component.length === 1 &&
          next.get(top.node)!.includes(top.node);
        if (component.length > 1 || selfLoop) components.push(component);
      }
    }
  }
  return components.map((c) => cycleThrough(new Set(c), next));
}

/** A closed path through the first (sorted) file of a component. */
function cycleThrough(
  members: Set<string>,
  next: Map<string, string[]>,
): string[] {
  const start = [...members].sort()[0]!;
  // Breadth-first search back to `start` inside the component.
  const prev = new Map<string, string>();
  const queue = [start];
  while (queue.length > 0) {
    const node = queue.shift()!;
    for (const to of next.get(node)!) {
      if (!members.has(to)) continue;
      if (to === start) {
        const path = [start];
        for (let n = node; n !== start; n = prev.get(n)!) path.splice(1, 0, n);
        return [...path, start];
      }
      if (!prev.has(to)) {
        prev.set(to, node);
        queue.push(to);
      }
    }
  }
  return [start, start];
}

if (import.meta.main) {
  const root = Deno.args[0] ??
    new URL("..", import.meta.url).pathname.replace(/\/$/, "");
  const edges = await importEdges(root);
  const cycles = findCycles(edges);
  const typeOnly = new Set(
    edges.filter((e) => e.typeOnly).map((e) => `${e.from} -> ${e.to}`),
  );
  for (const cycle of cycles) {
    let text = cycle[0]!;
    for (let i = 1; i < cycle.length; i++) {
      const arrow = typeOnly.has(`${cycle[i - 1]} -> ${cycle[i]}`)
        ? " -(type)-> "
        : " -> ";
      text += arrow + cycle[i];
    }
    console.log(`import cycle: ${text}`);
  }
  const files = new Set(edges.flatMap((e) => [e.from, e.to])).size;
  if (cycles.length > 0) {
    console.log(`${cycles.length} import cycle(s) among ${files} files`);
    Deno.exit(1);
  }
  console.log(
    `no import cycles among ${files} files (${edges.length} imports)`,
  );
}
