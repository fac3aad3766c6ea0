// Copyright 2026 the @sidecar/ipc authors. MIT license.
// This module is browser compatible.
/**
 * The arbiter's log line levels and hook type, shared by the arbiter and
 * its pool (here so that neither imports the other).
 *
 * @module
 */

/** Log levels of the arbiter's log lines. */
export type LogLevel = "debug" | "info" | "warn" | "error";

/** Where log lines go. */
export type LogFn = (level: LogLevel, message: string) => void;
