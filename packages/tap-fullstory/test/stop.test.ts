// How the built bin stops early (issue 11, items 3 and 4): a reader that closes stdout (`| head`),
// and SIGINT / SIGTERM, sent as real signals to the real process. Run `npx tsc -b` first (`npm test` does).
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startSandbox } from 'fullstory-sandbox';
import type { Sandbox } from 'fullstory-sandbox';
import { parseJson } from '@fullstory-singer/singer-core';
import { binPath, removeTempDir, runBin, tempDir } from '@fullstory-singer/singer-core/testing';
import type { RunBinResult } from '@fullstory-singer/singer-core/testing';
import { writeJson } from './helpers.js';

const TAP = binPath('tap-fullstory');
const SIZES = [20_000, 3_000];

let dir: string;
let sandbox: Sandbox;
let config: string;
let allKeys: string[];

beforeAll(async () => {
  dir = await tempDir();
  sandbox = await startSandbox({ bundles: 2, eventsPerBundle: SIZES, seed: 31, downloadsPerMinute: 0 });
  allKeys = sandbox.bundles().flatMap((b) => Array.from({ length: b.events! }, (_, i) => `${String(b.id)}:${i}`));
  config = await writeJson(dir, 'config.json', {
    api_key: 'sandbox-key', start_date: '2024-01-01T00:00:00Z', base_url: sandbox.url, downloads_per_minute: 6000, state_every_records: 1000,
  });
});

afterAll(async () => {
  await sandbox.close();
  await removeTempDir(dir);
});

/** The complete lines of stdout, parsed; fails if the output does not end with a newline. */
function messagesOf(run: RunBinResult): Array<{ type: string; record?: Record<string, unknown>; value?: Record<string, unknown> }> {
  expect(run.stdout.endsWith('\n')).toBe(true);
  return run.stdout.slice(0, -1).split('\n').map((line) => parseJson(line) as { type: string });
}

function keysOf(messages: ReturnType<typeof messagesOf>): string[] {
  return messages.filter((m) => m.type === 'RECORD').map((m) => `${String(m.record!['_sdc_bundle_id'])}:${String(m.record!['_sdc_bundle_index'])}`);
}

describe('3. a reader that closes stdout', () => {
  it('`tap | head -n 5`: one line, exit 141 at once, no bundle downloaded again', async () => {
    sandbox.reset();
    let lines = 0;
    const run = await runBin(TAP, ['--config', config], {
      onStdoutLine: (_line, child) => {
        // What `head -n 5` does: read five lines, then close the pipe.
        if (++lines === 5) child.stdout!.destroy();
      },
      timeoutMs: 20_000,
    });
    expect(run.code).toBe(141);
    const errors = run.stderr.split('\n').filter((l) => l.startsWith('tap-fullstory:'));
    expect(errors).toEqual(['tap-fullstory: stdout was closed by the reading process (EPIPE); stopping']);
    expect(run.stderr).not.toMatch(/downloading it again|did not arrive whole/);
    const gets = sandbox.requests().filter((r) => r.path === '/api/v1/export/get').map((r) => r.query);
    expect(new Set(gets).size).toBe(gets.length);
  });
});

describe('4. SIGINT and SIGTERM', () => {
  it.each([
    ['SIGINT', 130],
    ['SIGTERM', 143],
  ] as const)('%s mid-bundle: stops after the current record, last line a whole STATE covering every record, exit %d; a rerun from it emits the rest once', async (signal, code) => {
    let sent = false;
    const first = await runBin(TAP, ['--config', config], {
      onStdoutLine: (line, child) => {
        // Mid-bundle, between two checkpoints.
        if (!sent && line.includes('"_sdc_bundle_index":4500,')) {
          sent = true;
          child.kill(signal);
        }
      },
      timeoutMs: 30_000,
    });
    expect(sent).toBe(true);
    expect(first.signal).toBeNull();
    expect(first.code).toBe(code);
    const messages = messagesOf(first);
    const last = messages.at(-1)!;
    expect(last.type).toBe('STATE');
    const keys = keysOf(messages);
    expect(new Set(keys).size).toBe(keys.length);
    const firstBundle = sandbox.bundles()[0]!;
    // The STATE covers exactly the records printed: resuming from it skips all of them and nothing else.
    expect((last.value!['bookmarks'] as { events: unknown }).events).toEqual({
      in_progress: { bundle_id: firstBundle.id, start: expect.any(String), stop: expect.any(String), offset: keys.length },
    });
    expect(keys.length).toBeGreaterThan(4500);
    expect(keys.length).toBeLessThan(SIZES[0]!);
    const stderrLines = first.stderr.trim().split('\n');
    expect(stderrLines.at(-1)).toBe(`tap-fullstory: interrupted by ${signal}: stopped after ${keys.length} record(s); the last STATE printed covers every one of them`);

    const state = await writeJson(dir, `state-${signal}.json`, last.value);
    const second = await runBin(TAP, ['--config', config, '--state', state], { timeoutMs: 30_000 });
    expect(second.code).toBe(0);
    const all = [...keys, ...keysOf(messagesOf(second))];
    expect(all).toEqual(allKeys);
  });

  it('SIGTERM while waiting for the next download slot: stops at once with the last STATE, exit 143', async () => {
    // One download a minute: after the first bundle the tap waits about 60 s for the next slot.
    const slow = await writeJson(dir, 'config-slow.json', {
      api_key: 'sandbox-key', start_date: '2024-01-01T00:00:00Z', base_url: sandbox.url, downloads_per_minute: 1,
    });
    const started = Date.now();
    let sent = false;
    const run = await new Promise<RunBinResult>((resolve, reject) => {
      runBin(TAP, ['--config', slow], {
        onStdoutLine: (line, child) => {
          // The whole-bundle STATE of the first bundle: the prefetch of the second is now waiting for its slot.
          if (!sent && line.startsWith('{"type":"STATE"') && line.includes('"last_bundle_id"')) {
            sent = true;
            setTimeout(() => child.kill('SIGTERM'), 200);
          }
        },
        timeoutMs: 30_000,
      }).then(resolve, reject);
    });
    expect(sent).toBe(true);
    expect(run.code).toBe(143);
    expect(Date.now() - started).toBeLessThan(20_000);
    expect(run.stderr).toMatch(/INFO next download in \d+ s: downloads_per_minute=1/);
    const messages = messagesOf(run);
    expect(keysOf(messages)).toEqual(allKeys.slice(0, SIZES[0]));
    const firstBundle = sandbox.bundles()[0]!;
    expect(messages.at(-1)).toEqual({
      type: 'STATE',
      value: { bookmarks: { events: { last_bundle_stop: expect.any(String), last_bundle_id: firstBundle.id } } },
    });
  });
});
