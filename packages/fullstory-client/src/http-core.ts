import type { IncomingHttpHeaders } from 'node:http';
import type { Readable } from 'node:stream';
import { got } from 'got';
import type { Got } from 'got';
import { AuthError, ConfigError, UnavailableError } from '@fullstory-singer/singer-core';
import { guardBody } from './body-stream.js';
import { ApiError, authFailureMessage, describeNetworkError, sanitizedCause, scrub } from './errors.js';
import { DEFAULT_MAX_RETRY_AFTER_MS } from './options.js';
import type { ClientOptions } from './options.js';
import { backoffDelay, isRetryableNetworkError, isRetryableStatus, KeyWalk, retryDelay } from './retry-policy.js';

/** One HTTP call, before retries. */
export interface RequestSpec {
  method: 'GET' | 'POST';
  /** Path under the base URL, starting with `/`. */
  path: string;
  searchParams?: Record<string, string>;
  /** A serialised JSON body (text or its UTF-8 bytes). */
  body?: string | Buffer;
  /** Extra headers. */
  headers?: Record<string, string>;
  /**
   * The `Idempotency-Key` of each attempt, by its index in a fixed sequence: the same key on a retry,
   * the next one after a 500, which FullStory saves under its key ({@link KeyWalk}). A deterministic
   * sequence, so a rerun that sends the same body walks the same keys and meets the answers saved for them.
   */
  idempotencyKey?: (index: number) => string;
  /** Short name for logs and metrics, e.g. `export/list`. */
  endpoint: string;
  /**
   * Non-2xx statuses handed back to the caller as a {@link JsonResponse} instead of being classified
   * here: the typed API client that sent the call knows what they mean for it (a batch refused for its
   * content, a key that may not read job results).
   */
  passStatuses?: readonly number[];
  /** Aborts the call: the attempt in flight and any wait between attempts; the call rejects with the signal's reason. */
  signal?: AbortSignal;
  /**
   * The path names a resource that may be gone (an export operation saved by an earlier run): a 404
   * is FullStory's answer about it, not a sign of a wrong `base_url`, even before any 2xx.
   */
  mayBeGone?: boolean;
}

/** A 2xx answer to a JSON call. */
export interface JsonResponse {
  status: number;
  /** The body text, `''` when empty (e.g. a 202). */
  text: string;
}

/** What one attempt produced: a usable result, or a status to classify. */
type Outcome<T> = { ok: true; status: number; value: T } | { ok: false; status: number; headers: IncomingHttpHeaders; text: string };

// Error bodies are read for their `code` and `message` only; more than this is never needed, and a
// bound keeps memory flat whatever a proxy sends back.
const MAX_ERROR_BODY_BYTES = 64 * 1024;

const ignore = (): void => undefined;

const defaultSleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Retries of a refused connection before anything ever answered at the base URL: a server that is
 * just starting gets a moment (with the default backoff, at most about 3 s of waiting in all), but a
 * wrong port in `base_url` must not cost the full retry budget (minutes) and then read as an outage.
 */
export const FIRST_CONTACT_REFUSED_RETRIES = 2;

/**
 * The HTTP layer shared by the export and server API clients: headers, timeouts, the retry loop and
 * failure classification. Retries are ours, not got's (got's `retry` is off), so the policy lives in
 * the pure functions of retry-policy.ts and the waits go through the injected `sleep`.
 *
 * Until the base URL has proved itself, failures that point at the configuration are config errors
 * (exit 2) naming `base_url`, not outages (exit 5, "rerun later"):
 * - before any HTTP answer: a refused connection (after {@link FIRST_CONTACT_REFUSED_RETRIES}
 *   quick retries), a host that does not resolve, or a failure no retry can cure (TLS, a wrong scheme);
 * - before any 2xx answer: a 404, which says that address has no such route (FullStory's own routes
 *   exist; a resource that is not found can only come up once the base URL has answered 2xx).
 */
export class HttpCore {
  private readonly got: Got;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly random: () => number;
  private readonly now: () => number;
  private readonly maxRetryAfterMs: number;
  /** Set once any HTTP answer arrives: something listens at the base URL. */
  private answered = false;
  /** Set once a 2xx answer arrives: the base URL has the API's routes. */
  private verified = false;

