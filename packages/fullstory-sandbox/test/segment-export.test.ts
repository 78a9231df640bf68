// Segment Export emulation: create → poll → results → keyless download, over real HTTP.
import { afterEach, describe, expect, it } from '@jest/globals';
import { gunzipSync } from 'node:zlib';
import { generateEventJson, parseJsonLossless, startSandbox, type Sandbox, type SandboxOptions } from '../src/index.js';
import { call, getJson, postJson, waitFor } from './helpers.js';

const DAY = '2024-01-02';
const WINDOW = { start: `${DAY}T01:00:00Z`, end: `${DAY}T03:00:00Z` };
const ALL_TIME = { start: '', end: '' };

let sandbox: Sandbox | undefined;
let clock = Date.parse('2024-02-01T00:00:00Z');
afterEach(async () => {
  await sandbox?.close();
  sandbox = undefined;
  clock = Date.parse('2024-02-01T00:00:00Z');
});

async function start(options: SandboxOptions = {}): Promise<Sandbox> {
  sandbox = await startSandbox({ seed: 3, bundles: 3, eventsPerBundle: 2000, now: () => clock, segmentExport: { pendingMs: 0 }, ...options });
  return sandbox;
}

function exportBody(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { segmentId: 'everyone', type: 'TYPE_EVENT', format: 'FORMAT_NDJSON', timeRange: WINDOW, segmentTimeRange: ALL_TIME, ...extra };
}

/** Creates an export and polls it (advancing no clock) until it is no longer PENDING. */
async function runExport(s: Sandbox, body: Record<string, unknown>): Promise<any> {
  const created = await postJson(s.url, '/segments/v1/exports', body);
  expect(created.status).toBe(200);
  const id = created.body.operationId as string;
  return waitFor(async () => {
    const op = await getJson(s.url, `/operations/v1/${id}`);
    return op.body.state === 'PENDING' ? undefined : op.body;
  });
}

/** The file of a completed operation, fetched without a key. */
async function download(s: Sandbox, op: any): Promise<{ status: number; text: string; headers: Headers }> {
  const results = await getJson(s.url, `/search/v1/exports/${op.results.searchExportId}/results`);
  expect(results.status).toBe(200);
  const res = await fetch(results.body.location);
  const raw = Buffer.from(await res.arrayBuffer());
  return { status: res.status, headers: res.headers, text: res.status === 200 ? gunzipSync(raw).toString('utf8') : raw.toString('utf8') };
}

/** The generated events of `s` with EventStart in [start, end), as Segment Export rows. */
function expectedEvents(s: Sandbox, start: string, end: string): string[] {
  const from = Date.parse(start);
  const to = Date.parse(end);
  return s.bundles().flatMap((b) => [...generateEventJson(3, b.id, b.events!, { start: b.start, stop: b.stop })])
    .filter((t) => {
      const at = Date.parse((parseJsonLossless(t) as { EventStart: string }).EventStart);
      return at >= from && at < to;
    })
    .map((t) => t.replace('"PageAgent":', '"PageUserAgent":').replace('"EventTargetSelectorTok":', '"EventTargetSelector":'));
}

