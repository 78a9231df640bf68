// source: segment_export through the command line (in-process tapMain against the sandbox): settings,
// discovery, catalog selection, state files, exit codes, and every RECORD against its SCHEMA.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startSandbox } from 'fullstory-sandbox';
import type { Sandbox } from 'fullstory-sandbox';
import type { Catalog } from '@fullstory-singer/singer-core';
import { removeTempDir, tempDir } from '@fullstory-singer/singer-core/testing';
import { ofType, runTap, writeJson } from './helpers.js';
import type { TapRun } from './helpers.js';
import { expectRecordsMatchSchemas, rowBytes, servedEvents } from './segment-helpers.js';

const SEED = 9;
let sandbox: Sandbox;
let dir: string;
let config: string;

/** A Segment Export config for the sandbox: 3 hourly windows of 2024-01-01, tiny poll interval, no delay past them. */
async function configWith(name: string, extra: Record<string, unknown> = {}): Promise<string> {
  return writeJson(dir, name, {
    api_key: 'sandbox-key',
    start_date: '2024-01-01T00:00:00Z',
    end_date: '2024-01-01T03:00:00Z',
    base_url: sandbox.url,
    source: 'segment_export',
    export_poll_interval_seconds: 0.05,
    state_every_records: 40,
    max_retries: 2,
    ...extra,
  });
}

const bookmarkOf = (run: TapRun, stream: string): Record<string, unknown> | undefined => {
  const last = ofType(run, 'STATE').at(-1)?.['value'] as { bookmarks?: Record<string, Record<string, unknown>> } | undefined;
  return last?.bookmarks?.[stream];
};

beforeAll(async () => {
  dir = await tempDir();
  sandbox = await startSandbox({ seed: SEED, bundles: 1, bundleHours: 6, eventsPerBundle: 600, segmentExport: { pendingMs: 100 }, forbiddenKeys: ['na1.standard-key'] });
  config = await configWith('config.json');
});

afterAll(async () => {
  await sandbox.close();
  await removeTempDir(dir);
});

describe('source segment_export: sync', () => {
  it('emits events and individuals, every RECORD valid against its SCHEMA, every event once', async () => {
    const run = await runTap(['--config', config]);
    expect(run.code).toBe(0);
    const schemas = ofType(run, 'SCHEMA');
    expect(schemas.map((s) => [s['stream'], s['key_properties']])).toEqual([
      ['events', ['_sdc_window_start', '_sdc_window_index']],
      ['individuals', ['IndvId']],
    ]);
    const lines = run.stdout.split('\n').filter((l) => l.startsWith('{"type":"RECORD","stream":"events"'));
    expect(lines.map((l) => rowBytes(l).row)).toEqual(servedEvents(sandbox, SEED, '2024-01-01T00:00:00Z', '2024-01-01T03:00:00Z'));
    const checked = expectRecordsMatchSchemas(run.stdout);
    expect(checked).toBe(ofType(run, 'RECORD').length);
    expect(checked).toBeGreaterThan(lines.length);
    expect(bookmarkOf(run, 'events')).toEqual({ last_window_start: '2024-01-01T02:00:00Z', last_window_end: '2024-01-01T03:00:00Z' });
    expect(bookmarkOf(run, 'individuals')).toEqual({ last_window_start: '2024-01-01T02:00:00Z', last_window_end: '2024-01-01T03:00:00Z' });
    // Progress and the operation appear on stderr; the key never does.
    expect(run.stderr).toMatch(/events window 2024-01-01T00:00:00Z\.\.2024-01-01T01:00:00Z: export ready/);
    expect(run.stderr).not.toContain('sandbox-key');
  });

  it('resumes from a state file at a window boundary; nothing settled since: the same state once', async () => {
    const state = await writeJson(dir, 'state.json', {
      bookmarks: { events: { last_window_end: '2024-01-01T02:00:00Z' }, individuals: { last_window_end: '2024-01-01T03:00:00Z' } },
    });
    const run = await runTap(['--config', config, '--state', state]);
    expect(run.code).toBe(0);
    const events = ofType(run, 'RECORD').filter((m) => m['stream'] === 'events');
    expect(events.length).toBe(servedEvents(sandbox, SEED, '2024-01-01T02:00:00Z', '2024-01-01T03:00:00Z').length);
    expect(ofType(run, 'RECORD').some((m) => m['stream'] === 'individuals')).toBe(false);
    const done = await writeJson(dir, 'done.json', ofType(run, 'STATE').at(-1)!['value']);
    const again = await runTap(['--config', config, '--state', done]);
    expect(again.code).toBe(0);
    expect(ofType(again, 'RECORD')).toEqual([]);
    expect(ofType(again, 'STATE').map((m) => m['value'])).toEqual([ofType(run, 'STATE').at(-1)!['value']]);
  });

  it('continues from a Data Export bookmark without a resync', async () => {
    const state = await writeJson(dir, 'legacy.json', { bookmarks: { events: { last_bundle_stop: '2024-01-01T02:00:00Z', last_bundle_id: 7 } } });
    const run = await runTap(['--config', await configWith('events-only.json'), '--state', state]);
    expect(run.code).toBe(0);
    const first = ofType(run, 'RECORD').find((m) => m['stream'] === 'events')!['record'] as Record<string, unknown>;
    expect(first['_sdc_window_start']).toBe('2024-01-01T02:00:00Z');
  });
});

