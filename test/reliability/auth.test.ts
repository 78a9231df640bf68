/**
 * Reliability: a refused key (README.md "Exit codes (both CLIs)", code 4). The key the bins send is
 * the suite's secret with a suffix the sandbox does not accept, so any echo of it — in an error, a
 * log line at debug level, a dead-letter line — is caught by the secret search. A key refused for
 * writing (read-only) gives exit 4 from the target too, and says which permission is needed.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Sandbox } from 'fullstory-sandbox';
import { SECRET, check, describeRun, errorLines, expectNoSecret, killAll, makeTemp, seeded, spawnBin } from './helpers.js';
import { fastTapConfig, fastTargetConfig, startSecretSandbox, writeConfig } from './sandbox-helpers.js';

/** Not accepted by the sandbox, but contains every searched form's distinctive part. */
const WRONG_KEY = `${SECRET}-revoked`;
/** Accepted for reading only: writes answer 403. */
const READ_ONLY_KEY = `${SECRET}-readonly`;

let sandbox: Sandbox;
let temp: { dir: string; remove: () => Promise<void> };

beforeAll(async () => {
  sandbox = await startSecretSandbox({ bundles: 1, eventsPerBundle: 20, readOnlyKeys: [READ_ONLY_KEY], jobLatencyMs: 20 });
  temp = await makeTemp('auth');
});
afterEach(() => killAll());
afterAll(async () => {
  await sandbox.close();
  await temp.remove();
});

const USERS_INPUT = [
  '{"type":"SCHEMA","stream":"users","schema":{"type":"object","properties":{"uid":{"type":"string"}}},"key_properties":["uid"]}',
  '{"type":"RECORD","stream":"users","record":{"uid":"auth-1"}}',
  '{"type":"STATE","value":{"bookmarks":{"users":{"n":1}}}}',
  '',
].join('\n');

describe('a refused key', () => {
  it(
    'tap: exit 4, one line saying the key was refused, no key anywhere even at debug level',
    seeded(async () => {
      const config = await writeConfig(temp.dir, 'tap.json', fastTapConfig());
      const run = await spawnBin('tap-fullstory', {
        args: ['--config', config, '--log-level', 'debug'],
        env: { TAP_FULLSTORY_API_KEY: WRONG_KEY, TAP_FULLSTORY_BASE_URL: sandbox.url },
        timeoutMs: 60_000,
      });
      expectNoSecret({ stdout: run.stdout, stderr: run.stderr }, [WRONG_KEY]);
      check(run.code === 4, `expected exit 4: ${describeRun(run)}`);
      const errors = errorLines(run, 'tap-fullstory');
      check(errors.length === 1, `expected one error line: ${describeRun(run)}`);
      expect(errors[0]).toMatch(/did not accept the API key \(401/);
      expect(run.lines.filter((l) => l.includes('"type":"RECORD"'))).toEqual([]);
    }),
  );

  it(
    'target: exit 4 with a key that may not write; nothing lands, no state, no key anywhere',
    seeded(async () => {
      const deadLetter = join(temp.dir, 'rejected.ndjson');
      const config = await writeConfig(temp.dir, 'target.json', fastTargetConfig(deadLetter));
      const run = await spawnBin('target-fullstory', {
        args: ['--config', config, '--log-level', 'debug'],
        env: { TARGET_FULLSTORY_API_KEY: READ_ONLY_KEY, TARGET_FULLSTORY_BASE_URL: sandbox.url },
        input: USERS_INPUT,
        timeoutMs: 60_000,
      });
      const dead = existsSync(deadLetter) ? await readFile(deadLetter) : undefined;
      expectNoSecret({ stdout: run.stdout, stderr: run.stderr, 'dead-letter file': dead }, [READ_ONLY_KEY]);
      check(run.code === 4, `expected exit 4: ${describeRun(run)}`);
      const errors = errorLines(run, 'target-fullstory');
      check(errors.length === 1, `expected one error line: ${describeRun(run)}`);
      expect(run.stdout.toString('utf8')).toBe('');
      expect(sandbox.users()).toEqual([]);
    }),
  );
});
