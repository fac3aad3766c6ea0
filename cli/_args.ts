// Copyright 2026 the @sidecar/ipc authors. MIT license.
/**
 * The small pieces every `ipc` command shares: an argument parser (long
 * options, `--name=value`, `-h`; anything else, including `-1` and `-`, is a
 * positional), exit codes, the error type commands throw, output helpers and
 * the Ctrl-C signal.
 *
 * @module
 */

/** Exit codes of the `ipc` command line. */
export const EXIT = {
  /** Success. */
  OK: 0,
  /** The operation failed: peer unreachable, remote error, I/O error. */
  FAILED: 1,
  /** Bad command line: unknown option, missing argument, bad address. */
  USAGE: 2,
  /** The peer refused the key (or we refused the peer's). */
  AUTH: 3,
  /** Malformed input: a bad JSON line, a truncated or corrupt capture. */
  INPUT: 4,
  /** Stopped by SIGINT or SIGTERM in the middle of an operation. */
  INTERRUPTED: 130,
} as const;

/** An error that ends the command with a given exit code. */
export class CliError extends Error {
  /** The process exit code. */
  readonly exitCode: number;
  /**
   * @param message What failed, in `Cannot <action>: <state>` form.
   * @param exitCode The exit code.
   * @param options The standard error options (`cause`).
   */
  constructor(message: string, exitCode: number, options?: ErrorOptions) {
    super(message, options);
    this.name = "CliError";
    this.exitCode = exitCode;
  }
}

/**
 * Wraps an error as `Cannot <action>: <message>` with an exit code (a
 * `CliError` passes through unchanged).
 */
export function failed(
  action: string,
  e: unknown,
  exitCode: number = EXIT.FAILED,
): CliError {
  if (e instanceof CliError) return e;
  const msg = e instanceof Error ? e.message : String(e);
  return new CliError(`Cannot ${action}: ${msg}`, exitCode, { cause: e });
}

/** A command line error (exit code 2). */
export function usage(message: string): CliError {
  return new CliError(message, EXIT.USAGE);
}

/** One option's kind. */
export interface OptionSpec {
  /** `"string"` takes a value, `"boolean"` does not. */
  type: "string" | "boolean";
  /** A string option given several times keeps every value. */
  multiple?: boolean;
  /** A one-letter alias (`-h`). */
  short?: string;
}

/** The parsed command line. */
export interface ParsedArgs {
  /** Option values by long name. */
  values: Record<string, string | boolean | string[] | undefined>;
  /** Everything that is not an option, in order. */
  positionals: string[];
}

/** Options every command accepts (`--verbose` is also read by `main`). */
export const COMMON_OPTIONS: Record<string, OptionSpec> = {
  help: { type: "boolean", short: "h" },
  json: { type: "boolean" },
  verbose: { type: "boolean" },
};

/**
 * Parses `args` against `spec` (plus `--help` and `--json`). Long options
 * only, as `--name value` or `--name=value`; `--` ends options; a lone `-`
 * and negative numbers are positionals.
 */
export function parseArgs(
  args: readonly string[],
  spec: Record<string, OptionSpec>,
): ParsedArgs {
  const all = { ...COMMON_OPTIONS, ...spec };
  const shorts = new Map<string, string>();
  for (const [name, s] of Object.entries(all)) {
    if (s.short) shorts.set(s.short, name);
  }
  const values: ParsedArgs["values"] = {};
  const positionals: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === "--") {
      positionals.push(...args.slice(i + 1));
      break;
    }
    let name: string | undefined;
    let inline: string | undefined;
    if (arg.startsWith("--")) {
      const eq = arg.indexOf("=");
      name = eq < 0 ? arg.slice(2) : arg.slice(2, eq);
      if (eq >= 0) inline = arg.slice(eq + 1);
    } else if (/^-[A-Za-z]$/.test(arg)) {
      name = shorts.get(arg.slice(1));
      if (name === undefined) {
        throw usage(`Cannot parse ${arg}: unknown option`);
      }
    } else {
      positionals.push(arg);
      continue;
    }
    const s = all[name];
    if (s === undefined) throw usage(`Cannot parse --${name}: unknown option`);
    let value: string | boolean;
    if (s.type === "boolean") {
      if (inline !== undefined) {
        throw usage(`Cannot parse --${name}: it takes no value`);
      }
      value = true;
    } else if (inline !== undefined) {
      value = inline;
    } else {
      const next = args[i + 1];
      if (next === undefined) {
        throw usage(`Cannot parse --${name}: a value is missing`);
      }
      value = next;
      i++;
    }
    if (s.multiple) {
      const prev = values[name];
      values[name] = [...(Array.isArray(prev) ? prev : []), value as string];
    } else {
      values[name] = value;
    }
  }
  return { values, positionals };
}

/**
 * Parses `SUB ARGS...` of a command group: the subcommand name and its
 * options. For `--help` it prints `helpText` and returns exit code 0; for a
 * missing subcommand it prints `helpText` on stderr and returns exit code 2.
 */
export function parseSubcommand(
  args: readonly string[],
  spec: Record<string, OptionSpec>,
  helpText: string,
): { sub: string; p: ParsedArgs } | number {
  const [sub, ...rest] = args;
  if (sub === undefined) return usageHelp(helpText);
  if (sub === "--help" || sub === "-h") return help(helpText);
  const p = parseArgs(rest, spec);
  if (flag(p, "help")) return help(helpText);
  return { sub, p };
}

