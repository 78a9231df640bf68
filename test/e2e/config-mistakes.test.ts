/**
 * A newcomer's config mistakes, through the real bins against the sandbox: each is one line that
 * says what to fix, with exit 2 (config) or 4 (key), never minutes of retries and "rerun later".
 * - a base_url with a wrong path (404 on the first call), a port where nothing listens;
 * - a config file with a JSON error (file:line:column), a variable that sets nothing, a nested typo,
 *   a missing api_key (the same words in both CLIs);
 * - a key FullStory does not accept (401) versus a key without the permission a call needs (403).
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { startSandbox, type Sandbox } from 'fullstory-sandbox';
import { binPath, runBin, type RunBinResult } from '@fullstory-singer/singer-core/testing';
import { freePort, makeTempDir, removeDir } from './helpers.js';

const KEY = 'config-mistakes-key';
const USERS = [
  '{"type":"SCHEMA","stream":"users","schema":{"type":"object","properties":{"uid":{"type":"string"}}},"key_properties":["uid"]}',
  '{"type":"RECORD","stream":"users","record":{"uid":"u1"}}',
  '{"type":"STATE","value":{"n":1}}',
  '',
].join('\n');

/** The one `<name>: error: ...` line of a run (there must be exactly one). */
function errorLine(run: RunBinResult, name: string): string {
  const lines = run.stderr.split('\n').filter((line) => line.startsWith(`${name}: error: `));
  expect({ lines: lines.length, stderr: run.stderr }).toEqual({ lines: 1, stderr: expect.any(String) });
  return lines[0]!;
}

