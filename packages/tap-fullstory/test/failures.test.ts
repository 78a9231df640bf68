// Failure handling against the sandbox's scripted faults: each kind is survived with every event
// emitted exactly once, or ends with the documented exit code; the key never appears in any output.
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { startSandbox } from 'fullstory-sandbox';
import type { FaultRule, Sandbox } from 'fullstory-sandbox';
import { fixturePath, removeTempDir, tempDir } from '@fullstory-singer/singer-core/testing';
import { bookmarks, ofType, recordKeys, runTap, writeJson } from './helpers.js';

const KEY = 'sandbox-key-do-not-print';
const SIZES = [400, 300];

let sandbox: Sandbox;
let dir: string;
let config: string;
let allKeys: string[];

async function configWith(name: string, extra: Record<string, unknown>): Promise<string> {
  return writeJson(dir, name, {
    api_key: KEY,
    start_date: '2024-01-01T00:00:00Z',
    base_url: sandbox.url,
    downloads_per_minute: 6000,
    state_every_records: 100,
    max_retries: 3,
    request_timeout_seconds: 2,
    ...extra,
  });
}

beforeAll(async () => {
  dir = await tempDir();
  sandbox = await startSandbox({ apiKeys: [KEY], forbiddenKeys: ['forbidden-key'], bundles: 2, eventsPerBundle: SIZES, seed: 11, downloadsPerMinute: 0 });
  allKeys = sandbox.bundles().flatMap((b) => Array.from({ length: b.events! }, (_, i) => `${String(b.id)}:${i}`));
  config = await configWith('config.json', {});
});

afterEach(() => {
  sandbox.clearFaults();
});

afterAll(async () => {
  await sandbox.close();
  await removeTempDir(dir);
});

const GET = { method: 'GET', path: '/api/v1/export/get' };

describe('failures that are survived: every event exactly once', () => {
  it.each<[string, FaultRule]>([
    ['429 with Retry-After', { ...GET, times: 1, status: 429, headers: { 'Retry-After': '1' } }],
    ['500 twice', { ...GET, times: 2, status: 500 }],
    ['connection reset', { ...GET, times: 1, action: 'reset' }],
    ['truncated gzip mid-body', { ...GET, times: 2, action: 'truncate', after_bytes: 6000 }],
    ['stalled body (idle timeout)', { ...GET, times: 1, action: 'stall', after_bytes: 6000, ms: 8000 }],
  ])('%s', async (_name, rule) => {
    sandbox.addFaults(rule);
    const run = await runTap(['--config', config]);
    expect(run.stderr).not.toContain(KEY);
    expect(run.stdout).not.toContain(KEY);
    expect(run.code).toBe(0);
    expect(recordKeys(run)).toEqual(allKeys);
    expect(sandbox.faults()).toHaveLength(0);
    const last = sandbox.bundles().at(-1)!;
    expect(bookmarks(run).at(-1)).toMatchObject({ last_bundle_id: last.id });
  });

  it('logs the Retry-After wait of a 429', async () => {
    sandbox.addFaults({ ...GET, times: 1, status: 429, headers: { 'Retry-After': '1' } });
    const run = await runTap(['--config', config]);
    expect(run.code).toBe(0);
    expect(run.stderr).toMatch(/429|throttl|Retry-After/i);
  });
});

describe('failures that end the run', () => {
  it('a bundle that never arrives whole: exit 5, the cursor does not pass it', async () => {
    sandbox.addFaults({ ...GET, times: 10, action: 'truncate', after_bytes: 6000 });
    const cfg = await configWith('config-1-retry.json', { max_retries: 1 });
    const run = await runTap(['--config', cfg]);
    expect(run.code).toBe(5);
    expect(run.stderr).toMatch(/tap-fullstory: error: bundle \d+ did not arrive whole after 2 download\(s\)/);
    // Records emitted before the damage were emitted once; no STATE claims the bundle done.
    const keys = recordKeys(run);
    expect(new Set(keys).size).toBe(keys.length);
    expect(keys.length).toBeGreaterThan(0);
    expect(keys.length).toBeLessThan(SIZES[0]!);
    for (const b of bookmarks(run)) expect(b).not.toHaveProperty('last_bundle_id');
    const lastCheckpoint = bookmarks(run).at(-1);
    if (lastCheckpoint) expect((lastCheckpoint['in_progress'] as { offset: number }).offset).toBeLessThanOrEqual(keys.length);
  });

  it('a corrupt bundle (bad JSON inside the array): downloaded again, then exit 5; the first event once', async () => {
    const corrupt = await startSandbox({ apiKeys: [KEY], fixturesDir: fixturePath('exports', 'corrupt'), downloadsPerMinute: 0 });
    try {
      const cfg = await writeJson(dir, 'config-corrupt.json', {
        api_key: KEY, start_date: '2024-01-01T00:00:00Z', base_url: corrupt.url, downloads_per_minute: 6000, max_retries: 1,
      });
      const run = await runTap(['--config', cfg]);
      expect(run.code).toBe(5);
      expect(run.stderr).toMatch(/error: bundle 2001 did not arrive whole after 2 download\(s\): event 1 is not valid JSON: '\]' where a value should start/);
      expect(corrupt.requests().filter((r) => r.path === '/api/v1/export/get')).toHaveLength(2);
      expect(recordKeys(run)).toEqual(['2001:0']);
      expect(ofType(run, 'STATE')).toHaveLength(0);
    } finally {
      await corrupt.close();
    }
  });

  it('FullStory unavailable after retries: exit 5', async () => {
    sandbox.addFaults({ method: 'GET', path: '/api/v1/export/list', times: 10, status: 503 });
    const cfg = await configWith('config-0-retry.json', { max_retries: 1 });
    const run = await runTap(['--config', cfg]);
    expect(run.code).toBe(5);
    expect(run.stderr).toMatch(/^tap-fullstory: error: .*export\/list/m);
    expect(ofType(run, 'RECORD')).toHaveLength(0);
  });

  it.each([
    ['an unknown key (401)', 'not-a-key-1234', /tap-fullstory: error: .*did not accept the API key \(401/],
    ['a key without permission (403)', 'forbidden-key', /tap-fullstory: error: .*\(403 forbidden\): .*Admin or Architect/],
  ])('%s: exit 4, says what is wrong with the key, never prints the key', async (_name, key, says) => {
    const cfg = await configWith(`config-${key}.json`, { api_key: key });
    const run = await runTap(['--config', cfg]);
    expect(run.code).toBe(4);
    expect(run.stderr).toMatch(says);
    expect(run.stderr).not.toContain(key);
    expect(run.stdout).not.toContain(key);
  });
});
