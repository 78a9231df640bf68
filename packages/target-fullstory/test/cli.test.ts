/**
 * The built CLI (dist/target-fullstory.js; `npm run build` first): flags, config from
 * files and TARGET_FULLSTORY_* variables, stdout holding only bare states, exit codes, secrecy.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { binPath, fixturePath, parseOutputLines, removeTempDir, runBin, tempDir } from '@fullstory-singer/singer-core/testing';
import { startSandbox, type Sandbox } from 'fullstory-sandbox';

const BIN = binPath('target-fullstory');
let sandbox: Sandbox;
let dir: string;

beforeAll(async () => {
  sandbox = await startSandbox({ port: 0, bundles: 0, jobLatencyMs: 20, apiKeys: ['sandbox-key', 'na1.cli-secret-key-0001'] });
  dir = await tempDir();
});
afterAll(async () => {
  await sandbox.close();
  await removeTempDir(dir);
});
beforeEach(() => sandbox.reset());

const env = (over: Record<string, string> = {}) => ({
  TARGET_FULLSTORY_BASE_URL: sandbox.url,
  TARGET_FULLSTORY_DEAD_LETTER_PATH: join(dir, 'rejected.ndjson'),
  TARGET_FULLSTORY_JOB_POLL_INTERVAL_SECONDS: '0.05',
  ...over,
});

describe('target-fullstory bin', () => {
  it('--version prints the version; --about prints the settings schema', async () => {
    const version = await runBin(BIN, ['--version']);
    expect(version.code).toBe(0);
    const pkg = JSON.parse(await readFile(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
    expect(version.stdout.trim()).toBe(pkg.version);
    const about = await runBin(BIN, ['--about', '--format', 'json']);
    expect(about.code).toBe(0);
    const doc = JSON.parse(about.stdout) as { name: string; capabilities: string[]; settings: { properties: Record<string, unknown> } };
    expect(doc.name).toBe('target-fullstory');
    expect(Object.keys(doc.settings.properties)).toEqual(expect.arrayContaining(['api_key', 'data_type', 'streams', 'batch_size', 'max_jobs_in_flight', 'dead_letter_path']));
    const md = await runBin(BIN, ['--about', '--format', 'markdown']);
    expect(md.stdout).toContain('| `batch_size` | integer | no | `500` | `TARGET_FULLSTORY_BATCH_SIZE` |');
  });

  it('loads a config file, takes the key from the environment, prints only bare states', async () => {
    const input = await readFile(fixturePath('singer', 'users_mapping_and_types.singer'));
    const r = await runBin(BIN, ['--config', fixturePath('config', 'target-sandbox.json')], {
      input,
      env: env({ TARGET_FULLSTORY_API_KEY: 'na1.cli-secret-key-0001' }),
    });
    expect(r.code).toBe(0);
    expect(parseOutputLines(r.stdout)).toEqual([{ bookmarks: { crm_users: { updated_at: '2024-02-02T00:00:00Z' } } }]);
    expect(sandbox.users()).toHaveLength(2);
    expect(r.stderr).toMatch(/INFO finished records_read=3 sent=3 imported=3/);
    expect(r.stderr).not.toContain('cli-secret-key-0001');
  });

  it('a refused key exits 4 with one error line and never prints the key', async () => {
    const key = 'na1.wrong-key-never-print-me';
    const r = await runBin(BIN, ['--config', fixturePath('config', 'target-sandbox.json')], {
      input: await readFile(fixturePath('singer', 'audience_members.singer')),
      env: env({ TARGET_FULLSTORY_API_KEY: key, LOG_LEVEL: 'debug' }),
    });
    expect(r.code).toBe(4);
    expect(r.stdout).toBe('');
    expect(r.stderr.split('\n').filter((l) => l.startsWith('target-fullstory: error:'))).toHaveLength(1);
    for (const text of [r.stdout, r.stderr]) {
      expect(text).not.toContain(key);
      expect(text).not.toContain(Buffer.from(key).toString('base64'));
    }
  });

  it('exit codes: 2 for config, 3 for bad input (naming the line), 6 with fail_on_rejected', async () => {
    const unknown = await runBin(BIN, ['--config', fixturePath('config', 'target-unknown-key.json')], { input: '' });
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/^target-fullstory: error: .*"batch_sise"/m);
    const remote = await runBin(BIN, ['--config', fixturePath('config', 'target-http-remote.json')], { input: '' });
    expect(remote.code).toBe(2);
    expect(remote.stderr).toMatch(/^target-fullstory: error: base_url: http:\/\/ is only allowed for loopback hosts/m);
    expect(remote.stderr).not.toContain('sandbox-key');
    const noKey = await runBin(BIN, [], { input: '', env: env() });
    expect(noKey.code).toBe(2);
    expect(noKey.stderr).toMatch(/error: missing required setting "api_key" \(set it in a --config file or TARGET_FULLSTORY_API_KEY; not needed with --dry-run\)/);

    const bad = await runBin(BIN, ['--config', fixturePath('config', 'target-sandbox.json')], {
      input: await readFile(fixturePath('singer', 'bad_line_after_records.singer')),
      env: env({ TARGET_FULLSTORY_API_KEY: 'sandbox-key' }),
    });
    expect(bad.code).toBe(3);
    expect(bad.stderr).toMatch(/^target-fullstory: error: stdin:5: not valid JSON/m);
    expect(parseOutputLines(bad.stdout)).toEqual([{ people: 'before-2' }]);

    const rejected = await runBin(BIN, ['--config', fixturePath('config', 'target-sandbox.json')], {
      input: await readFile(fixturePath('singer', 'rejections_each_reason.singer')),
      env: env({ TARGET_FULLSTORY_API_KEY: 'sandbox-key', TARGET_FULLSTORY_FAIL_ON_REJECTED: 'true' }),
    });
    expect(rejected.code).toBe(6);
    expect(parseOutputLines(rejected.stdout)).toEqual([{ accounts: 9 }]);
    expect(rejected.stderr).toMatch(/error: 7 record\(s\) rejected \(fail_on_rejected is set\)/);
  });

  it('--dry-run needs no key and sends nothing', async () => {
    const { api_key: _key, ...keyless } = JSON.parse(await readFile(fixturePath('config', 'target-sandbox.json'), 'utf8')) as Record<string, unknown>;
    const config = join(dir, 'keyless.json');
    await writeFile(config, JSON.stringify(keyless));
    const bodies = join(dir, 'bodies.ndjson');
    const r = await runBin(BIN, ['--dry-run', '--config', config], {
      input: await readFile(fixturePath('singer', 'users_mapping_and_types.singer')),
      // Objects come from the environment as JSON, and override the file.
      env: env({ TARGET_FULLSTORY_STREAMS: JSON.stringify({ crm_users: { mapping: { uid: 'name' } } }), TARGET_FULLSTORY_DRY_RUN_PATH: bodies }),
    });
    expect(r.code).toBe(0);
    const body = JSON.parse((await readFile(bodies, 'utf8')).split('\n')[0]!) as { body: { requests: Array<{ uid: string }> } };
    expect(body.body.requests.map((q) => q.uid)).toEqual(['Ada Lovelace', 'Grace Hopper', 'Ada King']);
    expect(r.stdout).toBe('');
    expect(sandbox.requests()).toEqual([]);
    expect(r.stderr).toMatch(/dry run finished \(nothing was sent\) records_read=3 sent=3/);
  });
});
