import type { IncomingHttpHeaders } from 'node:http';
import type { Readable } from 'node:stream';
import { got } from 'got';
import type { Got } from 'got';
import { UnavailableError } from '@fullstory-singer/singer-core';
import { guardBody } from './body-stream.js';
import { ApiError, describeNetworkError, scrub } from './errors.js';
import { isLoopbackHost } from './hosts.js';
import type { ClientOptions } from './options.js';
import { isRetryableNetworkError } from './retry-policy.js';

/** Where short-lived secrets are registered while in use (singer-core's Redactor has this shape). */
export interface SecretRegistry {
  register(secret: string): void;
  forget(secret: string): void;
}

/** What a download is called in every message and metric: the URL itself is a secret. */
const LABEL = 'GET <export location>';

/**
 * The storage host refused a location (4xx): it expired, its signature does not verify, or the
 * file is gone. A fresh location from `/results` may cure it; `status` is the storage host's.
 */
export class LocationRefusedError extends ApiError {
  constructor(status: number) {
    super(`${LABEL}: the storage host refused the download location (${status}): it expired or is no longer valid`, {
      status,
      apiCode: 'location_refused',
    });
  }
}

/** The location is not one the tap may fetch (not https, or credentials in it). Never retried. */
export class UnsafeLocationError extends ApiError {
  constructor(why: string) {
    super(`${LABEL}: refusing to download: ${why}`, { status: 200, apiCode: 'unsafe_location' });
  }
}

/** The storage host failed (5xx, 429) or the connection did before the body started: download again. */
export class LocationUnavailableError extends UnavailableError {
  /** The storage host's status; undefined for a network failure. */
  readonly status: number | undefined;

  constructor(message: string, status: number | undefined, options?: { cause?: unknown }) {
    super(message, options);
    this.status = status;
  }
}

const ignore = (): void => undefined;

/**
 * Downloads a Segment Export `location`: a signed URL on a storage host
 * (https://developer.fullstory.com/server/v1/search/get-search-export-results).
 *
 * - **No key.** The signature is in the URL; the request carries no `Authorization` header, so the
 *   FullStory key never reaches a third party. This is a separate HTTP client from the API's, which
 *   sets the header on every call.
 * - **https only** (plain http only to a loopback host, the sandbox), and no credentials in the URL.
 * - **The URL is a secret** until it expires: it is registered with `secrets` while the download
 *   lasts, never written into a message (they say `<export location>`), and scrubbed from anything
 *   copied out of the HTTP library's errors.
 * - One attempt, no redirects, raw bytes (no decompression: the file is gzip, which the caller
 *   sniffs). Restarting is the caller's job, usually with a fresh location.
 */
export class SignedDownloader {
  private readonly got: Got;

  constructor(private readonly options: ClientOptions & { secrets?: SecretRegistry }) {
    this.got = got.extend({
      headers: { 'user-agent': options.userAgent },
      retry: { limit: 0 },
      throwHttpErrors: false,
      followRedirect: false,
      decompress: false,
    });
  }

  /**
   * Starts the download; resolves with the raw body once a 2xx response starts. The body errors with
   * `BodyInterruptedError` if it stalls for `timeoutMs` or breaks off.
   * @throws UnsafeLocationError, LocationRefusedError (4xx), LocationUnavailableError (5xx, network)
   */
  async open(location: string): Promise<Readable> {
    const url = checkLocation(location);
    const secrets = this.options.secrets;
    secrets?.register(location);
    const forget = (): void => secrets?.forget(location);
    const timeoutMs = this.options.timeoutMs;
    const started = performance.now();
    const request = this.got.stream(url, {
      timeout: { lookup: timeoutMs, connect: timeoutMs, secureConnect: timeoutMs, send: timeoutMs, response: timeoutMs },
    });
    request.on('error', ignore);
    let response: { statusCode: number; headers: IncomingHttpHeaders };
    try {
      response = await new Promise((resolve, reject) => {
        request.once('error', reject);
        request.once('response', (res: { statusCode: number; headers: IncomingHttpHeaders }) => {
          request.off('error', reject);
          resolve(res);
        });
      });
    } catch (err) {
      this.metric(started, undefined);
      forget();
      const reason = scrubbed(describeNetworkError(err), url);
      const cause = Object.assign(new Error(reason), { code: (err as { code?: unknown }).code });
      // A failure another attempt would not cure (a host that does not resolve, a TLS error) is final.
      if (!isRetryableNetworkError(err)) throw new UnavailableError(`${LABEL}: cannot reach the storage host ${url.host}: ${reason}`, { cause });
      throw new LocationUnavailableError(`${LABEL}: ${reason}`, undefined, { cause });
    }
    const status = response.statusCode;
    this.metric(started, status);
    if (status < 200 || status >= 300) {
      request.destroy();
      forget();
      if (status >= 400 && status < 500 && status !== 408 && status !== 429) throw new LocationRefusedError(status);
      if (status >= 300 && status < 400) throw new UnsafeLocationError(`the storage host answered a redirect (${status})`);
      throw new LocationUnavailableError(`${LABEL}: the storage host answered ${status}`, status);
    }
    const body = guardBody(request, { idleTimeoutMs: timeoutMs, label: LABEL, secret: location });
    body.once('close', forget);
    return body;
  }

  private metric(started: number, status: number | undefined): void {
    const ok = status !== undefined && status >= 200 && status < 300;
    this.options.logger?.metric('timer', 'http_request_duration', Math.round(performance.now() - started) / 1000, {
      endpoint: 'export/download',
      http_status_code: status ?? null,
      status: ok ? 'succeeded' : 'failed',
    });
  }
}

/** The location as a URL, if the tap may fetch it. Messages name the scheme and host only. */
function checkLocation(location: string): URL {
  let url: URL;
  try {
    url = new URL(location);
  } catch {
    throw new UnsafeLocationError('the location FullStory gave is not a URL');
  }
  if (url.username !== '' || url.password !== '') throw new UnsafeLocationError(`the location on ${url.host} carries credentials`);
  if (url.protocol === 'https:') return url;
  if (url.protocol === 'http:' && isLoopbackHost(url.hostname)) return url;
  throw new UnsafeLocationError(
    `the location is ${url.protocol}//${url.host}, not https:// (plain http only to a loopback host), so the data would cross a network in clear text`,
  );
}

/** `text` without the URL, its query string or its path: any of them may carry the signature. */
function scrubbed(text: string, url: URL): string {
  let out = text;
  for (const secret of [url.href, url.search.slice(1), url.pathname + url.search]) out = scrub(out, secret);
  return out;
}
