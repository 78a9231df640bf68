/**
 * Reliability: the real target bin SIGKILLed while batch jobs are in flight, then resumed the way a
 * runner does it: the source re-sends everything after the last state the target printed
 * (spec/quality.md "Resume"; spec/target.md "Batches, jobs and state").
 *
 * Proven: every state the target prints covers only records already imported (checked against the
 * sandbox at the moment the line arrives); after the kills and a last run, every user is in the
 * sandbox with its latest values; the key is in no output or dead-letter file.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
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
  const value = JSON.parse(stateLine) as { bookmarks: { users: { offset: number } } };
  return value.bookmarks.users.offset;
}

function unfinishedJobs(): number {
  const { jobs } = sandbox.stats();
  return jobs.queued + jobs.running;
}

describe('target-fullstory killed with jobs in flight and resumed from its last printed state', () => {
  it(
    'never prints a state ahead of the imports, and leaves every user in the sandbox',
    seeded(async () => {
      const random = prng(SEED ^ 0x5a5a);
      // Kill 1: once jobs are in flight and at least k state lines are out. Kill 2: as soon as jobs
      // are in flight, before any state line of that run.
      const kills = [{ afterStates: randomInt(random, 1, 4) }, { afterStates: 0 }];
      const deadLetter = join(temp.dir, 'rejected.ndjson');
      const config = await writeConfig(temp.dir, 'target.json', fastTargetConfig(deadLetter, { batch_size: 7, max_jobs_in_flight: 3 }));
      let offset = 0;
      let jobsAtKill: number[] = [];

      for (let runNo = 0; runNo <= kills.length; runNo++) {
        const kill = kills[runNo];
        const label = `run ${runNo + 1} (from offset ${offset}, kill ${kill ? JSON.stringify(kill) : 'none'})`;
        let statesSeen = 0;
        let poll: NodeJS.Timeout | undefined;
        const violations: string[] = [];
        const tryKill = (child: { kill: (s: NodeJS.Signals) => boolean }): void => {
          if (kill === undefined || statesSeen < kill.afterStates) return;
          const inFlight = unfinishedJobs();
          if (inFlight === 0) return;
          jobsAtKill.push(inFlight);
          child.kill('SIGKILL');
          if (poll) clearInterval(poll);
        };
        const run = await spawnBin('target-fullstory', {
          args: ['--config', config],
          env: targetEnv(sandbox),
          input: sourceFrom(offset),
          timeoutMs: 60_000,
          onSpawn: (child) => {
            if (kill !== undefined) poll = setInterval(() => tryKill(child), 10);
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
            tryKill(child);
            return false;
          },
        });
        if (poll) clearInterval(poll);
        const dead = existsSync(deadLetter) ? await readFile(deadLetter) : undefined;
        expectNoSecret({ [`${label} stdout`]: run.stdout, [`${label} stderr`]: run.stderr, 'dead-letter file': dead });
        expect(violations).toEqual([]);
        const stateLines = run.lines.filter((l) => l.trim() !== '');

        if (kill !== undefined) {
          check(run.signal === 'SIGKILL', `${label}: expected to be killed mid-run: ${describeRun(run)}`);
          if (stateLines.length > 0) offset = offsetOf(stateLines[stateLines.length - 1]!);
          check(offset < USERS, `${label}: the kill landed after the last state; the scenario proves nothing`);
        } else {
          check(run.code === 0, `${label}: expected exit 0: ${describeRun(run)}`);
          expect(offsetOf(stateLines[stateLines.length - 1]!)).toBe(USERS);
        }
      }

      expect(jobsAtKill.length).toBe(kills.length);
      for (const n of jobsAtKill) expect(n).toBeGreaterThan(0);
      // Every user, with its latest values (re-sent records are upserts by uid).
      const landed = usersByUid(sandbox);
      const missing: string[] = [];
      for (let i = 0; i < USERS; i++) {
        const expected = userRecord(i);
        const user = landed.get(expected.uid);
        if (user === undefined) missing.push(expected.uid);
        else {
          expect(user.display_name).toBe(expected.display_name);
          expect(user.properties).toMatchObject({ plan: expected.plan, n: expected.n });
        }
      }
      check(missing.length === 0, `${missing.length} user(s) missing after resume, e.g. ${missing.slice(0, 3).join(', ')}`);
      expect(landed.size).toBe(USERS);
      jobsAtKill = [];
    }),
    120_000,
  );
});
