/**
 * Stopping (issue 10, defect 9), black box: the first SIGTERM or SIGINT stops reading, lets the jobs
 * already created finish (at most `stop_timeout_seconds`), emits the last safe state, prints the summary
 * and a line saying it was interrupted, and exits 143 / 130; a second signal exits at once. A reader that
 * closes stdout (EPIPE) gets one line and exit 141.
 */
import { describe, expect, it } from '@jest/globals';
import type { ChildProcess } from 'node:child_process';
import { PassThrough } from 'node:stream';
import { startSandbox } from 'fullstory-sandbox';
import { binConfig, expectAccountedFor, record, runTargetBin, schema, singer, state, summaryOf, until } from './bin-helpers.js';
import { sandboxPerFile } from './helpers.js';

const ctx = sandboxPerFile({ jobLatencyMs: 1500 });

const created = () => ctx.sandbox.requests().filter((r) => r.method === 'POST' && r.status === 200).length;
const users = (from: number, n: number) => Array.from({ length: n }, (_, i) => record('p', { uid: `u${from + i}` }));

/**
 * Starts the bin on an input left open: one full batch (3 records, a job), a state, and one record more,
 * too few for the state after it to seal the open batch (half of batch_size), so it stays open.
 */
function startOpen(over: Record<string, unknown> = {}) {
  const input = new PassThrough();
  let child: ChildProcess | undefined;
  const stderr: string[] = [];
  const done = runTargetBin(ctx.dir, binConfig(ctx.sandbox, ctx.dir, { data_type: 'users', batch_size: 3, ...over }), {
    input,
    onSpawn: (c) => (child = c),
    onStderrLine: (line) => stderr.push(line),
  });
  input.write(singer(schema('p'), ...users(0, 3), state({ s: 1 }), ...users(3, 1), state({ s: 2 })));
  return { done, input, child: () => child!, stderr };
}

describe('stopping', () => {
  it('defect 9: SIGTERM lets the created job finish, emits its state, prints the summary, and exits 143', async () => {
    const run = startOpen();
    await until(() => created() === 1, 'the job');
    run.child().kill('SIGTERM');
    const r = await run.done;
    run.input.destroy();
    expect(r.code).toBe(143);
    expect(r.stderr).toMatch(/^target-fullstory: interrupted by SIGTERM$/m);
    expect(r.states).toEqual([{ s: 1 }]);
    expect(ctx.sandbox.users().map((u) => u.uid).sort()).toEqual(['u0', 'u1', 'u2']);
    // The record of the open batch was read, neither imported nor rejected: a rerun from {s:1} sends it.
    expect(expectAccountedFor(r.stderr)).toMatchObject({ records_read: 4, imported: 3, rejected: 0, unsettled: 1 });
    expect(ctx.sandbox.requests().filter((q) => q.method === 'POST')).toHaveLength(1);
  }, 30_000);

  it('defect 9: SIGINT does the same and exits 130', async () => {
    const run = startOpen();
    await until(() => created() === 1, 'the job');
    run.child().kill('SIGINT');
    const r = await run.done;
    run.input.destroy();
    expect(r.code).toBe(130);
    expect(r.stderr).toMatch(/^target-fullstory: interrupted by SIGINT$/m);
    expect(r.states).toEqual([{ s: 1 }]);
    expect(expectAccountedFor(r.stderr)).toMatchObject({ records_read: 4, imported: 3, unsettled: 1 });
  }, 30_000);

  it('a job still running after stop_timeout_seconds is given up: no state passes it, its records are unsettled', async () => {
    const run = startOpen({ stop_timeout_seconds: 0.2 });
    await until(() => created() === 1, 'the job');
    run.child().kill('SIGTERM');
    const r = await run.done;
    run.input.destroy();
    expect(r.code).toBe(143);
    expect(r.stderr).toMatch(/stopped waiting for the jobs still running \(stop_timeout_seconds\)/);
    expect(r.states).toEqual([]);
    expect(expectAccountedFor(r.stderr)).toMatchObject({ records_read: 4, imported: 0, unsettled: 4 });
  }, 30_000);

  it('defect 9: a second signal exits at once, without waiting for the job', async () => {
    const run = startOpen();
    await until(() => created() === 1, 'the job');
    run.child().kill('SIGTERM');
    // Two signals sent at once may reach the process as one: the second goes once the first was seen.
    await until(() => run.stderr.some((l) => /SIGTERM: stopping/.test(l)), 'the first signal');
    run.child().kill('SIGTERM');
    const r = await run.done;
    run.input.destroy();
    expect(r.code).toBe(143);
    expect(r.stderr).toMatch(/SIGTERM again: exiting at once/);
    // Gone at once: the job (1.5 s) had not finished, and no summary was printed.
    expect(ctx.sandbox.jobs()[0]!.state).not.toBe('done');
    expect(r.stderr).not.toMatch(/INFO finished/);
  }, 30_000);

  it('defect 9: stdout closed by its reader (EPIPE, `| head -1`) is one line and exit 141', async () => {
    const fast = await startSandbox({ port: 0, bundles: 0, jobLatencyMs: 10 });
    try {
      const input = new PassThrough();
      let closed = false;
      const done = runTargetBin(ctx.dir, binConfig(fast, ctx.dir, { data_type: 'users', batch_size: 1 }), {
        input,
        onLine: (_line, child) => {
          if (closed) return;
          closed = true;
          child.stdout!.destroy();
          // More records, so more states to write into the closed pipe.
          input.end(singer(...users(10, 3), state({ s: 'after' })));
        },
      });
      input.write(singer(schema('p'), ...users(0, 1), state({ s: 'first' })));
      const r = await done;
      expect(r.code).toBe(141);
      expect(r.stderr.split('\n').filter((l) => l.startsWith('target-fullstory:'))).toEqual([
        'target-fullstory: stdout was closed by the reading process (EPIPE); stopping',
      ]);
      // The summary still went out.
      expect(summaryOf(r.stderr)['records_read']).toBeGreaterThanOrEqual(1);
    } finally {
      await fast.close();
    }
  }, 30_000);
});
