// Copyright 2026 the @sidecar/ipc authors. MIT license.
import assert from "node:assert/strict";
import {
  DirtyAppError,
  DirtyAppNotFoundError,
  DirtyConnectionError,
  DirtyError,
  DirtyNoWorkersAvailableError,
  DirtyProtocolError,
  DirtyTimeoutError,
  DirtyWorkerError,
  errorFromDict,
  errorToDict,
  StashError,
  StashKeyNotFoundError,
  StashTableNotFoundError,
} from "./errors.ts";

Deno.test("errors: errorFromDict maps every gunicorn error_type to its class with its fields", () => {
  const cases: [string, new (...a: never[]) => DirtyError][] = [
    ["DirtyError", DirtyError],
    ["DirtyTimeoutError", DirtyTimeoutError],
    ["DirtyConnectionError", DirtyConnectionError],
    ["DirtyWorkerError", DirtyWorkerError],
    ["DirtyAppError", DirtyAppError],
    ["DirtyAppNotFoundError", DirtyAppNotFoundError],
    ["DirtyNoWorkersAvailableError", DirtyNoWorkersAvailableError],
    ["DirtyProtocolError", DirtyProtocolError],
    ["StashError", StashError],
  ];
  for (const [type, cls] of cases) {
    const e = errorFromDict(
      new Map<string, unknown>([["error_type", type], ["message", "m"], [
        "details",
        new Map(),
      ]]),
    );
    assert.equal(e.constructor, cls, type);
    assert.equal(e.errorType, type);
    assert.equal(e.message, "m");
    assert.equal(e.name, type);
  }
  const t = errorFromDict({
    error_type: "DirtyTimeoutError",
    message: "Worker timeout",
    details: { timeout: 10 },
  });
  assert.ok(t instanceof DirtyTimeoutError);
  assert.equal(t.timeout, 10);
  const w = errorFromDict({
    error_type: "DirtyWorkerError",
    message: "x",
    details: { worker_id: 77n },
  });
  assert.ok(w instanceof DirtyWorkerError);
  assert.equal(w.workerId, 77);
  const a = errorFromDict({
    error_type: "DirtyAppError",
    message: "kaput",
    details: { app_path: "m:C", action: "fail", traceback: "tb" },
  });
  assert.ok(a instanceof DirtyAppError);
  assert.deepEqual([a.appPath, a.action, a.traceback], ["m:C", "fail", "tb"]);
  const nw = errorFromDict({
    error_type: "DirtyNoWorkersAvailableError",
    message: "No workers available for app: m:C",
    details: { app_path: "m:C" },
  });
  assert.ok(nw instanceof DirtyNoWorkersAvailableError);
  assert.equal(nw.appPath, "m:C");
});

Deno.test("errors: from_dict defaults and unknown types", () => {
  const e = errorFromDict({});
  assert.equal(e.constructor, DirtyError);
  assert.equal(e.message, "Unknown error");
  assert.equal(e.errorType, "DirtyError");
  assert.deepEqual({ ...e.details }, {});
  const f = errorFromDict({
    error_type: "ValueError",
    message: "bad",
    details: null,
  });
  assert.equal(f.constructor, DirtyError);
  assert.equal(f.errorType, "ValueError");
  // Forwarding keeps the foreign type on the wire.
  assert.deepEqual(errorToDict(f), {
    error_type: "ValueError",
    message: "bad",
    details: {},
  });
  assert.deepEqual(errorToDict("oops"), {
    error_type: "Error",
    message: "oops",
    details: {},
  });
});

Deno.test("errors: a __proto__ detail key stays data", () => {
  const e = errorFromDict(
    new Map<string, unknown>([["details", new Map([["__proto__", 1]])]]),
  );
  assert.equal(Object.getPrototypeOf(e.details), Object.prototype);
  assert.deepEqual(Object.keys(e.details), ["__proto__"]);
});

Deno.test("errors: subclass details follow gunicorn's constructors", () => {
  assert.deepEqual({ ...new DirtyTimeoutError("t").details }, {});
  assert.deepEqual({ ...new DirtyTimeoutError("t", 0).details }, {});
  assert.deepEqual({
    ...new DirtyAppError("m", { appPath: "", action: "a" }).details,
  }, { action: "a" });
  assert.deepEqual({ ...new DirtyWorkerError("m", { workerId: 0 }).details }, {
    worker_id: 0,
  });
  const p = new DirtyProtocolError("x", {
    rawData: new Uint8Array(150).fill(0xab),
  });
  assert.equal(p.rawData!.length, 200);
  const cause = new Error("root");
  assert.equal(new DirtyError("x", { cause }).cause, cause);
});

Deno.test("errors: every class has a stable code; name and error_type default to the class name", () => {
  const cases: [DirtyError, string, string][] = [
    [new DirtyError("m"), "DirtyError", "DIRTY_ERROR"],
    [new DirtyTimeoutError(), "DirtyTimeoutError", "TIMEOUT"],
    [new DirtyConnectionError(), "DirtyConnectionError", "CONNECTION_FAILED"],
    [new DirtyWorkerError("m"), "DirtyWorkerError", "WORKER_FAILED"],
    [new DirtyAppError("m"), "DirtyAppError", "APP_ERROR"],
    [
      DirtyAppNotFoundError.forApp("a:B"),
      "DirtyAppNotFoundError",
      "APP_NOT_FOUND",
    ],
    [
      new DirtyNoWorkersAvailableError("a:B"),
      "DirtyNoWorkersAvailableError",
      "NO_WORKERS_AVAILABLE",
    ],
    [new DirtyProtocolError(), "DirtyProtocolError", "PROTOCOL_ERROR"],
    [new StashError("m"), "StashError", "STASH_ERROR"],
    [
      new StashTableNotFoundError("t"),
      "StashTableNotFoundError",
      "STASH_TABLE_NOT_FOUND",
    ],
    [
      new StashKeyNotFoundError("t", "k"),
      "StashKeyNotFoundError",
      "STASH_KEY_NOT_FOUND",
    ],
  ];
  for (const [e, type, code] of cases) {
    assert.equal(e.errorType, type);
    assert.equal(e.name, type);
    assert.equal(e.code, code, type);
    assert.equal(e.toDict().error_type, type);
  }
  // A foreign error_type keeps its name on the wire and the base code.
  const foreign = errorFromDict({ error_type: "ValueError", message: "x" });
  assert.equal(foreign.errorType, "ValueError");
  assert.equal(foreign.code, "DIRTY_ERROR");
  // A user's subclass is named after itself, on the wire too.
  class QuotaExceeded extends DirtyAppError {}
  const q = new QuotaExceeded("over");
  assert.equal(q.errorType, "QuotaExceeded");
  assert.equal(q.code, "APP_ERROR");
});
