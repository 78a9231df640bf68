import { ExitCode, SingerError } from '@fullstory-singer/singer-core';

/** Fields of an {@link ApiError}. */
interface ApiErrorDetails {
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

// What a key must be allowed to do for each call, in FullStory's words where it has them. "A Standard
// key can send data and read settings. Viewing or exporting user data requires Architect"
// (https://developer.fullstory.com/server/v2/authentication); "Standard keys will work for create,
// update, and batch (create/status) requests" (https://developer.fullstory.com/server/v1/authentication/getting-started).
const EXPORT = 'exports user data, so it needs an Admin or Architect key';
const STANDARD = 'needs a Standard key or higher (FullStory: Standard keys may create batch imports and read their status)';
const UNDOCUMENTED = "reads a job's results, which hold user data; FullStory does not say which key may, so use an Admin or Architect key";
const PERMISSION: Record<string, string> = {
  'export/list': EXPORT,
  'export/get': EXPORT,
  'segments/exports': EXPORT,
  operations: EXPORT,
  'search/exports/results': EXPORT,
  'users/batch': STANDARD,
  'events/batch': STANDARD,
  'users/batch/status': STANDARD,
  'events/batch/status': STANDARD,
  'users/batch/errors': UNDOCUMENTED,
  'users/batch/imports': UNDOCUMENTED,
  'events/batch/errors': UNDOCUMENTED,
  'events/batch/imports': UNDOCUMENTED,
};

/**
 * The sentence after `<call>: ` when FullStory answers 401 or 403. A 401 means the key itself was not
 * accepted, so it speaks of the key; a 403 means the key lacks a permission, so it names the one this
 * call needs (`endpoint` as in `RequestSpec.endpoint`). `apiCode` is FullStory's error `code`.
 */
export function authFailureMessage(status: 401 | 403, endpoint: string, apiCode: string | undefined): string {
  const answer = `${status}${apiCode === undefined ? '' : ` ${apiCode}`}`;
  if (status === 401) {
    return `FullStory did not accept the API key (${answer}): check that it is the whole key, exactly as FullStory issued it, and that it was not revoked`;
  }
  const needs = PERMISSION[endpoint] ?? 'needs a permission this key lacks (https://developer.fullstory.com/server/v2/authentication)';
  return `FullStory refused this call for the API key (${answer}): this call ${needs}`;
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
  // One line: OpenSSL's messages span several.
  const text = typeof message === 'string' ? message.replace(/\s*[\r\n]+\s*/g, ' ').trim() : 'network error';
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
