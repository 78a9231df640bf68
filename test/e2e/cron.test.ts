/**
 * examples/cron.sh does what the README says: every run, successful or not, saves the last complete
 * state line the target printed as state.json (via a temporary file and a rename: each printed state
 * is safe); a run whose target printed no state leaves state.json exactly as it was; no temporary file
 * stays behind; the next run starts from the saved state; and the log (stdout and stderr, as cron
 * appends them to one file) has the time and the program on each line. Against the sandbox, with the
 * built bins (`npm test` builds first).
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { chmod, mkdir, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { startSandbox, type Sandbox } from 'fullstory-sandbox';
import { binPath } from '@fullstory-singer/singer-core/testing';
import { cleanEnv, makeTempDir, removeDir, repoRoot, run } from './helpers.js';

const KEY = 'cron-test-key';
const script = join(repoRoot, 'examples', 'cron.sh');

describe('examples/cron.sh', () => {
  let sandbox: Sandbox;
  let dir: string | undefined;
  let env: Record<string, string>;

  beforeAll(async () => {
    sandbox = await startSandbox({ apiKeys: [KEY], bundles: 2, eventsPerBundle: 300, firstBundle: '2026-01-01T00:00:00Z', downloadsPerMinute: 0, jobLatencyMs: 20 });
    dir = await makeTempDir('fullstory-cron-');
    // cron.sh runs the commands by name; these wrappers stand in for globally installed CLIs.
    for (const [name, pkg] of [['tap-fullstory', 'tap-fullstory'], ['target-fullstory', 'target-fullstory']] as const) {
      const wrapper = join(dir, name);
      await writeFile(wrapper, `#!/bin/sh\nexec "${process.execPath}" "${binPath(pkg)}" "$@"\n`);
      await chmod(wrapper, 0o755);
    }
    await writeFile(join(dir, 'tap.json'), JSON.stringify({ start_date: '2025-12-01T00:00:00Z', base_url: sandbox.url, downloads_per_minute: 600 }));
    await writeFile(
      join(dir, 'target.json'),
      JSON.stringify({
        base_url: sandbox.url,
        job_poll_interval_seconds: 0.05,
        dead_letter_path: join(dir, 'rejected.ndjson'),
        streams: { events: { data_type: 'events', mapping: { uid: 'UserAppKey', event_name: 'EventType', timestamp: 'EventStart' }, properties: { include: ['PageUrl'] } } },
      }),
    );
    env = cleanEnv({
      FULLSTORY_SYNC_DIR: dir,
      TAP_FULLSTORY_BIN: join(dir, 'tap-fullstory'),
      TARGET_FULLSTORY_BIN: join(dir, 'target-fullstory'),
      TAP_FULLSTORY_API_KEY: KEY,
      TARGET_FULLSTORY_API_KEY: KEY,
      LOG_LEVEL: 'warn',
    });
  });

  afterAll(async () => {
    await sandbox?.close();
    await removeDir(dir);
  });

  it('saves the last state on success and keeps it untouched when a run fails', async () => {
    const statePath = join(dir!, 'state.json');

    const first = await run('bash', [script], { cwd: dir!, env, timeoutMs: 90_000 });
    expect({ code: first.code, out: first.stdout.slice(-400) }).toEqual({ code: 0, out: expect.stringContaining('sync done') });
    const saved = await readFile(statePath, 'utf8');
    const state = JSON.parse(saved) as { bookmarks: { events: { last_bundle_stop: string } } };
    expect(state.bookmarks.events.last_bundle_stop).toBe('2026-01-03T00:00:00Z');
    expect(sandbox.events().length).toBeGreaterThan(0);

    // A new bundle arrives, but the target's key is refused: the run fails, state.json stays as it was.
    sandbox.publishBundles({ count: 1, events: 50 });
    const failed = await run('bash', [script], { cwd: dir!, env: { ...env, TARGET_FULLSTORY_API_KEY: 'not-a-valid-key' }, timeoutMs: 90_000 });
    expect(failed.code).toBe(1);
    expect(failed.stdout).toContain('state.json left as it was');
    expect(await readFile(statePath, 'utf8')).toBe(saved);
    expect((await readdir(dir!)).filter((name) => name.startsWith('.state'))).toEqual([]);
    expect(failed.stdout + failed.stderr).not.toContain('not-a-valid-key');

    // The next good run starts from the saved bookmark and moves it past the new bundle.
    const third = await run('bash', [script], { cwd: dir!, env, timeoutMs: 90_000 });
    expect(third.code).toBe(0);
    const moved = JSON.parse(await readFile(statePath, 'utf8')) as { bookmarks: { events: { last_bundle_stop: string } } };
    expect(moved.bookmarks.events.last_bundle_stop).toBe('2026-01-04T00:00:00Z');
  }, 240_000);

  it('keeps the last state the target printed when the tap fails halfway, and times and names every log line', async () => {
    // Two bundles: the first whole, the second corrupt (the tap retries it once, then exits 5).
    const work = join(dir!, 'halfway');
    const fixtures = join(work, 'bundles');
    await mkdir(fixtures, { recursive: true });
    const events = Array.from({ length: 20 }, (_, i) => ({ IndvId: i, UserAppKey: `user-${i % 4}`, EventType: 'click', EventStart: `2026-02-01T00:${String(i).padStart(2, '0')}:00.000Z` }));
    await writeFile(join(fixtures, '3001.json'), JSON.stringify(events));
    await writeFile(join(fixtures, '3002.json'), '[{"IndvId":1,"EventType":"click","EventStart":"2026-02-01T01:10:00.000Z"},{"PageUrl":]');
    await writeFile(join(fixtures, 'bundles.json'), JSON.stringify([{ Id: 3001, Start: 1769904000, Stop: 1769907600 }, { Id: 3002, Start: 1769907600, Stop: 1769911200 }]));
    const half = await startSandbox({ apiKeys: [KEY], fixturesDir: fixtures, downloadsPerMinute: 0, jobLatencyMs: 20 });
    try {
      for (const name of ['tap.json', 'target.json']) {
        const config = JSON.parse(await readFile(join(dir!, name), 'utf8')) as Record<string, unknown>;
        await writeFile(join(work, name), JSON.stringify({ ...config, base_url: half.url, ...(name === 'tap.json' ? { start_date: '2026-01-31T00:00:00Z', max_retries: 1 } : {}) }));
      }
      const { LOG_LEVEL: _quiet, ...loud } = env;
      const failed = await run('bash', [script], { cwd: work, env: { ...loud, FULLSTORY_SYNC_DIR: work }, timeoutMs: 90_000 });
      expect({ code: failed.code, out: failed.stdout.split('\n').filter((l) => l.includes('sync failed')) }).toEqual({
        code: 1,
        out: [expect.stringMatching(/cron\.sh sync failed \(tap exit 5, target exit 0\); state\.json now holds the last state the target printed$/)],
      });
      const state = JSON.parse(await readFile(join(work, 'state.json'), 'utf8')) as { bookmarks: { events: Record<string, unknown> } };
      expect(state.bookmarks.events).toEqual({ last_bundle_stop: '2026-02-01T01:00:00Z', last_bundle_id: 3001 });
      expect((await readdir(work)).filter((name) => name.startsWith('.state'))).toEqual([]);
      // A cron log: stdout and stderr of all three programs in one file. Every line carries the time
      // and the program, except the fatal error line, whose `<program>: error:` form scripts match.
      const log = `${failed.stdout}${failed.stderr}`.split('\n').filter((l) => l !== '');
      const untimed = log.filter((l) => !/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z (cron\.sh|tap-fullstory|target-fullstory) \S/.test(l));
      expect(untimed).toEqual([expect.stringMatching(/^tap-fullstory: error: bundle 3002 did not arrive whole/)]);
      expect(log.some((l) => / target-fullstory INFO METRIC: \{"type":"counter"/.test(l))).toBe(true);
    } finally {
      await half.close();
      await rm(work, { recursive: true, force: true });
    }
  }, 120_000);

  it('keeps the last complete state line when the target was killed mid-line', async () => {
    const work = join(dir!, 'killed');
    await mkdir(work, { recursive: true });
    await writeFile(join(work, 'state.json'), '{"bookmarks":{"events":{"last_bundle_id":1}}}\n');
    // Stand-ins: a tap that prints nothing, and a target that prints two states and half a third, then dies.
    const fakeTap = join(work, 'fake-tap');
    const fakeTarget = join(work, 'fake-target');
    await writeFile(fakeTap, '#!/bin/sh\nexit 0\n');
    await writeFile(fakeTarget, '#!/bin/sh\ncat > /dev/null\nprintf \'{"n":1}\\n{"n":2}\\n{"n":\'\nexit 137\n');
    await chmod(fakeTap, 0o755);
    await chmod(fakeTarget, 0o755);
    for (const name of ['tap.json', 'target.json']) await writeFile(join(work, name), '{}');
    const killed = await run('bash', [script], {
      cwd: work,
      env: { ...env, FULLSTORY_SYNC_DIR: work, TAP_FULLSTORY_BIN: fakeTap, TARGET_FULLSTORY_BIN: fakeTarget },
      timeoutMs: 30_000,
    });
    expect(killed.code).toBe(1);
    expect(killed.stdout).toMatch(/sync failed \(tap exit 0, target exit 137\); state\.json now holds the last state the target printed/);
    expect(await readFile(join(work, 'state.json'), 'utf8')).toBe('{"n":2}\n');
  });
});