describe('POST /segments/v1/exports: validation', () => {
  it('answers 400 naming the field for each documented mistake, 404 for an unknown segment', async () => {
    const s = await start();
    const cases: Array<[Record<string, unknown>, RegExp]> = [
      [{ ...exportBody(), segmentId: '' }, /segmentId/],
      [{ ...exportBody(), type: 'TYPE_PAGES' }, /type/],
      [{ ...exportBody(), format: 'FORMAT_XML' }, /format/],
      [{ segmentId: 'everyone', type: 'TYPE_EVENT', format: 'FORMAT_NDJSON' }, /timeRange is required/],
      [exportBody({ timeRange: { start: '2024-01-02', end: '' } }), /timeRange\.start/],
      [exportBody({ timeRange: { start: WINDOW.end, end: WINDOW.start } }), /start must be before end/],
      [exportBody({ timeRange: { ...WINDOW, step: 1 } }), /unknown field "step"/],
      [exportBody({ segment: 'everyone' }), /unknown field "segment"/],
      [exportBody({ fields: ['EventStart', 'EventStart'] }), /more than once/],
      [exportBody({ fields: ['PageAgent'] }), /unknown field "PageAgent"/],
      [exportBody({ fields: ['EventTargetSelectorTok'] }), /unknown field "EventTargetSelectorTok"/],
      [exportBody({ type: 'TYPE_INDIVIDUAL', fields: ['evt_*'] }), /does not apply/],
      [exportBody({ fields: 'EventStart' }), /array of strings/],
      [exportBody({ timezone: 'Mars/Olympus' }), /timezone/],
      [{ ...exportBody(), segment_id: 'everyone' }, /given twice/],
    ];
    for (const [body, message] of cases) {
      const res = await postJson(s.url, '/segments/v1/exports', body);
      expect({ status: res.status, code: res.body.code }).toEqual({ status: 400, code: 'invalid_argument' });
      expect(res.body.message).toMatch(message);
    }
    expect((await postJson(s.url, '/segments/v1/exports', '{not json')).status).toBe(400);
    const unknown = await postJson(s.url, '/segments/v1/exports', exportBody({ segmentId: 'nobody' }));
    expect(unknown.status).toBe(404);
    // snake_case, as protobuf JSON also accepts, and a time zone.
    const snake = await postJson(s.url, '/segments/v1/exports', {
      segment_id: 'everyone', type: 'TYPE_EVENT', format: 'FORMAT_JSON', time_range: WINDOW, timezone: 'Europe/Paris',
    });
    expect(snake.status).toBe(200);
    expect(typeof snake.body.operationId).toBe('string');
    expect(s.segmentExports()).toHaveLength(1);
  });

  it('needs a key with export permission', async () => {
    const s = await start({ forbiddenKeys: ['standard-key'] });
    expect((await postJson(s.url, '/segments/v1/exports', exportBody(), { key: null })).status).toBe(401);
    expect((await postJson(s.url, '/segments/v1/exports', exportBody(), { key: 'standard-key' })).status).toBe(403);
    expect((await getJson(s.url, '/operations/v1/whatever', { key: null })).status).toBe(401);
    expect((await getJson(s.url, '/operations/v1/whatever')).status).toBe(404);
    expect((await getJson(s.url, '/segments/v1/exports')).status).toBe(405);
  });
});

describe('operations', () => {
  it('stay PENDING for pendingMs with a rising estimatePctComplete, then COMPLETE with a search export', async () => {
    const s = await start({ segmentExport: { pendingMs: 1000 } });
    const due = new Date(clock + 1000).toISOString();
    const { body } = await postJson(s.url, '/segments/v1/exports', exportBody());
    const poll = async (): Promise<any> => (await getJson(s.url, `/operations/v1/${body.operationId}`)).body;
    // The file is written in the background; completion waits for it and for pendingMs, whichever is later.
    await waitFor(async () => s.segmentExports()[0]!.rows);
    const seen: number[] = [];
    for (const step of [0, 250, 500, 200]) {
      clock += step;
      const op = await poll();
      expect(op).toMatchObject({ id: body.operationId, type: 'SEARCH_EXPORT', state: 'PENDING', results: null, errorDetails: '' });
      seen.push(op.estimatePctComplete);
    }
    expect(seen).toEqual([0, 25, 75, 95]);
    clock += 100;
    const done = await waitFor(async () => {
      const op = await poll();
      return op.state === 'COMPLETED' ? op : undefined;
    });
    expect(done).toMatchObject({ estimatePctComplete: 100, errorDetails: '', finishedAt: due });
    expect(done.results.searchExportId).toMatch(/^[\w-]{40,}$/);
    expect(Date.parse(done.results.expires) - Date.parse(due)).toBe(7 * 86_400_000);
    const [summary] = s.segmentExports();
    expect(summary).toMatchObject({ state: 'COMPLETED', searchExportId: done.results.searchExportId, rows: expectedEvents(s, WINDOW.start, WINDOW.end).length });
  });

  it('a `fail` fault ends the operation FAILED with its errorDetails; a `pending` fault keeps it PENDING', async () => {
    const s = await start();
    s.addFaults([
      { method: 'POST', path: '/segments/v1/exports', action: 'fail', body: 'query timed out' },
      { method: 'POST', path: '/segments/v1/exports', action: 'pending', ms: 60_000 },
    ]);
    const failed = await runExport(s, exportBody());
    expect(failed).toMatchObject({ state: 'FAILED', errorDetails: 'query timed out', results: null });
    const { body } = await postJson(s.url, '/segments/v1/exports', exportBody());
    clock += 59_000;
    expect((await getJson(s.url, `/operations/v1/${body.operationId}`)).body).toMatchObject({ state: 'PENDING', estimatePctComplete: 98 });
    clock += 1000;
    const later = await waitFor(async () => {
      const op = (await getJson(s.url, `/operations/v1/${body.operationId}`)).body;
      return op.state === 'PENDING' ? undefined : op;
    });
    expect(later.state).toBe('COMPLETED');
  });

  it('429 on create through a status fault, with Retry-After', async () => {
    const s = await start();
    s.addFaults({ method: 'POST', path: '/segments/v1/exports', status: 429, headers: { 'Retry-After': '3' } });
    const throttled = await postJson(s.url, '/segments/v1/exports', exportBody());
    expect(throttled.status).toBe(429);
    expect(throttled.headers.get('retry-after')).toBe('3');
    expect((await postJson(s.url, '/segments/v1/exports', exportBody())).status).toBe(200);
  });
});