/** Reads a string option. */
export function str(p: ParsedArgs, name: string): string | undefined {
  const v = p.values[name];
  return typeof v === "string" ? v : undefined;
}

/** Reads a boolean option. */
export function flag(p: ParsedArgs, name: string): boolean {
  return p.values[name] === true;
}

/** Reads a repeatable option. */
export function list(p: ParsedArgs, name: string): string[] {
  const v = p.values[name];
  return Array.isArray(v) ? v : typeof v === "string" ? [v] : [];
}

/** Reads a non-negative integer option. */
export function int(
  p: ParsedArgs,
  name: string,
  fallback: number,
  min = 0,
): number {
  const v = str(p, name);
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!/^\d+$/.test(v) || !Number.isSafeInteger(n) || n < min) {
    throw usage(
      `Cannot parse --${name}: ${
        JSON.stringify(v)
      } is not an integer >= ${min}`,
    );
  }
  return n;
}

/** Reads a number of seconds and returns milliseconds. */
export function seconds(
  p: ParsedArgs,
  name: string,
  fallbackMs: number,
): number {
  const v = str(p, name);
  if (v === undefined) return fallbackMs;
  const n = Number(v);
  if (v.trim() === "" || !Number.isFinite(n) || n < 0) {
    throw usage(
      `Cannot parse --${name}: ${JSON.stringify(v)} is not a number of seconds`,
    );
  }
  return n * 1000;
}

/** Checks the number of positionals. */
export function expectPositionals(
  p: ParsedArgs,
  min: number,
  max: number,
  what: string,
): void {
  const n = p.positionals.length;
  if (n < min) throw usage(`Cannot run command: missing ${what}`);
  if (n > max) {
    throw usage(
      `Cannot run command: unexpected argument ${
        JSON.stringify(p.positionals[max])
      }`,
    );
  }
}

const ENCODER = new TextEncoder();

// Stdout lines are gathered and written in batches (a write per line costs
// a system call each); stderr lines and the end of the command flush them
// first, so the order of the two streams is kept.
let pending: string[] = [];
let pendingSize = 0;
let flushTimer: ReturnType<typeof setTimeout> | undefined;

/** Writes the gathered stdout lines now. */
export function flushOut(): void {
  clearTimeout(flushTimer);
  flushTimer = undefined;
  if (pending.length === 0) return;
  const text = pending.join("");
  pending = [];
  pendingSize = 0;
  writeAll(Deno.stdout, ENCODER.encode(text));
}

/** Writes a line to stdout (batched; see {@linkcode flushOut}). */
export function out(line: string): void {
  pending.push(line + "\n");
  pendingSize += line.length + 1;
  if (pendingSize >= 65536) flushOut();
  else flushTimer ??= setTimeout(flushOut, 0);
}

/** Writes a line to stderr, after any stdout lines gathered before it. */
export function err(line: string): void {
  flushOut();
  writeAll(Deno.stderr, ENCODER.encode(line + "\n"));
}

function writeAll(
  w: { writeSync(p: Uint8Array): number },
  b: Uint8Array,
): void {
  let off = 0;
  while (off < b.length) off += w.writeSync(b.subarray(off));
}

let progressShown = false;
let stderrIsTerminal: boolean | undefined;

/**
 * Shows a progress line on stderr when stderr is a terminal (redrawn in
 * place); does nothing in pipes. `null` clears it.
 */
export function progress(text: string | null): void {
  stderrIsTerminal ??= Deno.stderr.isTerminal();
  if (!stderrIsTerminal) return;
  flushOut();
  if (text === null) {
    if (progressShown) writeAll(Deno.stderr, ENCODER.encode("\r\x1b[K"));
    progressShown = false;
    return;
  }
  progressShown = true;
  writeAll(Deno.stderr, ENCODER.encode(`\r\x1b[K${text}`));
}

/** What every command gets. */
export interface CommandContext {
  /** Aborted on SIGINT or SIGTERM. */
  signal: AbortSignal;
  /**
   * `--verbose` was given: errors show their stack traces and causes,
   * remote tracebacks and log lines are printed whole.
   */
  verbose?: boolean;
}

/** The first line of a message (error texts can span several). */
export function firstLine(text: string): string {
  const i = text.indexOf("\n");
  return i < 0 ? text : text.slice(0, i).trimEnd();
}

/** A command: parses its own arguments and returns an exit code. */
export type Command = (
  args: string[],
  ctx: CommandContext,
) => Promise<number>;

/** Throws the interruption as a `CliError` with exit code 130. */
export function interrupted(signal: AbortSignal): CliError {
  return new CliError(
    `Cannot finish: interrupted by ${String(signal.reason ?? "a signal")}`,
    EXIT.INTERRUPTED,
  );
}

/** Reads stdin (or a file) as lines, without the line ends. */
export async function* lines(
  readable: ReadableStream<Uint8Array>,
): AsyncGenerator<string> {
  let rest = "";
  for await (const text of readable.pipeThrough(new TextDecoderStream())) {
    const parts = (rest + text).split("\n");
    rest = parts.pop() ?? "";
    for (const p of parts) yield p.endsWith("\r") ? p.slice(0, -1) : p;
  }
  if (rest) yield rest;
}

/**
 * Prints a help text on stderr and returns exit code 2: the command was
 * called without the subcommand or argument it needs.
 */
export function usageHelp(text: string): number {
  err(text.trim());
  return EXIT.USAGE;
}

/** Prints a help text and returns exit code 0. */
export function help(text: string): number {
  out(text.trim());
  flushOut();
  return EXIT.OK;
}
