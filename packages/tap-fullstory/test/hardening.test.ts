// The tap against a hostile FullStory (issue 11): invalid events inside valid brackets, stale
// listings, bytes after the gzip data, deep events through the catalog path, events that carry the
// tap's key fields, odd state files, ids as strings, and what the tap says while it works.
// In-process (tapMain under runMain) against the sandbox and its export faults.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { startSandbox } from 'fullstory-sandbox';
import type { Sandbox } from 'fullstory-sandbox';
import type { Catalog } from '@fullstory-singer/singer-core';
import { binPath, logLines, removeTempDir, runBin, tempDir } from '@fullstory-singer/singer-core/testing';
import { isoFromUnix } from '../src/time.js';
import { bookmarks, keysFrom, ofType, recordKeys, runTap, servedBundles, writeJson } from './helpers.js';
import type { ServedBundle, TapRun } from './helpers.js';

const SEED = 23;
const SIZES = [40, 30, 20];
const GET = { method: 'GET', path: '/api/v1/export/get' };
const LIST = { method: 'GET', path: '/api/v1/export/list' };

let sandbox: Sandbox;
let dir: string;
let config: string;
/** The exact JSON text of every served event, per bundle. */
let served: ServedBundle[];

function keysOf(from: Array<[number, number]>): string[] {
  return keysFrom(served, from);
}

/** Every stdout line is one JSON document (what a target reads). */
function expectJsonLines(run: TapRun): void {
  const lines = run.stdout.split('\n');
  expect(lines.pop()).toBe('');
  for (const line of lines) expect(() => JSON.parse(line) as unknown).not.toThrow();
}

function warnings(run: TapRun): string[] {
  return logLines(run.stderr).filter((l) => l.startsWith('WARNING '));
}

async function configWith(name: string, extra: Record<string, unknown>): Promise<string> {
  return writeJson(dir, name, {
    api_key: 'sandbox-key',
    start_date: '2024-01-01T00:00:00Z',
    base_url: sandbox.url,
    downloads_per_minute: 6000,
    state_every_records: 10,
    max_retries: 2,
    ...extra,
  });
}

beforeAll(async () => {
  dir = await tempDir();
  sandbox = await startSandbox({ bundles: 3, eventsPerBundle: SIZES, seed: SEED, downloadsPerMinute: 0 });
  served = servedBundles(sandbox, SEED);
  config = await configWith('config.json', {});
});

afterEach(() => {
  sandbox.clearFaults();
});

afterAll(async () => {
  await sandbox.close();
  await removeTempDir(dir);
});

describe('1. an invalid event inside valid brackets', () => {
  it.each([
    ['a misspelt literal', '{"a":tru}'],
    ['a missing comma', '{"a":1 "b":2}'],
    ['a raw newline in a string', '{"a":"x\ny"}'],
    ['a leading zero', '{"a":01}'],
    ['a bad escape', '{"a":"\\q"}'],
  ])('%s once: the bundle is downloaded again and every event is emitted once, as JSON', async (_name, text) => {
    sandbox.addFaults({ ...GET, times: 1, action: 'bad_event', index: 3, text });
    const run = await runTap(['--config', config]);
    expectJsonLines(run);
    expect(run.code).toBe(0);
    expect(recordKeys(run)).toEqual(keysOf([[0, 0], [1, 0], [2, 0]]));
    expect(run.stderr).toMatch(new RegExp(`bundle ${String(served[0]!.id)} broke off after 3 events; downloading it again`));
    expect(run.stderr).toMatch(/event 3 is not valid JSON/);
  });

  it('an event that stays invalid: exit 5 naming the bundle and the event, the state never past it', async () => {
    sandbox.addFaults({ ...GET, times: 10, action: 'bad_event', index: 13, text: '{"a":1,"b":tru}' });
    const run = await runTap(['--config', config]);
    expectJsonLines(run);
    expect(run.code).toBe(5);
    expect(run.stderr).toMatch(
      new RegExp(`tap-fullstory: error: bundle ${String(served[0]!.id)} did not arrive whole after 3 download\\(s\\): event 13 is not valid JSON: a misspelt literal`),
    );
    expect(recordKeys(run)).toEqual(keysOf([[0, 0]]).slice(0, 13));
    for (const b of bookmarks(run)) {
      expect(b).not.toHaveProperty('last_bundle_id');
      expect((b['in_progress'] as { offset: number }).offset).toBeLessThanOrEqual(13);
    }
  });
});