describe('source segment_export: discovery and selection', () => {
  it('--discover lists events (window keys) and individuals (IndvId)', async () => {
    const run = await runTap(['--config', config, '--discover']);
    expect(run.code).toBe(0);
    const catalog = run.messages[0] as unknown as Catalog;
    expect(catalog.streams.map((s) => [s.tap_stream_id, s.key_properties])).toEqual([
      ['events', ['_sdc_window_start', '_sdc_window_index']],
      ['individuals', ['IndvId']],
    ]);
    const individuals = catalog.streams[1]!;
    const md = (field: string): unknown => individuals.metadata!.find((m) => m.breadcrumb[1] === field)!.metadata['inclusion'];
    expect([md('IndvId'), md('_sdc_window_start'), md('_sdc_window_index'), md('Email')]).toEqual(['automatic', 'automatic', 'automatic', 'available']);
    expect((individuals.schema['properties'] as Record<string, unknown>)['_sdc_window_start']).toEqual(expect.objectContaining({ format: 'date-time' }));
  });

  it('a catalog selecting individuals alone emits only individuals, and exports only TYPE_INDIVIDUAL', async () => {
    const discovered = (await runTap(['--config', config, '--discover'])).messages[0] as unknown as Catalog;
    const catalog: Catalog = {
      streams: discovered.streams.map((s) => ({
        ...s,
        metadata: s.metadata!.map((m) => (m.breadcrumb.length === 0 ? { ...m, metadata: { ...m.metadata, selected: s.tap_stream_id === 'individuals' } } : m)),
      })),
    };
    const before = sandbox.segmentExports().length;
    const run = await runTap(['--config', config, '--catalog', await writeJson(dir, 'catalog.json', catalog)]);
    expect(run.code).toBe(0);
    expect(ofType(run, 'SCHEMA').map((s) => s['stream'])).toEqual(['individuals']);
    expect(new Set(ofType(run, 'RECORD').map((m) => m['stream']))).toEqual(new Set(['individuals']));
    expect(sandbox.segmentExports().slice(before).map((e) => e.type)).toEqual(['TYPE_INDIVIDUAL', 'TYPE_INDIVIDUAL', 'TYPE_INDIVIDUAL']);
    expect(bookmarkOf(run, 'events')).toBeUndefined();
    expectRecordsMatchSchemas(run.stdout);
  });

  it('a field left out by the catalog is not asked for nor emitted; custom variables still come through their wildcards', async () => {
    const discovered = (await runTap(['--config', config, '--discover'])).messages[0] as unknown as Catalog;
    const events = discovered.streams[0]!;
    const catalog: Catalog = {
      streams: [{
        ...events,
        metadata: events.metadata!.map((m) => {
          if (m.breadcrumb.length === 0) return { ...m, metadata: { ...m.metadata, selected: true } };
          if (m.breadcrumb[1] === 'UserEmail') return { ...m, metadata: { ...m.metadata, selected: false } };
          return m;
        }),
      }],
    };
    const before = sandbox.segmentExports().length;
    const run = await runTap(['--config', await configWith('one-window.json', { end_date: '2024-01-01T01:00:00Z' }), '--catalog', await writeJson(dir, 'narrow.json', catalog)]);
    expect(run.code).toBe(0);
    const [sent] = sandbox.segmentExports().slice(before);
    expect(sent!.fields).toContain('EventStart');
    expect(sent!.fields).toEqual(expect.arrayContaining(['user_*', 'evt_*', 'page_*']));
    expect(sent!.fields).not.toContain('UserEmail');
    expect(sent!.fields).not.toContain('PageAgent');
    expect(sent!.fields).not.toContain('_sdc_window_start');
    const records = ofType(run, 'RECORD').map((m) => m['record'] as Record<string, unknown>);
    expect(records.length).toBeGreaterThan(0);
    expect(records.some((r) => 'UserEmail' in r)).toBe(false);
    expect(records.some((r) => Object.keys(r).some((k) => k.startsWith('evt_')))).toBe(true);
    expect(ofType(run, 'SCHEMA')[0]!['schema']).not.toHaveProperty(['properties', 'UserEmail']);
  });
});

