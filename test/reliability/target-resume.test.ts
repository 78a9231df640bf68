/**
 * Reliability: the real target bin SIGKILLed, and stopped by SIGTERM and SIGINT, while batch jobs are in
 * flight, then resumed the way a runner does it: the source re-sends everything after the last state
 * the target printed (the README's "Reliability: what is guaranteed"). A graceful stop lets the created
 * jobs finish, prints the last safe state and the summary, and exits 143 / 130.
 *
 * Proven: every state the target prints covers only records already imported (checked against the
 * sandbox at the moment the line arrives); a stopped run says it was interrupted and its figures add up;
 * after the kills or stops and a last run, every user is in the sandbox with its latest values; the key
 * is in no output or dead-letter file.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { logLines } from '@fullstory-singer/singer-core/testing';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Sandbox } from 'fullstory-sandbox';
import { SEED, check, describeRun, expectNoSecret, killAll, makeTemp, prng, randomInt, seeded, spawnBin } from './helpers.js';
import { fastTargetConfig, startSecretSandbox, targetEnv, usersByUid, writeConfig } from './sandbox-helpers.js';

const USERS = 240;
const STATE_EVERY = 15;

let sandbox: Sandbox;
let temp: { dir: string; remove: () => Promise<void> };

beforeAll(async () => {
  // Jobs stay PROCESSING long enough that a kill always finds some in flight.
  sandbox = await startSecretSandbox({ bundles: 0, jobLatencyMs: 250 });
  temp = await makeTemp('target-resume');
});
afterEach(() => killAll());
afterAll(async () => {
  await sandbox.close();
  await temp.remove();
});

const plans = ['free', 'pro', 'team'] as const;

/** The user record at position i of the source. */
function userRecord(i: number): { uid: string; display_name: string; plan: string; n: number } {
  return { uid: `resume-${i}`, display_name: `User ${i}`, plan: plans[i % plans.length]!, n: i };
}

/**
 * The source (a stand-in for a tap): a SCHEMA, then the users from `offset`, with a STATE naming the
 * next offset after every {@link STATE_EVERY} records and at the end.
 */
function sourceFrom(offset: number): string {
  const lines = [
    JSON.stringify({
      type: 'SCHEMA',
      stream: 'users',
      schema: {
        type: 'object',
        properties: { uid: { type: 'string' }, display_name: { type: 'string' }, plan: { type: 'string' }, n: { type: 'integer' } },
        required: ['uid'],
      },
      key_properties: ['uid'],
    }),
  ];
  for (let i = offset; i < USERS; i++) {
    lines.push(JSON.stringify({ type: 'RECORD', stream: 'users', record: userRecord(i) }));
    if ((i + 1) % STATE_EVERY === 0 || i + 1 === USERS) {
      lines.push(JSON.stringify({ type: 'STATE', value: { bookmarks: { users: { offset: i + 1 } } } }));
    }
  }
  return `${lines.join('\n')}\n`;
}

function offsetOf(stateLine: string): number {
  const value = JSON.parse(stateLine) as { bookmarks: Record<string, { offset: number }> };
  return Object.values(value.bookmarks)[0]!.offset;
}

function unfinishedJobs(): number {
  const { jobs } = sandbox.stats();
  return jobs.queued + jobs.running;
}

/** `key=value` figures of a run's summary line. */
function summary(stderr: string): Record<string, number> {
  const line = logLines(stderr).find((l) => l.startsWith('INFO finished'));
  check(line !== undefined, 'no summary line');
  const out: Record<string, number> = {};
  for (const m of line.matchAll(/ (\w+)=(\d+)/g)) out[m[1]!] = Number(m[2]);
  return out;
}

/** How a run is interrupted: SIGKILL (no goodbye), or a graceful SIGTERM / SIGINT. */
interface Interruption {
  signal: 'SIGKILL' | 'SIGTERM' | 'SIGINT';
  /** Once jobs are in flight and at least this many state lines are out. */
  afterStates: number;
}

const EXIT_CODE = { SIGTERM: 143, SIGINT: 130 } as const;

/**
 * Runs the target over the users source, interrupting each run as said and resuming the next from the
 * last state printed, then one run to the end. Checks every state line against the sandbox as it
 * arrives, each run's end, and at last every user with its latest values. Returns the unfinished jobs at
 * each interruption.
 */
