/**
 * examples/cron.sh does what the README says: a successful run saves the target's last state line
 * as state.json (via a temporary file and a rename); a failed run leaves state.json exactly as it
 * was and no temporary file behind; the next run starts from the saved state. Against the sandbox,
 * with the built bins (`npm test` builds first).
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { chmod, readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { startSandbox, type Sandbox } from 'fullstory-sandbox';
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
      await writeFile(wrapper, `#!/bin/sh\nexec "${process.execPath}" "${join(repoRoot, 'packages', pkg, 'dist', 'src', 'bin.js')}" "$@"\n`);
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
});
