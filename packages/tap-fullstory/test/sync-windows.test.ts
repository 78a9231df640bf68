// The Segment Export sync against the sandbox (in-process, real HTTP): windows, resume, the delay, faults, the keyless download.
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { createLogger, MessageWriter, Redactor, UnavailableError } from '@fullstory-singer/singer-core';
import { MemoryWritable, parseOutputLines } from '@fullstory-singer/singer-core/testing';
import { SegmentExportClient } from '@fullstory-singer/fullstory-client';
import { startSandbox } from 'fullstory-sandbox';
import type { Sandbox, SandboxOptions } from 'fullstory-sandbox';
import { RecordWriter } from '../src/record-writer.js';
import { syncWindows, type WindowSelection } from '../src/segment-export/sync-windows.js';
import { MAX_EXPORTS_PER_WINDOW } from '../src/segment-export/window-export.js';
import { windowEvents } from '../src/streams/events.js';
import { individuals } from '../src/streams/individuals.js';
import { streamSchema } from '../src/streams/registry.js';
import type { SegmentStreamDefinition } from '../src/streams/types.js';
import { expectRecordsMatchSchemas, rowBytes, servedEvents } from './segment-helpers.js';

const SEED = 5;
const KEY = 'sandbox-key';
const START = '2024-01-01T00:00:00Z';
const END = '2024-01-01T12:00:00Z';

const everything = (stream: SegmentStreamDefinition): WindowSelection => ({ stream, schema: streamSchema(stream), dropFields: new Set() });
const EVENTS = everything(windowEvents);
const INDIVIDUALS = everything(individuals);

interface Run {
  stdout: string;
  stderr: string;
  messages: Array<Record<string, unknown>>;
  records: Array<Record<string, unknown>>;
  lines: string[];
  states: Array<Record<string, unknown>>;
  error?: unknown;
}

let shared: Sandbox;
let sandbox: Sandbox | undefined;
const redactor = new Redactor();

beforeAll(async () => {
  shared = await startSandbox({ seed: SEED, bundles: 2, bundleHours: 6, eventsPerBundle: [600, 400], segmentExport: { pendingMs: 60 } });
});
afterAll(async () => shared.close());
afterEach(async () => {
  shared.clearFaults();
  await sandbox?.close();
  sandbox = undefined;
});

async function own(options: SandboxOptions): Promise<Sandbox> {
  sandbox = await startSandbox({ seed: SEED, bundles: 2, bundleHours: 6, eventsPerBundle: [600, 400], ...options });
  return sandbox;
}

async function sync(s: Sandbox, extra: Partial<Parameters<typeof syncWindows>[0]> = {}, timeoutMs = 5000): Promise<Run> {
  const out = new MemoryWritable();
  const err = new MemoryWritable();
  const logger = createLogger({ out: err, level: 'debug', redactor });
  const client = new SegmentExportClient({ apiKey: KEY, baseUrl: s.url, userAgent: 'tap-test', timeoutMs, maxRetries: 2, logger, secrets: redactor, backoffBaseMs: 1 });
  const writer = new MessageWriter(out);
  const run: Partial<Run> = {};
  try {
    await syncWindows({
      client,
      writer: new RecordWriter(writer),
      logger,
      state: {},
      streams: [EVENTS],
      segmentId: 'everyone',
      windowSeconds: 3600,
      delaySeconds: 86400,
      pollIntervalMs: 20,
      exportTimeoutMs: 5000,
      startDate: START,
      endDate: END,
      stateEveryRecords: 25,
      maxRetries: 2,
      backoffBaseMs: 1,
      ...extra,
    });
  } catch (e) {
    run.error = e;
  }
  await writer.end().catch(() => undefined);
  const stdout = Buffer.concat(out.chunks).toString('utf8');
  const messages = parseOutputLines(stdout) as Array<Record<string, unknown>>;
  return {
    ...run,
    stdout,
    stderr: Buffer.concat(err.chunks).toString('utf8'),
    messages,
    lines: stdout.split('\n').filter((l) => l.startsWith('{"type":"RECORD"')),
    records: messages.filter((m) => m['type'] === 'RECORD').map((m) => m['record'] as Record<string, unknown>),
    states: messages.filter((m) => m['type'] === 'STATE').map((m) => m['value'] as Record<string, unknown>),
  };
}

