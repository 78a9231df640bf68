/**
 * Reliability: the real target bin through a seeded fault storm on the Server API
 * (the README's "Reliability: what is guaranteed"): 20% of calls answer
 * 500, 429 bursts with `Retry-After`, connection resets, bodies cut short or stalled after the server
 * already acted (so only the `Idempotency-Key` saves the retry from a duplicate), and responses that
 * never start. The target must finish (exit 0) with every user present exactly as sent (by uid) and
 * every event present exactly once (counted), no dead letters, and no key in any output.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { FaultRule, Sandbox } from 'fullstory-sandbox';
import { SEED, check, describeRun, expectNoSecret, killAll, makeTemp, prng, seeded, shuffle, spawnBin } from './helpers.js';
import { fastTargetConfig, startSecretSandbox, targetEnv, usersByUid, writeConfig } from './sandbox-helpers.js';

const COUNT = 200;
const STATE_EVERY = 20;

let sandbox: Sandbox;
let temp: { dir: string; remove: () => Promise<void> };

beforeAll(async () => {
  sandbox = await startSecretSandbox({ bundles: 0, jobLatencyMs: 40 });
  temp = await makeTemp('target-storm');
});
beforeEach(() => sandbox.reset());
afterEach(() => killAll());
afterAll(async () => {
  await sandbox.close();
  await temp.remove();
});


/** The storm for one kind of batch: a seeded 20% of 500s first, then the scripted faults in a seeded order. */
function storm(kind: 'users' | 'events', seedSalt: number): FaultRule[] {
  const batch = `/v2/${kind}/batch`;
  const job = `/v2/${kind}/batch/`;
  const scripted: FaultRule[] = [
    { method: 'POST', path: batch, times: 4, status: 429, headers: { 'Retry-After': '1' } },
    { method: 'POST', path: batch, times: 2, action: 'reset' },
    // The job is created, then the answer breaks off: only the Idempotency-Key prevents a second job.
    { method: 'POST', path: batch, times: 1, action: 'truncate', after_bytes: 5 },
    { method: 'POST', path: batch, times: 1, action: 'stall', after_bytes: 5, ms: 5000 },
    { method: 'POST', path: batch, times: 1, action: 'stall', ms: 5000 },
    { method: 'GET', path: job, times: 2, status: 429, headers: { 'Retry-After': '1' } },
    { method: 'GET', path: job, times: 2, action: 'reset' },
    { method: 'GET', path: job, times: 1, action: 'truncate', after_bytes: 10 },
    { method: 'GET', path: job, times: 1, action: 'stall', ms: 5000 },
  ];
  return [{ path: '/v2/', probability: 0.2, seed: SEED ^ seedSalt, status: 500 }, ...shuffle(scripted, prng(SEED ^ seedSalt))];
}

/** A Singer stream of `COUNT` records of one stream, with a STATE every `STATE_EVERY`. */
function singer(stream: string, properties: Record<string, unknown>, record: (i: number) => Record<string, unknown>): string {
  const lines = [JSON.stringify({ type: 'SCHEMA', stream, schema: { type: 'object', properties }, key_properties: [] })];
  for (let i = 0; i < COUNT; i++) {
    lines.push(JSON.stringify({ type: 'RECORD', stream, record: record(i) }));
    if ((i + 1) % STATE_EVERY === 0) lines.push(JSON.stringify({ type: 'STATE', value: { bookmarks: { [stream]: { offset: i + 1 } } } }));
  }
  return `${lines.join('\n')}\n`;
}

/** Runs the target under the armed storm; checks exit 0, the final state, no dead letters, no key. */
async function runStormed(name: string, input: string, overrides: Record<string, unknown>): Promise<void> {
  const deadLetter = join(temp.dir, `${name}.rejected.ndjson`);
  const config = await writeConfig(
    temp.dir,
    `${name}.json`,
    fastTargetConfig(deadLetter, { batch_size: 8, max_jobs_in_flight: 4, max_retries: 10, request_timeout_seconds: 1.5, ...overrides }),
  );
  const run = await spawnBin('target-fullstory', { args: ['--config', config], env: targetEnv(sandbox), input, timeoutMs: 150_000 });
  const dead = existsSync(deadLetter) ? await readFile(deadLetter) : undefined;
  expectNoSecret({ stdout: run.stdout, stderr: run.stderr, 'dead-letter file': dead });
  check(run.code === 0, `expected exit 0: ${describeRun(run)}`);
  check(dead === undefined || dead.length === 0, `records were dead-lettered: ${dead?.toString('utf8').slice(0, 500)}`);
  const states = run.lines.filter((l) => l.trim() !== '').map((l) => JSON.parse(l) as { bookmarks: Record<string, { offset: number }> });
  check(states.length > 0, 'no state emitted');
  const offsets = states.map((s) => Object.values(s.bookmarks)[0]!.offset);
  // States come out in input order and the last one covers everything.
  expect([...offsets].sort((a, b) => a - b)).toEqual(offsets);
  expect(offsets[offsets.length - 1]).toBe(COUNT);

  // The storm really happened: every scripted rule fired, and some 500s too.
  expect(sandbox.faults().filter((r) => r.probability === undefined)).toEqual([]);
  const faulted = sandbox.requests().filter((r) => r.fault !== undefined);
  check(faulted.some((r) => r.fault === 'status' && r.status === 500), 'no 500 was drawn: the storm is too mild for this seed');
}

