/**
 * The state of the Segment Export emulation, without HTTP: operations, the files they produce,
 * search exports and signed locations (https://developer.fullstory.com/server/v1/segments/create-segment-export,
 * .../operations/get-operation, .../search/get-search-export-results).
 *
 * - Creating an export starts writing its file at once (rows → format → gzip → a temp file), as
 *   FullStory prepares the file while the operation is `PENDING`. The operation completes once its
 *   file is written and at least `pendingMs` has passed; `estimatePctComplete` rises with the time.
 *   A finished file is reused by a later export of the same rows, so a re-export is as fast as a
 *   re-download and gives the same bytes.
 * - A completed operation names a search export; `/results` signs a fresh `location` for it each
 *   time, valid for `locationTtlMs`, while the search export lives (`searchExportTtlMs`).
 * - Events that have not happened yet (after `now`) are in no export, and without
 *   `segmentTimeRange` the segment's own range, "the last 30 days", limits the rows, which is the
 *   trap FullStory's docs and PostHog describe for old windows.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import { HttpError } from '../http.js';
import type { BundleMeta } from '../types.js';
import { encodeRows } from './encode.js';
import { csvColumns } from './fields.js';
import type { ExportRequest } from './request.js';
import { eventRow, eventTexts, individualTexts, project } from './rows.js';
import type { SegmentExportOptions, SegmentExportSummary } from './types.js';

const DAY_MS = 86_400_000;
/** The default range of a segment when the request does not override it. */
const SEGMENT_DEFAULT_RANGE_MS = 30 * DAY_MS;

/** A written export file. */
interface ExportFile {
  path: string;
  rows: number;
}

interface Operation {
  id: string;
  createdAt: number;
  request: ExportRequest;
  summary: SegmentExportSummary;
  /** Earliest completion: `createdAt + pendingMs`. */
  dueAt: number;
  /** errorDetails, when this operation is to fail. */
  failure?: string;
  written?: ExportFile;
  writtenAt?: number;
  writeError?: string;
  finishedAt?: number;
  searchExportId?: string;
  expiresAt?: number;
}

/** The answer of `GET /operations/v1/{id}`. */
interface OperationView {
  id: string;
  type: 'SEARCH_EXPORT';
  details: null;
  results: { expires: string; searchExportId: string } | null;
  state: 'PENDING' | 'COMPLETED' | 'FAILED';
  errorDetails: string;
  createdAt: string;
  finishedAt?: string;
  estimatePctComplete: number;
}

/** What a signed download resolves to. */
interface DownloadTarget {
  path: string;
  filename: string;
  summary: SegmentExportSummary;
}

/** A refusal of the storage host (answered as its XML error document). */
export class StorageError extends Error {
  constructor(readonly status: number, readonly code: string, message: string) {
    super(message);
  }
}

/** Knobs of a single export, from a scripted fault on the create call. */
export interface CreateFault {
  /** The operation ends FAILED with these details. */
  fail?: string;
  /** The operation stays PENDING at least this long. */
  pendingMs?: number;
}

interface SegmentExportsDeps {
  now: () => number;
  /** The timeline: every published bundle, oldest first. */
  bundles: () => readonly BundleMeta[];
  log: (line: string) => void;
}

const iso = (ms: number): string => new Date(ms).toISOString();
const randomId = (bytes: number): string => randomBytes(bytes).toString('base64url');

export class SegmentExports {
  private readonly pendingMs: number;
  private readonly locationTtlMs: number;
  private readonly searchExportTtlMs: number;
  private readonly segments: Set<string>;
  /** Signs locations; new per sandbox, so a location from another run never verifies. */
  private readonly secret = randomBytes(32);
  private operations = new Map<string, Operation>();
  private bySearchId = new Map<string, Operation>();
  /** Files by what they hold, so an identical export reuses one. */
  private files = new Map<string, Promise<ExportFile>>();
  private dir: Promise<string> | undefined;

  constructor(options: SegmentExportOptions, private readonly deps: SegmentExportsDeps) {
    this.pendingMs = options.pendingMs ?? 1000;
    this.locationTtlMs = options.locationTtlMs ?? 300_000;
    this.searchExportTtlMs = options.searchExportTtlMs ?? 7 * DAY_MS;
    for (const [name, value] of Object.entries({ pendingMs: this.pendingMs, locationTtlMs: this.locationTtlMs, searchExportTtlMs: this.searchExportTtlMs })) {
      if (!(Number.isFinite(value) && value >= 0)) throw new Error(`segmentExport.${name} must be a number ≥ 0`);
    }
    this.segments = new Set(['everyone', ...(options.segments ?? [])]);
  }

