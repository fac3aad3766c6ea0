// Copyright 2026 the @sidecar/ipc authors. MIT license.
/**
 * The "typical" request and response used by the benchmarks: a dict with a
 * 4 KiB bytes value, a list of 1,000 floats and nested dicts. The Python
 * side of `compare.ts` builds the very same values (same bytes on the wire).
 *
 * @module
 */
import type { DirtyInput } from "../tlv.ts";

/** 1,000 floats, none integral: `i * 0.5 + 0.25`. */
export function floats(): number[] {
  return Array.from({ length: 1000 }, (_, i) => i * 0.5 + 0.25);
}

/** 4 KiB of bytes `i % 251`. */
export function blob(): Uint8Array {
  return Uint8Array.from({ length: 4096 }, (_, i) => i % 251);
}

/** A request payload, as `encode_request` builds it. */
export function typicalRequest(): DirtyInput {
  return {
    app_path: "myapp.ml:MLApp",
    action: "predict",
    args: [{ image: blob(), weights: floats() }],
    kwargs: {
      options: {
        temperature: 0.7,
        top_k: 40,
        labels: { a: 1, b: [1, 2, 3] },
        meta: { user: "alice", tags: ["x", "y"], active: true, note: null },
      },
    },
  };
}

/** A response payload, as `encode_response` builds it. */
export function typicalResponse(): DirtyInput {
  return {
    result: {
      label: "cat",
      scores: floats(),
      embedding: blob(),
      timing: { ms: 12.5, worker: 4242, cached: false },
      extra: { nested: { deeper: { k: "v", n: -7 } } },
    },
  };
}

/** The same values in Python (run by `compare.ts`). */
export const PYTHON_VALUES = String.raw`
def floats():
    return [i * 0.5 + 0.25 for i in range(1000)]
def blob():
    return bytes(i % 251 for i in range(4096))
def typical_request():
    return {"app_path": "myapp.ml:MLApp", "action": "predict",
            "args": [{"image": blob(), "weights": floats()}],
            "kwargs": {"options": {"temperature": 0.7, "top_k": 40,
                                   "labels": {"a": 1, "b": [1, 2, 3]},
                                   "meta": {"user": "alice", "tags": ["x", "y"],
                                            "active": True, "note": None}}}}
def typical_response():
    return {"result": {"label": "cat", "scores": floats(), "embedding": blob(),
                       "timing": {"ms": 12.5, "worker": 4242, "cached": False},
                       "extra": {"nested": {"deeper": {"k": "v", "n": -7}}}}}
`;
