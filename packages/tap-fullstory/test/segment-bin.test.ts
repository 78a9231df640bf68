// The built bin with source segment_export (run `npx tsc -b packages/tap-fullstory` first; `npm test` does):
// killed with SIGKILL in the middle of a window and restarted from the last STATE it printed; stopped by
// SIGTERM in the middle of a window and while an export is pending.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startSandbox } from 'fullstory-sandbox';
import type { Sandbox } from 'fullstory-sandbox';
import { parseJson } from '@fullstory-singer/singer-core';
import { binPath, removeTempDir, runBin, tempDir } from '@fullstory-singer/singer-core/testing';
import { writeJson } from './helpers.js';
import { servedEvents } from './segment-helpers.js';

const TAP = binPath('tap-fullstory');
const SEED = 11;

const EVERY = 200;

let dir: string;
let sandbox: Sandbox;
let config: string;

/** `window#index` of each events RECORD among the complete lines of stdout (a SIGKILL can cut the last one short). */
const rowsOf = (stdout: string): string[] =>
  stdout.split('\n').slice(0, -1).filter((l) => l.startsWith('{"type":"RECORD","stream":"events"')).map((l) => {
    const r = (parseJson(l) as { record: Record<string, unknown> }).record;
    return `${String(r['_sdc_window_start'])}#${String(r['_sdc_window_index'])}`;
  });

/** The catalog `--discover` prints for a config. */
async function discover(config: string): Promise<{ streams: Array<{ tap_stream_id: string; metadata: Array<{ breadcrumb: string[]; metadata: Record<string, unknown> }> }> }> {
  const run = await runBin(TAP, ['--config', config, '--discover']);
  expect(run.code).toBe(0);
  return JSON.parse(run.stdout) as Awaited<ReturnType<typeof discover>>;
}

/** A discovered catalog with only `events` selected. */
function eventsOnly(catalog: Awaited<ReturnType<typeof discover>>): unknown {
  for (const stream of catalog.streams) stream.metadata.find((m) => m.breadcrumb.length === 0)!.metadata['selected'] = stream.tap_stream_id === 'events';
  return catalog;
}

/** Every events row of the three windows, as `window#index`. */
function allRows(): string[] {
  return ['00', '01', '02'].flatMap((h) => {
    const start = `2024-01-01T${h}:00:00Z`;
    return servedEvents(sandbox, SEED, start, `2024-01-01T0${Number(h) + 1}:00:00Z`).map((_, i) => `${start}#${i}`);
  });
}

beforeAll(async () => {
  dir = await tempDir();
  sandbox = await startSandbox({ seed: SEED, bundles: 1, bundleHours: 3, eventsPerBundle: 3000, segmentExport: { pendingMs: 50 } });
  config = await writeJson(dir, 'config.json', {
    api_key: 'sandbox-key', start_date: '2024-01-01T00:00:00Z', end_date: '2024-01-01T03:00:00Z', base_url: sandbox.url,
    source: 'segment_export', export_poll_interval_seconds: 0.05, state_every_records: EVERY,
  });
});

afterAll(async () => {
  await sandbox.close();
  await removeTempDir(dir);
});