describe('target-fullstory in a fault storm', () => {
  it(
    'users: every user lands exactly as sent',
    seeded(async () => {
      sandbox.addFaults(storm('users', 0x11));
      const input = singer(
        'users',
        { uid: { type: 'string' }, email: { type: 'string' }, n: { type: 'integer' } },
        (i) => ({ uid: `storm-${i}`, email: `u${i}@example.com`, n: i }),
      );
      await runStormed('users', input, { data_type: 'users' });
      const landed = usersByUid(sandbox);
      const wrong: string[] = [];
      for (let i = 0; i < COUNT; i++) {
        const u = landed.get(`storm-${i}`);
        if (u === undefined || u.email !== `u${i}@example.com` || u.properties['n'] !== i) wrong.push(`storm-${i}`);
      }
      check(wrong.length === 0, `${wrong.length} user(s) missing or wrong, e.g. ${wrong.slice(0, 3).join(', ')}`);
      expect(landed.size).toBe(COUNT);
    }),
    170_000,
  );

  it(
    'events: every event lands exactly once',
    seeded(async () => {
      sandbox.addFaults(storm('events', 0x22));
      const input = singer(
        'clicks',
        { uid: { type: 'string' }, event_name: { type: 'string' }, timestamp: { type: 'string', format: 'date-time' }, n: { type: 'integer' } },
        (i) => ({ uid: `clicker-${i % 17}`, event_name: 'Storm Click', timestamp: new Date(Date.UTC(2026, 0, 1, 0, 0, i)).toISOString(), n: i }),
      );
      await runStormed('events', input, { data_type: 'events' });
      const counts = new Map<number, number>();
      for (const e of sandbox.events()) {
        const n = (e.request['properties'] as Record<string, unknown> | undefined)?.['n'];
        check(typeof n === 'number', `an event without its n property: ${JSON.stringify(e.request).slice(0, 300)}`);
        counts.set(n, (counts.get(n) ?? 0) + 1);
      }
      const missing: number[] = [];
      const doubled: number[] = [];
      for (let i = 0; i < COUNT; i++) {
        const c = counts.get(i) ?? 0;
        if (c === 0) missing.push(i);
        if (c > 1) doubled.push(i);
      }
      check(missing.length === 0, `${missing.length} event(s) missing, e.g. n=${missing.slice(0, 5).join(',')}`);
      check(doubled.length === 0, `${doubled.length} event(s) stored more than once, e.g. n=${doubled.slice(0, 5).join(',')}`);
      expect(sandbox.events().length).toBe(COUNT);
    }),
    170_000,
  );

  it(
    "users: FullStory's own in-progress limit (429) is waited out, every user lands",
    seeded(async () => {
      // A second sandbox whose in-progress job limit is below the target's in-flight cap, so the
      // target meets real (not scripted) 429s with Retry-After on batch creation.
      const tight = await startSecretSandbox({ bundles: 0, jobLatencyMs: 200, maxInProgressJobs: 2 });
      try {
        const deadLetter = join(temp.dir, 'tight.rejected.ndjson');
        const config = await writeConfig(temp.dir, 'tight.json', fastTargetConfig(deadLetter, { batch_size: 10, max_jobs_in_flight: 6 }));
        const input = singer('users', { uid: { type: 'string' }, n: { type: 'integer' } }, (i) => ({ uid: `tight-${i}`, n: i }));
        const run = await spawnBin('target-fullstory', { args: ['--config', config], env: targetEnv(tight), input, timeoutMs: 150_000 });
        const dead = existsSync(deadLetter) ? await readFile(deadLetter) : undefined;
        expectNoSecret({ stdout: run.stdout, stderr: run.stderr, 'dead-letter file': dead });
        check(run.code === 0, `expected exit 0: ${describeRun(run)}`);
        check(tight.requests().some((r) => r.status === 429), 'the in-progress limit never answered 429: the scenario proves nothing');
        expect(tight.maxConcurrentJobs()).toBeLessThanOrEqual(2);
        const landed = usersByUid(tight);
        const missing = Array.from({ length: COUNT }, (_, i) => `tight-${i}`).filter((uid) => landed.get(uid)?.properties['n'] !== Number(uid.slice(6)));
        check(missing.length === 0, `${missing.length} user(s) missing or wrong, e.g. ${missing.slice(0, 3).join(', ')}`);
        const last = run.lines.filter((l) => l.trim() !== '').pop();
        expect(last).toBe(JSON.stringify({ bookmarks: { users: { offset: COUNT } } }));
      } finally {
        await tight.close();
      }
    }),
    170_000,
  );
});