describe('2. a stale listing never moves the bookmark back', () => {
  it('bundles that end at or before the bookmark are not emitted again', async () => {
    const value = { bookmarks: { events: { last_bundle_stop: isoFromUnix(served[1]!.stop), last_bundle_id: served[1]!.id } } };
    const state = await writeJson(dir, 'state-after-2.json', value);
    sandbox.addFaults({ ...LIST, times: 5, action: 'stale_list' });
    const run = await runTap(['--config', config, '--state', state]);
    expect(run.code).toBe(0);
    expect(recordKeys(run)).toEqual(keysOf([[2, 0]]));
    for (const b of bookmarks(run)) {
      if (b['last_bundle_stop'] !== undefined) expect(Date.parse(b['last_bundle_stop'] as string)).toBeGreaterThanOrEqual(served[1]!.stop * 1000);
    }
    expect(bookmarks(run).at(-1)).toEqual({ last_bundle_stop: isoFromUnix(served[2]!.stop), last_bundle_id: served[2]!.id });
    expect(warnings(run)).toEqual([expect.stringMatching(/export\/list answered 2 bundle\(s\) that end no later than the bookmark or an earlier bundle \(ids \d+, \d+\): skipped, so the bookmark never goes back/)]);
  });

  it('a stale listing with nothing new: no records, the same STATE once', async () => {
    const value = { bookmarks: { events: { last_bundle_stop: isoFromUnix(served[2]!.stop), last_bundle_id: served[2]!.id } } };
    const state = await writeJson(dir, 'state-after-3.json', value);
    sandbox.addFaults({ ...LIST, times: 5, action: 'stale_list' });
    const run = await runTap(['--config', config, '--state', state]);
    expect(run.code).toBe(0);
    expect(ofType(run, 'RECORD')).toHaveLength(0);
    expect(ofType(run, 'STATE').map((m) => m['value'])).toEqual([value]);
  });
});

describe('5. bytes after the gzip data', () => {
  it.each([
    ['a newline', '\n', false],
    ['CR LF', '\r\n', false],
    ['NULs', '\u0000\u0000\u0000\u0000', false],
    ['an HTML page', '<html><body>proxy says hi</body></html>', true],
    ['a second gzip header cut short', '\u001f\u008b\u0008', true],
  ])('%s: the bundle is accepted, every event once (a warning only for other bytes)', async (_name, text, warned) => {
    sandbox.addFaults({ ...GET, times: 3, action: 'trailing_bytes', text });
    const run = await runTap(['--config', config]);
    expect(run.code).toBe(0);
    expect(recordKeys(run)).toEqual(keysOf([[0, 0], [1, 0], [2, 0]]));
    expect(sandbox.requests().filter((r) => r.path === '/api/v1/export/get' && r.fault === 'trailing_bytes')).toHaveLength(3);
    const notes = warnings(run).filter((w) => /^WARNING bundle \d+: .*gzip data/.test(w));
    expect(notes).toHaveLength(warned ? 3 : 0);
    expect(run.stderr).not.toMatch(/downloading it again/);
    sandbox.reset();
  });

  it('a body that goes on after the gzip data is let go after 1 MiB, with one warning', async () => {
    sandbox.addFaults({ ...GET, times: 1, action: 'trailing_bytes', text: 'x'.repeat(1536 * 1024) });
    const run = await runTap(['--config', config]);
    expect(run.code).toBe(0);
    expect(recordKeys(run)).toEqual(keysOf([[0, 0], [1, 0], [2, 0]]));
    expect(warnings(run)).toEqual([expect.stringMatching(/bundle \d+: more than 1048576 byte\(s\) after the end of the gzip data were ignored \(starting with byte 0x78\)/)]);
  });

  it('after a plain JSON body too', async () => {
    const plain = await startSandbox({ bundles: 1, eventsPerBundle: 5, seed: SEED, downloadsPerMinute: 0, downloadEncoding: 'identity' });
    try {
      const cfg = await writeJson(dir, 'config-plain.json', {
        api_key: 'sandbox-key', start_date: '2024-01-01T00:00:00Z', base_url: plain.url, downloads_per_minute: 6000,
      });
      plain.addFaults([{ ...GET, times: 1, action: 'trailing_bytes', text: '\n\n' }, { ...GET, times: 1, action: 'trailing_bytes', text: '\n]junk' }]);
      const quiet = await runTap(['--config', cfg]);
      expect(quiet.code).toBe(0);
      expect(ofType(quiet, 'RECORD')).toHaveLength(5);
      expect(warnings(quiet)).toEqual([]);
      const noisy = await runTap(['--config', cfg]);
      expect(noisy.code).toBe(0);
      expect(ofType(noisy, 'RECORD')).toHaveLength(5);
      expect(warnings(noisy)).toEqual([expect.stringMatching(/5 byte\(s\) after the end of its array were ignored \(starting with '\]'\)/)]);
    } finally {
      await plain.close();
    }
  });
});

