/**
 * Reliability: the bad-input corpus (fixtures/singer/bad/) through the real target bin, and the bad
 * state file through the real tap bin (docs/reliability.md "Bad input and bad config").
 *
 * Each protocol-breaking file gives exit 3 and exactly one error line naming the damaged line. What
 * was read before the damage is still sent and its state emitted; nothing after it is sent or
 * emitted. Records that break their schema are not protocol damage: they are dead-lettered, exit 0.
 * Every run is checked for the API key in stdout, stderr and the dead-letter file.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Sandbox } from 'fullstory-sandbox';
import { fixturePath } from '@fullstory-singer/singer-core/testing';
import {
  check,
  describeRun,
  errorLines,
  expectNoSecret,
  killAll,
  makeTemp,
  seeded,
  spawnBin,
  type BinRun,
} from './helpers.js';
import { fastTapConfig, fastTargetConfig, startSecretSandbox, tapEnv, targetEnv, usersByUid, writeConfig } from './sandbox-helpers.js';

/** A protocol-breaking file of the corpus and the 1-based line its error must name. */
interface BadFile {
  file: string;
  line: number;
}

const PROTOCOL_DAMAGE: BadFile[] = [
  { file: 'not-json.singer', line: 5 },
  { file: 'truncated-last-line.singer', line: 5 },
  { file: 'record-before-schema.singer', line: 4 },
  { file: 'schema-without-properties.singer', line: 4 },
  { file: 'invalid-utf8.singer', line: 4 },
];

/** Matches an error text that names line `n` (`stdin:5:` or `line 5`). */
function namesLine(n: number): RegExp {
  return new RegExp(`(:${n}\\b|line ${n}\\b)`);
}

/** uids of the RECORD lines before line `badLine` (1-based) of a corpus file. */
function uidsBefore(text: string, badLine: number): string[] {
  const uids: string[] = [];
  text.split('\n').slice(0, badLine - 1).forEach((line) => {
    const msg = JSON.parse(line) as { type: string; record?: { uid?: string } };
    if (msg.type === 'RECORD' && msg.record?.uid !== undefined) uids.push(msg.record.uid);
  });
  return uids;
}

let sandbox: Sandbox;
let temp: { dir: string; remove: () => Promise<void> };

beforeAll(async () => {
  sandbox = await startSecretSandbox({ jobLatencyMs: 20, bundles: 1, eventsPerBundle: 10 });
  temp = await makeTemp('bad-input');
});
afterEach(() => killAll());
afterAll(async () => {
  await sandbox.close();
  await temp.remove();
});
beforeEach(() => sandbox.reset());

/** Runs the target on `input` with the fast config; returns the run and the dead-letter text. */
async function runTarget(name: string, input: Parameters<typeof spawnBin>[1]['input'], overrides: Record<string, unknown> = {}) {
  const deadLetter = join(temp.dir, `${name}.rejected.ndjson`);
  const config = await writeConfig(temp.dir, `${name}.target.json`, fastTargetConfig(deadLetter, overrides));
  const run = await spawnBin('target-fullstory', {
    args: ['--config', config],
    env: targetEnv(sandbox),
    input,
    timeoutMs: 60_000,
  });
  const dead = existsSync(deadLetter) ? await readFile(deadLetter) : undefined;
  expectNoSecret({ stdout: run.stdout, stderr: run.stderr, 'dead-letter file': dead });
  return { run, dead: dead?.toString('utf8') ?? '' };
}

/** The state lines a target printed, parsed. */
function states(run: BinRun): unknown[] {
  return run.lines.filter((l) => l.trim() !== '').map((l) => JSON.parse(l) as unknown);
}

const BEFORE = { bookmarks: { users: { position: 'before-damage' } } };
const AFTER = { bookmarks: { users: { position: 'after-damage' } } };

