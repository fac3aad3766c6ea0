// Copyright 2026 the @sidecar/ipc authors. MIT license.
import assert from "node:assert/strict";
import { MAX_CAUSES, stackWithCauses } from "./error_stack.ts";

Deno.test("stackWithCauses() joins the stacks of an error and its causes", () => {
  const root = new Error("root");
  const top = new TypeError("top", { cause: root });
  const text = stackWithCauses(top);
  assert.equal(text, `${top.stack}\nCaused by: ${root.stack}`);
  assert.equal(stackWithCauses("plain"), "plain");
  assert.equal(
    stackWithCauses(new Error("x", { cause: 42 })).split("\nCaused by: ")[1],
    "42",
  );
  const bare = new Error("bare");
  delete (bare as { stack?: string }).stack;
  assert.equal(stackWithCauses(bare), "Error: bare");
});

Deno.test("stackWithCauses() stops after MAX_CAUSES (a cause chain may loop)", () => {
  const a = new Error("a");
  const b = new Error("b", { cause: a });
  (a as { cause?: unknown }).cause = b;
  assert.equal(stackWithCauses(a).split("\nCaused by: ").length, MAX_CAUSES);
});
