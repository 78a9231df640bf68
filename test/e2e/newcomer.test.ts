/**
 * The README's first hour, run the way a newcomer runs it: a fresh clone of the committed HEAD,
 * the set-up command (`npm ci && npm run build`, which must print no warning), the README's `npx`
 * commands in the checkout (`npx tap-fullstory --about`, ...), then `npm run demo` and the Meltano
 * example's sandbox flow (test/e2e/meltano-example.test.ts, run in the clone), with no FullStory
 * account and no network for them. The demo's printed summary must show users and events landed in
 * the sandbox and a final state holding the events bookmark.
 *
 * Slow on purpose (a full install and build): one test, a long timeout. It tests what is committed,
 * so uncommitted changes in this work tree are not part of it.
 */
import { afterAll, describe, expect, it } from '@jest/globals';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { cleanEnv, makeTempDir, removeDir, repoRoot, run, tail, type RunResult } from './helpers.js';

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
    const ci = await run('npm', ['ci', '--prefer-offline', '--no-audit', '--no-fund'], { cwd: clone, timeoutMs: 4 * MINUTE });
    expectSuccess('npm ci', ci);
    // The first screen of set-up is not a wall of warnings (npm's install-script notices included).
    expect((ci.stdout + ci.stderr).split('\n').filter((line) => /\bwarn/i.test(line))).toEqual([]);
    expectSuccess('npm run build', await run('npm', ['run', 'build'], { cwd: clone, timeoutMs: 2 * MINUTE }));

    // The README's commands for this checkout, as written.
    const readme = await readFile(join(clone, 'README.md'), 'utf8');
    const block = /The commands are then there in this checkout:\n+```sh\n([\s\S]*?)```/.exec(readme);
    const commands = (block?.[1] ?? '').split('\n').map((line) => line.replace(/#.*$/, '').trim()).filter((line) => line !== '');
    expect(commands).toEqual(['npx tap-fullstory --about', 'npx target-fullstory --about', 'npx fullstory-sandbox --version']);
    for (const command of commands) {
      const [npx, ...args] = command.split(' ');
      const result = await run(npx!, args, { cwd: clone, timeoutMs: MINUTE });
      expectSuccess(command, result);
      if (args.includes('--about')) expect((JSON.parse(result.stdout) as { name: string }).name).toBe(args[0]);
      else expect(result.stdout).toMatch(/^\d+\.\d+\.\d+\n$/);
    }

    const demo = await run('npm', ['run', 'demo'], { cwd: clone, timeoutMs: 2 * MINUTE });
    expectSuccess('npm run demo', demo);

    expect(count(demo.stdout, 'Users landed in the sandbox')).toBeGreaterThan(0);
    expect(count(demo.stdout, 'Events landed in the sandbox')).toBeGreaterThan(0);
    const marker = demo.stdout.indexOf('Final state');
    expect(marker).toBeGreaterThanOrEqual(0);
    const stateText = demo.stdout.slice(demo.stdout.indexOf('\n', marker) + 1).trim();
    const state = JSON.parse(stateText) as { bookmarks?: { events?: { last_bundle_stop?: unknown } } };
    expect(state.bookmarks?.events?.last_bundle_stop).toEqual(expect.stringMatching(/^\d{4}-\d\d-\d\dT/));

    // The Meltano example's sandbox flow, from the fresh clone.
    const meltano = await run('npm', ['test', '--', 'test/e2e/meltano-example.test.ts'], { cwd: clone, env: cleanEnv(), timeoutMs: 3 * MINUTE });
    expectSuccess('the Meltano example (npm test -- test/e2e/meltano-example.test.ts)', meltano);
    expect(meltano.stderr).toMatch(/Tests:\s+5 passed, 5 total/);
  }, 10 * MINUTE);
});
