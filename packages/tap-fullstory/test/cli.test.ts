// The command line: --about, --version, --discover, selection with --catalog/--properties, config
// from files and environment, fixture bundles (big integers, plain and pretty-printed bodies), and
// the config/state exit codes. In-process (tapMain under runMain) against the sandbox.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startSandbox } from 'fullstory-sandbox';
import type { Sandbox } from 'fullstory-sandbox';
import { parseJson } from '@fullstory-singer/singer-core';
import type { Catalog } from '@fullstory-singer/singer-core';
import { fixturePath, removeTempDir, tempDir } from '@fullstory-singer/singer-core/testing';
import { ofType, recordKeys, runTap, writeJson } from './helpers.js';

let sandbox: Sandbox;
let dir: string;
let config: string;

beforeAll(async () => {
  dir = await tempDir();
  sandbox = await startSandbox({ fixturesDir: fixturePath('exports', 'basic'), downloadsPerMinute: 0 });
  config = await writeJson(dir, 'config.json', {
    api_key: 'sandbox-key',
    start_date: '2024-01-01T00:00:00Z',
    base_url: sandbox.url,
    downloads_per_minute: 6000,
  });
});

afterAll(async () => {
  await sandbox.close();
  await removeTempDir(dir);
});

describe('--about, --version, --discover', () => {
  it('--about --format json describes the plugin and its settings', async () => {
    const run = await runTap(['--about', '--format', 'json']);
    expect(run.code).toBe(0);
    const about = JSON.parse(run.stdout) as Record<string, unknown>;
    expect(about).toMatchObject({ name: 'tap-fullstory', capabilities: ['catalog', 'discover', 'state', 'about', 'properties'] });
    expect(Object.keys((about['settings'] as { properties: object }).properties)).toEqual([
      'api_key', 'start_date', 'end_date', 'source', 'region', 'base_url', 'user_agent',
      'request_timeout_seconds', 'max_retries', 'downloads_per_minute', 'state_every_records',
      'segment_id', 'export_window_seconds', 'export_delay_seconds', 'export_poll_interval_seconds', 'export_timeout_seconds',
    ]);
  });

  it('--about --format markdown renders a settings table', async () => {
    const run = await runTap(['--about', '--format', 'markdown']);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^\| `state_every_records` \| integer \| no \| `10000` \| `TAP_FULLSTORY_STATE_EVERY_RECORDS` \|/m);
  });

  it('--version prints the version', async () => {
    const run = await runTap(['--version']);
    expect(run.code).toBe(0);
    expect(run.stdout.trim()).toMatch(/^\d+\.\d+\.\d+/);
  });

  it('--discover prints one catalog document with the documented metadata', async () => {
    const run = await runTap(['--config', config, '--discover']);
    expect(run.code).toBe(0);
    expect(run.messages).toHaveLength(1);
    const catalog = run.messages[0] as unknown as Catalog;
    const entry = catalog.streams[0]!;
    expect(entry).toMatchObject({ tap_stream_id: 'events', stream: 'events', key_properties: ['_sdc_bundle_id', '_sdc_bundle_index'] });
    const md = (crumb: string[]): Record<string, unknown> =>
      entry.metadata!.find((m) => JSON.stringify(m.breadcrumb) === JSON.stringify(crumb))!.metadata;
    expect(md([])).toEqual({
      inclusion: 'available',
      'forced-replication-method': 'INCREMENTAL',
      'table-key-properties': ['_sdc_bundle_id', '_sdc_bundle_index'],
    });
    for (const f of ['_sdc_bundle_id', '_sdc_bundle_index', 'EventStart']) expect(md(['properties', f])['inclusion']).toBe('automatic');
    expect(md(['properties', 'UserEmail'])).toEqual({ inclusion: 'available', 'selected-by-default': true });
    expect(entry.schema['patternProperties']).toHaveProperty(['^(user|evt|page)_.+_ints$']);
  });
});