describe('source segment_export: settings and exit codes', () => {
  it('Segment Export settings given with source data_export are ignored with one warning', async () => {
    const legacy = await startSandbox({ bundles: 1, eventsPerBundle: 5, downloadsPerMinute: 0 });
    try {
      const cfg = await writeJson(dir, 'data-export.json', {
        api_key: 'sandbox-key', start_date: '2024-01-01T00:00:00Z', base_url: legacy.url, source: 'data_export',
        segment_id: 'everyone', export_window_seconds: 3600, export_delay_seconds: 0,
      });
      const run = await runTap(['--config', cfg]);
      expect(run.code).toBe(0);
      expect(ofType(run, 'RECORD')).toHaveLength(5);
      const warnings = run.stderr.split('\n').filter((l) => / WARNING /.test(l));
      expect(warnings).toEqual([expect.stringMatching(/ WARNING source is data_export: ignoring segment_id, export_window_seconds, export_delay_seconds \(read only by the other source\)$/)]);
      // Defaults alone warn about nothing.
      const plain = await runTap(['--config', await writeJson(dir, 'plain.json', { api_key: 'sandbox-key', start_date: '2024-01-01T00:00:00Z', base_url: legacy.url, downloads_per_minute: 600 })]);
      expect(plain.stderr).not.toMatch(/ WARNING /);
    } finally {
      await legacy.close();
    }
  });

  it.each([
    [{ source: 'segment-export' }, /source/],
    [{ export_window_seconds: 600 }, /export_window_seconds/],
    [{ export_window_seconds: 90000 }, /export_window_seconds/],
    [{ export_window_seconds: 1800.5 }, /export_window_seconds/],
    [{ export_poll_interval_seconds: 0 }, /export_poll_interval_seconds/],
    [{ export_delay_seconds: -1 }, /export_delay_seconds/],
    [{ export_timeout_seconds: 0 }, /export_timeout_seconds/],
    [{ segment_id: '' }, /segment_id/],
    [{ export_windows_seconds: 3600 }, /export_windows_seconds/],
  ])('%j: exit 2 with one line naming the setting', async (extra, message) => {
    const run = await runTap(['--config', await configWith('bad.json', extra)]);
    expect(run.code).toBe(2);
    expect(run.stderr.trim().split('\n')).toHaveLength(1);
    expect(run.stderr).toMatch(message);
    expect(run.stdout).toBe('');
  });

  it('settings come from the environment too', async () => {
    const run = await runTap(['--config', await configWith('env.json', { source: 'data_export' })], {
      TAP_FULLSTORY_SOURCE: 'segment_export',
      TAP_FULLSTORY_EXPORT_WINDOW_SECONDS: '1800',
      TAP_FULLSTORY_END_DATE: '2024-01-01T01:00:00Z',
    });
    expect(run.code).toBe(0);
    const starts = new Set(ofType(run, 'RECORD').map((m) => (m['record'] as Record<string, unknown>)['_sdc_window_start']));
    expect(starts).toEqual(new Set(['2024-01-01T00:00:00Z', '2024-01-01T00:30:00Z']));
  });

  it('a key without export permission: exit 4 saying exports need Admin or Architect; an unknown key: exit 4; never printed', async () => {
    const standard = await runTap(['--config', await configWith('standard-key.json', { api_key: 'na1.standard-key' })]);
    expect(standard.code).toBe(4);
    expect(standard.stderr).toMatch(/POST \/segments\/v1\/exports: FullStory refused this call for the API key \(403 forbidden\): this call exports user data, so it needs an Admin or Architect key/);
    expect(standard.stderr).not.toContain('na1.standard-key');
    const unknown = await runTap(['--config', await configWith('bad-key.json', { api_key: 'na1.not-a-known-key' })]);
    expect(unknown.code).toBe(4);
    expect(unknown.stderr).toMatch(/did not accept the API key \(401/);
    expect(unknown.stderr).not.toContain('na1.not-a-known-key');
  });

  it('a location that is not https is never fetched: exit 5, the state not past the window', async () => {
    sandbox.addFaults({
      method: 'GET', path: '/search/v1/exports/', times: 5,
      status: 200, body: { location: 'http://storage.example.com/x?Signature=s3cr3t-signature', expires: '2030-01-01T00:00:00Z' },
    });
    try {
      const run = await runTap(['--config', await configWith('plain-http.json', { end_date: '2024-01-01T01:00:00Z' })]);
      expect(run.code).toBe(5);
      expect(run.stderr).toMatch(/refusing to download: the location is http:\/\/storage\.example\.com, not https:\/\//);
      expect(run.stderr).not.toContain('s3cr3t-signature');
      expect(ofType(run, 'RECORD')).toEqual([]);
      expect(bookmarkOf(run, 'events')?.['last_window_end']).toBeUndefined();
    } finally {
      sandbox.clearFaults();
    }
  });
});