const bookmark = (state: Record<string, unknown> | undefined, stream = 'events'): Record<string, unknown> =>
  ((state?.['bookmarks'] as Record<string, unknown> | undefined)?.[stream] ?? {}) as Record<string, unknown>;

/** Every row as (window start, index, bytes), checked byte for byte against what the sandbox serves, in order. */
function expectExactlyOnce(s: Sandbox, lines: string[], from = START, to = END): void {
  const expected = servedEvents(s, SEED, from, to);
  expect(expected.length).toBeGreaterThan(100);
  const rows = lines.map(rowBytes);
  expect(rows.map((r) => r.row)).toEqual(expected);
  const keys = rows.map((r) => `${r.windowStart}#${r.index}`);
  expect(new Set(keys).size).toBe(keys.length);
}

describe('syncWindows: the window cursor', () => {
  it('a first sync emits every event of [start_date, end_date) once, window by window, byte for byte', async () => {
    const run = await sync(shared);
    expect(run.error).toBeUndefined();
    expectExactlyOnce(shared, run.lines);
    expect(expectRecordsMatchSchemas(run.stdout)).toBe(run.lines.length);
    // Keys name each row: window start and the row's index in its window.
    const first = run.records[0]!;
    expect(first['_sdc_window_start']).toBe('2024-01-01T00:00:00Z');
    expect(first['_sdc_window_index']).toBe(0);
    // A STATE after every window; the last names the last window.
    const wholes = run.states.filter((st) => bookmark(st)['in_progress'] === undefined);
    expect(wholes).toHaveLength(12);
    expect(bookmark(run.states.at(-1))).toEqual({ last_window_start: '2024-01-01T11:00:00Z', last_window_end: END });
    // Checkpoints in between, every 25 rows of a window.
    expect(run.states.some((st) => (bookmark(st)['in_progress'] as { offset?: number } | undefined)?.offset === 25)).toBe(true);
    // Every export asked for one aligned window, all time as the segment range, NDJSON.
    const mine = shared.segmentExports().slice(-12);
    expect(mine.map((e) => e.timeRange.start)).toEqual(Array.from({ length: 12 }, (_, h) => `2024-01-01T${String(h).padStart(2, '0')}:00:00Z`));
    expect(mine.every((e) => e.format === 'FORMAT_NDJSON' && e.segmentTimeRange?.start === '' && e.segmentTimeRange.end === '')).toBe(true);
    // Never more than one export in flight.
    for (let i = 1; i < mine.length; i++) expect(Date.parse(mine[i]!.createdAt)).toBeGreaterThanOrEqual(Date.parse(mine[i - 1]!.finishedAt!));
  });

  it('resumes at a window boundary: only the windows after the bookmark are exported', async () => {
    const state = { bookmarks: { events: { last_window_start: '2024-01-01T06:00:00Z', last_window_end: '2024-01-01T07:00:00Z' } } };
    const before = shared.segmentExports().length;
    const run = await sync(shared, { state });
    expect(run.error).toBeUndefined();
    expectExactlyOnce(shared, run.lines, '2024-01-01T07:00:00Z', END);
    expect(shared.segmentExports().slice(before).map((e) => e.timeRange.start)[0]).toBe('2024-01-01T07:00:00Z');
  });

  it('resumes mid-window from a checkpoint: the saved export is downloaded again and the emitted rows skipped', async () => {
    // A run of window 2; its checkpoint after 50 rows is where a run killed there would resume.
    const cut = await sync(shared, { startDate: '2024-01-01T02:00:00Z', endDate: '2024-01-01T03:00:00Z' });
    expect(cut.error).toBeUndefined();
    const checkpoint = cut.states.find((st) => (bookmark(st)['in_progress'] as { offset: number } | undefined)?.offset === 50)!;
    const ip = bookmark(checkpoint)['in_progress'] as Record<string, unknown>;
    expect(ip).toMatchObject({ window_start: '2024-01-01T02:00:00Z', window_end: '2024-01-01T03:00:00Z', offset: 50 });
    expect(typeof ip['operation_id']).toBe('string');
    const before = shared.segmentExports().length;
    const resumed = await sync(shared, { state: checkpoint, startDate: START, endDate: '2024-01-01T04:00:00Z' });
    expect(resumed.error).toBeUndefined();
    const window2 = servedEvents(shared, SEED, '2024-01-01T02:00:00Z', '2024-01-01T03:00:00Z');
    const rows = resumed.lines.map(rowBytes);
    expect(rows.filter((r) => r.windowStart === '2024-01-01T02:00:00Z').map((r) => r.index)).toEqual(window2.slice(50).map((_, i) => 50 + i));
    expect(rows.map((r) => r.row)).toEqual([...window2.slice(50), ...servedEvents(shared, SEED, '2024-01-01T03:00:00Z', '2024-01-01T04:00:00Z')]);
    // The saved operation was reused: only window 3 was exported anew.
    expect(shared.segmentExports().slice(before).map((e) => e.timeRange.start)).toEqual(['2024-01-01T03:00:00Z']);
  });

  it('exports nothing inside the delay; with nothing settled it prints the current state once', async () => {
    const hour = 3600_000;
    const now = Math.floor(Date.now() / hour) * hour;
    const s = await own({ firstBundle: new Date(now - 30 * hour).toISOString(), segmentExport: { pendingMs: 0 } });
    const delaySeconds = 24 * 3600;
    const run = await sync(s, { startDate: new Date(now - 30 * hour).toISOString(), endDate: undefined, delaySeconds });
    expect(run.error).toBeUndefined();
    const settled = Date.now() - delaySeconds * 1000;
    const exports = s.segmentExports();
    expect(exports.length).toBeGreaterThanOrEqual(5);
    for (const e of exports) expect(Date.parse(e.timeRange.end)).toBeLessThanOrEqual(settled);
    expect(run.records.length).toBeGreaterThan(0);
    for (const r of run.records) expect(Date.parse(r['EventStart'] as string)).toBeLessThan(settled);
    const last = bookmark(run.states.at(-1))['last_window_end'] as string;
    expect(Date.parse(last)).toBeGreaterThan(settled - hour);
    // Again from that state: nothing settled since, so no export and the same state once.
    const again = await sync(s, { state: run.states.at(-1)!, startDate: new Date(now - 30 * hour).toISOString(), endDate: undefined, delaySeconds });
    expect(again.records).toEqual([]);
    expect(again.states).toEqual([run.states.at(-1)]);
    expect(s.segmentExports()).toHaveLength(exports.length);
    expect(again.stderr).toMatch(/no settled window to export/);
  });

  it('individuals alone: one row per individual active in each window, keyed by IndvId', async () => {
    const run = await sync(shared, { streams: [INDIVIDUALS], endDate: '2024-01-01T03:00:00Z' });
    expect(run.error).toBeUndefined();
    expect(run.messages[0]).toMatchObject({ type: 'SCHEMA', stream: 'individuals', key_properties: ['IndvId'] });
    expect(run.messages.every((m) => m['type'] !== 'RECORD' || m['stream'] === 'individuals')).toBe(true);
    expect(expectRecordsMatchSchemas(run.stdout)).toBe(run.records.length);
    for (const window of ['00', '01', '02']) {
      const events = servedEvents(shared, SEED, `2024-01-01T${window}:00:00Z`, `2024-01-01T${window === '02' ? '03' : `0${Number(window) + 1}`}:00:00Z`);
      const ids = new Set(events.map((t) => /"IndvId":(\d+)/.exec(t)![1]!));
      const rows = run.lines.filter((l) => l.includes(`"_sdc_window_start":"2024-01-01T${window}:00:00Z"`)).map((l) => /"IndvId":(\d+)/.exec(l)![1]!);
      expect(rows.sort()).toEqual([...ids].sort());
    }
    expect(bookmark(run.states.at(-1), 'individuals')['last_window_end']).toBe('2024-01-01T03:00:00Z');
    expect(bookmark(run.states.at(-1), 'events')).toEqual({});
  });
});