describe('records from fixture bundles', () => {
  it('keeps integers above 2^53 byte for byte, passes plain and pretty-printed bodies, and empty bundles', async () => {
    const run = await runTap(['--config', config]);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('"_sdc_bundle_index":0,"IndvId":9007199254740993,"UserId":9007199254740993,');
    expect(run.stdout).toContain('"IndvId":18446744073709551615,');
    expect(run.stdout).toContain('"UserDisplayName":"Zoë été € 🍎"');
    expect(run.stdout).toContain('"PageUrl":"https://fruitshoppe.example.com/#/caf\\u00e9?q=\\"x\\""');
    expect(recordKeys(run)).toEqual(['1001:0', '1001:1', '1001:2', '1001:3', '1002:0', '1002:1']);
    const records = ofType(run, 'RECORD').map((m) => m['record'] as Record<string, unknown>);
    expect(records[0]!['IndvId']).toBe(9007199254740993n);
    expect(records[3]).toEqual({ _sdc_bundle_id: 1001, _sdc_bundle_index: 3 });
    // The pretty-printed plain bundle is re-serialised onto one line per record.
    expect(records[4]).toMatchObject({ _sdc_bundle_id: 1002, _sdc_bundle_index: 0, EventType: 'load', LoadEventTime: 300 });
    for (const m of ofType(run, 'RECORD')) expect(typeof m['time_extracted']).toBe('string');
    const states = ofType(run, 'STATE').map((m) => (m['value'] as { bookmarks: { events: unknown } }).bookmarks.events);
    expect(states.at(-1)).toEqual({ last_bundle_stop: '2024-01-01T03:00:00Z', last_bundle_id: 1003 });
  });
});

describe('selection', () => {
  async function discovered(): Promise<Catalog> {
    const run = await runTap(['--config', config, '--discover']);
    return run.messages[0] as unknown as Catalog;
  }

  it('--catalog: only selected fields (automatic ones always); custom variables pass through', async () => {
    const catalog = await discovered();
    const entry = catalog.streams[0]!;
    for (const m of entry.metadata!) {
      if (m.breadcrumb.length === 0) m.metadata['selected'] = true;
      if (m.breadcrumb[1] === 'UserDisplayName' || m.breadcrumb[1] === 'EventStart') m.metadata['selected'] = false;
    }
    const path = await writeJson(dir, 'catalog.json', catalog);
    const run = await runTap(['--config', config, '--catalog', path]);
    expect(run.code).toBe(0);
    const schema = ofType(run, 'SCHEMA')[0]!['schema'] as { properties: Record<string, unknown> };
    expect(schema.properties).not.toHaveProperty('UserDisplayName');
    expect(schema.properties).toHaveProperty('EventStart');
    const records = ofType(run, 'RECORD').map((m) => m['record'] as Record<string, unknown>);
    expect(records).toHaveLength(6);
    for (const r of records) expect(r).not.toHaveProperty('UserDisplayName');
    expect(records[0]).toMatchObject({ IndvId: 9007199254740993n, EventStart: '2024-01-01T00:20:26.900Z' });
    expect(records[1]).toMatchObject({ evt_tags_strs: ['a', 'b'], user_plan_str: 'gold' });
  });

  it('--properties (legacy schema.selected) selects the stream with all fields', async () => {
    const catalog = await discovered();
    const entry = catalog.streams[0]!;
    entry.schema = { ...entry.schema, selected: true };
    delete entry.metadata;
    const path = await writeJson(dir, 'properties.json', catalog);
    const run = await runTap(['--config', config, '--properties', path]);
    expect(run.code).toBe(0);
    expect(ofType(run, 'RECORD')).toHaveLength(6);
  });

  it('a catalog that does not select the stream: no records, the state once', async () => {
    const path = await writeJson(dir, 'unselected.json', await discovered());
    const state = await writeJson(dir, 'state.json', { events: '2018-08-31T12:00:00Z' });
    const run = await runTap(['--config', config, '--catalog', path, '--state', state]);
    expect(run.code).toBe(0);
    expect(run.messages).toEqual([{ type: 'STATE', value: { bookmarks: { events: { last_bundle_stop: '2018-08-31T12:00:00Z' } } } }]);
  });
});