  /** @param options client settings */
  constructor(private readonly options: ClientOptions) {
    this.sleep = options.sleep ?? defaultSleep;
    this.random = options.random ?? Math.random;
    this.now = options.now ?? Date.now;
    this.maxRetryAfterMs = options.maxRetryAfterMs ?? DEFAULT_MAX_RETRY_AFTER_MS;
    this.got = got.extend({
      prefixUrl: options.baseUrl,
      headers: {
        // The key is sent as issued after "Basic ", not base64 of user:pass
        // (https://developer.fullstory.com/server/authentication).
        authorization: `Basic ${options.apiKey}`,
        'user-agent': options.userAgent,
        accept: 'application/json',
      },
      retry: { limit: 0 },
      throwHttpErrors: false,
      // A redirect could carry the key to another scheme or host; neither API documents one.
      followRedirect: false,
    });
  }

  /**
   * Sends a JSON call with retries and returns its 2xx answer as text.
   * @throws AuthError on 401/403; ApiError on other refusals; UnavailableError when retries run out;
   *   ConfigError when the base URL is wrong (see the class comment)
   */
  async requestJson(spec: RequestSpec): Promise<JsonResponse> {
    return this.withRetries(spec, async (keyIndex) => {
      const response = await this.got(relative(spec.path), {
        ...this.gotOptions(spec, keyIndex),
        responseType: 'text',
        timeout: { request: this.options.timeoutMs },
        ...(spec.signal ? { signal: spec.signal } : {}),
      });
      const text = response.body;
      const status = response.statusCode;
      return (status >= 200 && status < 300) || spec.passStatuses?.includes(status) === true
        ? { ok: true, status, value: { status, text } }
        : { ok: false, status: response.statusCode, headers: response.headers, text };
    });
  }

  /**
   * Opens a GET whose body is returned as a raw byte stream (no decompression), retrying until a 2xx
   * response starts. The stream errors with `BodyInterruptedError` if the body stalls for `timeoutMs`
   * or breaks off; it is not retried here.
   */
  async openStream(spec: RequestSpec): Promise<Readable> {
    const label = describe(spec);
    return this.withRetries(spec, async () => {
      const timeoutMs = this.options.timeoutMs;
      const request = this.got.stream(relative(spec.path), {
        ...this.gotOptions(spec),
        // The tap sniffs gzip itself: FullStory's pages disagree on whether bundles come gzipped
        // (https://developer.fullstory.com/server/v1/exports/get-event-export says "optionally gzipped").
        decompress: false,
        // Until the headers arrive; the body's idle timeout is guardBody's.
        timeout: { lookup: timeoutMs, connect: timeoutMs, secureConnect: timeoutMs, send: timeoutMs, response: timeoutMs },
      });
      // Errors are handled by the listeners below and then by guardBody; this one only keeps a late
      // error on an abandoned request from becoming an uncaught exception.
      request.on('error', ignore);
      const response = await new Promise<{ statusCode: number; headers: IncomingHttpHeaders }>((resolve, reject) => {
        request.once('error', reject);
        request.once('response', (res: { statusCode: number; headers: IncomingHttpHeaders }) => {
          request.off('error', reject);
          resolve(res);
        });
      });
      if (response.statusCode >= 200 && response.statusCode < 300) {
        const body = guardBody(request, { idleTimeoutMs: timeoutMs, label, secret: this.options.apiKey });
        return { ok: true, status: response.statusCode, value: body };
      }
      const text = await readBounded(request, MAX_ERROR_BODY_BYTES);
      return { ok: false, status: response.statusCode, headers: response.headers, text };
    });
  }

  private gotOptions(spec: RequestSpec, keyIndex = 0): {
    method: RequestSpec['method'];
    searchParams: Record<string, string> | undefined;
    headers: Record<string, string>;
    body: string | Buffer | undefined;
  } {
    const headers: Record<string, string> = { ...spec.headers };
    if (spec.body !== undefined) headers['content-type'] = 'application/json';
    if (spec.idempotencyKey) headers['idempotency-key'] = spec.idempotencyKey(keyIndex);
    return { method: spec.method, searchParams: spec.searchParams, headers, body: spec.body };
  }

