/**
 * Reliability: the real target bin stopped by SIGTERM and by SIGINT while batch jobs are in flight, then
 * resumed the way a runner does it: the source re-sends everything after the last state the target
 * printed. A graceful stop lets the created jobs finish, prints the last safe state and the summary,
 * and exits 143 / 130; resuming from that state loses nothing.
 *
 * Proven: every state printed covers only records already imported (checked against the sandbox as the
 * line arrives); each stopped run says it was interrupted and its figures add up; after the stops and a
 * last run every user is in the sandbox with its latest values; the key is in no output.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Sandbox } from 'fullstory-sandbox';
import { SEED, check, describeRun, expectNoSecret, killAll, makeTemp, prng, randomInt, seeded, spawnBin } from './helpers.js';
import { fastTargetConfig, startSecretSandbox, targetEnv, usersByUid, writeConfig } from './sandbox-helpers.js';

const USERS = 200;
const STATE_EVERY = 10;

let sandbox: Sandbox;
let temp: { dir: string; remove: () => Promise<void> };

beforeAll(async () => {
  // Jobs stay PROCESSING long enough that a signal always finds some in flight.
  sandbox = await startSecretSandbox({ bundles: 0, jobLatencyMs: 300 });
  temp = await makeTemp('target-stop');
});
afterEach(() => killAll());
afterAll(async () => {
  await sandbox.close();
  await temp.remove();
});

function userRecord(i: number): { uid: string; plan: string; n: number } {
  return { uid: `stop-${i}`, plan: ['free', 'pro', 'team'][i % 3]!, n: i };
}

function sourceFrom(offset: number): string {
  const lines = [
    JSON.stringify({ type: 'SCHEMA', stream: 'users', schema: { type: 'object', properties: { uid: { type: 'string' }, plan: { type: 'string' }, n: { type: 'integer' } } }, key_properties: ['uid'] }),
  ];
  for (let i = offset; i < USERS; i++) {
    lines.push(JSON.stringify({ type: 'RECORD', stream: 'users', record: userRecord(i) }));
    if ((i + 1) % STATE_EVERY === 0 || i + 1 === USERS) lines.push(JSON.stringify({ type: 'STATE', value: { bookmarks: { users: { offset: i + 1 } } } }));
  }
  return `${lines.join('\n')}\n`;
}

const offsetOf = (line: string): number => (JSON.parse(line) as { bookmarks: { users: { offset: number } } }).bookmarks.users.offset;
const unfinishedJobs = (): number => sandbox.stats().jobs.queued + sandbox.stats().jobs.running;

/** `key=value` fields of the summary line. */
function summary(stderr: string): Record<string, number> {
  const line = stderr.split('\n').find((l) => l.startsWith('INFO finished'));
  check(line !== undefined, 'no summary line');
  const out: Record<string, number> = {};
  for (const m of line.matchAll(/ (\w+)=(\d+)/g)) out[m[1]!] = Number(m[2]);
  return out;
}

describe('target-fullstory stopped by a signal with jobs in flight, and resumed from its last printed state', () => {
  it(
    'SIGTERM, then SIGINT: each run exits 143 / 130 having printed only safe states; resuming loses nothing',
    seeded(async () => {
      const random = prng(SEED ^ 0x51f);
      const deadLetter = join(temp.dir, 'rejected.ndjson');
      const config = await writeConfig(temp.dir, 'target.json', fastTargetConfig(deadLetter, { batch_size: 7, max_jobs_in_flight: 3 }));
      const stops: Array<{ signal: NodeJS.Signals; code: number; afterStates: number }> = [
        { signal: 'SIGTERM', code: 143, afterStates: randomInt(random, 1, 3) },
        { signal: 'SIGINT', code: 130, afterStates: randomInt(random, 0, 2) },
      ];
      let offset = 0;
      for (let runNo = 0; runNo <= stops.length; runNo++) {
        const stop = stops[runNo];
        const label = `run ${runNo + 1} (from offset ${offset}${stop ? `, ${stop.signal} after ${stop.afterStates} state(s)` : ''})`;
        let states = 0;
        let sent = false;
        let poll: NodeJS.Timeout | undefined;
        const violations: string[] = [];
        const trySignal = (child: { kill: (s: NodeJS.Signals) => boolean }): void => {
          if (stop === undefined || sent || states < stop.afterStates || unfinishedJobs() === 0) return;
          sent = true;
          child.kill(stop.signal);
          if (poll) clearInterval(poll);
        };
        const run = await spawnBin('target-fullstory', {
          args: ['--config', config],
          env: targetEnv(sandbox),
          input: sourceFrom(offset),
          timeoutMs: 60_000,
          onSpawn: (child) => {
            if (stop) poll = setInterval(() => trySignal(child), 5);
          },
          onLine: (line, _i, child) => {
            if (line.trim() === '') return false;
            states++;
            const landed = usersByUid(sandbox);
            const upTo = offsetOf(line);
            for (let i = 0; i < upTo; i++) {
              if (!landed.has(userRecord(i).uid)) {
                violations.push(`${label}: state ${upTo} printed before user ${i} was imported`);
                break;
              }
            }
            trySignal(child);
            return false;
          },
        });
        if (poll) clearInterval(poll);
        const dead = existsSync(deadLetter) ? await readFile(deadLetter) : undefined;
        expectNoSecret({ [`${label} stdout`]: run.stdout, [`${label} stderr`]: run.stderr, 'dead-letter file': dead });
        expect(violations).toEqual([]);
        const stderr = run.stderr.toString('utf8');
        const printed = run.lines.filter((l) => l.trim() !== '');
        const s = summary(stderr);
        check(s['records_read'] === (s['imported'] ?? 0) + (s['rejected'] ?? 0) + (s['unsettled'] ?? 0), `${label}: figures do not add up: ${JSON.stringify(s)}`);
        if (stop) {
          check(sent, `${label}: the signal was never sent: ${describeRun(run)}`);
          check(run.code === stop.code, `${label}: expected exit ${stop.code}: ${describeRun(run)}`);
          expect(stderr).toContain(`target-fullstory: interrupted by ${stop.signal}`);
          if (printed.length > 0) offset = offsetOf(printed[printed.length - 1]!);
          check(offset < USERS, `${label}: the stop came after the last state; the scenario proves nothing`);
        } else {
          check(run.code === 0, `${label}: expected exit 0: ${describeRun(run)}`);
          expect(offsetOf(printed[printed.length - 1]!)).toBe(USERS);
        }
      }
      const landed = usersByUid(sandbox);
      const wrong: string[] = [];
      for (let i = 0; i < USERS; i++) {
        const u = landed.get(userRecord(i).uid);
        if (u === undefined || u.properties['n'] !== i || u.properties['plan'] !== userRecord(i).plan) wrong.push(userRecord(i).uid);
      }
      check(wrong.length === 0, `${wrong.length} user(s) missing or wrong after the stops, e.g. ${wrong.slice(0, 3).join(', ')}`);
      expect(landed.size).toBe(USERS);
    }),
    120_000,
  );
});
