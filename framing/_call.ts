// Copyright 2026 the @sidecar/ipc authors. MIT license.
// This module is browser compatible.
/**
 * One call of the client: its response's CBOR decoder, the values decoded
 * and not yet read (with their sizes, for the client's memory bound), and
 * how it ended. Also the reading of a response's status map.
 *
 * @module
 */
import type { CborDecodeOptions, CborValue } from "./cbor.ts";
import { CborStreamDecoder } from "./cbor_decoder.ts";
import {
  CommandError,
  FramingError,
  ProtocolError,
  renderAtoms,
} from "./errors.ts";

const TEXT_DECODER = new TextDecoder();

function text(v: CborValue | undefined): string {
  if (v instanceof Uint8Array) return TEXT_DECODER.decode(v);
  return typeof v === "string" ? v : String(v);
}

/** A call in flight. */
export class Call {
  #values: CborValue[] = [];
  #sizes: number[] = [];
  #head = 0;
  #decoder: CborStreamDecoder | null;
  #wake: (() => void) | null = null;
  /** Bytes of the values queued. */
  queuedSize = 0;
  /** Bytes held by the decoder's partial value. */
  partial = 0;
  /** Size of the value last taken. */
  lastSize = 0;
  statusSeen = false;
  done = false;
  error: Error | null = null;
  /** Its reader stopped before the end: what arrives is dropped. */
  abandoned = false;

  constructor(options: CborDecodeOptions) {
    this.#decoder = new CborStreamDecoder(options);
  }

  /** Number of values queued. */
  get queued(): number {
    return this.#values.length - this.#head;
  }

  /** Whether the decoder is inside a value. */
  get inValue(): boolean {
    return this.#decoder?.inValue ?? false;
  }

  /** Decodes response bytes; `sizes` gets each value's size. */
  decode(data: Uint8Array, sizes: number[]): CborValue[] {
    const d = this.#decoder;
    if (d === null) return [];
    const values = d.decode(data, sizes);
    this.partial = d.pendingSize;
    return values;
  }

  /** Queues a value for the reader. */
  enqueue(value: CborValue, size: number): void {
    if (this.abandoned) return;
    this.#values.push(value);
    this.#sizes.push(size);
    this.queuedSize += size;
  }

  /** Takes the next queued value (`lastSize` is its size). */
  take(): CborValue {
    const v = this.#values[this.#head]!;
    const size = this.#sizes[this.#head]!;
    this.#values[this.#head] = null;
    this.#head++;
    if (this.#head > 1024 && this.#head * 2 > this.#values.length) {
      this.#values = this.#values.slice(this.#head);
      this.#sizes = this.#sizes.slice(this.#head);
      this.#head = 0;
    }
    this.queuedSize -= size;
    this.lastSize = size;
    return v;
  }

  /** Drops every queued value; returns the bytes they were counted for. */
  clear(): number {
    const size = this.queuedSize;
    this.#values = [];
    this.#sizes = [];
    this.#head = 0;
    this.queuedSize = 0;
    return size;
  }

  /** Drops the decoder and its partial value; returns its size. */
  dropPartial(): number {
    const size = this.partial;
    this.#decoder = null;
    this.partial = 0;
    return size;
  }

  /** Resolves at the next `notify()`. */
  wait(): Promise<void> {
    return new Promise<void>((resolve) => this.#wake = resolve);
  }

  /** Wakes the reader. */
  notify(): void {
    const w = this.#wake;
    this.#wake = null;
    w?.();
  }
}

/**
 * The error a response's status map stands for, or `null` for
 * `{status: ok}`.
 *
 * @param v The response's first value.
 * @returns A `CommandError` (`status: error`), a `FramingError` of code
 * `"REDIRECTED"` (`status: redirect`), a `ProtocolError` otherwise.
 */
export function statusError(v: CborValue): Error | null {
  if (!(v instanceof Map)) {
    return new ProtocolError(
      "Cannot read response: the first object is not a status map",
    );
  }
  const status = text(v.get("status"));
  if (status === "ok") return null;
  if (status === "error") {
    const e = v.get("error");
    if (!(e instanceof Map)) return new CommandError("unknown error");
    const message = e.get("message");
    if (Array.isArray(message)) return new CommandError(renderAtoms(message));
    const args = e.get("args");
    return new CommandError(
      text(message),
      Array.isArray(args) ? args.map((x) => text(x as CborValue)) : [],
    );
  }
  if (status === "redirect") {
    const loc = v.get("location");
    const url = loc instanceof Map ? text(loc.get("url")) : "";
    return new FramingError(
      `Cannot read response: the server redirected to ${url}`,
      { cause: loc, code: "REDIRECTED" },
    );
  }
  return new ProtocolError(`Cannot read response: unknown status ${status}`);
}
