// Copyright 2026 the @sidecar/ipc authors. MIT license.
/**
 * A minimal raw client for arbiter tests: one Unix connection, whole-frame
 * writes, frames read in order. Built on the codec and the private
 * connection only, so the arbiter tests do not depend on `DirtyClient`.
 *
 * @module
 */
import { DirtyConnection } from "../../dirty/_connection.ts";
import type { DirtyFrame } from "../../dirty/message.ts";
import {
  encodeManage,
  encodeRequest,
  encodeStash,
  encodeStatus,
  type StashFields,
} from "../../dirty/message_encoders.ts";
import { type DirtyError, errorFromDict } from "../../dirty/errors.ts";
import type { DirtyInput, DirtyValue } from "../../dirty/tlv.ts";

/** One raw connection. */
export class RawDirtyConn implements AsyncDisposable {
  readonly #conn: DirtyConnection;
  #nextId = 1n;

  private constructor(conn: DirtyConnection) {
    this.#conn = conn;
  }

  /** Connects to a socket. */
  static async open(path: string): Promise<RawDirtyConn> {
    return new RawDirtyConn(
      await DirtyConnection.open(path, { dict: "object" }),
    );
  }

  /** A fresh request id. */
  id(): bigint {
    return this.#nextId++;
  }

  /** Writes raw bytes. */
  write(bytes: Uint8Array): Promise<void> {
    return this.#conn.write(bytes);
  }

  /** The next frame, or null at EOF. */
  read(): Promise<DirtyFrame | null> {
    return this.#conn.readFrameOrEnd();
  }

  /** The next frame; throws at EOF. */
  async next(): Promise<DirtyFrame> {
    const f = await this.read();
    if (f === null) throw new Error("Cannot read frame: connection closed");
    return f;
  }

  /** Calls an action; returns the result or throws the server's error. */
  async call(
    app: string,
    action: string,
    args: DirtyInput[] = [],
    kwargs: Record<string, DirtyInput> = {},
  ): Promise<DirtyValue> {
    const id = this.id();
    await this.write(encodeRequest(id, app, action, args, kwargs));
    return final(await this.next(), id);
  }

  /** Streams an action: every CHUNK's data until END. */
  async stream(
    app: string,
    action: string,
    args: DirtyInput[] = [],
  ): Promise<DirtyValue[]> {
    const id = this.id();
    await this.write(encodeRequest(id, app, action, args));
    const out: DirtyValue[] = [];
    for (;;) {
      const f = await this.next();
      if (f.id !== id) throw new Error(`id ${f.id} != ${id}`);
      if (f.type === "chunk") out.push(field(f, "data"));
      else if (f.type === "end") return out;
      else if (f.type === "error") throw errorFromDict(field(f, "error"));
      else throw new Error(`unexpected ${f.type}`);
    }
  }

  /** STATUS. */
  async status(): Promise<Record<string, DirtyValue>> {
    const id = this.id();
    await this.write(encodeStatus(id));
    return (await final(await this.next(), id)) as Record<string, DirtyValue>;
  }

  /** MANAGE. */
  async manage(op: number, count: number): Promise<Record<string, DirtyValue>> {
    const id = this.id();
    await this.write(encodeManage(id, op, count));
    return (await final(await this.next(), id)) as Record<string, DirtyValue>;
  }

  /** STASH. */
  async stash(
    op: number,
    table: string,
    fields: StashFields = {},
  ): Promise<DirtyValue> {
    const id = this.id();
    await this.write(encodeStash(id, op, table, fields));
    return final(await this.next(), id);
  }

  /** Closes the connection (idempotent). */
  close(): void {
    this.#conn.close();
  }

  [Symbol.asyncDispose](): Promise<void> {
    this.close();
    return Promise.resolve();
  }
}

function field(f: DirtyFrame, key: string): DirtyValue {
  return (f.payload as Record<string, DirtyValue>)[key] ?? null;
}

function final(f: DirtyFrame, id: bigint): DirtyValue {
  if (f.id !== id) throw new Error(`Reply id ${f.id} does not match ${id}`);
  if (f.type === "response") return field(f, "result");
  if (f.type === "error") throw errorFromDict(field(f, "error")) as DirtyError;
  throw new Error(`Unexpected ${f.type}`);
}