describe('config mistakes a newcomer makes', () => {
  let sandbox: Sandbox;
  let dir: string | undefined;
  const tap = binPath('tap-fullstory');
  const target = binPath('target-fullstory');
  const json = async (name: string, value: unknown): Promise<string> => {
    const path = join(dir!, name);
    await writeFile(path, typeof value === 'string' ? value : JSON.stringify(value));
    return path;
  };

  beforeAll(async () => {
    sandbox = await startSandbox({ apiKeys: [KEY], forbiddenKeys: ['forbidden-key'], readOnlyKeys: ['read-only-key'], bundles: 1, eventsPerBundle: 10, downloadsPerMinute: 0, jobLatencyMs: 10 });
    dir = await makeTempDir('fullstory-mistakes-');
  });

  afterAll(async () => {
    await sandbox?.close();
    await removeDir(dir);
  });

  it('a base_url with a wrong path: exit 2 naming base_url, for the tap and the target', async () => {
    const tapRun = await runBin(tap, ['--config', await json('tap-path.json', { api_key: KEY, start_date: '2024-01-01T00:00:00Z', base_url: `${sandbox.url}/fullstory` })]);
    expect(tapRun.code).toBe(2);
    expect(errorLine(tapRun, 'tap-fullstory')).toMatch(
      /^tap-fullstory: error: GET \/api\/v1\/export\/list\?start=\d+: 404 from 127\.0\.0\.1:\d+ \(base_url http:\/\/127\.0\.0\.1:\d+\/fullstory\), which has no such route: check base_url/,
    );
    const targetRun = await runBin(target, ['--config', await json('target-path.json', { api_key: KEY, data_type: 'users', base_url: `${sandbox.url}/v2` })], {
      input: USERS,
    });
    expect(targetRun.code).toBe(2);
    expect(errorLine(targetRun, 'target-fullstory')).toMatch(/POST \/v2\/users\/batch: 404 from .*\(base_url http:\/\/127\.0\.0\.1:\d+\/v2\), which has no such route: check base_url/);
    expect(targetRun.stdout).toBe('');
  });

  it('a port where nothing listens: exit 2 within seconds, naming the host and base_url (max_retries stays 8)', async () => {
    const base = `http://127.0.0.1:${await freePort()}`;
    const started = Date.now();
    // Both at once: each waits out two short backoffs.
    const [tapRun, targetRun] = await Promise.all([
      runBin(tap, ['--config', await json('tap-port.json', { api_key: KEY, start_date: '2024-01-01T00:00:00Z', base_url: base })], { timeoutMs: 30_000 }),
      runBin(target, ['--config', await json('target-port.json', { api_key: KEY, data_type: 'users', base_url: base })], { input: USERS, timeoutMs: 30_000 }),
    ]);
    expect([tapRun.code, targetRun.code]).toEqual([2, 2]);
    const host = base.replace('http://', '').replace(/\./g, '\\.');
    const says = new RegExp(`cannot reach ${host} \\(base_url ${base.replace(/[./]/g, '\\$&')}\\) after 3 attempts: connect ECONNREFUSED .*; check base_url`);
    expect(errorLine(tapRun, 'tap-fullstory')).toMatch(says);
    expect(errorLine(targetRun, 'target-fullstory')).toMatch(says);
    // Three quick attempts each (up to 1 s + 2 s of backoff), not eight retries with backoff up to 60 s.
    expect(Date.now() - started).toBeLessThan(20_000);
  }, 40_000);

  it('a config file with a JSON error names file:line:column', async () => {
    const path = await json('broken.json', '{\n  "api_key": "x",\n  "start_date": "2026-01-01T00:00:00Z"\n  "base_url": "http://127.0.0.1:1"\n}\n');
    const run = await runBin(tap, ['--config', path]);
    expect(run.code).toBe(2);
    expect(errorLine(run, 'tap-fullstory')).toBe(`tap-fullstory: error: config file ${path}:4:3: not valid JSON (expected ',' or '}' after property value)`);
  });

  it('a TAP_FULLSTORY_* variable that sets nothing gets a warning with the likely setting', async () => {
    const run = await runBin(tap, ['--discover'], {
      env: { TAP_FULLSTORY_API_KEY: KEY, TAP_FULLSTORY_START_DATE: '2026-01-01T00:00:00Z', TAP_FULLSTORY_STAT_DATE: '2026-02-01T00:00:00Z' },
    });
    expect(run.code).toBe(0);
    expect(run.stderr).toMatch(
      /^\S+Z tap-fullstory WARNING environment variable TAP_FULLSTORY_STAT_DATE is not a setting; ignored \(did you mean TAP_FULLSTORY_START_DATE\?\)$/m,
    );
  });

  it('a nested typo gets the key it meant', async () => {
    const path = await json('nested.json', { api_key: KEY, streams: { users: { data_type: 'users', maping: { uid: 'id' } } } });
    const run = await runBin(target, ['--config', path], { input: USERS });
    expect(run.code).toBe(2);
    expect(errorLine(run, 'target-fullstory')).toBe(
      `target-fullstory: error: config file ${path}: unknown key "streams.users.maping" (did you mean "streams.users.mapping"?)`,
    );
  });

  it('a missing api_key is worded the same by both CLIs', async () => {
    const tapRun = await runBin(tap, ['--config', await json('tap-nokey.json', { start_date: '2026-01-01T00:00:00Z' })]);
    const targetRun = await runBin(target, ['--config', await json('target-nokey.json', { data_type: 'users' })], { input: USERS });
    expect([tapRun.code, targetRun.code]).toEqual([2, 2]);
    expect(errorLine(tapRun, 'tap-fullstory')).toBe(
      'tap-fullstory: error: missing required setting "api_key" (set it in a --config file or TAP_FULLSTORY_API_KEY)',
    );
    expect(errorLine(targetRun, 'target-fullstory')).toBe(
      'target-fullstory: error: missing required setting "api_key" (set it in a --config file or TARGET_FULLSTORY_API_KEY; not needed with --dry-run)',
    );
  });

  it('a key FullStory does not accept (401) is not called a permission problem; a 403 names the permission the call needs', async () => {
    const tapConfig = { start_date: '2024-01-01T00:00:00Z', base_url: sandbox.url, downloads_per_minute: 600 };
    const unknown = await runBin(tap, ['--config', await json('tap-401.json', { ...tapConfig, api_key: 'not-the-key-0000' })]);
    expect(unknown.code).toBe(4);
    const invalid = errorLine(unknown, 'tap-fullstory');
    expect(invalid).toMatch(/FullStory did not accept the API key \(401 unauthorized\): check that it is the whole key/);
    expect(invalid).not.toMatch(/permission|Admin|Architect|Standard/);

    const forbidden = await runBin(tap, ['--config', await json('tap-403.json', { ...tapConfig, api_key: 'forbidden-key' })]);
    expect(forbidden.code).toBe(4);
    expect(errorLine(forbidden, 'tap-fullstory')).toMatch(/\(403 forbidden\): this call exports user data, so it needs an Admin or Architect key$/);

    const readOnly = await runBin(target, ['--config', await json('target-403.json', { api_key: 'read-only-key', base_url: sandbox.url, data_type: 'users' })], {
      input: USERS,
    });
    expect(readOnly.code).toBe(4);
    expect(errorLine(readOnly, 'target-fullstory')).toMatch(
      /POST \/v2\/users\/batch: FullStory refused this call for the API key \(403 forbidden\): this call needs a Standard key or higher/,
    );
  });
});
