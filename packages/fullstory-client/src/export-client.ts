import type { Readable } from 'node:stream';
import { parseJson } from '@fullstory-singer/singer-core';
import { ApiError } from './errors.js';
import { HttpCore } from './http-core.js';
import type { ClientOptions } from './options.js';

/** One completed Data Export bundle: it covers events in `[start, stop)`, unix seconds. */
interface ExportBundle {
  /**
   * The bundle id; a `bigint` when it does not fit a double exactly. FullStory documents an integer
   * (https://developer.fullstory.com/server/v1/exports/list-event-exports/); a decimal string is
   * read as the same id, as the Python tap-fullstory does (it treats the id as opaque).
   */
  id: number | bigint;
  start: number;
  stop: number;
}

/**
 * The legacy Data Export v1 API: list completed bundles and download one.
 * Errors: `AuthError` (401/403), `ApiError` (other refusals), `UnavailableError` (retries exhausted).
 */
export class ExportClient {
  private readonly http: HttpCore;

  constructor(options: ClientOptions) {
    this.http = new HttpCore(options);
  }

  /**
   * `GET /api/v1/export/list?start=<unix seconds>`: the next (at most 20) completed bundles whose end
   * is after `start`, oldest first. Ids are parsed losslessly.
   * @throws ApiError when the answer is not `{ "exports": [...] }` of `{Id, Start, Stop}`
   */
  async listBundles(startUnixSeconds: number): Promise<ExportBundle[]> {
    const spec = {
      method: 'GET' as const,
      path: '/api/v1/export/list',
      searchParams: { start: String(Math.floor(startUnixSeconds)) },
      endpoint: 'export/list',
    };
    const { status, text } = await this.http.requestJson(spec);
    const bad = (why: string): ApiError =>
      new ApiError(`GET ${spec.path}: unexpected answer from FullStory: ${why}`, { status, apiCode: 'unexpected_response' });
    let body: unknown;
    try {
      body = parseJson(text);
    } catch {
      throw bad('not JSON');
    }
    if (typeof body !== 'object' || body === null) throw bad('not a JSON object');
    const exports = (body as { exports?: unknown }).exports;
    // An account with no completed bundle yet may answer with no list at all.
    if (exports === undefined || exports === null) return [];
    if (!Array.isArray(exports)) throw bad('"exports" is not an array');
    return exports.map((row: unknown, index) => {
      const { Id, Start, Stop } = (row ?? {}) as { Id?: unknown; Start?: unknown; Stop?: unknown };
      const id = bundleId(Id);
      if (id === undefined || !isInteger(Start) || !isInteger(Stop)) {
        throw bad(`exports[${index}] lacks an integer Id, Start or Stop`);
      }
      return { id, start: Number(Start), stop: Number(Stop) };
    });
  }

  /**
   * `GET /api/v1/export/get?id=<id>`: the bundle's raw body as a byte stream, exactly as sent (it may
   * be gzip: no decompression here). Retries until the response starts with a 2xx; after that, a
   * stall longer than `timeoutMs` or a broken connection errors the stream with
   * `BodyInterruptedError`, and restarting is the caller's job.
   */
  async downloadBundle(id: number | bigint): Promise<Readable> {
    return this.http.openStream({
      method: 'GET',
      path: '/api/v1/export/get',
      searchParams: { id: String(id) },
      // The docs call the body "a JSON document (optionally gzipped)": ask for gzip, which is ~8
      // times fewer bytes, and let the caller sniff what actually came.
      headers: { 'accept-encoding': 'gzip' },
      endpoint: 'export/get',
    });
  }
}

function isInteger(value: unknown): value is number | bigint {
  return typeof value === 'bigint' || Number.isInteger(value);
}

/** An `Id` as listed: an integer, or its decimal string; `bigint` above 2^53. */
function bundleId(value: unknown): number | bigint | undefined {
  if (isInteger(value)) return value;
  if (typeof value !== 'string' || !/^\d{1,40}$/.test(value)) return undefined;
  const big = BigInt(value);
  return big <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(big) : big;
}
