// The events stream and its cursor, end to end against the sandbox (in-process tap, real HTTP).
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startSandbox } from 'fullstory-sandbox';
import type { Sandbox } from 'fullstory-sandbox';
import { removeTempDir, tempDir } from '@fullstory-singer/singer-core/testing';
import { createLogger, MessageWriter } from '@fullstory-singer/singer-core';
import { MemoryWritable } from '@fullstory-singer/singer-core/testing';
import { ExportClient } from '@fullstory-singer/fullstory-client';
import { BundleSource } from '../src/bundle-source.js';
import { RecordWriter } from '../src/record-writer.js';
import { bundleEvents } from '../src/streams/events.js';
import { streamSchema } from '../src/streams/registry.js';
import { syncBundles } from '../src/sync.js';
import { isoFromUnix } from '../src/time.js';
import { bookmarks, keysFrom, ofType, recordKeys, runTap, servedBundles, writeJson } from './helpers.js';
import type { ServedBundle, TapRun } from './helpers.js';

const SEED = 7;
const SIZES = [250, 120, 0];

let sandbox: Sandbox;
let dir: string;
let config: string;
/** The exact JSON text of every served event, per bundle. */
let served: ServedBundle[];

async function configWith(name: string, extra: Record<string, unknown>): Promise<string> {
  return writeJson(dir, name, {
    api_key: 'sandbox-key',
    start_date: '2024-01-01T00:00:00Z',
    base_url: sandbox.url,
    downloads_per_minute: 6000,
    state_every_records: 100,
    max_retries: 3,
    ...extra,
  });
}

function expectedKeys(from: Array<[number, number]>): string[] {
  return keysFrom(served, from);
}

/** Every RECORD line must be the served event's bytes with the two key fields spliced in. */
function expectBytesExact(run: TapRun): void {
  const lines = run.stdout.split('\n').filter((l) => l.startsWith('{"type":"RECORD"'));
  expect(lines.length).toBeGreaterThan(0);
  for (const line of lines) {
    const m = /^\{"type":"RECORD","stream":"events","record":\{"_sdc_bundle_id":(\d+),"_sdc_bundle_index":(\d+),(.*),"time_extracted":"([^"]+)"\}$/.exec(line);
    expect(m).not.toBeNull();
    const bundle = served.find((b) => String(b.id) === m![1])!;
    expect(`{${m![3]!}`).toBe(bundle.texts[Number(m![2])]);
    expect(Number.isNaN(Date.parse(m![4]!))).toBe(false);
  }
}

beforeAll(async () => {
  dir = await tempDir();
  sandbox = await startSandbox({ bundles: 3, eventsPerBundle: SIZES, seed: SEED, downloadsPerMinute: 0 });
  served = servedBundles(sandbox, SEED);
  config = await configWith('config.json', {});
});

afterAll(async () => {
  await sandbox.close();
  await removeTempDir(dir);
});