  /** Starts an export; returns its operation id. @throws HttpError 404 for an unknown segment */
  create(request: ExportRequest, raw: Record<string, unknown>, fault: CreateFault = {}): string {
    if (!this.segments.has(request.segmentId)) {
      throw new HttpError(404, 'not_found', `segment ${JSON.stringify(request.segmentId)} not found`);
    }
    const now = this.deps.now();
    const id = randomId(12);
    const summary: SegmentExportSummary = {
      operationId: id,
      segmentId: request.segmentId,
      type: request.type,
      format: request.format,
      timeRange: rangeAsSent(raw['timeRange'] ?? raw['time_range']),
      fields: [...request.fields],
      state: 'PENDING',
      createdAt: iso(now),
      locations: 0,
      downloads: 0,
      keyedDownloads: 0,
      expiredDownloads: 0,
    };
    const segmentRange = raw['segmentTimeRange'] ?? raw['segment_time_range'];
    if (segmentRange !== undefined) summary.segmentTimeRange = rangeAsSent(segmentRange);
    const op: Operation = { id, createdAt: now, request, summary, dueAt: now + (fault.pendingMs ?? this.pendingMs) };
    if (fault.fail !== undefined) op.failure = fault.fail;
    else {
      this.file(request, now).then(
        (file) => {
          op.written = file;
          op.writtenAt = this.deps.now();
          summary.rows = file.rows;
        },
        (err: unknown) => {
          op.writeError = err instanceof Error ? err.message : String(err);
          this.deps.log(`segment export ${id}: writing the file failed: ${op.writeError}`);
        },
      );
    }
    this.operations.set(id, op);
    return id;
  }

  /** `GET /operations/v1/{id}`. @throws HttpError 404 for an unknown id */
  operation(id: string): OperationView {
    const op = this.operations.get(id);
    if (op === undefined) throw new HttpError(404, 'not_found', `operation ${JSON.stringify(id)} not found`);
    const now = this.deps.now();
    this.settle(op, now);
    const state = op.summary.state;
    const view: OperationView = {
      id: op.id,
      type: 'SEARCH_EXPORT',
      details: null,
      results: state === 'COMPLETED' ? { expires: iso(op.expiresAt!), searchExportId: op.searchExportId! } : null,
      state,
      errorDetails: state === 'FAILED' ? (op.failure ?? 'the export could not be prepared') : '',
      createdAt: iso(op.createdAt),
      estimatePctComplete: state === 'PENDING' ? pendingPercent(op, now) : 100,
    };
    if (op.finishedAt !== undefined) view.finishedAt = iso(op.finishedAt);
    return view;
  }

  /** `GET /search/v1/exports/{id}/results`: a freshly signed location. @throws HttpError 404 */
  results(searchExportId: string, origin: string): { location: string; expires: string } {
    const op = this.bySearchId.get(searchExportId);
    const now = this.deps.now();
    if (op === undefined || now >= op.expiresAt!) {
      throw new HttpError(404, 'not_found', `search export ${JSON.stringify(searchExportId)} not found or expired`);
    }
    op.summary.locations++;
    const expires = now + this.locationTtlMs;
    const location = `${origin}${STORAGE_PREFIX}${searchExportId}?Expires=${expires}&Signature=${this.sign(searchExportId, expires)}`;
    return { location, expires: iso(expires) };
  }

  /**
   * Checks a download of the storage host the way a signed URL is checked: no `Authorization`
   * header, a valid signature, not expired, a search export that still exists.
   * @throws StorageError
   */
  download(searchExportId: string, query: URLSearchParams, hasAuthorization: boolean): DownloadTarget {
    const op = this.bySearchId.get(searchExportId);
    if (hasAuthorization) {
      if (op) op.summary.keyedDownloads++;
      throw new StorageError(400, 'InvalidAuthentication', 'a signed URL must not be sent with an Authorization header');
    }
    const expires = Number(query.get('Expires'));
    const signature = query.get('Signature') ?? '';
    if (!Number.isSafeInteger(expires) || !this.verify(searchExportId, expires, signature)) {
      throw new StorageError(403, 'SignatureDoesNotMatch', 'the request signature does not match');
    }
    const now = this.deps.now();
    if (now >= expires) {
      if (op) op.summary.expiredDownloads++;
      throw new StorageError(400, 'ExpiredToken', 'the provided token has expired');
    }
    if (op === undefined || op.written === undefined || now >= op.expiresAt!) {
      throw new StorageError(404, 'NoSuchKey', 'the specified key does not exist');
    }
    op.summary.downloads++;
    const day = iso(op.createdAt).slice(0, 10);
    const ext = { FORMAT_NDJSON: 'ndjson', FORMAT_JSON: 'json', FORMAT_CSV: 'csv' }[op.request.format];
    const filename = `${op.request.segmentId.replace(/[^\w.-]/g, '_')}-${day}.${ext}.gz`;
    return { path: op.written.path, filename, summary: op.summary };
  }

