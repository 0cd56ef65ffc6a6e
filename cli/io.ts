/**
 * Where the `ballast` commands print, and the error kinds and helpers they share. Every line a command prints
 * goes through a {@link CliIo}, so the CLI runs in-process ({@link captureIo} collects its output as strings)
 * as well as from `bin/ballast.mjs` (the default {@link processIo}).
 */
import type { Command } from 'commander';

/**
 * The CLI's output. Each call prints `text` (one line, or several separated by `\n`) followed by a newline,
 * like `console.log`: `text` itself carries no trailing newline.
 */
export interface CliIo {
  /** Prints to standard output (results: text or JSON). */
  out(text: string): void;
  /** Prints to standard error (errors, usage, progress and logs). */
  err(text: string): void;
}

/** The process's own stdout and stderr. */
export const processIo: CliIo = {
  out: (text) => void process.stdout.write(`${text}\n`),
  err: (text) => void process.stderr.write(`${text}\n`),
};

/** A {@link CliIo} that keeps what is printed; `stdout` and `stderr` read it back as the process would have written it. */
export interface CapturedIo extends CliIo {
  /** Everything printed with `out`, each call followed by `\n`. */
  readonly stdout: string;
  /** Everything printed with `err`, each call followed by `\n`. */
  readonly stderr: string;
}

/**
 * A {@link CliIo} collecting the output in memory, for in-process runs (tests, embedding).
 * @example
 *   const io = captureIo();
 *   const code = await run(['inspect', 'packet', hex, '--json'], io);
 *   JSON.parse(io.stdout);
 */
export function captureIo(): CapturedIo {
  let out = '';
  let err = '';
  return {
    out: (text) => void (out += `${text}\n`),
    err: (text) => void (err += `${text}\n`),
    get stdout() {
      return out;
    },
    get stderr() {
      return err;
    },
  };
}

/**
 * The state of one CLI run shared by the actions of its command tree: where to print, and the exit status an
 * action sets when it ends without throwing (0 unless set: e.g. 1 for a replay mismatch or an invalid VAA).
 */
export interface CliContext {
  io: CliIo;
  exitCode: number;
}

/**
 * A usage error found by a command's action (a flag combination commander cannot express, an argument that
 * does not parse): the run prints the command's help, then `message` as its last line, and exits 2.
 */
export class UsageError extends Error {
  override readonly name = 'UsageError';
  /**
   * @param message what is wrong, without the command name (it is added when printed).
   * @param command the command whose usage was wrong (its help is printed first); undefined for the root.
   */
  constructor(
    message: string,
    readonly command?: Command,
  ) {
    super(message);
  }
}

/** JSON (2-space indented) with every bigint as an exact decimal string. */
export const toJson = (v: unknown): string => JSON.stringify(v, (_k, x: unknown) => (typeof x === 'bigint' ? x.toString() : x), 2);

/** `ballast status`, `ballast inspect vaa`: the command's path from the root, for messages. */
export function commandPath(cmd: Command | undefined): string {
  const names: string[] = [];
  for (let c: Command | null | undefined = cmd; c; c = c.parent) names.unshift(c.name());
  return names.length > 0 ? names.join(' ') : 'ballast';
}

/** Fields of a viem `BaseError` used to shorten its message (the full one spans many lines: request body, version, …). */
interface ViemLikeError {
  shortMessage: string;
  details?: string;
  metaMessages?: string[];
}

const isViemLike = (e: unknown): e is ViemLikeError => typeof e === 'object' && e !== null && typeof (e as { shortMessage?: unknown }).shortMessage === 'string';

/**
 * One line naming the cause of `err`, for `ballast: <line>`: a multi-line message (a config file's issues, one
 * per line) is joined with `; `; a viem error gives its short message, the RPC URL and the details.
 */
export function errorLine(err: unknown): string {
  let text: string;
  if (isViemLike(err)) {
    const url = err.metaMessages?.find((m) => /^\s*URL:/.test(m))?.trim();
    text = [err.shortMessage, url, err.details ? `Details: ${err.details}` : undefined].filter((x) => x).join(' ');
  } else {
    text = err instanceof Error ? err.message : String(err);
  }
  const line = text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l.length > 0)
    .join('; ');
  return line || (err instanceof Error ? err.name : 'unknown error');
}
