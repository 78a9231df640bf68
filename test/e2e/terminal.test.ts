/**
 * What a person sees in a terminal: `tap-fullstory | target-fullstory` run in a pseudo-terminal
 * (util-linux `script`), against the sandbox, with the built bins. Every row left on the screen must
 * be one whole log line: no log line glued to a live progress line, and no METRIC lines (they are
 * for runners, which read a pipe, not a terminal). A target started with stdin on the terminal says
 * it is waiting for Singer messages.
 *
 * The screen is rebuilt from the bytes the terminal received (`screenRows`: `\r`, `ESC[K`, `\n`).
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { spawn, spawnSync } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { startSandbox, type Sandbox } from 'fullstory-sandbox';
import { binPath, screenRows } from '@fullstory-singer/singer-core/testing';
import { cleanEnv, makeTempDir, removeDir, run } from './helpers.js';

const KEY = 'terminal-test-key';
/** A shell word for a path (the paths here hold no single quote). */
const word = (text: string): string => `'${text}'`;

// util-linux `script -c` runs a command in a new pseudo-terminal; BSD `script` takes other flags.
const hasScript = spawnSync('script', ['--version'], { encoding: 'utf8' }).stdout?.includes('util-linux') === true;
const inTerminal = hasScript ? it : it.skip;

/** A log line as the CLIs write it on a terminal: program, level, message (no time). */
const LOG_ROW = /^(tap-fullstory|target-fullstory) (DEBUG|INFO|WARNING|ERROR) \S/;

describe('on a terminal', () => {
  let sandbox: Sandbox;
  let dir: string | undefined;

  beforeAll(async () => {
    sandbox = await startSandbox({
      apiKeys: [KEY],
      bundles: 2,
      eventsPerBundle: 8000,
      firstBundle: '2026-01-01T00:00:00Z',
      downloadsPerMinute: 0,
      jobLatencyMs: 20,
    });
    dir = await makeTempDir('fullstory-terminal-');
    await writeFile(
      join(dir, 'tap.json'),
      JSON.stringify({ api_key: KEY, start_date: '2025-12-01T00:00:00Z', base_url: sandbox.url, downloads_per_minute: 600 }),
    );
    await writeFile(
      join(dir, 'target.json'),
      JSON.stringify({
        api_key: KEY,
        base_url: sandbox.url,
        batch_size: 1000,
        job_poll_interval_seconds: 0.05,
        dead_letter_path: join(dir, 'rejected.ndjson'),
        streams: { events: { data_type: 'events', mapping: { uid: 'UserAppKey', event_name: 'EventType', timestamp: 'EventStart' } } },
      }),
    );
  });

  afterAll(async () => {
    await sandbox?.close();
    await removeDir(dir);
  });

  inTerminal('tap | target: every row on screen is one whole log line; the live lines show progress', async () => {
    const pipeline = `${word(process.execPath)} ${word(binPath('tap-fullstory'))} --config tap.json | ${word(process.execPath)} ${word(binPath('target-fullstory'))} --config target.json > states.ndjson`;
    const result = await run('script', ['-qec', pipeline, '/dev/null'], { cwd: dir!, env: cleanEnv({ TERM: 'dumb' }), timeoutMs: 60_000 });
    expect(result.code).toBe(0);
    const rows = screenRows(result.stdout);
    const glued = rows.filter((row) => !LOG_ROW.test(row.replace(/\r$/, '')));
    expect({ glued, rows: rows.length }).toEqual({ glued: [], rows: expect.any(Number) });
    expect(rows.some((row) => row.startsWith('tap-fullstory INFO sync complete'))).toBe(true);
    expect(rows.some((row) => row.startsWith('target-fullstory INFO finished'))).toBe(true);
    expect(rows.filter((row) => row.includes('METRIC'))).toEqual([]);
    // The live lines were drawn (else there was nothing to glue to), with the share of bundles done.
    expect(result.stdout).toMatch(/\rtap-fullstory events: bundle 2 of 2, \d+ records, [\d.]+ MB\/s, 50%/);
    expect(result.stdout).toMatch(/\rtarget-fullstory progress: records read=\d+/);
  });

  inTerminal('a target whose stdin is the terminal says it waits for Singer messages', async () => {
    const command = `${word(process.execPath)} ${word(binPath('target-fullstory'))} --config target.json`;
    const child = spawn('script', ['-qec', command, '/dev/null'], { cwd: dir!, env: cleanEnv({ TERM: 'dumb' }), stdio: ['pipe', 'pipe', 'pipe'] });
    let output = '';
    const exited = new Promise<number | null>((resolveExit) => child.once('close', resolveExit));
    child.stderr.resume();
    try {
      await new Promise<void>((resolveSaid, rejectSaid) => {
        const timer = setTimeout(() => rejectSaid(new Error(`no waiting line within 20 s; got ${JSON.stringify(output)}`)), 20_000);
        child.stdout.on('data', (chunk: Buffer) => {
          output += chunk.toString('utf8');
          if (output.includes('waiting for Singer messages')) {
            clearTimeout(timer);
            resolveSaid();
          }
        });
      });
    } finally {
      // Ctrl-D at the start of a line: end of input for the program on the terminal (also on failure,
      // so the target never outlives the test).
      child.stdin.write('\u0004');
    }
    expect(await exited).toBe(0);
    expect(screenRows(output).map((row) => row.replace(/\r$/, ''))).toEqual([
      'target-fullstory INFO waiting for Singer messages on stdin (pipe a tap into this command; Ctrl-D ends the input)',
      expect.stringMatching(/^target-fullstory INFO finished records_read=0 /),
    ]);
  }, 30_000);
});
