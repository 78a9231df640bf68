/**
 * Reliability: `tap-fullstory | target-fullstory` through a real pipe, both talking to one sandbox
 * under a seeded storm on both APIs at once (docs/reliability.md "Failures the bins ride out": both CLIs
 * finish with nothing lost). Every exported event must land as a FullStory event exactly once, named by its
 * `_sdc_bundle_id` / `_sdc_bundle_index` properties, with its user id digit for digit (ids above
 * 2^53 included); the target's last state is the tap's last state; the key is in no output.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseJson, stringifyJson } from '@fullstory-singer/singer-core';
import type { FaultRule, Sandbox } from 'fullstory-sandbox';
import { SEED, check, describeRun, expectNoSecret, killAll, makeTemp, prng, seeded, shuffle, spawnPipeline } from './helpers.js';
import { EXPORTED_EVENTS_STREAMS, fastTapConfig, fastTargetConfig, startSecretSandbox, tapEnv, targetEnv, writeConfig } from './sandbox-helpers.js';
import { ExpectedEvents } from './tap-model.js';

let sandbox: Sandbox;
let temp: { dir: string; remove: () => Promise<void> };
let model: ExpectedEvents;

beforeAll(async () => {
  sandbox = await startSecretSandbox({ bundles: 3, eventsPerBundle: [300, 250, 350], jobLatencyMs: 40 });
  temp = await makeTemp('pipeline-storm');
  model = new ExpectedEvents(sandbox.bundles(), SEED);
});
afterEach(() => killAll());
afterAll(async () => {
  await sandbox.close();
  await temp.remove();
});


const SCRIPTED: FaultRule[] = [
  { method: 'GET', path: '/api/v1/export/get', times: 2, status: 429, headers: { 'Retry-After': '1' } },
  { method: 'GET', path: '/api/v1/export/get', times: 1, action: 'truncate', after_bytes: 3000 },
  { method: 'GET', path: '/api/v1/export/get', times: 1, action: 'reset' },
  { method: 'POST', path: '/v2/events/batch', times: 2, status: 429, headers: { 'Retry-After': '1' } },
  { method: 'POST', path: '/v2/events/batch', times: 1, action: 'reset' },
  { method: 'POST', path: '/v2/events/batch', times: 1, action: 'truncate', after_bytes: 5 },
  { method: 'GET', path: '/v2/events/batch/', times: 1, action: 'stall', ms: 5000 },
];

describe('tap | target in a storm on both APIs', () => {
  it(
    'every exported event lands exactly once, ids exact, and the final state passes through',
    seeded(async () => {
      sandbox.addFaults([
        { probability: 0.15, seed: SEED ^ 0x33, status: 500 },
        ...shuffle(SCRIPTED, prng(SEED ^ 0x33)),
      ]);
      const tapConfig = await writeConfig(temp.dir, 'tap.json', fastTapConfig({ state_every_records: 100, max_retries: 10, request_timeout_seconds: 1.5 }));
      const deadLetter = join(temp.dir, 'rejected.ndjson');
      const targetConfig = await writeConfig(
        temp.dir,
        'target.json',
        fastTargetConfig(deadLetter, {
          data_type: undefined,
          streams: EXPORTED_EVENTS_STREAMS,
          batch_size: 100,
          max_retries: 10,
          request_timeout_seconds: 1.5,
        }),
      );
      const { tap, target } = await spawnPipeline({
        // Debug logging on both: the most verbose output must still not show the key.
        tap: { args: ['--config', tapConfig, '--log-level', 'debug'], env: tapEnv(sandbox) },
        target: { args: ['--config', targetConfig, '--log-level', 'debug'], env: targetEnv(sandbox) },
        timeoutMs: 150_000,
      });
      const dead = existsSync(deadLetter) ? await readFile(deadLetter) : undefined;
      expectNoSecret({ 'tap stdout': tap.stdout, 'tap stderr': tap.stderr, 'target stdout': target.stdout, 'target stderr': target.stderr, 'dead-letter file': dead });
      check(tap.code === 0, `tap: expected exit 0: ${describeRun(tap)}`);
      check(target.code === 0, `target: expected exit 0: ${describeRun(target)}`);
      check(dead === undefined || dead.length === 0, `records were dead-lettered: ${dead?.toString('utf8').slice(0, 500)}`);

      // The target's last state is the tap's last STATE value.
      const tapStates = tap.lines.filter((l) => l.includes('"type":"STATE"')).map((l) => (parseJson(l) as { value: unknown }).value);
      const targetStates = target.lines.filter((l) => l.trim() !== '');
      check(tapStates.length > 0 && targetStates.length > 0, 'no state from the tap or the target');
      expect(targetStates[targetStates.length - 1]).toBe(stringifyJson(tapStates[tapStates.length - 1]));
      expect(model.cursor(tapStates[tapStates.length - 1] as Record<string, unknown>)).toBe(model.total);

      // Each exported event exactly once, with its user id exact.
      const seen = new Map<number, number>();
      const wrongUid: number[] = [];
      for (const e of sandbox.events()) {
        const props = (e.request['properties'] ?? {}) as Record<string, unknown>;
        // `_sdc_*` breaks FullStory's naming rules (a leading letter); the target rewrites it with a `p` prefix.
        const id = props['p_sdc_bundle_id'];
        const index = props['p_sdc_bundle_index'];
        check(id !== undefined && index !== undefined, `an event without its bundle key properties: ${JSON.stringify(props).slice(0, 300)}`);
        const pos = model.position(id, Number(index));
        seen.set(pos, (seen.get(pos) ?? 0) + 1);
        const indvId = /"IndvId":(\d+)/.exec(model.texts[pos]!)?.[1];
        const uid = (e.request['user'] as Record<string, unknown> | undefined)?.['uid'];
        if (uid !== indvId) wrongUid.push(pos);
      }
      const { missing, doubled } = model.missingAndDoubled(seen);
      check(missing.length === 0, `${missing.length} event(s) never landed, e.g. positions ${missing.slice(0, 5).join(',')}`);
      check(doubled.length === 0, `${doubled.length} event(s) landed twice, e.g. positions ${doubled.slice(0, 5).join(',')}`);
      check(wrongUid.length === 0, `${wrongUid.length} event(s) landed with a user id that is not the exported IndvId`);
      expect(sandbox.events().length).toBe(model.total);
      expect(sandbox.faults().filter((r) => r.probability === undefined)).toEqual([]);
    }),
    170_000,
  );
});