  /** Every export so far, oldest first. */
  summaries(): SegmentExportSummary[] {
    const now = this.deps.now();
    return [...this.operations.values()].map((op) => {
      this.settle(op, now);
      return { ...op.summary, fields: [...op.summary.fields] };
    });
  }

  /** Forgets every export and deletes their files. */
  async reset(): Promise<void> {
    this.operations = new Map();
    this.bySearchId = new Map();
    this.files = new Map();
    const dir = this.dir;
    this.dir = undefined;
    if (dir) await rm(await dir, { recursive: true, force: true });
  }

  private settle(op: Operation, now: number): void {
    if (op.finishedAt !== undefined || now < op.dueAt) return;
    if (op.failure !== undefined || op.writeError !== undefined) {
      op.summary.state = 'FAILED';
      op.finishedAt = Math.max(op.dueAt, op.writtenAt ?? 0);
      op.summary.finishedAt = iso(op.finishedAt);
      return;
    }
    if (op.written === undefined) return;
    op.summary.state = 'COMPLETED';
    op.finishedAt = Math.max(op.dueAt, op.writtenAt!);
    op.summary.finishedAt = iso(op.finishedAt);
    op.searchExportId = randomId(32);
    op.summary.searchExportId = op.searchExportId;
    op.expiresAt = op.finishedAt + this.searchExportTtlMs;
    this.bySearchId.set(op.searchExportId, op);
  }

  /** The file with the rows of `request` (written once per distinct content). */
  private file(request: ExportRequest, now: number): Promise<ExportFile> {
    const { from, to } = effectiveRange(request, now);
    const bundles = this.deps.bundles();
    // Bundles are only ever added, so their count tells one timeline from the next.
    const key = JSON.stringify([request.type, request.format, request.fields, from, to, bundles.length]);
    let file = this.files.get(key);
    if (file === undefined) {
      file = this.write(request, bundles, from, to);
      this.files.set(key, file);
      file.catch(() => this.files.delete(key));
    }
    return file;
  }

  private async write(request: ExportRequest, bundles: readonly BundleMeta[], from: number, to: number): Promise<ExportFile> {
    this.dir ??= mkdtemp(join(tmpdir(), 'fullstory-sandbox-exports-'));
    const path = join(await this.dir, `${randomId(9)}.gz`);
    const projection = request.projection;
    const rows =
      request.type === 'TYPE_EVENT'
        ? map(eventTexts(bundles, from, to), (text) => eventRow(text, projection))
        : map(individualTexts(bundles, from, to), (text) => (projection === undefined ? text : project(text, projection)));
    const body = encodeRows(rows, request.format, csvColumns(request.type, projection));
    // Level 1, as the bundle downloads: fast, and a test server's files need not be small.
    await pipeline(body, createGzip({ level: 1 }), createWriteStream(path));
    return { path, rows: request.format === 'FORMAT_CSV' ? body.items - 1 : body.items };
  }

  private sign(id: string, expires: number): string {
    return createHmac('sha256', this.secret).update(`${id}\n${expires}`).digest('hex');
  }

  private verify(id: string, expires: number, signature: string): boolean {
    const expected = Buffer.from(this.sign(id, expires), 'hex');
    const given = /^[0-9a-f]{64}$/.test(signature) ? Buffer.from(signature, 'hex') : Buffer.alloc(0);
    return given.length === expected.length && timingSafeEqual(given, expected);
  }
}

/** Where signed locations point: a path of their own, outside the API. */
export const STORAGE_PREFIX = '/storage/fullstoryapp-search-export/';

/** `[from, to)` in ms: the time range, clipped to what has happened and to the segment's range. */
function effectiveRange(request: ExportRequest, now: number): { from: number; to: number } {
  let from = request.timeRange.start ?? -Infinity;
  let to = Math.min(request.timeRange.end ?? now, now);
  const segment = request.segmentTimeRange ?? { start: now - SEGMENT_DEFAULT_RANGE_MS, end: now };
  if (segment.start !== undefined) from = Math.max(from, segment.start);
  if (segment.end !== undefined) to = Math.min(to, segment.end);
  return { from, to };
}

function pendingPercent(op: Operation, now: number): number {
  const span = op.dueAt - op.createdAt;
  const share = span > 0 ? (now - op.createdAt) / span : 1;
  return Math.min(99, Math.max(0, Math.floor(share * 100)));
}

function rangeAsSent(value: unknown): { start: string; end: string } {
  const r = (value ?? {}) as { start?: unknown; end?: unknown };
  return { start: typeof r.start === 'string' ? r.start : '', end: typeof r.end === 'string' ? r.end : '' };
}

function* map<T, U>(source: Iterable<T>, f: (value: T) => U): Generator<U> {
  for (const value of source) yield f(value);
}