async function resumeThrough(interruptions: Interruption[], name: string): Promise<number[]> {
  const deadLetter = join(temp.dir, `${name}.rejected.ndjson`);
  const config = await writeConfig(temp.dir, `${name}.json`, fastTargetConfig(deadLetter, { batch_size: 5, max_jobs_in_flight: 3 }));
  let offset = 0;
  const jobsAtInterruption: number[] = [];
  for (let runNo = 0; runNo <= interruptions.length; runNo++) {
    const stop = interruptions[runNo];
    const label = `run ${runNo + 1} (from offset ${offset}, ${stop ? `${stop.signal} after ${stop.afterStates} state(s)` : 'to the end'})`;
    let statesSeen = 0;
    let sent = false;
    let poll: NodeJS.Timeout | undefined;
    const violations: string[] = [];
    const tryStop = (child: { kill: (s: NodeJS.Signals) => boolean }): void => {
      if (stop === undefined || sent || statesSeen < stop.afterStates) return;
      const inFlight = unfinishedJobs();
      if (inFlight === 0) return;
      sent = true;
      jobsAtInterruption.push(inFlight);
      child.kill(stop.signal);
      if (poll) clearInterval(poll);
    };
    const run = await spawnBin('target-fullstory', {
      args: ['--config', config],
      env: targetEnv(sandbox),
      input: sourceFrom(offset),
      timeoutMs: 60_000,
      onSpawn: (child) => {
        if (stop !== undefined) poll = setInterval(() => tryStop(child), 5);
      },
      onLine: (line, _i, child) => {
        if (line.trim() === '') return false;
        statesSeen++;
        // The state's records must already be in the sandbox, right now.
        const landed = usersByUid(sandbox);
        const upTo = offsetOf(line);
        for (let i = 0; i < upTo; i++) {
          if (!landed.has(userRecord(i).uid)) {
            violations.push(`${label}: state offset ${upTo} printed before user ${i} was imported`);
            break;
          }
        }
        tryStop(child);
        return false;
      },
    });
    if (poll) clearInterval(poll);
    const dead = existsSync(deadLetter) ? await readFile(deadLetter) : undefined;
    expectNoSecret({ [`${label} stdout`]: run.stdout, [`${label} stderr`]: run.stderr, 'dead-letter file': dead });
    expect(violations).toEqual([]);
    const stateLines = run.lines.filter((l) => l.trim() !== '');
    const stderr = run.stderr.toString('utf8');
    if (stop === undefined) {
      check(run.code === 0, `${label}: expected exit 0: ${describeRun(run)}`);
      expect(offsetOf(stateLines[stateLines.length - 1]!)).toBe(USERS);
      continue;
    }
    check(sent, `${label}: never interrupted: ${describeRun(run)}`);
    if (stop.signal === 'SIGKILL') {
      check(run.signal === 'SIGKILL', `${label}: expected to be killed mid-run: ${describeRun(run)}`);
    } else {
      check(run.code === EXIT_CODE[stop.signal], `${label}: expected exit ${EXIT_CODE[stop.signal]}: ${describeRun(run)}`);
      expect(stderr).toContain(`target-fullstory: interrupted by ${stop.signal}`);
      const s = summary(stderr);
      check(s['records_read'] === (s['imported'] ?? 0) + (s['rejected'] ?? 0) + (s['unsettled'] ?? 0), `${label}: figures do not add up: ${JSON.stringify(s)}`);
    }
    if (stateLines.length > 0) offset = offsetOf(stateLines[stateLines.length - 1]!);
    check(offset < USERS, `${label}: interrupted after the last state; the scenario proves nothing`);
  }
  // Every user, with its latest values (re-sent records are upserts by uid).
  const landed = usersByUid(sandbox);
  const wrong: string[] = [];
  for (let i = 0; i < USERS; i++) {
    const expected = userRecord(i);
    const u = landed.get(expected.uid);
    if (u === undefined || u.display_name !== expected.display_name || u.properties['plan'] !== expected.plan || u.properties['n'] !== expected.n) wrong.push(expected.uid);
  }
  check(wrong.length === 0, `${wrong.length} user(s) missing or wrong after resuming, e.g. ${wrong.slice(0, 3).join(', ')}`);
  expect(landed.size).toBe(USERS);
  return jobsAtInterruption;
}

