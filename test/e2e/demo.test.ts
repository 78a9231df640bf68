/**
 * `npm run demo` in this work tree (the newcomer test runs it from a fresh clone; this one is quick
 * and checks the figures): every event the tap emitted either landed or was dead-lettered with its
 * reason, the users stream landed with declared property types, and the final state holds the
 * events bookmark of the last generated bundle. Needs the build (`npm test` builds first).
 */
import { describe, expect, it } from '@jest/globals';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot, run } from './helpers.js';

function count(output: string, pattern: RegExp): number {
  const match = pattern.exec(output);
  return match ? Number(match[1]) : Number.NaN;
}

describe('scripts/demo.js', () => {
  it('prints what landed, accounts for every event, and ends with the events bookmark', async () => {
    const result = await run(process.execPath, [join(repoRoot, 'scripts', 'demo.js')], { cwd: repoRoot, timeoutMs: 120_000 });
    expect({ code: result.code, stderr: result.stderr.slice(-1500) }).toEqual({ code: 0, stderr: '' });
    const out = result.stdout;

    const emitted = count(out, /the tap emitted (\d+) records/);
    const landed = count(out, /^Events landed in the sandbox: (\d+)/m);
    const deadLettered = count(out, /^Records dead-lettered: (\d+)/m);
    expect(emitted).toBe(3 * 2000); // three generated bundles of 2000 events
    expect(landed).toBeGreaterThan(0);
    expect(deadLettered).toBeGreaterThan(0); // anonymous visitors: empty UserAppKey
    expect(landed + deadLettered).toBe(emitted);
    expect(out).toContain('uid is empty (record field "UserAppKey")');
    // The README quotes this line: the target's summary, without its log prefix.
    expect(out).toMatch(/^ {5}target summary: records_read=6000 sent=\d+ imported=\d+ rejected=\d+ /m);

    expect(out).toMatch(/^ {2}20 from users\.singer;/m);
    expect(out).toMatch(/property types declared: .*seats=int .*monthly_revenue=real .*on_trial=bool .*signed_up_at=date/);
    expect(out).toMatch(/0 new records; bookmark kept as it was/);

    const state = JSON.parse(out.slice(out.indexOf('\n', out.indexOf('Final state')) + 1)) as {
      bookmarks: { events: { last_bundle_stop: string; in_progress?: unknown } };
    };
    expect(state.bookmarks.events.last_bundle_stop).toBe('2026-01-04T00:00:00Z');
    expect(state.bookmarks.events.in_progress).toBeUndefined();

    // The work folder is removed at the end.
    const workDir = /work folder: (\S+)/.exec(out)?.[1];
    expect(workDir).toBeDefined();
    expect(existsSync(workDir!)).toBe(false);
  }, 150_000);
});
