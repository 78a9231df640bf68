/**
 * One error hierarchy for both CLIs. Every error has a stable `code` (for tests and log
 * scraping) and the process exit code documented in the README's exit-code table.
 * `cause` is kept but non-enumerable, so logging or serialising an error never drags a nested
 * object (which might hold a request with a secret) into the output.
 */

/** Process exit codes of a tap or target built on singer-core (see the repository README, "Exit codes"). */
export const ExitCode = {
  OK: 0,
  INTERNAL: 1,
  CONFIG: 2,
  BAD_INPUT: 3,
  AUTH: 4,
  UNAVAILABLE: 5,
  REJECTED: 6,
  /** Stopped by SIGINT after a graceful stop (128 + 2). */
  INTERRUPTED_SIGINT: 130,
  /** stdout was closed by its reader, as a process ended by SIGPIPE (128 + 13). */
  STDOUT_CLOSED: 141,
  /** Stopped by SIGTERM after a graceful stop (128 + 15). */
  INTERRUPTED_SIGTERM: 143,
} as const;

/** Options accepted by every {@link SingerError} constructor. */
interface SingerErrorOptions {
  /** The underlying error; stored as a non-enumerable `cause`. */
  cause?: unknown;
}

/** Base class: an expected failure with a stable `code` and an exit code. */
export class SingerError extends Error {
  /** Stable, machine-readable code, e.g. `CONFIG`. */
  readonly code: string;
  /** Exit code the top-level runner uses for this error. */
  readonly exitCode: number;

  constructor(message: string, options?: SingerErrorOptions, code = 'INTERNAL', exitCode: number = ExitCode.INTERNAL) {
    super(message);
    this.name = new.target.name;
    this.code = code;
    this.exitCode = exitCode;
    if (options && 'cause' in options) {
      Object.defineProperty(this, 'cause', { value: options.cause, enumerable: false, writable: true, configurable: true });
    }
  }
}

/** A usage or configuration error (bad flag, unreadable file, invalid setting): exit 2. */
export class ConfigError extends SingerError {
  constructor(message: string, options?: SingerErrorOptions) {
    super(message, options, 'CONFIG', ExitCode.CONFIG);
  }
}

/** Options of {@link InputError}: where the bad input was. */
interface InputErrorOptions extends SingerErrorOptions {
  /** 1-based line number of the offending line, when known. */
  line?: number;
  /** Where the input came from (`stdin`, a file path). */
  source?: string;
}

/** Input that breaks the protocol (a bad message line, a bad state file): exit 3. */
export class InputError extends SingerError {
  /** 1-based line number of the offending line, when known. */
  readonly line?: number;
  /** Where the input came from (`stdin`, a file path). */
  readonly source?: string;

  constructor(message: string, options?: InputErrorOptions) {
    super(message, options, 'BAD_INPUT', ExitCode.BAD_INPUT);
    if (options?.line !== undefined) this.line = options.line;
    if (options?.source !== undefined) this.source = options.source;
  }
}

/** The remote service refused the credentials (401/403): exit 4. */
export class AuthError extends SingerError {
  constructor(message: string, options?: SingerErrorOptions) {
    super(message, options, 'AUTH', ExitCode.AUTH);
  }
}

/** The remote service stayed unavailable after retries: exit 5. */
export class UnavailableError extends SingerError {
  constructor(message: string, options?: SingerErrorOptions) {
    super(message, options, 'UNAVAILABLE', ExitCode.UNAVAILABLE);
  }
}

/** Records were rejected and the user asked to fail on that (target only): exit 6. */
export class RejectedRecordsError extends SingerError {
  constructor(message: string, options?: SingerErrorOptions) {
    super(message, options, 'REJECTED', ExitCode.REJECTED);
  }
}

/** A bug: something that should not happen. Exit 1. */
export class InternalError extends SingerError {
  constructor(message: string, options?: SingerErrorOptions) {
    super(message, options, 'INTERNAL', ExitCode.INTERNAL);
  }
}

/** True when `err` is one of ours (carries a stable code and exit code). */
export function isSingerError(err: unknown): err is SingerError {
  return err instanceof SingerError;
}
