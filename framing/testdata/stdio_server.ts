// Copyright 2026 the @sidecar/ipc authors. MIT license.
// Serves the interop handlers over stdin/stdout. Args: [--defer].
import { serveStdio } from "../mod.ts";
import { HANDLERS } from "./interop_handlers.ts";

await serveStdio(HANDLERS, { deferOutput: Deno.args.includes("--defer") });