describe('tap-fullstory bin, source segment_export', () => {
  it('killed (SIGKILL) mid-window and restarted from its last STATE: every event, at most state_every_records twice', async () => {
    const every = EVERY;
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
    const state = await writeJson(dir, 'state.json', lastState);
    const exportsBefore = sandbox.segmentExports().length;
    const second = await runBin(TAP, ['--config', config, '--state', state]);
    expect(second.code).toBe(0);
    const all = [...rowsOf(first.stdout), ...rowsOf(second.stdout)];
    const expected = allRows();
    expect(new Set(all)).toEqual(new Set(expected));
    expect(all.length - expected.length).toBeLessThanOrEqual(every);
    // The resumed run downloaded the saved export of the second window again: only the third was exported anew.
    const events = sandbox.segmentExports().slice(exportsBefore).filter((e) => e.type === 'TYPE_EVENT');
    expect(events.map((e) => e.timeRange.start)).toEqual(['2024-01-01T02:00:00Z']);
  });

  it('SIGTERM mid-window: the last line a whole STATE covering every row printed, exit 143; a rerun from it emits the rest once', async () => {
    // Windows of 8,000 rows, so the signal lands inside one.
    const big = await startSandbox({ seed: SEED, bundles: 1, bundleHours: 2, eventsPerBundle: 16_000, segmentExport: { pendingMs: 0 } });
    try {
      await bigWindows(big);
    } finally {
      await big.close();
    }
  });

  async function bigWindows(big: Sandbox): Promise<void> {
    const config = await writeJson(dir, 'config-big.json', {
      api_key: 'sandbox-key', start_date: '2024-01-01T00:00:00Z', end_date: '2024-01-01T02:00:00Z', base_url: big.url,
      source: 'segment_export', export_poll_interval_seconds: 0.05, state_every_records: 1000,
    });
    const catalog = await writeJson(dir, 'catalog-big.json', eventsOnly(await discover(config)));
    let sent = false;
    const first = await runBin(TAP, ['--config', config, '--catalog', catalog], {
      onStdoutLine: (line, child) => {
        if (!sent && line.includes('"_sdc_window_start":"2024-01-01T00:00:00Z","_sdc_window_index":3000,')) {
          sent = true;
          child.kill('SIGTERM');
        }
      },
      timeoutMs: 30_000,
    });
    expect(sent).toBe(true);
    expect(first.code).toBe(143);
    expect(first.stdout.endsWith('\n')).toBe(true);
    const lines = first.stdout.slice(0, -1).split('\n');
    const last = parseJson(lines.at(-1)!) as { type: string; value: { bookmarks: Record<string, Record<string, unknown>> } };
    expect(last.type).toBe('STATE');
    const rows = rowsOf(first.stdout);
    expect(rows.length).toBeGreaterThan(3000);
    expect(rows.length).toBeLessThan(8_000);
    expect(last.value.bookmarks['events']).toEqual({
      in_progress: { window_start: '2024-01-01T00:00:00Z', window_end: '2024-01-01T01:00:00Z', offset: rows.length, operation_id: expect.any(String) },
    });
    expect(first.stderr.trim().split('\n').at(-1)).toBe(`tap-fullstory: interrupted by SIGTERM: stopped after ${rows.length} record(s); the last STATE printed covers every one of them`);
    const state = await writeJson(dir, 'state-sigterm.json', last.value);
    const second = await runBin(TAP, ['--config', config, '--catalog', catalog, '--state', state], { timeoutMs: 30_000 });
    expect(second.code).toBe(0);
    const expected = ['00', '01'].flatMap((h) => {
      const start = `2024-01-01T${h}:00:00Z`;
      return servedEvents(big, SEED, start, `2024-01-01T0${Number(h) + 1}:00:00Z`).map((_, i) => `${start}#${i}`);
    });
    expect([...rows, ...rowsOf(second.stdout)]).toEqual(expected);
  }

  it('SIGTERM while an export is pending: stops at once, exit 143, the state naming the operation to poll again', async () => {
    sandbox.addFaults({ method: 'POST', path: '/segments/v1/exports', action: 'pending', ms: 60_000, times: 1 });
    const started = Date.now();
    let sent = false;
    const run = await runBin(TAP, ['--config', config], {
      onStdoutLine: (line, child) => {
        // The checkpoint written when the first window's export was created.
        if (!sent && line.startsWith('{"type":"STATE"') && line.includes('"operation_id"')) {
          sent = true;
          setTimeout(() => child.kill('SIGTERM'), 300);
        }
      },
      timeoutMs: 30_000,
    });
    sandbox.clearFaults();
    expect(sent).toBe(true);
    expect(run.code).toBe(143);
    expect(Date.now() - started).toBeLessThan(20_000);
    expect(rowsOf(run.stdout)).toEqual([]);
    const last = parseJson(run.stdout.trim().split('\n').at(-1)!) as { type: string; value: { bookmarks: Record<string, Record<string, unknown>> } };
    expect(last.type).toBe('STATE');
    expect(last.value.bookmarks['events']).toEqual({
      in_progress: { window_start: '2024-01-01T00:00:00Z', window_end: '2024-01-01T01:00:00Z', offset: 0, operation_id: expect.any(String) },
    });
  });
});