describe('syncWindows: faults end with nothing lost, or exit 5 with the state never past the window', () => {
  const window = { startDate: '2024-01-01T01:00:00Z', endDate: '2024-01-01T03:00:00Z' };

  it('a FAILED export is made again; 429 on create waits Retry-After; a truncated file and an expired location are fetched again', async () => {
    shared.addFaults([
      { method: 'POST', path: '/segments/v1/exports', action: 'fail', body: 'query timed out', times: MAX_EXPORTS_PER_WINDOW - 1 },
      { method: 'POST', path: '/segments/v1/exports', status: 429, headers: { 'Retry-After': '0' }, times: 1 },
      { method: 'GET', path: '/storage/', action: 'truncate', after_bytes: 3000, times: 1 },
      { method: 'GET', path: '/storage/', status: 400, body: '<Error><Code>ExpiredToken</Code></Error>', times: 1 },
    ]);
    const run = await sync(shared, window);
    expect(run.error).toBeUndefined();
    expect(shared.faults()).toEqual([]);
    expectExactlyOnce(shared, run.lines, window.startDate, window.endDate);
    expect(run.stderr).toMatch(/export failed: query timed out/);
    expect(run.stderr).toMatch(/throttled by FullStory \(429\)/);
    expect(run.stderr).toMatch(/broke off after \d+ rows; downloading it again/);
    expect(run.stderr).toMatch(/download location was refused \(expired\?\); asking for a fresh one/);
  });

  it('an export that keeps FAILING ends with exit 5 naming its errorDetails; the state never passes the window', async () => {
    shared.addFaults({ method: 'POST', path: '/segments/v1/exports', action: 'fail', body: 'segment too large', times: 100 });
    const run = await sync(shared, window);
    expect(run.error).toBeInstanceOf(UnavailableError);
    expect((run.error as UnavailableError).exitCode).toBe(5);
    expect((run.error as Error).message).toMatch(/events window 2024-01-01T01:00:00Z\.\.2024-01-01T02:00:00Z: gave up after 3 exports of the window; the last one failed: segment too large/);
    expect(run.records).toEqual([]);
    for (const st of run.states) expect(bookmark(st)['last_window_end']).toBeUndefined();
  });

  it('locations that are always expired: fresh ones, then new exports, then exit 5 with the state at the window start', async () => {
    const s = await own({ segmentExport: { pendingMs: 0, locationTtlMs: 0 } });
    const run = await sync(s, window);
    expect((run.error as Error).message).toMatch(/gave up after 3 exports of the window; the last one had its download location refused 3 times \(status 400\)/);
    const exports = s.segmentExports();
    expect(exports).toHaveLength(MAX_EXPORTS_PER_WINDOW);
    expect(exports.every((e) => e.expiredDownloads === 3 && e.downloads === 0)).toBe(true);
    for (const st of run.states) expect(bookmark(st)['last_window_end']).toBeUndefined();
  });

  it('a 503 from the storage host and a stalled download are downloaded again; nothing lost', async () => {
    shared.addFaults([
      { method: 'GET', path: '/storage/', status: 503, times: 1 },
      { method: 'GET', path: '/storage/', action: 'stall', after_bytes: 2000, ms: 3000, times: 1 },
    ]);
    // The download's idle timeout (request_timeout_seconds) is shorter than the stall.
    const out = await sync(shared, window, 500);
    expect(out.error).toBeUndefined();
    expect(shared.faults()).toEqual([]);
    expectExactlyOnce(shared, out.lines, window.startDate, window.endDate);
    expect(out.stderr).toMatch(/the storage host answered 503/);
    expect(out.stderr).toMatch(/the response body stalled: no data for 0.5 s/);
  });

  it('a saved operation FullStory no longer knows, and a search export gone before its download: exported again', async () => {
    const state = { bookmarks: { events: { last_window_end: window.startDate, in_progress: { window_start: window.startDate, window_end: '2024-01-01T02:00:00Z', offset: 10, operation_id: 'gone-long-ago' } } } };
    const resumed = await sync(shared, { ...window, state });
    expect(resumed.error).toBeUndefined();
    expect(resumed.stderr).toMatch(/the export of an earlier run cannot be used \(FullStory no longer knows it\); exporting again/);
    const first = servedEvents(shared, SEED, window.startDate, '2024-01-01T02:00:00Z');
    expect(resumed.lines.map(rowBytes).map((r) => r.row)).toEqual([...first.slice(10), ...servedEvents(shared, SEED, '2024-01-01T02:00:00Z', window.endDate)]);
    // Search exports that expire at once: /results answers 404 every time, so every export is made in vain.
    const s = await own({ segmentExport: { pendingMs: 0, searchExportTtlMs: 0 } });
    const run = await sync(s, window);
    expect((run.error as Error).message).toMatch(/gave up after 3 exports of the window; the last one was gone from FullStory \(404\) before it could be downloaded/);
    expect(s.segmentExports()).toHaveLength(MAX_EXPORTS_PER_WINDOW);
    for (const st of run.states) expect(bookmark(st)['last_window_end']).toBeUndefined();
  });

  it('an operation still PENDING after export_timeout_seconds is exported again', async () => {
    shared.addFaults({ method: 'POST', path: '/segments/v1/exports', action: 'pending', ms: 60_000, times: 1 });
    const run = await sync(shared, { ...window, exportTimeoutMs: 300 });
    expect(run.error).toBeUndefined();
    expectExactlyOnce(shared, run.lines, window.startDate, window.endDate);
    expect(run.stderr).toMatch(/export was still PENDING after 0 s \(export_timeout_seconds\)/);
  });

  it('a file that never arrives whole: exit 5 after max_retries downloads, the state at the last checkpoint of that window', async () => {
    shared.addFaults({ method: 'GET', path: '/storage/', action: 'truncate', after_bytes: 5000, times: 100 });
    const run = await sync(shared, window);
    expect(run.error).toBeInstanceOf(UnavailableError);
    expect((run.error as Error).message).toMatch(/events window 2024-01-01T01:00:00Z\.\.2024-01-01T02:00:00Z did not arrive whole after 3 download\(s\)/);
    const last = bookmark(run.states.at(-1));
    expect(last['last_window_end']).toBeUndefined();
    expect(last['in_progress']).toMatchObject({ window_start: '2024-01-01T01:00:00Z' });
    // What was emitted is a prefix of the window, each row once.
    const rows = run.lines.map(rowBytes);
    expect(rows.map((r) => r.row)).toEqual(servedEvents(shared, SEED, window.startDate, window.endDate).slice(0, rows.length));
  });
});

