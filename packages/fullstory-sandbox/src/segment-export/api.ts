/**
 * The HTTP routes of the Segment Export emulation:
 *
 * - `POST /segments/v1/exports` → `{"operationId"}` (400 `invalid_argument` naming a bad field, 404 for an unknown segment)
 * - `GET /operations/v1/{id}` → the operation (404 for an unknown id)
 * - `GET /search/v1/exports/{id}/results` → `{"location", "expires"}` (404 once the search export is gone)
 * - `GET /storage/fullstoryapp-search-export/{id}?Expires=&Signature=` → the gzip file. This is the
 *   "storage host": it answers only requests **without** an `Authorization` header, as a signed
 *   URL carries its own authority, and refuses like a storage host does, with an XML error.
 *
 * The first three need a key (the server checks it); the storage path is served before any key check.
 */
import { createReadStream } from 'node:fs';
import { HttpError, send, sendJson, type Exchange } from '../http.js';
import { parseJsonLossless } from '../json.js';
import { STORAGE_PREFIX, StorageError, type CreateFault, type SegmentExports } from './exports.js';
import { parseExportRequest } from './request.js';

const CREATE = '/segments/v1/exports';
const OPERATION = /^\/operations\/v1\/([^/]+)$/;
const RESULTS = /^\/search\/v1\/exports\/([^/]+)\/results$/;

export class SegmentExportApi {
  constructor(
    private readonly exports: SegmentExports,
    /** The sandbox's own URL, which locations point at. */
    private readonly origin: () => string,
  ) {}

  /** Whether `path` is one of the keyed routes. */
  handles(path: string): boolean {
    return path === CREATE || OPERATION.test(path) || RESULTS.test(path);
  }

  /** Whether `path` is on the storage host. */
  isStorage(path: string): boolean {
    return path.startsWith(STORAGE_PREFIX);
  }

  async handle(x: Exchange, body: () => Promise<Buffer>): Promise<void> {
    if (x.path === CREATE) {
      if (x.method !== 'POST') throw new HttpError(405, 'method_not_allowed', `use POST ${CREATE}`);
      const raw = parseBody((await body()).toString('utf8'));
      const request = parseExportRequest(raw);
      const operationId = this.exports.create(request, raw, createFault(x));
      return sendJson(x, 200, { operationId });
    }
    if (x.method !== 'GET') throw new HttpError(405, 'method_not_allowed', `use GET ${x.path}`);
    const operation = OPERATION.exec(x.path);
    if (operation) return sendJson(x, 200, this.exports.operation(decode(operation[1]!)));
    const results = RESULTS.exec(x.path)!;
    return sendJson(x, 200, this.exports.results(decode(results[1]!), this.origin()));
  }

  /** The storage host's GET of a signed location. */
  async download(x: Exchange): Promise<void> {
    x.req.resume();
    try {
      if (x.method !== 'GET') throw new StorageError(405, 'MethodNotAllowed', 'only GET is supported');
      const id = decode(x.path.slice(STORAGE_PREFIX.length));
      const target = this.exports.download(id, x.query, x.req.headers.authorization !== undefined);
      const file = createReadStream(target.path);
      x.res.once('close', () => file.destroy());
      await send(x, 200, {
        'content-type': 'application/gzip',
        'content-disposition': `attachment; filename="${target.filename}"`,
      }, file);
    } catch (err) {
      if (!(err instanceof StorageError)) throw err;
      const xml = `<?xml version='1.0' encoding='UTF-8'?><Error><Code>${err.code}</Code><Message>${err.message}</Message></Error>`;
      await send(x, err.status, { 'content-type': 'application/xml; charset=UTF-8' }, Buffer.from(xml, 'utf8'));
    }
  }
}

function parseBody(text: string): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = parseJsonLossless(text);
  } catch {
    throw new HttpError(400, 'invalid_argument', 'request body is not valid JSON');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new HttpError(400, 'invalid_argument', 'request body must be a JSON object');
  }
  return parsed as Record<string, unknown>;
}

function decode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw new HttpError(400, 'invalid_argument', 'malformed id in the path');
  }
}

/** A `fail` or `pending` fault armed for this create call. */
function createFault(x: Exchange): CreateFault {
  const fault = x.operationFault;
  if (fault === undefined) return {};
  if (fault.action === 'fail') {
    return { fail: typeof fault.rule.body === 'string' ? fault.rule.body : 'the export failed (sandbox fault)' };
  }
  return { pendingMs: fault.rule.ms ?? 0 };
}
