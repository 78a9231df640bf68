// The retry policy as pure functions: which failures retry, and how long to wait first.
// Modelled on got's calculate-retry-delay, but with `Retry-After` honoured first and full jitter
// (AWS "Exponential Backoff and Jitter"): a delay drawn uniformly from [0, min(cap, base * 2^n)].

/** Default first backoff step: 1 s. */
const DEFAULT_BACKOFF_BASE_MS = 1000;
/** Default ceiling of one backoff delay: 60 s. */
const DEFAULT_BACKOFF_CAP_MS = 60_000;

/**
 * True for statuses worth retrying: 408 (request timeout), 429 (throttled) and every 5xx.
 * Other 4xx mean the request itself is wrong and would fail again.
 */
export function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 429 || (status >= 500 && status <= 599);
}

/**
 * Which key of a create's fixed sequence of `Idempotency-Key`s the next attempt takes (its `index`:
 * 0, 1, 2, ...), told how each attempt failed.
 *
 * FullStory's production docs save the first answer of a key "regardless of whether it succeeded or
 * failed. Subsequent requests with the same key return the same result, including 500 errors"
 * (https://developer.fullstory.com/server/idempotent-requests/): after a 500 the same key could only
 * replay it, so the next attempt takes the next key. Every other failure keeps the key: a 429 is
 * answered before any endpoint runs (neither reading of the docs saves it); after a lost answer (a
 * reset, a timeout) or a 408, 502, 503 or 504 the endpoint may have run and saved a job, which only the
 * same key gets back instead of making a second one. For the same reason a key that met such a failure
 * is kept even through a later 500: moving on could leave a job behind it.
 */
export class KeyWalk {
  /** The key the next attempt takes. */
  index = 0;
  /** An attempt under the current key may have run without our seeing its answer. */
  private uncertain = false;

  /** An attempt under the current key failed: with `status`, or with no answer at all (undefined). */
  failed(status: number | undefined): void {
    if (status === 429) return;
    if (status !== 500) {
      this.uncertain = true;
      return;
    }
    if (!this.uncertain) this.index += 1;
  }
}

// Transient socket and DNS failures. ENOTFOUND is left out on purpose: a host that does not resolve
// is almost always a wrong `base_url`, and retrying would only delay the error.
const RETRYABLE_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED',
  'ETIMEDOUT',
  'EPIPE',
  'EAI_AGAIN',
  'ENETUNREACH',
  'EHOSTUNREACH',
  'ENETDOWN',
  'ERR_STREAM_PREMATURE_CLOSE',
]);
// got's error classes for a timed-out request and a body that broke off while being read.
const RETRYABLE_NAMES = new Set(['TimeoutError', 'ReadError']);

/**
 * True when `err` is a transient network failure: a connection reset, refused or aborted, a timeout
 * (got's `TimeoutError`), a body read that broke off (got's `ReadError`, premature close), a broken
 * pipe, or a temporary DNS failure (`EAI_AGAIN`). False for anything else, including `ENOTFOUND`.
 */
export function isRetryableNetworkError(err: unknown): boolean {
  if (typeof err !== 'object' || err === null) return false;
  const { code, name, message } = err as { code?: unknown; name?: unknown; message?: unknown };
  if (typeof code === 'string' && RETRYABLE_CODES.has(code)) return true;
  if (typeof name === 'string' && RETRYABLE_NAMES.has(name)) return true;
  return typeof message === 'string' && /premature close/i.test(message);
}

/**
 * The wait a `Retry-After` header asks for, in milliseconds: either delay-seconds (`"7"` → 7000) or
 * an HTTP-date, measured from `now` (ms since the epoch). A date in the past or a negative number
 * gives 0. Returns `undefined` when the header is absent or unreadable.
 */
export function parseRetryAfter(header: string | undefined, now: number): number | undefined {
  if (header === undefined) return undefined;
  const value = header.trim();
  if (value === '') return undefined;
  // Numbers first: Date.parse would read "7" as the year 2001.
  if (/^-?\d+(\.\d+)?$/.test(value)) return Math.max(0, Math.round(Number(value) * 1000));
  // An HTTP-date always spells a day or month name (RFC 9110 §5.6.7).
  if (!/[a-z]/i.test(value)) return undefined;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/** Options of {@link backoffDelay}. */
interface BackoffOptions {
  /** The step of attempt 0, in ms (default 1000). */
  baseMs?: number;
  /** The largest step, in ms (default 60000). */
  capMs?: number;
  /** A source of uniform numbers in [0, 1) (default `Math.random`); injected by tests. */
  random?: () => number;
}

/**
 * Exponential backoff with full jitter: a whole number of ms in `[0, min(capMs, baseMs * 2^attempt)]`,
 * `attempt` counting from 0.
 */
export function backoffDelay(attempt: number, options: BackoffOptions = {}): number {
  const { baseMs = DEFAULT_BACKOFF_BASE_MS, capMs = DEFAULT_BACKOFF_CAP_MS, random = Math.random } = options;
  const ceiling = Math.min(capMs, baseMs * 2 ** Math.max(0, attempt));
  return Math.floor(random() * ceiling);
}

/** Input of {@link retryDelay}. */
interface RetryDelayInput extends BackoffOptions {
  /** How many retries of this call came before this one (0 for the first retry). */
  attempt: number;
  /** The status that failed, when the failure was an HTTP response. */
  status?: number;
  /** The raw `Retry-After` header of that response. */
  retryAfter?: string;
  /** The current time, ms since the epoch (for HTTP-date `Retry-After`). */
  now: number;
}

/**
 * How long to wait before retrying: `Retry-After` when the response gave a readable one, else
 * {@link backoffDelay}. A 429 without `Retry-After` waits at least `baseMs`, so a throttled call is
 * never repeated at once.
 */
export function retryDelay(input: RetryDelayInput): number {
  const fromHeader = parseRetryAfter(input.retryAfter, input.now);
  if (fromHeader !== undefined) return fromHeader;
  const delay = backoffDelay(input.attempt, input);
  return input.status === 429 ? Math.max(input.baseMs ?? DEFAULT_BACKOFF_BASE_MS, delay) : delay;
}