  /**
   * The retry loop: runs `attempt` until it yields a result or a failure we do not retry. `attempt` is
   * told the index of its `Idempotency-Key` (see RequestSpec.idempotencyKey).
   */
  private async withRetries<T>(spec: RequestSpec, attempt: (keyIndex: number) => Promise<Outcome<T>>): Promise<T> {
    const label = describe(spec);
    const backoff = { baseMs: this.options.backoffBaseMs, capMs: this.options.backoffCapMs, random: this.random };
    let failures = 0; // 5xx, 408 and network failures so far: bounded by maxRetries
    const keys = new KeyWalk();
    let throttles = 0; // 429s so far: bounded by the total wait, not by count
    let throttledMs = 0;
    const signal = spec.signal;
    for (;;) {
      signal?.throwIfAborted();
      const started = performance.now();
      let outcome: Outcome<T>;
      try {
        outcome = await attempt(keys.index);
      } catch (err) {
        this.recordDuration(spec, started, undefined);
        // Aborted by the caller: not a network failure, nothing to retry.
        signal?.throwIfAborted();
        const cause = sanitizedCause(err, this.options.apiKey);
        const reason = describeNetworkError(cause);
        const attempts = `${failures + 1} attempt${failures === 0 ? '' : 's'}`;
        const retryable = isRetryableNetworkError(err);
        const refused = (cause as { code?: unknown }).code === 'ECONNREFUSED';
        if (!this.answered && (!retryable || (refused && failures >= FIRST_CONTACT_REFUSED_RETRIES))) {
          throw new ConfigError(
            `${label}: cannot reach ${this.where()} after ${attempts}: ${reason}; check base_url (and that the host is up)`,
            { cause },
          );
        }
        if (!retryable || failures >= this.options.maxRetries) {
          throw new UnavailableError(`${label}: FullStory unreachable at ${this.where()} after ${attempts}: ${reason}`, { cause });
        }
        const delay = backoffDelay(failures, backoff);
        failures += 1;
        keys.failed(undefined);
        this.options.logger?.warn(`${label} failed; retrying`, { reason, attempt: failures, wait_ms: delay });
        await this.wait(delay, signal);
        continue;
      }
      this.recordDuration(spec, started, outcome.status);
      this.answered = true;
      if (outcome.ok) {
        this.verified = true;
        return outcome.value;
      }

      const { status, headers, text } = outcome;
      const retryAfter = headerValue(headers['retry-after']);
      if (status === 429) {
        const delay = retryDelay({ attempt: throttles, status, retryAfter, now: this.now(), ...backoff });
        throttles += 1;
        if (throttledMs + delay > this.maxRetryAfterMs) {
          throw new UnavailableError(
            `${label}: FullStory kept throttling (429): already waited ${seconds(throttledMs)} s, asked for ` +
              `${seconds(delay)} s more, the limit is ${seconds(this.maxRetryAfterMs)} s`,
          );
        }
        throttledMs += delay;
        this.options.onThrottle?.(delay);
        this.options.logger?.info(`${label} throttled by FullStory (429); waiting`, { wait_ms: delay, throttles });
        await this.wait(delay, signal);
        continue;
      }
      if (status === 401 || status === 403) {
        const code = errorBody(text).code;
        throw new AuthError(`${label}: ${authFailureMessage(status, spec.endpoint, code && scrub(code, this.options.apiKey))}`);
      }
      if (status === 404 && !this.verified && spec.mayBeGone !== true) {
        throw new ConfigError(
          `${label}: 404 from ${this.where()}, which has no such route: check base_url (the API's root URL; ` +
            `paths such as ${spec.path} are added to it)${this.detail(text)}`,
        );
      }
      if (isRetryableStatus(status)) {
        if (failures >= this.options.maxRetries) {
          throw new UnavailableError(
            `${label}: FullStory unavailable after ${failures + 1} attempts: last answer ${status}${this.detail(text)}`,
          );
        }
        const delay = Math.min(this.maxRetryAfterMs, retryDelay({ attempt: failures, status, retryAfter, now: this.now(), ...backoff }));
        failures += 1;
        const key = keys.index;
        keys.failed(status);
        const nextKey = spec.idempotencyKey !== undefined && keys.index !== key;
        this.options.logger?.warn(`${label} got ${status}; retrying${nextKey ? ' under the next Idempotency-Key (FullStory keeps a 500 under its key)' : ''}`, {
          attempt: failures,
          wait_ms: delay,
        });
        await this.wait(delay, signal);
        continue;
      }
      throw this.apiError(label, status, text);
    }
  }

