/**
 * Reliability: the real tap bin through a seeded fault storm (docs/reliability.md "Failures the bins ride out"):
 * 20% of export calls answer 500, a burst of 429 with `Retry-After`, connection resets, truncated
 * gzip bodies, a response that never starts and one that stalls mid-body. The tap must finish (exit 0)
 * with every event emitted exactly once, in order, byte for byte, and leak the key nowhere.
 *
 * The storm is repeatable: the probabilistic rule draws from the suite seed, and the scripted rules
 * are armed in a seeded order (the sandbox fires the first armed rule that matches).
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import type { FaultRule, Sandbox } from 'fullstory-sandbox';
import { SEED, check, describeRun, expectNoSecret, killAll, makeTemp, prng, seeded, shuffle, spawnBin } from './helpers.js';
import { fastTapConfig, startSecretSandbox, tapEnv, writeConfig } from './sandbox-helpers.js';
import { ExpectedEvents, checkRun, readTapOutput } from './tap-model.js';

let sandbox: Sandbox;
let temp: { dir: string; remove: () => Promise<void> };
let model: ExpectedEvents;

beforeAll(async () => {
  // An empty bundle among them: it must still be passed whole, not retried forever.
  sandbox = await startSecretSandbox({ bundles: 4, eventsPerBundle: [500, 0, 700, 400] });
  temp = await makeTemp('tap-storm');
  model = new ExpectedEvents(sandbox.bundles(), SEED);
});
afterEach(() => killAll());
afterAll(async () => {
  await sandbox.close();
  await temp.remove();
});


const GET = '/api/v1/export/get';
const LIST = '/api/v1/export/list';

/** The scripted part of the storm (each rule fires `times` times, then disarms). */
const SCRIPTED: FaultRule[] = [
  { method: 'GET', path: GET, times: 3, status: 429, headers: { 'Retry-After': '1' }, body: { code: 'too_many_requests', message: 'slow down' } },
  { method: 'GET', path: GET, times: 2, action: 'reset' },
  { method: 'GET', path: GET, times: 1, action: 'truncate', after_bytes: 2000 },
  { method: 'GET', path: GET, times: 1, action: 'truncate', after_bytes: 40000 },
  { method: 'GET', path: GET, times: 1, action: 'stall', ms: 5000 },
  { method: 'GET', path: GET, times: 1, action: 'stall', after_bytes: 20000, ms: 5000 },
  { method: 'GET', path: LIST, times: 1, action: 'reset' },
  { method: 'GET', path: LIST, times: 1, status: 503 },
];

describe('tap-fullstory in a fault storm', () => {
  it(
    'finishes with every event exactly once, in order, and the cursor at the end',
    seeded(async () => {
      const random = prng(SEED ^ 0x7a9);
      sandbox.addFaults([
        // 20% of every export call, drawn from the seed. Armed first: it gets first pick.
        { path: '/api/v1/export/', probability: 0.2, seed: SEED, status: 500 },
        ...shuffle(SCRIPTED, random),
        // Retry-After as an HTTP date (about two seconds from now), on the listing.
        { method: 'GET', path: LIST, times: 1, status: 429, headers: { 'Retry-After': new Date(Date.now() + 2000).toUTCString() } },
      ]);
      const config = await writeConfig(
        temp.dir,
        'tap.json',
        fastTapConfig({ state_every_records: 100, max_retries: 10, request_timeout_seconds: 1.5 }),
      );
      const run = await spawnBin('tap-fullstory', { args: ['--config', config], env: tapEnv(sandbox), timeoutMs: 150_000 });
      expectNoSecret({ stdout: run.stdout, stderr: run.stderr });
      check(run.code === 0, `expected exit 0: ${describeRun(run)}`);

      const out = readTapOutput(run.lines, model);
      // One run from no state: positions 0..total-1 in order — nothing lost, nothing twice.
      checkRun(out, model, undefined, 'storm run');
      expect(out.records.length).toBe(model.total);
      const final = out.states[out.states.length - 1];
      check(final !== undefined, 'no final STATE');
      expect(model.cursor(final.value)).toBe(model.total);

      // The storm really happened: every scripted rule fired, and the 500s too.
      const left = sandbox.faults().filter((r) => r.probability === undefined);
      expect(left).toEqual([]);
      const faulted = sandbox.requests().filter((r) => r.fault !== undefined);
      const count = (pred: (r: (typeof faulted)[number]) => boolean): number => faulted.filter(pred).length;
      expect(count((r) => r.fault === 'truncate')).toBe(2);
      expect(count((r) => r.fault === 'stall')).toBe(2);
      expect(count((r) => r.fault === 'reset')).toBe(3);
      check(count((r) => r.fault === 'status' && r.status === 500) > 0, 'no 500 was drawn: the storm is too mild for this seed');
    }),
    170_000,
  );
});
