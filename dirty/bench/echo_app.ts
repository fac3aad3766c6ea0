// Copyright 2026 the @sidecar/ipc authors. MIT license.
// The echo app of the comparison, on our side.
import { DirtyApp } from "../app.ts";

export class EchoApp extends DirtyApp {
  echo(...args: unknown[]): unknown[] {
    return args;
  }
}
