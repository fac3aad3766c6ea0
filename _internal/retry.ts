// Copyright 2026 the @sidecar/ipc authors. MIT license.
/**
 * Connecting to a sidecar that may not be listening yet: the connect step
 * is tried again while it fails because nobody listens (`ConnectionRefused`)
 * or the Unix socket does not exist yet (`NotFound`), with a doubling pause
 * between attempts, within a time budget, until an `AbortSignal` says stop.
 * Any other failure (a missing permission, a protocol or authentication
 * error) ends it at once. Only the connect step is retried: a handshake
 * that follows it (an authkey challenge) runs once, on the connection
 * this returns.
 *
 * @module
 */
import { raceResource } from "./abort.ts";
import { checkDuration, delay } from "./timers.ts";

/**
 * How a connect retries while its server is not listening yet. Give
 * `retry: true` for the defaults, or some of these.
 */
export interface RetryOptions {
  /**
   * Time budget in milliseconds, from the first attempt: no attempt starts
   * after it, and the last connect error is thrown. `Infinity` retries
   * until `signal` aborts.
   *
   * @default {10000}
   */
  timeout?: number;
  /**
   * Pause in milliseconds after the first failed attempt; each later pause
   * doubles, up to `maxDelay`.
   *
   * @default {50}
   */
  minDelay?: number;
  /**
   * Longest pause in milliseconds between attempts.
   *
   * @default {1000}
   */
  maxDelay?: number;
  /**
   * Stops retrying: the connect rejects with `signal.reason` (at once if it
   * already aborted), and a connection that arrives after it is closed.
   *
   * @default {undefined}
   */
  signal?: AbortSignal;
  /**
   * Called after each failed attempt that will be retried, before the
   * pause: to log that the server is not there yet.
   *
   * @default {undefined}
   */
  onRetry?: (event: RetryEvent) => void;
}

/** The failed attempt about to be retried, for {@linkcode RetryHooks.onRetry}. */
export interface RetryEvent {
  /** The error of the attempt that failed. */
  error: unknown;
  /** How many attempts failed so far (1 for the first). */
  attempt: number;
  /** The pause in milliseconds before the next attempt. */
  delay: number;
}

/** What the transport that calls {@linkcode connectWithRetry} adds. */
export interface RetryHooks {
  /** Which errors are worth another attempt (default {@linkcode isRetryableConnectError}). */
  isRetryable?: (error: unknown) => boolean;
  /** Called before each pause. */
  onRetry?: (event: RetryEvent) => void;
  /** Another signal to follow (a call's own deadline or abort). */
  signal?: AbortSignal | undefined;
  /** The clock, in milliseconds (tests inject one). */
  now?: () => number;
  /** The pause (tests inject one). */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
}

/** Names of the errors a connect to a server not listening yet fails with. */
const RETRYABLE_NAMES: ReadonlySet<string> = new Set([
  "ConnectionRefused",
  "NotFound",
]);
const RETRYABLE_CODES: ReadonlySet<string> = new Set([
  "ECONNREFUSED",
  "ENOENT",
]);

/**
 * Whether a connect error means "not listening yet": Deno's
 * `ConnectionRefused` (nobody listens on the port or on the socket file)
 * and `NotFound` (no socket file yet), or their errno codes. A missing
 * permission (`NotCapable`, `PermissionDenied`) is not.
 *
 * @param error What the connect threw.
 * @returns True when another attempt may succeed.
 */
export function isRetryableConnectError(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const code = (error as { code?: unknown }).code;
  return RETRYABLE_NAMES.has(error.name) ||
    (typeof code === "string" && RETRYABLE_CODES.has(code));
}

/** The checked settings of a retry option; `null` means one attempt. */
export interface RetrySettings {
  /** Budget in ms. */
  timeout: number;
  /** First pause in ms. */
  minDelay: number;
  /** Longest pause in ms. */
  maxDelay: number;
  /** The option's signal. */
  signal: AbortSignal | undefined;
  /** The option's hook. */
  onRetry: ((event: RetryEvent) => void) | undefined;
}

/**
 * Reads a `retry` option: `false`/`undefined` is one attempt (`null`),
 * `true` the defaults.
 *
 * @param retry The option.
 * @param action What is being done, for error messages ("connect").
 * @returns The settings, or `null`.
 * @throws {RangeError} A duration is negative or NaN.
 */
export function retrySettings(
  retry: boolean | RetryOptions | undefined,
  action: string,
): RetrySettings | null {
  if (retry === undefined || retry === false) return null;
  const o = retry === true ? {} : retry;
  const timeout = checkDuration(o.timeout ?? 10_000, "retry.timeout", action);
  const minDelay = checkDuration(o.minDelay ?? 50, "retry.minDelay", action);
  const maxDelay = checkDuration(o.maxDelay ?? 1000, "retry.maxDelay", action);
  return {
    timeout,
    minDelay,
    maxDelay: Math.max(minDelay, maxDelay),
    signal: o.signal,
    onRetry: o.onRetry,
  };
}

/**
 * Runs `attempt` (a connect) and, while it fails with a retryable error,
 * runs it again after a pause: `minDelay`, doubling up to `maxDelay`, the
 * last one cut to what is left of `timeout`. Without a retry option it
 * runs once.
 *
 * @typeParam C The connection.
 * @param attempt Makes one connection.
 * @param retry The caller's `retry` option.
 * @param action What is being done, for error messages ("connect").
 * @param hooks What the transport adds.
 * @returns The connection.
 * @throws The first error that is not retryable, the last connect error
 * once the budget is spent, or the signal's reason.
 */
export async function connectWithRetry<C extends { close(): unknown }>(
  attempt: () => Promise<C>,
  retry: boolean | RetryOptions | undefined,
  action: string,
  hooks: RetryHooks = {},
): Promise<C> {
  const settings = retrySettings(retry, action);
  const signals = [settings?.signal, hooks.signal].filter((s) =>
    s !== undefined
  );
  const signal = signals.length === 0
    ? undefined
    : signals.length === 1
    ? signals[0]
    : AbortSignal.any(signals);
  signal?.throwIfAborted();
  if (settings === null) return await raceResource(attempt(), { signal });
  const now = hooks.now ?? (() => performance.now());
  const sleep = hooks.sleep ?? delay;
  const retryable = hooks.isRetryable ?? isRetryableConnectError;
  const start = now();
  let pause = settings.minDelay;
  for (let failed = 1;; failed++) {
    try {
      return await raceResource(attempt(), { signal });
    } catch (error) {
      if (signal?.aborted) throw signal.reason;
      if (!retryable(error)) throw error;
      const left = settings.timeout - (now() - start);
      if (!(left > 0)) throw error;
      const wait = Math.min(pause, settings.maxDelay, left);
      const event = { error, attempt: failed, delay: wait };
      settings.onRetry?.(event);
      hooks.onRetry?.(event);
      await sleep(wait, signal);
      pause = Math.min(Math.max(pause * 2, 1), settings.maxDelay);
    }
  }
}