describe('results and the signed location', () => {
  it('serves the window [start, end) on EventStart, without a key only, on a path of its own', async () => {
    const s = await start();
    const op = await runExport(s, exportBody());
    const results = await getJson(s.url, `/search/v1/exports/${op.results.searchExportId}/results`);
    const location = new URL(results.body.location);
    expect(location.origin).toBe(s.url);
    expect(location.pathname).toBe(`/storage/fullstoryapp-search-export/${op.results.searchExportId}`);
    expect(Date.parse(results.body.expires) - clock).toBe(300_000);
    // With the key: refused, and counted, so tests can prove a client never sends it there.
    const keyed = await call(location.origin, location.pathname + location.search);
    expect(keyed.status).toBe(400);
    expect(await keyed.text()).toContain('<Code>InvalidAuthentication</Code>');
    const res = await fetch(results.body.location);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/gzip');
    expect(res.headers.get('content-disposition')).toBe('attachment; filename="everyone-2024-02-01.ndjson.gz"');
    const lines = gunzipSync(Buffer.from(await res.arrayBuffer())).toString('utf8').split('\n');
    expect(lines.pop()).toBe('');
    const expected = expectedEvents(s, WINDOW.start, WINDOW.end);
    expect(expected.length).toBeGreaterThan(100);
    expect(lines).toEqual(expected);
    expect(lines.some((l) => l.includes('"PageUserAgent":'))).toBe(true);
    expect(lines.some((l) => l.includes('"PageAgent":') || l.includes('"EventTargetSelectorTok":'))).toBe(false);
    expect(s.segmentExports()[0]).toMatchObject({ locations: 1, downloads: 1, keyedDownloads: 1, expiredDownloads: 0 });
  });

  it('a location expires after locationTtlMs; /results signs a new one; a forged one is refused', async () => {
    const s = await start({ segmentExport: { pendingMs: 0, locationTtlMs: 1000, searchExportTtlMs: 5000 } });
    const op = await runExport(s, exportBody());
    const first = (await getJson(s.url, `/search/v1/exports/${op.results.searchExportId}/results`)).body.location as string;
    clock += 1000;
    const expired = await fetch(first);
    expect(expired.status).toBe(400);
    expect(await expired.text()).toContain('<Code>ExpiredToken</Code>');
    const forged = new URL(first);
    forged.searchParams.set('Expires', String(clock + 10_000));
    expect((await fetch(forged)).status).toBe(403);
    const again = await download(s, op);
    expect(again.status).toBe(200);
    expect(s.segmentExports()[0]).toMatchObject({ locations: 2, downloads: 1, expiredDownloads: 1 });
    // Once the search export itself expires, /results answers 404.
    clock += 5000;
    expect((await getJson(s.url, `/search/v1/exports/${op.results.searchExportId}/results`)).status).toBe(404);
  });

  it('a truncate fault on the storage path cuts the gzip file short', async () => {
    const s = await start();
    const op = await runExport(s, exportBody());
    s.addFaults({ method: 'GET', path: '/storage/', action: 'truncate', after_bytes: 200 });
    const { location } = (await getJson(s.url, `/search/v1/exports/${op.results.searchExportId}/results`)).body;
    await expect(fetch(location).then((r) => r.arrayBuffer())).rejects.toThrow();
    expect((await download(s, op)).status).toBe(200);
  });
});