describe('events stream: the cursor', () => {
  it('fresh: SCHEMA, every event byte for byte, checkpoints every state_every_records, a STATE per bundle', async () => {
    const run = await runTap(['--config', config]);
    expect(run.code).toBe(0);
    const schema = run.messages[0]!;
    expect(schema).toMatchObject({ type: 'SCHEMA', stream: 'events', key_properties: ['_sdc_bundle_id', '_sdc_bundle_index'] });
    expect(recordKeys(run)).toEqual(expectedKeys([[0, 0], [1, 0], [2, 0]]));
    expectBytesExact(run);
    const [b1, b2, b3] = served as [(typeof served)[0], (typeof served)[0], (typeof served)[0]];
    const ip = (b: typeof b1, offset: number): Record<string, unknown> => ({
      bundle_id: b.id, start: isoFromUnix(b.start), stop: isoFromUnix(b.stop), offset,
    });
    expect(bookmarks(run)).toEqual([
      { in_progress: ip(b1, 100) },
      { in_progress: ip(b1, 200) },
      { last_bundle_stop: isoFromUnix(b1.stop), last_bundle_id: b1.id },
      { last_bundle_stop: isoFromUnix(b1.stop), last_bundle_id: b1.id, in_progress: ip(b2, 100) },
      { last_bundle_stop: isoFromUnix(b2.stop), last_bundle_id: b2.id },
      { last_bundle_stop: isoFromUnix(b3.stop), last_bundle_id: b3.id },
    ]);
    // Each STATE comes after exactly the records it accounts for.
    let records = 0;
    const seenAtState: number[] = [];
    for (const m of run.messages) {
      if (m['type'] === 'RECORD') records++;
      if (m['type'] === 'STATE') seenAtState.push(records);
    }
    expect(seenAtState).toEqual([100, 200, 250, 350, 370, 370]);
    expect(run.stderr).toMatch(/INFO METRIC: \{"type":"counter","metric":"record_count","value":250,/);
    expect(run.stderr).toMatch(/"metric":"http_request_duration"/);
  });

  it('resumes at a bundle boundary', async () => {
    const state = await writeJson(dir, 'state-boundary.json', {
      bookmarks: { events: { last_bundle_stop: isoFromUnix(served[0]!.stop), last_bundle_id: served[0]!.id } },
    });
    const run = await runTap(['--config', config, '--state', state]);
    expect(run.code).toBe(0);
    expect(recordKeys(run)).toEqual(expectedKeys([[1, 0], [2, 0]]));
  });

  it('resumes mid-bundle, skipping the events before the offset', async () => {
    const b1 = served[0]!;
    const state = await writeJson(dir, 'state-mid.json', {
      bookmarks: { events: { in_progress: { bundle_id: b1.id, start: isoFromUnix(b1.start), stop: isoFromUnix(b1.stop), offset: 130 } } },
    });
    const run = await runTap(['--config', config, '--state', state]);
    expect(run.code).toBe(0);
    expect(recordKeys(run)).toEqual(expectedKeys([[0, 130], [1, 0], [2, 0]]));
    expectBytesExact(run);
    // The next checkpoint is at the next multiple of state_every_records.
    expect((bookmarks(run)[0]!['in_progress'] as Record<string, unknown>)['offset']).toBe(200);
  });

  it("accepts the Python tap's legacy state", async () => {
    const state = await writeJson(dir, 'state-legacy.json', { events: isoFromUnix(served[0]!.stop) });
    const run = await runTap(['--config', config, '--state', state]);
    expect(run.code).toBe(0);
    expect(recordKeys(run)).toEqual(expectedKeys([[1, 0], [2, 0]]));
    expect(bookmarks(run).at(-1)).toEqual({ last_bundle_stop: isoFromUnix(served[2]!.stop), last_bundle_id: served[2]!.id });
    expect(ofType(run, 'STATE').at(-1)!['value']).not.toHaveProperty('events');
  });

  it('end_date: only bundles that start before it', async () => {
    const cfg = await configWith('config-end.json', { end_date: isoFromUnix(served[1]!.start) });
    const run = await runTap(['--config', cfg]);
    expect(run.code).toBe(0);
    expect(recordKeys(run)).toEqual(expectedKeys([[0, 0]]));
    expect(bookmarks(run).at(-1)).toEqual({ last_bundle_stop: isoFromUnix(served[0]!.stop), last_bundle_id: served[0]!.id });
  });

  it('nothing new: no records, the current STATE once', async () => {
    const value = { bookmarks: { events: { last_bundle_stop: isoFromUnix(served[2]!.stop), last_bundle_id: served[2]!.id } } };
    const state = await writeJson(dir, 'state-current.json', value);
    const run = await runTap(['--config', config, '--state', state]);
    expect(run.code).toBe(0);
    expect(ofType(run, 'RECORD')).toHaveLength(0);
    expect(ofType(run, 'STATE').map((m) => m['value'])).toEqual([value]);
  });

  it('lists in pages of 20 from the last Stop until a page is short', async () => {
    const many = await startSandbox({ bundles: 45, eventsPerBundle: 2, bundleHours: 1, seed: 3, downloadsPerMinute: 0 });
    try {
      const cfg = await writeJson(dir, 'config-many.json', {
        api_key: 'sandbox-key', start_date: '2024-01-01T00:00:00Z', base_url: many.url, downloads_per_minute: 6000,
      });
      const run = await runTap(['--config', cfg]);
      expect(run.code).toBe(0);
      const ids = many.bundles().map((b) => String(b.id));
      expect(recordKeys(run)).toEqual(ids.flatMap((id) => [`${id}:0`, `${id}:1`]));
      const lists = many.requests().filter((r) => r.path === '/api/v1/export/list');
      expect(lists).toHaveLength(3);
      const starts = lists.map((r) => Number(new URLSearchParams(r.query).get('start')));
      const bundles = many.bundles();
      expect(starts).toEqual([Date.parse('2024-01-01T00:00:00Z') / 1000, bundles[19]!.stop, bundles[39]!.stop]);
    } finally {
      await many.close();
    }
  });
});

describe('events stream: body encodings', () => {
  it.each(['identity', 'content-encoding'] as const)('%s: the body is sniffed, not trusted by its headers', async (encoding) => {
    const other = await startSandbox({ bundles: 3, eventsPerBundle: SIZES, seed: SEED, downloadsPerMinute: 0, downloadEncoding: encoding });
    try {
      const cfg = await writeJson(dir, `config-${encoding}.json`, {
        api_key: 'sandbox-key', start_date: '2024-01-01T00:00:00Z', base_url: other.url, downloads_per_minute: 6000,
      });
      const run = await runTap(['--config', cfg]);
      expect(run.code).toBe(0);
      expect(recordKeys(run)).toEqual(expectedKeys([[0, 0], [1, 0], [2, 0]]));
      expectBytesExact(run);
    } finally {
      await other.close();
    }
  });
});

describe('events stream: pacing and progress', () => {
  it('paces downloads to downloads_per_minute', async () => {
    sandbox.reset();
    const cfg = await configWith('config-paced.json', { downloads_per_minute: 120 });
    const run = await runTap(['--config', cfg]);
    expect(run.code).toBe(0);
    const gets = sandbox.requests().filter((r) => r.path === '/api/v1/export/get').map((r) => Date.parse(r.time));
    expect(gets).toHaveLength(3);
    // 120 a minute = one every 500 ms at the earliest, so the third starts ≥ 1 s after the first. A
    // lower bound only (a loaded machine is slower), with a margin for when each request reaches the server.
    expect(gets[2]! - gets[0]!).toBeGreaterThanOrEqual(800);
  });

  it('reports bundle k of n, records and MB/s', async () => {
    const updates: string[] = [];
    const done: string[] = [];
    const logs = new MemoryWritable();
    const logger = createLogger({ out: logs });
    const client = new ExportClient({ apiKey: 'sandbox-key', baseUrl: sandbox.url, userAgent: 'test', timeoutMs: 5000, maxRetries: 1, logger });
    const summary = await syncBundles({
      source: new BundleSource({ client, downloadsPerMinute: 6000 }),
      writer: new RecordWriter(new MessageWriter(new MemoryWritable())),
      logger,
      progress: { update: (t) => updates.push(t), done: (t) => done.push(t ?? '') },
      state: {},
      startDate: '2024-01-01T00:00:00Z',
      stateEveryRecords: 1000,
      maxRetries: 1,
      stream: bundleEvents,
      selection: { stream: bundleEvents, schema: streamSchema(bundleEvents), dropFields: new Set() },
    });
    expect(summary).toMatchObject({ bundles: 3, records: 370 });
    expect(updates.some((u) => /^events: bundle 1 of 3, \d+ records, [\d.]+ MB\/s$/.test(u))).toBe(true);
    expect(updates.some((u) => u.startsWith('events: bundle 2 of 3, '))).toBe(true);
    expect(done).toEqual([expect.stringMatching(/^events: 3 bundle\(s\), 370 records, [\d.]+ MB\/s$/)]);
  });
});
