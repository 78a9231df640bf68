/**
 * Rejections are loud (issue 10, defect 10), black box: whenever anything was rejected, a WARNING with
 * the count by code and the dead-letter path, at `--log-level warn` too; when every record of a stream
 * fails the same way, a hint; and a dry run never writes into the real dead-letter file.
 */
import { describe, expect, it } from '@jest/globals';
import { logLines } from '@fullstory-singer/singer-core/testing';
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { binConfig, record, runTargetBin, schema, singer } from './bin-helpers.js';
import { sandboxPerFile } from './helpers.js';

const ctx = sandboxPerFile({ jobLatencyMs: 20 });

const keyedById = Array.from({ length: 4 }, (_, i) => record('users', { id: i, name: `User ${i}` }));

describe('loud rejections', () => {
  it('defect 10: a run where every record is rejected warns with the count by code, the path and a hint, even at --log-level warn', async () => {
    const path = join(ctx.dir, 'all.ndjson');
    const r = await runTargetBin(ctx.dir, binConfig(ctx.sandbox, ctx.dir, { data_type: 'users', dead_letter_path: path }), {
      input: singer(schema('users'), ...keyedById),
      args: ['--log-level', 'warn'],
    });
    expect(r.code).toBe(0);
    const warnings = logLines(r.stderr).filter((l) => l.startsWith('WARNING'));
    expect(warnings).toEqual([
      `WARNING 4 of 4 record(s) rejected; see ${path} by_code=required_field:4`,
      'WARNING hint: every record of stream "users" was rejected for a missing uid (uid is missing (record field "uid")); records have "id": set streams.users.mapping.uid to "id"',
    ]);
  });

  it('defect 10: a dry run writes its rejections beside the dead-letter file, never into it', async () => {
    const path = join(ctx.dir, 'real.ndjson');
    await writeFile(path, '{"kept":"from an earlier run"}\n');
    const bodies = join(ctx.dir, 'bodies.ndjson');
    const r = await runTargetBin(ctx.dir, binConfig(undefined, ctx.dir, { data_type: 'users', dead_letter_path: path, dry_run_path: bodies }), {
      apiKey: null,
      args: ['--dry-run'],
      input: singer(schema('users'), record('users', { uid: 'ok' }), ...keyedById),
    });
    expect(r.code).toBe(0);
    expect(await readFile(path, 'utf8')).toBe('{"kept":"from an earlier run"}\n');
    const dryRunRejections = join(ctx.dir, 'real.dry-run.ndjson');
    expect((await readFile(dryRunRejections, 'utf8')).trimEnd().split('\n')).toHaveLength(4);
    expect(r.stderr).toContain(`WARNING 4 of 5 record(s) rejected; see ${dryRunRejections}`);
    expect(existsSync(bodies)).toBe(true);
    expect(ctx.sandbox.requests()).toEqual([]);
  });
});
