/**
 * Reliability: the real tap bin SIGKILLed mid-bundle at several seeded points, each time resumed
 * from the last STATE it printed (docs/reliability.md "Resume points"; the tap's README, "State and the
 * bundle-aware cursor").
 *
 * Proven for the chain of runs: every event is emitted (byte for byte as served); a resumed run
 * starts exactly at its cursor (none before it, none skipped); a killed run's duplicates (records
 * after its last printed STATE) number at most `state_every_records`; no STATE ever covers a record
 * not yet printed; the key never appears in any output.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { stringifyJson } from '@fullstory-singer/singer-core';
import type { Sandbox } from 'fullstory-sandbox';
import { SEED, check, describeRun, expectNoSecret, killAll, makeTemp, prng, randomInt, seeded, spawnBin } from './helpers.js';
import { fastTapConfig, startSecretSandbox, tapEnv, writeConfig } from './sandbox-helpers.js';
import { ExpectedEvents, checkRun, readTapOutput } from './tap-model.js';

const EVERY = 100;

let sandbox: Sandbox;
let temp: { dir: string; remove: () => Promise<void> };
let model: ExpectedEvents;

beforeAll(async () => {
  // Bundles big enough (about 1 MB each) that the tap cannot finish before a kill lands: it is at
  // most a pipe buffer or two ahead of the line that triggers the kill. The first id is above 2^53,
  // so the cursor's bundle ids must survive the state file round trip exactly.
  sandbox = await startSecretSandbox({ bundles: 3, eventsPerBundle: [1300, 900, 1500], firstBundleId: '9007199254740993' });
  temp = await makeTemp('tap-resume');
  model = new ExpectedEvents(sandbox.bundles(), SEED);
});
afterEach(() => killAll());
afterAll(async () => {
  await sandbox.close();
  await temp.remove();
});

/** When to kill a run: after the k-th RECORD line, or on the k-th STATE line. */
type KillPoint = { afterRecords: number } | { onState: number };

describe('tap-fullstory killed with SIGKILL and resumed from its last printed state', () => {
  it(
    'emits every event, resumes exactly at the cursor, duplicates at most state_every_records per kill',
    seeded(async () => {
      const random = prng(SEED);
      // Several kill points: early (maybe before the first checkpoint), two at random records, one
      // right on a STATE line; then a last run to the end.
      const kills: KillPoint[] = [
        { afterRecords: randomInt(random, 1, EVERY - 1) },
        { afterRecords: randomInt(random, 150, 900) },
        { onState: randomInt(random, 2, 6) },
        { afterRecords: randomInt(random, 100, 600) },
      ];
      const config = await writeConfig(temp.dir, 'tap.json', fastTapConfig({ state_every_records: EVERY, request_timeout_seconds: 10 }));
      // Two bodies break off mid-bundle on the way: the runs' re-downloads must not disturb the cursor.
      sandbox.addFaults({ method: 'GET', path: '/api/v1/export/get', times: 2, action: 'truncate', after_bytes: 30000 });
      const seen = new Set<number>();
      let state: Record<string, unknown> | undefined;
      let killedRuns = 0;

      for (let runNo = 0; runNo <= kills.length; runNo++) {
        const kill = kills[runNo];
        const label = `run ${runNo + 1} (kill ${kill ? JSON.stringify(kill) : 'none'})`;
        const args = ['--config', config];
        if (state !== undefined) {
          const statePath = join(temp.dir, `state-${runNo}.json`);
          await writeFile(statePath, stringifyJson(state));
          args.push('--state', statePath);
        }
        let records = 0;
        let states = 0;
        const run = await spawnBin('tap-fullstory', {
          args,
          env: tapEnv(sandbox),
          timeoutMs: 60_000,
          onLine: (line) => {
            if (kill === undefined) return false;
            if (line.startsWith('{"type":"RECORD"')) records++;
            else if (line.includes('"type":"STATE"')) states++;
            return 'afterRecords' in kill ? records >= kill.afterRecords : states >= kill.onState;
          },
        });
        expectNoSecret({ [`${label} stdout`]: run.stdout, [`${label} stderr`]: run.stderr });
        const out = readTapOutput(run.lines, model);
        checkRun(out, model, state, label);
        const from = model.cursor(state);

        if (kill !== undefined) {
          check(run.signal === 'SIGKILL', `${label}: expected the kill to land mid-run: ${describeRun(run)}`);
          killedRuns++;
          const last = out.states[out.states.length - 1];
          const resumeAt = model.cursor(last?.value ?? state);
          // Records after the last printed STATE will be emitted again by the next run: at most one interval.
          const duplicates = from + out.records.length - resumeAt;
          check(duplicates >= 0 && duplicates <= EVERY, `${label}: ${duplicates} records would be emitted twice (limit ${EVERY})`);
          check(resumeAt < model.total, `${label}: the kill landed after the last event; the scenario proves nothing`);
          if (last !== undefined) state = last.value;
        } else {
          check(run.code === 0, `${label}: expected exit 0: ${describeRun(run)}`);
          const final = out.states[out.states.length - 1];
          check(final !== undefined, `${label}: no final STATE`);
          expect(model.cursor(final.value)).toBe(model.total);
          const events = (final.value['bookmarks'] as Record<string, Record<string, unknown>>)['events']!;
          expect(events['in_progress']).toBeUndefined();
          expect(String(events['last_bundle_id'])).toBe(String(model.bundles[model.bundles.length - 1]!.id));
        }
        for (const r of out.records) seen.add(r.pos);
      }

      expect(killedRuns).toBe(kills.length);
      // Every event emitted at least once across the runs.
      const missing: number[] = [];
      for (let pos = 0; pos < model.total; pos++) if (!seen.has(pos)) missing.push(pos);
      check(missing.length === 0, `${missing.length} event(s) never emitted, first at position ${missing[0]}`);
    }),
    120_000,
  );
});
