/**
 * The README's first hour, run the way a newcomer runs it: a fresh clone of the committed HEAD,
 * the set-up command (`npm ci && npm run build`), then `npm run demo`, with no FullStory account and
 * no network for the demo. The demo's printed summary must show users and events landed in the
 * sandbox and a final state holding the events bookmark.
 *
 * Slow on purpose (a full install and build): one test, a long timeout. It tests what is committed,
 * so uncommitted changes in this work tree are not part of it.
 */
import { afterAll, describe, expect, it } from '@jest/globals';
import { join } from 'node:path';
import { makeTempDir, removeDir, repoRoot, run, tail, type RunResult } from './helpers.js';

const MINUTE = 60_000;

function expectSuccess(step: string, result: RunResult): void {
  // The step name and the end of its output make a failure readable without rerunning it.
  expect({ step, code: result.code, output: result.code === 0 ? '' : headAndTail(result.stdout + result.stderr) }).toEqual({
    step,
    code: 0,
    output: '',
  });
}

/** The first and last lines of a failed step's output: npm puts the cause first and its usage text last. */
function headAndTail(output: string): string {
  const lines = output.split('\n');
  return lines.length <= 40 ? output : `${lines.slice(0, 20).join('\n')}\n…\n${tail(output, 20)}`;
}

function count(output: string, label: string): number {
  const match = new RegExp(`^${label}: (\\d+)`, 'm').exec(output);
  return match ? Number(match[1]) : Number.NaN;
}

describe('a newcomer with a fresh clone', () => {
  let work: string | undefined;

  afterAll(async () => {
    await removeDir(work);
  });

  it('installs, builds and runs the demo, which shows data landed and a final state', async () => {
    work = await makeTempDir('fullstory-newcomer-');
    const clone = join(work, 'fullstory-singer');

    expectSuccess('git clone', await run('git', ['clone', '--quiet', repoRoot, clone], { cwd: work, timeoutMs: MINUTE }));
    expectSuccess(
      'npm ci',
      await run('npm', ['ci', '--prefer-offline', '--no-audit', '--no-fund'], { cwd: clone, timeoutMs: 4 * MINUTE }),
    );
    expectSuccess('npm run build', await run('npm', ['run', 'build'], { cwd: clone, timeoutMs: 2 * MINUTE }));

    const demo = await run('npm', ['run', 'demo'], { cwd: clone, timeoutMs: 2 * MINUTE });
    expectSuccess('npm run demo', demo);

    expect(count(demo.stdout, 'Users landed in the sandbox')).toBeGreaterThan(0);
    expect(count(demo.stdout, 'Events landed in the sandbox')).toBeGreaterThan(0);
    const marker = demo.stdout.indexOf('Final state');
    expect(marker).toBeGreaterThanOrEqual(0);
    const stateText = demo.stdout.slice(demo.stdout.indexOf('\n', marker) + 1).trim();
    const state = JSON.parse(stateText) as { bookmarks?: { events?: { last_bundle_stop?: unknown } } };
    expect(state.bookmarks?.events?.last_bundle_stop).toEqual(expect.stringMatching(/^\d{4}-\d\d-\d\dT/));
  }, 8 * MINUTE);
});