describe('6. an event nested 10,000 deep through the catalog path', () => {
  it('is emitted whole when the catalog deselects a field', async () => {
    const deep = `{"EventType":"deep","UserEmail":"x@example.com","d":${'['.repeat(10_000)}1${']'.repeat(10_000)}}`;
    sandbox.addFaults({ ...GET, times: 1, action: 'bad_event', index: 1, text: deep });
    const catalog = (await runTap(['--config', config, '--discover'])).messages[0] as unknown as Catalog;
    for (const m of catalog.streams[0]!.metadata!) {
      if (m.breadcrumb.length === 0) m.metadata['selected'] = true;
      if (m.breadcrumb[1] === 'UserEmail') m.metadata['selected'] = false;
    }
    const path = await writeJson(dir, 'catalog-no-email.json', catalog);
    const run = await runTap(['--config', config, '--catalog', path]);
    expect(run.code).toBe(0);
    expect(recordKeys(run)).toEqual(keysOf([[0, 0], [1, 0], [2, 0]]));
    const line = run.stdout.split('\n').find((l) => l.includes('"EventType":"deep"'))!;
    expect(line).toBe(
      `{"type":"RECORD","stream":"events","record":{"_sdc_bundle_id":${String(served[0]!.id)},"_sdc_bundle_index":1,"EventType":"deep","d":${'['.repeat(10_000)}1${']'.repeat(10_000)}},"time_extracted":${JSON.stringify(/"time_extracted":"([^"]+)"/.exec(line)![1])}}`,
    );
    expect(run.stdout).not.toContain('x@example.com');
  });
});

describe("7. the tap's key fields always win", () => {
  it('an event carrying its own _sdc_bundle_index / _sdc_bundle_id gets the real ones, with one warning', async () => {
    sandbox.addFaults({ ...GET, times: 1, action: 'bad_event', index: 5, text: '{"_sdc_bundle_index":0,"_sdc_bundle_id":1,"EventType":"sneaky"}' });
    const run = await runTap(['--config', config]);
    expect(run.code).toBe(0);
    const keys = recordKeys(run);
    expect(keys).toEqual(keysOf([[0, 0], [1, 0], [2, 0]]));
    expect(new Set(keys).size).toBe(keys.length);
    const sneaky = ofType(run, 'RECORD').map((m) => m['record'] as Record<string, unknown>).find((r) => r['EventType'] === 'sneaky');
    expect(sneaky).toEqual({ _sdc_bundle_id: served[0]!.id, _sdc_bundle_index: 5, EventType: 'sneaky' });
    expect(warnings(run)).toEqual([expect.stringMatching(/1 event\(s\) carried their own _sdc_bundle_id or _sdc_bundle_index \(first: event 5\)/)]);
  });
});