describe('syncWindows: the file', () => {
  it('a file that is a plain JSON array, not gzip, is read too', async () => {
    const rows = servedEvents(shared, SEED, '2024-01-01T01:00:00Z', '2024-01-01T02:00:00Z');
    shared.addFaults({ method: 'GET', path: '/storage/', status: 200, body: `[${rows.join(',')}]`, times: 1 });
    const run = await sync(shared, { startDate: '2024-01-01T01:00:00Z', endDate: '2024-01-01T02:00:00Z' });
    expect(run.error).toBeUndefined();
    expect(shared.faults()).toEqual([]);
    expect(run.lines.map(rowBytes).map((r) => r.row)).toEqual(rows);
  });
});

describe('syncWindows: the download carries no key', () => {
  it('never sends the API key to the storage host, and never prints the location', async () => {
    const s = await own({ segmentExport: { pendingMs: 0 } });
    const run = await sync(s, { endDate: '2024-01-01T02:00:00Z' });
    expect(run.error).toBeUndefined();
    const exports = s.segmentExports();
    expect(exports.map((e) => e.downloads)).toEqual([1, 1]);
    expect(exports.map((e) => e.keyedDownloads)).toEqual([0, 0]);
    const storage = s.requests().filter((r) => r.path.startsWith('/storage/'));
    expect(storage).toHaveLength(2);
    for (const r of storage) {
      expect(r.query).toMatch(/Signature=/);
      const signature = /Signature=([0-9a-f]+)/.exec(r.query)![1]!;
      expect(run.stderr).not.toContain(signature);
      expect(run.stdout).not.toContain(signature);
    }
    expect(run.stderr).not.toContain(KEY);
  });
});