describe('config and exit codes', () => {
  it('takes every setting from TAP_FULLSTORY_* with no config file', async () => {
    const run = await runTap([], {
      TAP_FULLSTORY_API_KEY: 'sandbox-key',
      TAP_FULLSTORY_START_DATE: '2024-01-01T01:00:00Z',
      TAP_FULLSTORY_BASE_URL: sandbox.url,
      TAP_FULLSTORY_DOWNLOADS_PER_MINUTE: '6000',
    });
    expect(run.code).toBe(0);
    expect(recordKeys(run)).toEqual(['1002:0', '1002:1']);
  });

  it('sends User-Agent tap-fullstory/<version> unless user_agent is set', async () => {
    sandbox.reset();
    expect((await runTap(['--config', config])).code).toBe(0);
    expect((await runTap(['--config', config], { TAP_FULLSTORY_USER_AGENT: 'acme-etl/2.0' })).code).toBe(0);
    const agents = new Set(sandbox.requests().map((r) => r.headers['user-agent']));
    expect(agents).toEqual(new Set([expect.stringMatching(/^tap-fullstory\/\d+\.\d+\.\d+$/), 'acme-etl/2.0']));
  });

  it('environment overrides files; later files override earlier ones', async () => {
    const later = await writeJson(dir, 'later.json', { start_date: '2024-01-01T01:00:00Z' });
    const run = await runTap(['--config', config, '--config', later], { TAP_FULLSTORY_END_DATE: '2024-01-01T02:00:00Z' });
    expect(run.code).toBe(0);
    expect(recordKeys(run)).toEqual(['1002:0', '1002:1']);
  });

  it.each([
    ['an unknown key', ['--config', fixturePath('config', 'tap-unknown-key.json')], /start_dte/],
    ['a bad start_date', ['--config', fixturePath('config', 'tap-bad-start-date.json')], /start_date/],
    ['http:// to a non-loopback host', ['--config', fixturePath('config', 'tap-http-remote.json')], /base_url/],
    ['a missing config file', ['--config', '/nonexistent/tap.json'], /\/nonexistent\/tap\.json/],
    ['--catalog with --properties', ['--catalog', 'a.json', '--properties', 'b.json'], /--catalog or --properties/],
    ['an unknown flag', ['--frobnicate'], /frobnicate/],
  ])('%s: exit 2 with one line naming it, never the key', async (_name, args, message) => {
    const run = await runTap(args);
    expect(run.code).toBe(2);
    expect(run.stderr.trim().split('\n')).toHaveLength(1);
    expect(run.stderr).toMatch(message);
    expect(run.stderr).not.toContain('sandbox-key');
    expect(run.stdout).toBe('');
  });

  it('end_date before start_date: exit 2', async () => {
    const run = await runTap(['--config', config], { TAP_FULLSTORY_END_DATE: '2023-01-01T00:00:00Z' });
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/end_date .* must be after start_date/);
  });

  it.each([
    ['not JSON', '{"bookmarks":', /state-bad\.json/],
    ['a bad bookmark', { bookmarks: { events: { last_bundle_stop: 'soon' } } }, /state-bad\.json: bookmark events\.last_bundle_stop/],
  ])('a state file that is %s: exit 3 naming the file', async (_name, content, message) => {
    const state = await writeJson(dir, 'state-bad.json', content);
    const run = await runTap(['--config', config, '--state', state]);
    expect(run.code).toBe(3);
    expect(run.stderr).toMatch(message);
    expect(ofType(run, 'RECORD')).toHaveLength(0);
  });

  it('stdout carries Singer messages only', async () => {
    const run = await runTap(['--config', config]);
    for (const line of run.stdout.trim().split('\n')) {
      expect(['SCHEMA', 'RECORD', 'STATE']).toContain((parseJson(line) as { type: string }).type);
    }
  });
});