describe('8. state files', () => {
  it('a whole STATE message is unwrapped with one INFO line, and later states are not nested', async () => {
    const value = { bookmarks: { events: { last_bundle_stop: isoFromUnix(served[0]!.stop), last_bundle_id: served[0]!.id } } };
    const state = await writeJson(dir, 'state-message.json', { type: 'STATE', value });
    const run = await runTap(['--config', config, '--state', state]);
    expect(run.code).toBe(0);
    expect(recordKeys(run)).toEqual(keysOf([[1, 0], [2, 0]]));
    expect(run.stderr).toMatch(/INFO state file .*state-message\.json holds a whole STATE message; reading its "value"/);
    for (const m of ofType(run, 'STATE')) expect(Object.keys(m['value'] as object)).toEqual(['bookmarks']);
  });

  it('an in_progress bundle that no longer exists: exit 3 naming it and how to go on', async () => {
    const value = {
      bookmarks: {
        events: {
          last_bundle_stop: isoFromUnix(served[0]!.stop),
          last_bundle_id: served[0]!.id,
          in_progress: { bundle_id: 999, start: isoFromUnix(served[0]!.stop), stop: isoFromUnix(served[0]!.stop + 3600), offset: 7 },
        },
      },
    };
    const state = await writeJson(dir, 'state-gone.json', value);
    const run = await runTap(['--config', config, '--state', state]);
    expect(run.code).toBe(3);
    expect(run.stderr).toMatch(/tap-fullstory: error: .*state-gone\.json: bookmark events\.in_progress names bundle 999 .*no longer serves \(404.*remove "in_progress"/);
    expect(ofType(run, 'RECORD')).toHaveLength(0);
  });

  it('a 0-byte state file is a full sync, with a warning', async () => {
    const path = join(dir, 'state-empty.json');
    await writeFile(path, '');
    const run = await runTap(['--config', config, '--state', path]);
    expect(run.code).toBe(0);
    expect(recordKeys(run)).toEqual(keysOf([[0, 0], [1, 0], [2, 0]]));
    expect(warnings(run)).toEqual([expect.stringMatching(/state file .*state-empty\.json holds no bookmark for events: a full sync from start_date/)]);
  });

  it('a timestamp without an offset is read as UTC, never in the local time zone (the bin under TZ=Asia/Tokyo)', async () => {
    const naive = isoFromUnix(served[0]!.stop).replace(/Z$/, '');
    const state = await writeJson(dir, 'state-naive.json', { bookmarks: { events: { last_bundle_stop: naive, last_bundle_id: served[0]!.id } } });
    const run = await runBin(binPath('tap-fullstory'), ['--config', config, '--state', state], { env: { TZ: 'Asia/Tokyo' } });
    expect(run.code).toBe(0);
    const keys = run.stdout.split('\n').filter((l) => l.startsWith('{"type":"RECORD"')).map((l) => {
      const m = /"_sdc_bundle_id":(\d+),"_sdc_bundle_index":(\d+)/.exec(l)!;
      return `${m[1]}:${m[2]}`;
    });
    expect(keys).toEqual(keysOf([[1, 0], [2, 0]]));
    expect(run.stderr).toMatch(/WARNING .*bookmark events\.last_bundle_stop \(.*\) has no UTC offset; read as UTC/);
  });
});

describe('9. ids and downloads', () => {
  it('bundle ids listed as decimal strings are read as the same ids', async () => {
    sandbox.addFaults({ ...LIST, times: 1, action: 'string_ids' });
    const run = await runTap(['--config', config]);
    expect(run.code).toBe(0);
    expect(recordKeys(run)).toEqual(keysOf([[0, 0], [1, 0], [2, 0]]));
    expect(run.stdout).toContain(`"_sdc_bundle_id":${String(served[0]!.id)},`);
    expect(bookmarks(run).at(-1)).toEqual({ last_bundle_stop: isoFromUnix(served[2]!.stop), last_bundle_id: served[2]!.id });
  });

  it('downloads ask for gzip (Accept-Encoding: gzip)', async () => {
    sandbox.reset();
    const run = await runTap(['--config', config]);
    expect(run.code).toBe(0);
    const gets = sandbox.requests().filter((r) => r.path === '/api/v1/export/get');
    expect(gets.length).toBeGreaterThanOrEqual(3);
    for (const r of gets) expect(r.headers['accept-encoding']).toBe('gzip');
  });
});

describe('10. what the tap says', () => {
  it('logs when the next download is due and why', async () => {
    // 50 a minute: the second and third downloads each wait about 1.2 s for their slot.
    const cfg = await configWith('config-paced.json', { downloads_per_minute: 50 });
    const run = await runTap(['--config', cfg]);
    expect(run.code).toBe(0);
    expect(run.stderr.match(/INFO next download in 1 s: downloads_per_minute=50\n/g)).toHaveLength(2);
  });

  it('says where it resumes from: the bookmark, the bundle and the offset', async () => {
    const b = served[1]!;
    const state = await writeJson(dir, 'state-mid.json', {
      bookmarks: {
        events: {
          last_bundle_stop: isoFromUnix(served[0]!.stop),
          last_bundle_id: served[0]!.id,
          in_progress: { bundle_id: b.id, start: isoFromUnix(b.start), stop: isoFromUnix(b.stop), offset: 12 },
        },
      },
    });
    const run = await runTap(['--config', config, '--state', state]);
    expect(run.code).toBe(0);
    expect(recordKeys(run)).toEqual(keysOf([[1, 12], [2, 0]]));
    expect(run.stderr).toContain(
      `INFO resuming from the state: after bundle ${String(served[0]!.id)} (last_bundle_stop ${isoFromUnix(served[0]!.stop)}); bundle ${String(b.id)} again from event 12 (in_progress)`,
    );
  });

  it('--discover needs no API key (nor any setting)', async () => {
    const run = await runTap(['--discover']);
    expect(run.code).toBe(0);
    expect((run.messages[0] as { streams: unknown[] }).streams).toHaveLength(1);
    // Settings that are given are still checked.
    const bad = await runTap(['--discover'], { TAP_FULLSTORY_MAX_RETRIES: 'lots' });
    expect(bad.code).toBe(2);
  });

  it("the SCHEMA's descriptions cite FullStory's public docs, not files a user does not have", async () => {
    const catalog = (await runTap(['--config', config, '--discover'])).messages[0] as unknown as Catalog;
    const text = JSON.stringify(catalog.streams[0]!.schema);
    expect(text).not.toMatch(/shared\/|fullstory-api\.md|spec\//);
    expect(text).toMatch(/https:\/\/(developer|help)\.fullstory\.com\//);
  });
});
