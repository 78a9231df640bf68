// The built bin as a child process (run `npx tsc -b packages/tap-fullstory` first; `npm test` does):
// exit codes through the real process, resume after SIGKILL, and peak memory on a 1 GB bundle.
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startSandbox } from 'fullstory-sandbox';
import type { Sandbox } from 'fullstory-sandbox';
import { parseJson } from '@fullstory-singer/singer-core';
import { binPath, removeTempDir, runBin, tempDir } from '@fullstory-singer/singer-core/testing';
import { writeJson } from './helpers.js';

const TAP = binPath('tap-fullstory');
const SANDBOX = binPath('fullstory-sandbox');

let dir: string;
let sandbox: Sandbox;

beforeAll(async () => {
  dir = await tempDir();
  sandbox = await startSandbox({ bundles: 2, eventsPerBundle: [3000, 500], seed: 5, downloadsPerMinute: 0 });
});

afterAll(async () => {
  await sandbox.close();
  await removeTempDir(dir);
});

describe('tap-fullstory bin', () => {
  it('exit 0 for --version and --discover, 2 for a bad config', async () => {
    const version = await runBin(TAP, ['--version']);
    expect(version.code).toBe(0);
    expect(version.stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
    const env = { TAP_FULLSTORY_API_KEY: 'sandbox-key', TAP_FULLSTORY_START_DATE: '2024-01-01T00:00:00Z' };
    const discover = await runBin(TAP, ['--discover'], { env });
    expect(discover.code).toBe(0);
    expect((JSON.parse(discover.stdout) as { streams: unknown[] }).streams).toHaveLength(1);
    const bad = await runBin(TAP, ['--discover'], { env: { ...env, TAP_FULLSTORY_MAX_RETRIES: 'many' } });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/^tap-fullstory: error: .*TAP_FULLSTORY_MAX_RETRIES/m);
  });

  it('runs where Node has no WebAssembly (node --jitless): the same records, from the JavaScript scanner', async () => {
    const config = await writeJson(dir, 'config-jitless.json', {
      api_key: 'sandbox-key', start_date: '2024-01-01T00:00:00Z', base_url: sandbox.url, downloads_per_minute: 6000,
    });
    // time_extracted differs between two runs; the rest of every line must not.
    const records = (stdout: string): string[] =>
      stdout.split('\n').filter((line) => line.startsWith('{"type":"RECORD"')).map((line) => line.replace(/"time_extracted":"[^"]*"/, ''));
    const usual = await runBin(TAP, ['--config', config]);
    const jitless = await runBin(TAP, ['--config', config], { env: { NODE_OPTIONS: '--jitless' } });
    expect([usual.code, jitless.code]).toEqual([0, 0]);
    expect(records(usual.stdout)).toHaveLength(3500);
    expect(records(jitless.stdout)).toEqual(records(usual.stdout));
  });

  it('killed (SIGKILL) mid-bundle and restarted from its last STATE: every event, at most state_every_records twice', async () => {
    const every = 500;
    const config = await writeJson(dir, 'config.json', {
      api_key: 'sandbox-key', start_date: '2024-01-01T00:00:00Z', base_url: sandbox.url,
      downloads_per_minute: 6000, state_every_records: every,
    });
    let lastState: unknown;
    let states = 0;
    const first = await runBin(TAP, ['--config', config], {
      onStdoutLine: (line, child) => {
        if (!line.startsWith('{"type":"STATE"')) return;
        lastState = (parseJson(line) as { value: unknown }).value;
        if (++states === 3) child.kill('SIGKILL');
      },
    });
    expect(first.signal).toBe('SIGKILL');
    const keysOf = (stdout: string): string[] =>
      // Complete lines only: a SIGKILL can cut the last one short.
      stdout.split('\n').slice(0, -1).filter((l) => l.startsWith('{"type":"RECORD"')).map((l) => {
        const r = (parseJson(l) as { record: Record<string, unknown> }).record;
        return `${String(r['_sdc_bundle_id'])}:${String(r['_sdc_bundle_index'])}`;
      });
    const state = await writeJson(dir, 'state.json', lastState);
    const second = await runBin(TAP, ['--config', config, '--state', state]);
    expect(second.code).toBe(0);
    const all = [...keysOf(first.stdout), ...keysOf(second.stdout)];
    const expected = sandbox.bundles().flatMap((b) => Array.from({ length: b.events! }, (_, i) => `${String(b.id)}:${i}`));
    expect(new Set(all)).toEqual(new Set(expected));
    expect(all.length - expected.length).toBeLessThanOrEqual(every);
  });

  it('streams a bundle of over 1 GB uncompressed with peak RSS under 200 MB', async () => {
    // Both as child processes: the sandbox generates and gzips the bundle as a stream.
    const events = 1_200_000;
    const sb = spawn(process.execPath, [SANDBOX, '--bundles', '1', '--events-per-bundle', String(events), '--downloads-per-minute', '0', '--quiet'], {
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    let tap: ChildProcess | undefined;
    try {
      const url = await new Promise<string>((resolve, reject) => {
        const rl = createInterface({ input: sb.stdout! });
        rl.once('line', (line) => {
          const m = /listening on (http:\/\/\S+)/.exec(line);
          if (m) resolve(m[1]!);
          else reject(new Error(`unexpected sandbox output: ${line}`));
        });
        sb.once('exit', () => reject(new Error('sandbox exited')));
      });
      const env: Record<string, string> = {};
      for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !/^(TAP_FULLSTORY_|NODE_OPTIONS$|LOG_LEVEL$)/.test(k)) env[k] = v;
      Object.assign(env, {
        TAP_FULLSTORY_API_KEY: 'sandbox-key',
        TAP_FULLSTORY_START_DATE: '2024-01-01T00:00:00Z',
        TAP_FULLSTORY_BASE_URL: url,
        TAP_FULLSTORY_DOWNLOADS_PER_MINUTE: '6000',
      });
      const child = spawn(process.execPath, [TAP], { env, stdio: ['ignore', 'pipe', 'pipe'] });
      tap = child;
      let lines = 0;
      child.stdout!.on('data', (chunk: Buffer) => {
        // Count newlines without keeping the output.
        for (let i = chunk.indexOf(10); i !== -1; i = chunk.indexOf(10, i + 1)) lines++;
      });
      let stderr = '';
      child.stderr!.on('data', (chunk: Buffer) => {
        stderr = (stderr + chunk.toString('utf8')).slice(-4000);
      });
      let peakKb = 0;
      const sample = (): void => {
        try {
          const status = readFileSync(`/proc/${child.pid}/status`, 'utf8');
          const hwm = /VmHWM:\s+(\d+) kB/.exec(status);
          if (hwm) peakKb = Math.max(peakKb, Number(hwm[1]));
        } catch {
          // the process has just exited
        }
      };
      const sampler = setInterval(sample, 50);
      const code = await new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
      clearInterval(sampler);
      expect(code).toBe(0);
      const mb = Number(/sync complete .*mb=([\d.]+)/.exec(stderr)?.[1]);
      expect(mb).toBeGreaterThan(1000);
      // SCHEMA + records + a checkpoint every 10000 records (default; none after the last) + the final STATE
      expect(lines).toBe(1 + events + (events / 10000 - 1) + 1);
      expect(peakKb).toBeGreaterThan(0);
      expect(peakKb / 1024).toBeLessThan(200);
    } finally {
      tap?.kill('SIGKILL');
      // Stop the sandbox and make sure it is gone before the test ends (SIGKILL if SIGTERM is not enough).
      if (sb.exitCode === null && sb.signalCode === null) {
        const exited = new Promise<void>((resolve) => sb.once('exit', () => resolve()));
        sb.kill('SIGTERM');
        const timer = setTimeout(() => sb.kill('SIGKILL'), 5000);
        await exited;
        clearTimeout(timer);
      }
    }
  }, 90_000);
});