  /** The injected sleep, cut short (rejecting with the reason) when `signal` aborts. */
  private async wait(ms: number, signal: AbortSignal | undefined): Promise<void> {
    if (!signal) return this.sleep(ms);
    signal.throwIfAborted();
    let onAbort: (() => void) | undefined;
    const aborted = new Promise<never>((_resolve, reject) => {
      onAbort = () => reject(signal.reason);
      signal.addEventListener('abort', onAbort, { once: true });
    });
    try {
      await Promise.race([this.sleep(ms), aborted]);
    } finally {
      signal.removeEventListener('abort', onAbort!);
    }
  }

  /** `host (base_url URL)` for messages: the host tried and the setting behind it, without any user:password part. */
  private where(): string {
    try {
      const url = new URL(this.options.baseUrl);
      return `${url.host} (base_url ${url.protocol}//${url.host}${url.pathname.replace(/\/$/, '')})`;
    } catch {
      return 'base_url';
    }
  }

  private apiError(label: string, status: number, text: string): ApiError {
    const { code } = errorBody(text);
    const what = status >= 300 && status < 400 ? 'unexpected redirect' : 'FullStory rejected the request';
    return new ApiError(`${label}: ${what} (${status})${this.detail(text)}`, { status, apiCode: code });
  }

  /** `: <code>: <message>` from a FullStory error body, scrubbed of the key; `''` when there is none. */
  private detail(text: string): string {
    const { code, message } = errorBody(text);
    const parts = [code, message].filter((p): p is string => p !== undefined && p !== '');
    return parts.length === 0 ? '' : `: ${scrub(parts.join(': '), this.options.apiKey).slice(0, 500)}`;
  }

  private recordDuration(spec: RequestSpec, started: number, status: number | undefined): void {
    const ok = status !== undefined && status >= 200 && status < 300;
    this.options.logger?.metric('timer', 'http_request_duration', Math.round(performance.now() - started) / 1000, {
      endpoint: spec.endpoint,
      http_status_code: status ?? null,
      status: ok ? 'succeeded' : 'failed',
    });
  }
}

/** `GET /api/v1/export/list?start=…` — what a message calls a request. Holds no secret. */
function describe(spec: RequestSpec): string {
  const query = spec.searchParams === undefined ? '' : new URLSearchParams(spec.searchParams).toString();
  return `${spec.method} ${spec.path}${query === '' ? '' : `?${query}`}`;
}

/** got's `prefixUrl` wants paths without a leading slash. */
function relative(path: string): string {
  return path.replace(/^\/+/, '');
}

function headerValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

function seconds(ms: number): string {
  return String(Math.round(ms / 100) / 10);
}

/** FullStory's error body is `{"code": "...", "message": "..."}` (the ErrorResponse of its Server API v2 spec). */
function errorBody(text: string): { code?: string; message?: string } {
  try {
    const body: unknown = JSON.parse(text);
    if (typeof body !== 'object' || body === null) return {};
    const { code, message } = body as { code?: unknown; message?: unknown };
    return {
      code: typeof code === 'string' ? code : undefined,
      message: typeof message === 'string' ? message : undefined,
    };
  } catch {
    return {};
  }
}

/** Reads at most `limit` bytes of `stream` as UTF-8, then lets the rest go. Never rejects. */
function readBounded(stream: Readable, limit: number): Promise<string> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const finish = (): void => {
      stream.removeAllListeners('data');
      stream.destroy();
      resolve(Buffer.concat(chunks).toString('utf8'));
    };
    stream.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      size += chunk.length;
      if (size >= limit) finish();
    });
    stream.once('end', finish);
    stream.once('error', finish);
    stream.on('error', ignore);
  });
}