describe('file contents', () => {
  it('FORMAT_JSON is one array of the same rows; FORMAT_CSV a header and a row each', async () => {
    const s = await start();
    const expected = expectedEvents(s, WINDOW.start, WINDOW.end);
    const json = await download(s, await runExport(s, exportBody({ format: 'FORMAT_JSON' })));
    expect(json.text).toBe(`[${expected.join(',')}]`);
    const csv = await download(s, await runExport(s, exportBody({ format: 'FORMAT_CSV', fields: ['EventStart', 'EventType', 'PageUrl', 'evt_*'] })));
    const rows = csv.text.split('\r\n');
    expect(rows.pop()).toBe('');
    expect(rows[0]).toBe('EventStart,EventType,PageUrl');
    expect(rows).toHaveLength(expected.length + 1);
    const first = parseJsonLossless(expected[0]!) as Record<string, string>;
    expect(rows[1]).toBe(`${first['EventStart']},${first['EventType']},${first['PageUrl'] ?? ''}`);
  });

  it('honours fields: the named columns and the custom variables of each wildcard, nothing else', async () => {
    const s = await start();
    // The window opens a bundle, whose first individual has an id above 2^53.
    const timeRange = { start: `${DAY}T00:00:00Z`, end: `${DAY}T01:00:00Z` };
    const file = await download(s, await runExport(s, exportBody({ timeRange, fields: ['IndvId', 'EventStart', 'evt_*', 'page_section_str'] })));
    const rows = file.text.trim().split('\n').map((l) => parseJsonLossless(l) as Record<string, unknown>);
    expect(rows).toHaveLength(expectedEvents(s, timeRange.start, timeRange.end).length);
    const keys = new Set(rows.flatMap((r) => Object.keys(r)));
    expect(keys.has('IndvId') && keys.has('EventStart') && keys.has('page_section_str')).toBe(true);
    expect([...keys].some((k) => k.startsWith('evt_'))).toBe(true);
    expect([...keys].filter((k) => !['IndvId', 'EventStart', 'page_section_str'].includes(k) && !k.startsWith('evt_'))).toEqual([]);
    // Ids above 2^53 keep every digit through the projection.
    expect(rows.some((r) => typeof r['IndvId'] === 'bigint')).toBe(true);
  });

  it('TYPE_INDIVIDUAL: one row per individual with events in the window, lifetime counts', async () => {
    const s = await start();
    const file = await download(s, await runExport(s, exportBody({ type: 'TYPE_INDIVIDUAL' })));
    const rows = file.text.trim().split('\n').map((l) => parseJsonLossless(l) as Record<string, unknown>);
    const events = expectedEvents(s, WINDOW.start, WINDOW.end).map((t) => parseJsonLossless(t) as Record<string, unknown>);
    const inWindow = new Map<string, number>();
    for (const e of events) inWindow.set(String(e['IndvId']), (inWindow.get(String(e['IndvId'])) ?? 0) + 1);
    expect(rows.map((r) => String(r['IndvId'])).sort()).toEqual([...inWindow.keys()].sort());
    for (const r of rows) {
      expect(r['NumEvents']).toBeGreaterThanOrEqual(inWindow.get(String(r['IndvId']))!);
      expect(r['NumSessions']).toBeGreaterThanOrEqual(1);
      expect(typeof r['LastEventStart']).toBe('string');
      expect(Object.keys(r).every((k) => k.startsWith('user_') || /^[A-Z]/.test(k))).toBe(true);
    }
  });

  it('without segmentTimeRange the segment keeps to its own last 30 days; events after now are in no export', async () => {
    const s = await start();
    clock = Date.parse('2024-03-01T00:00:00Z');
    const { segmentTimeRange: _omit, ...body } = exportBody();
    const old = await download(s, await runExport(s, body));
    expect(old.text).toBe('');
    clock = Date.parse(`${DAY}T02:00:00Z`);
    const partial = await download(s, await runExport(s, exportBody()));
    expect(partial.text.trim().split('\n')).toEqual(expectedEvents(s, WINDOW.start, `${DAY}T02:00:00Z`));
  });
});
