import { ExitCode, SingerError } from '@fullstory-singer/singer-core';

/** Fields of an {@link ApiError}. */
export interface ApiErrorDetails {
  /** The HTTP status FullStory answered with. */
  status: number;
  /** FullStory's error `code` (e.g. `required_field`), when the body carried one. */
  apiCode?: string;
}

/**
 * FullStory refused a request for a reason retrying cannot fix: a 4xx other than 401, 403, 408 and
 * 429, an unexpected redirect, or a 2xx body of the wrong shape. Exit code 5, like an outage: the
 * run cannot go on, but nothing is wrong with the user's configuration that we could name.
 */
export class ApiError extends SingerError {
  /** The HTTP status. */
  readonly status: number;
  /** FullStory's error `code`, when given. */
  readonly apiCode: string | undefined;

  constructor(message: string, details: ApiErrorDetails) {
    super(message, undefined, 'API_REJECTED', ExitCode.UNAVAILABLE);
    this.status = details.status;
    this.apiCode = details.apiCode;
  }
}

/**
 * Replaces every occurrence of `secret` in `text` with `[REDACTED]`. Used on anything the server
 * sends back that ends up in an error message, in case it echoes the key.
 */
export function scrub(text: string, secret: string): string {
  return secret.length >= 4 ? text.split(secret).join('[REDACTED]') : text;
}

/**
 * A one-line description of a network failure (`ECONNRESET: read ECONNRESET`) made only of the
 * error's own code and message: got's errors carry the request options, headers included, which
 * must never be copied into our errors.
 */
export function describeNetworkError(err: unknown): string {
  if (typeof err !== 'object' || err === null) return String(err);
  const { code, message } = err as { code?: unknown; message?: unknown };
  const text = typeof message === 'string' ? message : 'network error';
  return typeof code === 'string' && !text.includes(code) ? `${code}: ${text}` : text;
}

/**
 * A clean stand-in for a got error, fit to be an error's `cause`: message and code only, no request
 * options (which hold the Authorization header).
 */
export function sanitizedCause(err: unknown, secret: string): Error {
  const cause = new Error(scrub(describeNetworkError(err), secret));
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code === 'string') Object.defineProperty(cause, 'code', { value: code, enumerable: true });
  cause.name = (err as { name?: unknown } | null)?.name === 'TimeoutError' ? 'TimeoutError' : 'NetworkError';
  return cause;
}
