/**
 * The deterministic upstream the target's exactly-once rerun relies on (issue 14; README "What can
 * duplicate"): tap-fullstory started from a state it printed replays exactly what it printed after that
 * state, for both sources. Every RECORD line is byte for byte the same but for `time_extracted` (the
 * time of the run, which the target sends nowhere), and every STATE comes at the same place. Under
 * Data Export the states are the same bytes too; under Segment Export a window exported anew (a rerun
 * from a state between windows) names its new export operation, so only `operation_id` may differ.
 * What the target builds its batches and keys from (the records and where the states fall) is the same.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Sandbox } from 'fullstory-sandbox';
import { SEED, check, describeRun, expectNoSecret, killAll, makeTemp, prng, randomInt, seeded, spawnBin } from './helpers.js';
import { fastTapConfig, startSecretSandbox, tapEnv, writeConfig } from './sandbox-helpers.js';

let temp: { dir: string; remove: () => Promise<void> };
const sandboxes: Sandbox[] = [];

beforeAll(async () => {
  temp = await makeTemp('tap-replay');
});
afterEach(() => killAll());
afterAll(async () => {
  await Promise.all(sandboxes.map((s) => s.close()));
  await temp.remove();
});

/** The tap's stdout lines (complete ones), from `state` if given. */
async function tapLines(sandbox: Sandbox, config: string, state: string | undefined, label: string): Promise<string[]> {
  const args = ['--config', config];
  if (state !== undefined) {
    const path = join(temp.dir, `${label}.state.json`);
    await writeFile(path, state);
    args.push('--state', path);
  }
  const run = await spawnBin('tap-fullstory', { args, env: tapEnv(sandbox), timeoutMs: 30_000 });
  expectNoSecret({ [`${label} stdout`]: run.stdout, [`${label} stderr`]: run.stderr });
  check(run.code === 0, `${label}: expected exit 0: ${describeRun(run)}`);
  return run.lines.filter((l) => l !== '');
}

/** A line as the target sees it: `time_extracted` left out, and `operation_id` too when `loose`. */
function comparable(line: string, loose: boolean): string {
  let out = line.replace(/,"time_extracted":"[^"]*"/, '');
  if (loose) out = out.replace(/"operation_id":"[^"]*"/g, '"operation_id":"…"');
  return out;
}

/**
 * Runs the tap from the start, then from seeded states it printed, and compares what each rerun printed
 * with what the first run printed after that state.
 */
async function replaysAfterStates(sandbox: Sandbox, config: string, loose: boolean, salt: number): Promise<void> {
  const first = await tapLines(sandbox, config, undefined, `first-${salt}`);
  const stateAt = first.map((l, i) => (l.startsWith('{"type":"STATE"') ? i : -1)).filter((i) => i >= 0);
  // Every state but the last (a rerun from it has nothing left to send).
  const candidates = stateAt.slice(0, -1);
  check(candidates.length >= 4, `only ${candidates.length} state(s) to resume from`);
  const random = prng(SEED ^ salt);
  const picks = new Set([candidates[0]!, candidates[randomInt(random, 1, candidates.length - 1)]!, candidates[randomInt(random, 1, candidates.length - 1)]!]);
  for (const at of picks) {
    const value = JSON.stringify((JSON.parse(first[at]!) as { value: unknown }).value);
    const rerun = await tapLines(sandbox, config, value, `rerun-${salt}-${at}`);
    const expected = first.slice(at + 1).filter((l) => !l.startsWith('{"type":"SCHEMA"'));
    const got = rerun.filter((l) => !l.startsWith('{"type":"SCHEMA"'));
    expect(got.length).toBe(expected.length);
    for (let i = 0; i < got.length; i++) {
      if (comparable(got[i]!, loose) !== comparable(expected[i]!, loose)) {
        throw new Error(`rerun from line ${at + 1}: line ${i + 1} differs:\n  first run: ${expected[i]!.slice(0, 300)}\n  rerun:     ${got[i]!.slice(0, 300)}`);
      }
    }
  }
}

describe('tap-fullstory rerun from a state it printed replays what it printed after it', () => {
  it(
    'source data_export: the same records (but time_extracted) and the same states, at the same places',
    seeded(async () => {
      const sandbox = await startSecretSandbox({ bundles: 3, eventsPerBundle: [230, 170, 260] });
      sandboxes.push(sandbox);
      const config = await writeConfig(temp.dir, 'tap-data-export.json', fastTapConfig({ state_every_records: 50 }));
      await replaysAfterStates(sandbox, config, false, 0xda7a);
    }),
    60_000,
  );

  it(
    'source segment_export: the same records (but time_extracted) and states at the same places (a new export names a new operation_id)',
    seeded(async () => {
      const sandbox = await startSecretSandbox({ bundles: 1, bundleHours: 3, eventsPerBundle: 900, segmentExport: { pendingMs: 20 } });
      sandboxes.push(sandbox);
      const config = await writeConfig(
        temp.dir,
        'tap-segment-export.json',
        fastTapConfig({ source: 'segment_export', start_date: '2024-01-01T00:00:00Z', end_date: '2024-01-01T03:00:00Z', export_poll_interval_seconds: 0.05, state_every_records: 50 }),
      );
      await replaysAfterStates(sandbox, config, true, 0x5e6e);
    }),
    60_000,
  );
});