describe('target-fullstory on the bad-input corpus', () => {
  for (const bad of PROTOCOL_DAMAGE) {
    it(
      `${bad.file}: exit 3, one line naming line ${bad.line}, nothing past the damage`,
      seeded(async () => {
        const path = fixturePath('singer', 'bad', bad.file);
        const bytes = await readFile(path);
        const { run } = await runTarget(bad.file, bytes);
        check(run.code === 3, `expected exit 3: ${describeRun(run)}`);
        const errors = errorLines(run, 'target-fullstory');
        check(errors.length === 1, `expected one error line, got ${errors.length}: ${describeRun(run)}`);
        expect(errors[0]).toMatch(namesLine(bad.line));

        // The state read before the damage is emitted (its records are safe); nothing after it.
        expect(states(run)).toEqual([BEFORE]);
        const landed = usersByUid(sandbox);
        const expected = uidsBefore(bytes.toString('latin1'), bad.line);
        for (const uid of expected) check(landed.has(uid), `user ${uid} (before the damage) did not land`);
        expect([...landed.keys()].filter((uid) => uid.includes('after'))).toEqual([]);
        expect(landed.size).toBe(expected.length);
      }),
    );
  }

  it(
    'records-breaking-schema.singer: dead-letter lines, exit 0, good records and every state go through',
    seeded(async () => {
      const path = fixturePath('singer', 'bad', 'records-breaking-schema.singer');
      const text = await readFile(path, 'utf8');
      const { run, dead } = await runTarget('records-breaking-schema', text);
      check(run.code === 0, `expected exit 0: ${describeRun(run)}`);
      const out = states(run);
      check(out.length >= 1, 'no state emitted');
      expect(out[out.length - 1]).toEqual(AFTER);
      for (const s of out) expect([BEFORE, AFTER]).toContainEqual(s);

      const landed = usersByUid(sandbox);
      expect([...landed.keys()].sort()).toEqual(['rb-1', 'rb-2']);

      // One dead-letter line per bad record, carrying the original record and a reason.
      const rejected = dead
        .split('\n')
        .filter((l) => l !== '')
        .map((l) => JSON.parse(l) as { stream: string; record: Record<string, unknown>; reason: string; code: string; message: string; at: string });
      const originals = text
        .split('\n')
        .filter((l) => l !== '')
        .map((l) => JSON.parse(l) as { type: string; record?: Record<string, unknown> })
        .filter((m) => m.type === 'RECORD' && !['rb-1', 'rb-2'].includes(String(m.record?.['uid'])))
        .map((m) => m.record);
      expect(rejected.map((r) => r.record)).toEqual(originals);
      for (const r of rejected) {
        expect(r.stream).toBe('users');
        for (const key of ['reason', 'code', 'message', 'at'] as const) check(typeof r[key] === 'string' && r[key] !== '', `dead-letter line lacks ${key}`);
      }
    }),
  );

  it(
    'a line over the 64 MiB line limit: exit 3 naming it, the state before it emitted, nothing after',
    seeded(async () => {
      const schema = (await readFile(fixturePath('singer', 'bad', 'not-json.singer'), 'utf8')).split('\n')[0]!;
      async function* huge(): AsyncGenerator<string> {
        yield `${schema}\n`;
        yield '{"type":"RECORD","stream":"users","record":{"uid":"huge-1","plan":"free"}}\n';
        yield `${JSON.stringify({ type: 'STATE', value: BEFORE })}\n`;
        yield '{"type":"RECORD","stream":"users","record":{"uid":"huge-after","display_name":"';
        const mib = 'x'.repeat(1024 * 1024);
        for (let i = 0; i < 65; i++) yield mib;
        yield '"}}\n';
        yield `${JSON.stringify({ type: 'STATE', value: AFTER })}\n`;
      }
      const { run } = await runTarget('huge-line', huge());
      check(run.code === 3, `expected exit 3: ${describeRun(run)}`);
      const errors = errorLines(run, 'target-fullstory');
      check(errors.length === 1, `expected one error line: ${describeRun(run)}`);
      expect(errors[0]).toMatch(namesLine(4));
      expect(states(run)).toEqual([BEFORE]);
      expect([...usersByUid(sandbox).keys()]).toEqual(['huge-1']);
    }),
  );

  it(
    'a large but legal line (a 1 MB property value): exit 0, the record lands or is dead-lettered, never dropped silently',
    seeded(async () => {
      const schema = {
        type: 'SCHEMA',
        stream: 'users',
        schema: { type: 'object', properties: { uid: { type: 'string' }, bio: { type: 'string' } } },
        key_properties: ['uid'],
      };
      const lines = [
        JSON.stringify(schema),
        JSON.stringify({ type: 'RECORD', stream: 'users', record: { uid: 'big-1', bio: 'y'.repeat(1_000_000) } }),
        JSON.stringify({ type: 'RECORD', stream: 'users', record: { uid: 'big-2', bio: 'short' } }),
        JSON.stringify({ type: 'STATE', value: AFTER }),
      ];
      const { run, dead } = await runTarget('large-line', `${lines.join('\n')}\n`);
      check(run.code === 0, `expected exit 0: ${describeRun(run)}`);
      expect(states(run)).toEqual([AFTER]);
      const landed = usersByUid(sandbox);
      expect(landed.get('big-2')?.properties).toMatchObject({ bio: 'short' });
      const deadLettered = dead.includes('"big-1"');
      check(landed.has('big-1') || deadLettered, 'the record with the 1 MB value neither landed nor was dead-lettered');
      // Whatever happened to the value, FullStory's 8192-byte cap was not broken by what was sent.
      const bio = landed.get('big-1')?.properties['bio'];
      if (typeof bio === 'string') expect(Buffer.byteLength(bio)).toBeLessThanOrEqual(8192);
    }),
  );
});

describe('tap-fullstory with a state file that is not JSON', () => {
  it(
    'exit 3, one line naming the file, no STATE and no download',
    seeded(async () => {
      const config = await writeConfig(temp.dir, 'tap.json', fastTapConfig());
      const state = fixturePath('singer', 'bad', 'state-not-json.json');
      const run = await spawnBin('tap-fullstory', {
        args: ['--config', config, '--state', state],
        env: tapEnv(sandbox),
        timeoutMs: 30_000,
      });
      expectNoSecret({ stdout: run.stdout, stderr: run.stderr });
      check(run.code === 3, `expected exit 3: ${describeRun(run)}`);
      const errors = errorLines(run, 'tap-fullstory');
      check(errors.length === 1, `expected one error line: ${describeRun(run)}`);
      expect(errors[0]).toContain('state-not-json.json');
      expect(run.lines.filter((l) => l.includes('"STATE"'))).toEqual([]);
      expect(sandbox.requests().filter((r) => r.path.startsWith('/api/v1/export/get'))).toEqual([]);
    }),
  );
});