describe('target-fullstory killed or stopped with jobs in flight and resumed from its last printed state', () => {
  it(
    'SIGKILL: never prints a state ahead of the imports, and leaves every user in the sandbox',
    seeded(async () => {
      const random = prng(SEED ^ 0x5a5a);
      // Kill 1: once jobs are in flight and at least k state lines are out. Kill 2: as soon as jobs
      // are in flight, before any state line of that run.
      const jobs = await resumeThrough(
        [
          { signal: 'SIGKILL', afterStates: randomInt(random, 1, 4) },
          { signal: 'SIGKILL', afterStates: 0 },
        ],
        'kill',
      );
      expect(jobs).toHaveLength(2);
      for (const n of jobs) expect(n).toBeGreaterThan(0);
    }),
    120_000,
  );

  it(
    'SIGTERM, then SIGINT: each run finishes its jobs, exits 143 / 130 having printed only safe states, and resuming loses nothing',
    seeded(async () => {
      sandbox.reset();
      const random = prng(SEED ^ 0x51f);
      const jobs = await resumeThrough(
        [
          { signal: 'SIGTERM', afterStates: randomInt(random, 1, 3) },
          { signal: 'SIGINT', afterStates: randomInt(random, 0, 2) },
        ],
        'stop',
      );
      expect(jobs).toHaveLength(2);
    }),
    120_000,
  );

  it(
    'events: after a kill every event is stored at least once, and only records past the last printed state twice',
    seeded(async () => {
      sandbox.reset();
      const random = prng(SEED ^ 0xe7);
      const EVENTS = 150;
      const lines = [
        JSON.stringify({
          type: 'SCHEMA',
          stream: 'clicks',
          schema: { type: 'object', properties: { uid: { type: 'string' }, event_name: { type: 'string' }, n: { type: 'integer' } } },
          key_properties: [],
        }),
      ];
      const source = (offset: number): string => {
        const out = [lines[0]!];
        for (let i = offset; i < EVENTS; i++) {
          out.push(JSON.stringify({ type: 'RECORD', stream: 'clicks', record: { uid: `clicker-${i % 9}`, event_name: 'Resume Click', n: i } }));
          if ((i + 1) % STATE_EVERY === 0 || i + 1 === EVENTS) out.push(JSON.stringify({ type: 'STATE', value: { bookmarks: { clicks: { offset: i + 1 } } } }));
        }
        return `${out.join('\n')}\n`;
      };
      const deadLetter = join(temp.dir, 'events-rejected.ndjson');
      const config = await writeConfig(temp.dir, 'target-events.json', fastTargetConfig(deadLetter, { data_type: 'events', batch_size: 7, max_jobs_in_flight: 3 }));
      const afterStates = randomInt(random, 1, 3);

      let statesSeen = 0;
      let killedWith = 0;
      const first = await spawnBin('target-fullstory', {
        args: ['--config', config],
        env: targetEnv(sandbox),
        input: source(0),
        timeoutMs: 60_000,
        onLine: (line) => {
          if (line.trim() === '') return false;
          statesSeen++;
          if (statesSeen < afterStates) return false;
          killedWith = unfinishedJobs();
          return killedWith > 0;
        },
      });
      expectNoSecret({ 'run 1 stdout': first.stdout, 'run 1 stderr': first.stderr });
      check(first.signal === 'SIGKILL', `run 1: expected to be killed with jobs in flight: ${describeRun(first)}`);
      expect(killedWith).toBeGreaterThan(0);
      const printed = first.lines.filter((l) => l.trim() !== '');
      const offset = printed.length > 0 ? offsetOf(printed[printed.length - 1]!) : 0;
      check(offset < EVENTS, 'the kill landed after the last state; the scenario proves nothing');

      const second = await spawnBin('target-fullstory', { args: ['--config', config], env: targetEnv(sandbox), input: source(offset), timeoutMs: 60_000 });
      const dead = existsSync(deadLetter) ? await readFile(deadLetter) : undefined;
      expectNoSecret({ 'run 2 stdout': second.stdout, 'run 2 stderr': second.stderr, 'dead-letter file': dead });
      check(second.code === 0, `run 2: expected exit 0: ${describeRun(second)}`);

      const counts = new Map<number, number>();
      for (const e of sandbox.events()) {
        const n = (e.request['properties'] as Record<string, unknown> | undefined)?.['n'];
        check(typeof n === 'number', 'an event without its n property');
        counts.set(n, (counts.get(n) ?? 0) + 1);
      }
      const missing: number[] = [];
      const badDuplicates: number[] = [];
      for (let i = 0; i < EVENTS; i++) {
        const c = counts.get(i) ?? 0;
        if (c === 0) missing.push(i);
        // Twice is expected only past the resume point (sent by both runs); never more, never before it.
        if (c > (i >= offset ? 2 : 1)) badDuplicates.push(i);
      }
      check(missing.length === 0, `${missing.length} event(s) missing after resume from offset ${offset}, e.g. n=${missing.slice(0, 5).join(',')}`);
      check(badDuplicates.length === 0, `event(s) stored too often (resume offset ${offset}): n=${badDuplicates.slice(0, 5).join(',')}`);
    }),
    120_000,
  );

});
