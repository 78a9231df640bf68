/**
 * Rejections are loud (issue 10, defect 10), black box: whenever anything was rejected, a WARNING with
 * the count by code and the dead-letter path, at `--log-level warn` too; when every record of a stream
 * fails the same way, a hint; and a dry run never writes into the real dead-letter file.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { removeTempDir, tempDir } from '@fullstory-singer/singer-core/testing';
import { startSandbox, type Sandbox } from 'fullstory-sandbox';
import { binConfig, record, runTargetBin, schema, singer } from './bin-helpers.js';

let sandbox: Sandbox;
let dir: string;
beforeAll(async () => {
  sandbox = await startSandbox({ port: 0, bundles: 0, jobLatencyMs: 20 });
  dir = await tempDir();
});
afterAll(async () => {
  await sandbox.close();
  await removeTempDir(dir);
});

const keyedById = Array.from({ length: 4 }, (_, i) => record('users', { id: i, name: `User ${i}` }));

describe('loud rejections', () => {
  it('defect 10: a run where every record is rejected warns with the count by code, the path and a hint, even at --log-level warn', async () => {
    const path = join(dir, 'all.ndjson');
    const r = await runTargetBin(dir, binConfig(sandbox, dir, { data_type: 'users', dead_letter_path: path }), {
      input: singer(schema('users'), ...keyedById),
      args: ['--log-level', 'warn'],
    });
    expect(r.code).toBe(0);
    const warnings = r.stderr.split('\n').filter((l) => l.startsWith('WARNING'));
    expect(warnings).toEqual([
      `WARNING 4 of 4 record(s) rejected; see ${path} by_code=required_field:4`,
      'WARNING hint: every record of stream "users" was rejected for a missing uid (uid is missing (record field "uid")); records have "id": set streams.users.mapping.uid to "id"',
    ]);
  });

  it('defect 10: a dry run writes its rejections beside the dead-letter file, never into it', async () => {
    const path = join(dir, 'real.ndjson');
    await writeFile(path, '{"kept":"from an earlier run"}\n');
    const bodies = join(dir, 'bodies.ndjson');
    const r = await runTargetBin(dir, binConfig(undefined, dir, { data_type: 'users', dead_letter_path: path, dry_run_path: bodies }), {
      apiKey: null,
      args: ['--dry-run'],
      input: singer(schema('users'), record('users', { uid: 'ok' }), ...keyedById),
    });
    expect(r.code).toBe(0);
    expect(await readFile(path, 'utf8')).toBe('{"kept":"from an earlier run"}\n');
    const dryRunRejections = join(dir, 'real.dry-run.ndjson');
    expect((await readFile(dryRunRejections, 'utf8')).trimEnd().split('\n')).toHaveLength(4);
    expect(r.stderr).toContain(`WARNING 4 of 5 record(s) rejected; see ${dryRunRejections}`);
    expect(existsSync(bodies)).toBe(true);
    expect(sandbox.requests()).toEqual([]);
  });
});
