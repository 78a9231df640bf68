// The built bin with source segment_export (run `npx tsc -b packages/tap-fullstory` first; `npm test` does):
// killed with SIGKILL in the middle of a window and restarted from the last STATE it printed.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startSandbox } from 'fullstory-sandbox';
import type { Sandbox } from 'fullstory-sandbox';
import { parseJson } from '@fullstory-singer/singer-core';
import { binPath, removeTempDir, runBin, tempDir } from '@fullstory-singer/singer-core/testing';
import { writeJson } from './helpers.js';
import { servedEvents } from './segment-helpers.js';

const TAP = binPath('tap-fullstory');
const SEED = 11;

let dir: string;
let sandbox: Sandbox;

beforeAll(async () => {
  dir = await tempDir();
  sandbox = await startSandbox({ seed: SEED, bundles: 1, bundleHours: 3, eventsPerBundle: 3000, segmentExport: { pendingMs: 50 } });
});

afterAll(async () => {
  await sandbox.close();
  await removeTempDir(dir);
});

describe('tap-fullstory bin, source segment_export', () => {
  it('killed (SIGKILL) mid-window and restarted from its last STATE: every event, at most state_every_records twice', async () => {
    const every = 200;
    const config = await writeJson(dir, 'config.json', {
      api_key: 'sandbox-key', start_date: '2024-01-01T00:00:00Z', end_date: '2024-01-01T03:00:00Z', base_url: sandbox.url,
      source: 'segment_export', export_poll_interval_seconds: 0.05, state_every_records: every,
    });
    let lastState: unknown;
    let killedAt: Record<string, unknown> | undefined;
    const first = await runBin(TAP, ['--config', config], {
      onStdoutLine: (line, child) => {
        if (!line.startsWith('{"type":"STATE"')) return;
        lastState = (parseJson(line) as { value: unknown }).value;
        const ip = ((lastState as { bookmarks: Record<string, Record<string, unknown>> }).bookmarks['events']!['in_progress']) as Record<string, unknown> | undefined;
        // In the second window, after a few checkpoints.
        if (ip?.['window_start'] === '2024-01-01T01:00:00Z' && (ip['offset'] as number) >= 400 && killedAt === undefined) {
          killedAt = ip;
          child.kill('SIGKILL');
        }
      },
    });
    expect(first.signal).toBe('SIGKILL');
    expect(killedAt).toMatchObject({ window_start: '2024-01-01T01:00:00Z', operation_id: expect.any(String) });
    const rowsOf = (stdout: string): string[] =>
      // Complete lines only: a SIGKILL can cut the last one short.
      stdout.split('\n').slice(0, -1).filter((l) => l.startsWith('{"type":"RECORD","stream":"events"')).map((l) => {
        const r = (parseJson(l) as { record: Record<string, unknown> }).record;
        return `${String(r['_sdc_window_start'])}#${String(r['_sdc_window_index'])}`;
      });
    const state = await writeJson(dir, 'state.json', lastState);
    const exportsBefore = sandbox.segmentExports().length;
    const second = await runBin(TAP, ['--config', config, '--state', state]);
    expect(second.code).toBe(0);
    const all = [...rowsOf(first.stdout), ...rowsOf(second.stdout)];
    const expected = ['00', '01', '02'].flatMap((h) => {
      const start = `2024-01-01T${h}:00:00Z`;
      return servedEvents(sandbox, SEED, start, `2024-01-01T0${Number(h) + 1}:00:00Z`).map((_, i) => `${start}#${i}`);
    });
    expect(new Set(all)).toEqual(new Set(expected));
    expect(all.length - expected.length).toBeLessThanOrEqual(every);
    // The resumed run downloaded the saved export of the second window again: only the third was exported anew.
    const events = sandbox.segmentExports().slice(exportsBefore).filter((e) => e.type === 'TYPE_EVENT');
    expect(events.map((e) => e.timeRange.start)).toEqual(['2024-01-01T02:00:00Z']);
  });
});
