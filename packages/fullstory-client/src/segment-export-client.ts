import type { Readable } from 'node:stream';
import { parseJson } from '@fullstory-singer/singer-core';
import { ApiError } from './errors.js';
import { HttpCore, type RequestSpec } from './http-core.js';
import type { ClientOptions } from './options.js';
import { SignedDownloader, type SecretRegistry } from './signed-download.js';

/** A time range of an export request: RFC 3339 UTC, or `""` for an open end. */
interface ExportTimeRange {
  start: string;
  end: string;
}

/** `POST /segments/v1/exports` (https://developer.fullstory.com/server/v1/segments/create-segment-export). */
export interface CreateExportRequest {
  segmentId: string;
  type: 'TYPE_EVENT' | 'TYPE_INDIVIDUAL';
  format: 'FORMAT_NDJSON' | 'FORMAT_JSON';
  /** Which rows: events by `EventStart`, individuals by activity. Start inclusive, end exclusive. */
  timeRange: ExportTimeRange;
  /** Overrides the segment's own range, which would otherwise limit which users match. */
  segmentTimeRange: ExportTimeRange;
  /** Columns to export; absent or empty: every column and every custom variable. */
  fields?: readonly string[];
}

/** The part of an operation (`GET /operations/v1/{id}`) an export needs. */
export type ExportOperation =
  | { state: 'PENDING'; estimatePctComplete: number | undefined }
  | { state: 'COMPLETED'; searchExportId: string }
  | { state: 'FAILED'; errorDetails: string };

/** Options of {@link SegmentExportClient}. */
interface SegmentExportClientOptions extends ClientOptions {
  /**
   * Where each download `location` is registered as a secret while it is in use (singer-core's
   * Redactor fits): it grants the data to whoever holds it, so no log line may show it.
   */
  secrets?: SecretRegistry;
}

/**
 * The export FullStory supports today: create a Segment Export, poll its operation, get the
 * results' signed `location`, download it (https://help.fullstory.com/hc/en-us/articles/360057606414).
 *
 * The first three calls carry the key and go through the retry policy of every API call; a refused
 * key's `AuthError` says exporting needs an Admin or Architect key. The
 * download carries **no** key: the location is a signed URL on a storage host, and sending the key
 * there would hand it to a third party (see {@link SignedDownloader}).
 *
 * Errors: `AuthError` (401/403), {@link ExportNotFoundError} (404 for an operation or search export
 * that no longer exists), `ApiError` (other refusals, answers of the wrong shape), `UnavailableError`.
 */
export class SegmentExportClient {
  private readonly http: HttpCore;
  private readonly downloader: SignedDownloader;

  constructor(options: SegmentExportClientOptions) {
    this.http = new HttpCore(options);
    this.downloader = new SignedDownloader(options);
  }

  /** Creates an export; resolves with its operation id. */
  async createExport(request: CreateExportRequest): Promise<string> {
    const body: Record<string, unknown> = {
      segmentId: request.segmentId,
      type: request.type,
      format: request.format,
      timeRange: request.timeRange,
      segmentTimeRange: request.segmentTimeRange,
    };
    if (request.fields !== undefined && request.fields.length > 0) body['fields'] = request.fields;
    const path = '/segments/v1/exports';
    const answer = await this.json({ method: 'POST', path, body: JSON.stringify(body), endpoint: 'segments/exports' });
    const id = answer['operationId'];
    if (typeof id !== 'string' || id === '') throw unexpected('POST', path, 'no operationId');
    return id;
  }

  /** Where an operation stands. An unknown `state` counts as still pending (the timeout bounds it). */
  async getOperation(operationId: string): Promise<ExportOperation> {
    const path = `/operations/v1/${encodeURIComponent(operationId)}`;
    const op = await this.json({ method: 'GET', path, endpoint: 'operations', mayBeGone: true }, 'operation');
    if (op['type'] !== undefined && op['type'] !== 'SEARCH_EXPORT') {
      throw unexpected('GET', path, `operation of type ${JSON.stringify(op['type'])}, not SEARCH_EXPORT`);
    }
    if (op['state'] === 'COMPLETED') {
      const id = (op['results'] as { searchExportId?: unknown } | null | undefined)?.searchExportId;
      if (typeof id !== 'string' || id === '') throw unexpected('GET', path, 'COMPLETED without results.searchExportId');
      return { state: 'COMPLETED', searchExportId: id };
    }
    if (op['state'] === 'FAILED') {
      const details = op['errorDetails'];
      // Cut, as every text FullStory sends back into a message is: one log line, whatever it sends.
      return { state: 'FAILED', errorDetails: typeof details === 'string' && details !== '' ? details.slice(0, 500) : '(no errorDetails)' };
    }
    const pct = op['estimatePctComplete'];
    return { state: 'PENDING', estimatePctComplete: typeof pct === 'number' && pct >= 0 && pct <= 100 ? pct : undefined };
  }

  /** A fresh signed location of a search export's file (short-lived: fetch it at once, never keep it). */
  async getLocation(searchExportId: string): Promise<string> {
    const path = `/search/v1/exports/${encodeURIComponent(searchExportId)}/results`;
    const answer = await this.json({ method: 'GET', path, endpoint: 'search/exports/results', mayBeGone: true }, 'search export');
    const location = answer['location'];
    if (typeof location !== 'string' || location === '') throw unexpected('GET', path, 'no location');
    return location;
  }

  /** Downloads a location, without the key. See {@link SignedDownloader.open}. */
  download(location: string): Promise<Readable> {
    return this.downloader.open(location);
  }

  /** A JSON call whose 2xx answer must be an object; a 404 becomes {@link ExportNotFoundError} naming `what`. */
  private async json(spec: RequestSpec, what?: string): Promise<Record<string, unknown>> {
    let text: string;
    try {
      ({ text } = await this.http.requestJson(spec));
    } catch (err) {
      if (what !== undefined && err instanceof ApiError && err.status === 404) {
        throw new ExportNotFoundError(`${spec.method} ${spec.path}: FullStory no longer knows this ${what} (404)`);
      }
      throw err;
    }
    let value: unknown;
    try {
      value = parseJson(text);
    } catch {
      throw unexpected(spec.method, spec.path, 'not JSON');
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) throw unexpected(spec.method, spec.path, 'not a JSON object');
    return value as Record<string, unknown>;
  }
}

/** An operation or search export FullStory answers 404 for (gone, or expired): export the window again. */
export class ExportNotFoundError extends ApiError {
  constructor(message: string) {
    super(message, { status: 404, apiCode: 'not_found' });
  }
}

function unexpected(method: string, path: string, why: string): ApiError {
  return new ApiError(`${method} ${path}: unexpected answer from FullStory: ${why}`, { status: 200, apiCode: 'unexpected_response' });
}
