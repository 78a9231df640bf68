/**
 * Reliability: bad configs (fixtures/config/bad/) for both real bins (docs/reliability.md "Bad input
 * and bad config"). Each gives exit 2 and exactly one error line naming the key (or the
 * environment variable), sends nothing to FullStory, prints nothing on stdout, and never shows the
 * API key — even when the key sits in the broken file itself.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import type { Sandbox } from 'fullstory-sandbox';
import { fixturePath } from '@fullstory-singer/singer-core/testing';
import { SECRET, check, describeRun, errorLines, expectNoSecret, killAll, makeTemp, seeded, spawnBin, type BinName } from './helpers.js';
import { startSecretSandbox, tapEnv, targetEnv, writeConfig } from './sandbox-helpers.js';

let sandbox: Sandbox;
let temp: { dir: string; remove: () => Promise<void> };

beforeAll(async () => {
  sandbox = await startSecretSandbox({ jobLatencyMs: 20, bundles: 1, eventsPerBundle: 10 });
  temp = await makeTemp('bad-config');
});
afterEach(() => killAll());
afterAll(async () => {
  await sandbox.close();
  await temp.remove();
});
beforeEach(() => sandbox.reset());

/** One users record the target would send if it (wrongly) started. */
const TARGET_INPUT = [
  '{"type":"SCHEMA","stream":"users","schema":{"type":"object","properties":{"uid":{"type":"string"}}},"key_properties":["uid"]}',
  '{"type":"RECORD","stream":"users","record":{"uid":"must-not-land"}}',
  '{"type":"STATE","value":{"bookmarks":{"users":{"n":1}}}}',
  '',
].join('\n');

interface Case {
  name: string;
  bin: BinName;
  /** Config files (fixture names are resolved under fixtures/config/bad/). */
  config: () => Promise<string>;
  env: () => Record<string, string>;
  /** What the single error line must name. */
  names: string;
}

const bad = (file: string) => async () => fixturePath('config', 'bad', file);
const temp_ = (name: string, config: Record<string, unknown>) => async () => writeConfig(temp.dir, name, config);

const CASES: Case[] = [
  { name: 'tap: missing api_key', bin: 'tap-fullstory', config: bad('tap-missing-api-key.json'), env: () => ({ TAP_FULLSTORY_BASE_URL: sandbox.url }), names: 'api_key' },
  { name: 'tap: missing start_date', bin: 'tap-fullstory', config: bad('tap-missing-start-date.json'), env: () => tapEnv(sandbox), names: 'start_date' },
  { name: 'tap: wrong type', bin: 'tap-fullstory', config: bad('tap-wrong-type.json'), env: () => tapEnv(sandbox), names: 'max_retries' },
  { name: 'tap: unknown key', bin: 'tap-fullstory', config: bad('tap-unknown-key.json'), env: () => tapEnv(sandbox), names: 'state_every_record' },
  { name: 'tap: http:// to a remote host', bin: 'tap-fullstory', config: bad('tap-http-remote.json'), env: () => tapEnv(undefined), names: 'base_url' },
  {
    name: 'tap: wrong type in an environment variable',
    bin: 'tap-fullstory',
    config: temp_('tap-ok.json', { start_date: '2024-01-01T00:00:00Z' }),
    env: () => tapEnv(sandbox, { TAP_FULLSTORY_MAX_RETRIES: 'lots' }),
    names: 'TAP_FULLSTORY_MAX_RETRIES',
  },
  {
    name: 'tap: the key in the broken file itself',
    bin: 'tap-fullstory',
    config: temp_('tap-key-in-file.json', { api_key: SECRET, start_date: 'last tuesday', base_url: 'http://127.0.0.1:9' }),
    env: () => ({}),
    names: 'start_date',
  },
  // An api_key HTTP cannot carry (a newline from `echo key > file`, a CR from a Windows editor) is a
  // config error naming api_key, for both bins, and is never printed.
  {
    name: 'tap: api_key with a trailing newline (environment)',
    bin: 'tap-fullstory',
    config: temp_('tap-start-only.json', { start_date: '2024-01-01T00:00:00Z' }),
    env: () => tapEnv(sandbox, { TAP_FULLSTORY_API_KEY: `${SECRET}\n` }),
    names: 'api_key',
  },
  {
    name: 'tap: api_key with a carriage return (file)',
    bin: 'tap-fullstory',
    config: temp_('tap-key-cr.json', { api_key: `${SECRET}\r`, start_date: '2024-01-01T00:00:00Z', base_url: 'http://127.0.0.1:9' }),
    env: () => ({}),
    names: 'api_key',
  },
  {
    name: 'target: api_key with a trailing newline (environment)',
    bin: 'target-fullstory',
    config: temp_('target-users.json', { data_type: 'users' }),
    env: () => targetEnv(sandbox, { TARGET_FULLSTORY_API_KEY: `${SECRET}\n` }),
    names: 'api_key',
  },
  {
    name: 'target: api_key with a character outside ASCII (file)',
    bin: 'target-fullstory',
    config: temp_('target-key-utf8.json', { api_key: `${SECRET}\u00e9`, data_type: 'users', base_url: 'http://127.0.0.1:9' }),
    env: () => ({}),
    names: 'api_key',
  },
  { name: 'target: missing api_key', bin: 'target-fullstory', config: bad('target-missing-api-key.json'), env: () => ({ TARGET_FULLSTORY_BASE_URL: sandbox.url }), names: 'api_key' },
  { name: 'target: wrong type', bin: 'target-fullstory', config: bad('target-wrong-type.json'), env: () => targetEnv(sandbox), names: 'batch_size' },
  { name: 'target: unknown key', bin: 'target-fullstory', config: bad('target-unknown-key.json'), env: () => targetEnv(sandbox), names: 'data_typ' },
  { name: 'target: http:// to a remote host', bin: 'target-fullstory', config: bad('target-http-remote.json'), env: () => targetEnv(undefined), names: 'base_url' },
  {
    name: 'target: wrong type in an environment variable',
    bin: 'target-fullstory',
    config: temp_('target-ok.json', { data_type: 'users' }),
    env: () => targetEnv(sandbox, { TARGET_FULLSTORY_MAX_JOBS_IN_FLIGHT: 'many' }),
    names: 'TARGET_FULLSTORY_MAX_JOBS_IN_FLIGHT',
  },
  {
    name: 'target: the key in the broken file itself',
    bin: 'target-fullstory',
    config: temp_('target-key-in-file.json', { api_key: SECRET, data_type: 'users', batch_size: -5, base_url: 'http://127.0.0.1:9' }),
    env: () => ({}),
    names: 'batch_size',
  },
];

describe('bad configs', () => {
  for (const c of CASES) {
    it(
      `${c.name}: exit 2, one line naming ${c.names}, nothing sent or printed`,
      seeded(async () => {
        const run = await spawnBin(c.bin, {
          args: ['--config', await c.config()],
          env: c.env(),
          ...(c.bin === 'target-fullstory' ? { input: TARGET_INPUT } : {}),
          timeoutMs: 30_000,
        });
        expectNoSecret({ stdout: run.stdout, stderr: run.stderr });
        check(run.code === 2, `expected exit 2: ${describeRun(run)}`);
        const errors = errorLines(run, c.bin);
        check(errors.length === 1, `expected one error line: ${describeRun(run)}`);
        expect(errors[0]).toContain(c.names);
        expect(run.stdout.toString('utf8')).toBe('');
        expect(sandbox.requests()).toEqual([]);
      }),
    );
  }
});
