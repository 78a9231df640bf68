/**
 * Data Export v1: `GET /api/v1/export/list?start=` and `GET /api/v1/export/get?id=`
 * (https://developer.fullstory.com/server/v1/exports/list-event-exports/ and .../get-event-export/).
 * Both also accept POST with the parameters in a JSON body, as the docs allow. The export faults
 * (a stale list, string ids, a bad event, bytes after the body) are applied here.
 */
import { createReadStream } from 'node:fs';
import { Readable } from 'node:stream';
import { constants as zc, createGunzip, createGzip } from 'node:zlib';
import { BundleStream } from './bundle-stream.js';
import type { BundleCatalog } from './bundles.js';
import { HttpError, send, sendJson, type Exchange } from './http.js';
import { parseJsonLossless } from './json.js';
import type { DownloadEncoding } from './types.js';

/** The list API answers at most this many bundles per call. */
const LIST_PAGE_SIZE = 20;

/** Rolling one-minute window of download starts (FullStory allows 2 per minute). */
export class DownloadPacer {
  private starts: number[] = [];
  total = 0;

  constructor(private readonly perMinute: number, private readonly now: () => number) {}

  /** Seconds to wait before the next download may start, or 0 when it may start now. */
  waitSeconds(): number {
    if (this.perMinute <= 0) return 0;
    const now = this.now();
    this.starts = this.starts.filter((t) => now - t < 60_000);
    if (this.starts.length < this.perMinute) return 0;
    return Math.max(1, Math.ceil((this.starts[0]! + 60_000 - now) / 1000));
  }

  record(): void {
    this.starts.push(this.now());
    this.total++;
  }

  reset(): void {
    this.starts = [];
    this.total = 0;
  }
}

/** Reads a parameter from the query string, or from a JSON body on POST. */
async function param(x: Exchange, name: string, body: () => Promise<Buffer>): Promise<unknown> {
  const fromQuery = x.query.get(name);
  if (fromQuery !== null || x.method !== 'POST') return fromQuery ?? undefined;
  const text = (await body()).toString('utf8');
  if (text.trim() === '') return undefined;
  let parsed: unknown;
  try {
    parsed = parseJsonLossless(text);
  } catch {
    throw new HttpError(400, 'invalid_argument', 'request body is not valid JSON');
  }
  return (parsed as Record<string, unknown> | null)?.[name];
}

export async function handleList(x: Exchange, catalog: BundleCatalog, body: () => Promise<Buffer>): Promise<void> {
  const raw = await param(x, 'start', body);
  const start = typeof raw === 'number' ? raw : typeof raw === 'string' && /^-?\d+$/.test(raw) ? Number(raw) : NaN;
  if (!Number.isSafeInteger(start)) throw new HttpError(400, 'invalid_argument', 'start (unix seconds) is required and must be an integer');
  const fault = x.exportFault?.action;
  // A stale answer ignores `start` and lists from the oldest bundle.
  const listed = catalog.list(fault === 'stale_list' ? -Infinity : start, LIST_PAGE_SIZE);
  const exports = listed.map((e) => ({ Id: fault === 'string_ids' ? String(e.meta.id) : e.meta.id, Start: e.meta.start, Stop: e.meta.stop }));
  await sendJson(x, 200, { exports });
}

export async function handleGet(
  x: Exchange, catalog: BundleCatalog, pacer: DownloadPacer, encoding: DownloadEncoding, body: () => Promise<Buffer>,
): Promise<void> {
  const raw = await param(x, 'id', body);
  const key = typeof raw === 'number' && Number.isSafeInteger(raw) && raw >= 0 ? String(raw)
    : typeof raw === 'bigint' && raw >= 0n ? raw.toString()
      : typeof raw === 'string' && /^\d{1,30}$/.test(raw) ? BigInt(raw).toString() : undefined;
  if (key === undefined) throw new HttpError(400, 'invalid_argument', 'id is required and must be an integer');
  const entry = catalog.get(key);
  if (entry === undefined) throw new HttpError(404, 'resource_not_found', `no export bundle with id ${key}`);
  const wait = pacer.waitSeconds();
  if (wait > 0) {
    throw new HttpError(429, 'too_many_requests', 'data export downloads are limited per minute', { 'retry-after': String(wait) });
  }
  pacer.record();

  const meta = entry.meta;
  const fault = x.exportFault;
  if (fault?.action === 'bad_event' && meta.source !== 'generated') {
    throw new HttpError(500, 'sandbox_error', 'the bad_event fault applies to generated bundles only');
  }
  // A generated bundle is produced on demand; a fixture is read from disk. Either way we only
  // ever hold a chunk, and gzip (level 1: fast, and this is a test server) runs as a stream.
  let json: Readable | undefined;
  let gzipped: Readable | undefined;
  if (meta.source === 'generated') {
    const replacement = fault?.action === 'bad_event' ? { index: fault.rule.index!, text: fault.rule.text! } : undefined;
    json = new BundleStream(meta.seed ?? 1, key, meta.events ?? 0, { start: meta.start, stop: meta.stop }, replacement);
  } else if (entry.gzipped) {
    gzipped = createReadStream(meta.file!);
  } else {
    json = createReadStream(meta.file!);
  }
  const headers: Record<string, string> = {};
  let out: Readable;
  if (encoding === 'identity') {
    headers['content-type'] = 'application/json';
    out = json ?? gzipped!.pipe(createGunzip());
  } else {
    out = gzipped ?? json!.pipe(createGzip({ level: 1, memLevel: 9, strategy: zc.Z_DEFAULT_STRATEGY }));
    if (encoding === 'content-encoding') {
      headers['content-type'] = 'application/json';
      headers['content-encoding'] = 'gzip';
    } else {
      headers['content-type'] = 'application/gzip';
      headers['content-disposition'] = 'attachment; filename="DataExport.json.gz"';
    }
  }
  if (fault?.action === 'trailing_bytes') out = withTrailer(out, Buffer.from(fault.rule.text!, 'latin1'));
  // If the client goes away, stop producing.
  x.res.once('close', () => {
    json?.destroy();
    gzipped?.destroy();
    out.destroy();
  });
  await send(x, 200, headers, out);
}

/** `body`, then `trailer` (bytes after the end of the gzip data or of the JSON). */
function withTrailer(body: Readable, trailer: Buffer): Readable {
  return Readable.from(
    (async function* () {
      yield* body;
      yield trailer;
    })(),
    { objectMode: false },
  );
}
