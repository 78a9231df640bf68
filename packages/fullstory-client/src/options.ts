import type { Logger } from '@fullstory-singer/singer-core';

/** Settings shared by {@link ExportClient} and {@link ServerApiClient}. */
export interface ClientOptions {
  /** The FullStory API key, sent as `Authorization: Basic <key>`. Never written to a message or log. */
  apiKey: string;
  /** Base URL without trailing slash, usually from `resolveHosts`. */
  baseUrl: string;
  /** The `User-Agent` header. */
  userAgent: string;
  /**
   * Per-request timeout in ms: the whole request for JSON calls; for a bundle download, the wait for
   * the response headers and then the longest pause in the body while the consumer wants data.
   */
  timeoutMs: number;
  /** How many times a 5xx, 408 or network failure is retried before `UnavailableError` (429s are not counted). */
  maxRetries: number;
  /**
   * Called with the wait in ms on every 429, before waiting (the target lowers its jobs in flight).
   * Given once, at construction: the client holds no mutable hook.
   */
  onThrottle?: (retryAfterMs: number) => void;
  /** Where warnings, throttling notices and `http_request_duration` metrics go. Default: nowhere. */
  logger?: Logger;
  /** Waits between attempts (default: a real timer). Tests inject one that records and returns at once. */
  sleep?: (ms: number) => Promise<void>;
  /** Uniform numbers in [0, 1) for the backoff jitter (default `Math.random`). */
  random?: () => number;
  /** The clock, ms since the epoch, for HTTP-date `Retry-After` (default `Date.now`). */
  now?: () => number;
  /** First backoff step in ms (default 1000). */
  backoffBaseMs?: number;
  /** Largest backoff step in ms (default 60000). */
  backoffCapMs?: number;
  /**
   * The most one call may wait on 429s in total, in ms (default 15 minutes); a `Retry-After` that
   * would go past it ends the call with `UnavailableError`. Also caps any single `Retry-After` wait on a 5xx.
   */
  maxRetryAfterMs?: number;
}

/** Default of {@link ClientOptions.maxRetryAfterMs}: 15 minutes. */
export const DEFAULT_MAX_RETRY_AFTER_MS = 15 * 60_000;
