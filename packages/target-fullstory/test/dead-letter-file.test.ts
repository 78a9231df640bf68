/**
 * The dead-letter file (issue 10, defect 8), black box: a record that cannot be serialised still gets
 * a line; a disk that fills leaves whole lines and stops the run with exit 2, and the next run does not
 * append after a torn line; a path whose folder is missing is created, one that cannot be written is
 * exit 2 before anything is sent; a server that echoes the Authorization header cannot put the key in
 * the file.
 */
import { describe, expect, it } from '@jest/globals';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseJson } from '@fullstory-singer/singer-core';
import { binConfig, expectAccountedFor, record, runTargetBin, schema, singer, state } from './bin-helpers.js';
import { sandboxPerFile } from './helpers.js';

const SECRET = 'na1.DEAD-LETTER-SECRET-4f1c9a7e-never-written';

const ctx = sandboxPerFile({ jobLatencyMs: 20, apiKeys: ['sandbox-key', SECRET], echoAuthorization: true });

/** Every line of `text` is JSON, and the text ends in a newline (or is empty). */
function wholeLines(text: string): unknown[] {
  if (text !== '' && !text.endsWith('\n')) throw new Error(`the file ends in a torn line: ...${JSON.stringify(text.slice(-80))}`);
  return text
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => parseJson(l));
}

const noUid = (i: number) => record('p', { n: i, filler: 'f'.repeat(200) });

describe('dead-letter file', () => {
  it('defect 8: a record nested 10,000 deep still gets a line (what could be kept, and why), and the run ends normally', async () => {
    let deep = '1';
    for (let i = 0; i < 10_000; i++) deep = `{"a":${deep}}`;
    const input = `${singer(schema('p'))}{"type":"RECORD","stream":"p","record":{"n":1,"deep":${deep}}}\n${singer(state({ s: 1 }))}`;
    const path = join(ctx.dir, 'deep.ndjson');
    const r = await runTargetBin(ctx.dir, binConfig(ctx.sandbox, ctx.dir, { data_type: 'users', dead_letter_path: path }), { input });
    expect(r.code).toBe(0);
    expect(r.deadLetters).toEqual([
      expect.objectContaining({
        record: { n: 1, deep: expect.stringMatching(/^\[not serialisable: /) },
        reason: 'missing_required_field',
        code: 'required_field',
        record_error: expect.stringMatching(/could not be written whole/),
      }),
    ]);
    expect(r.states).toEqual([{ s: 1 }]);
  });

  it('defect 8: a disk that fills (EFBIG under ulimit -f) leaves whole lines, exits 2, and a rerun appends after a whole line', async () => {
    const path = join(ctx.dir, 'full.ndjson');
    const config = binConfig(ctx.sandbox, ctx.dir, { data_type: 'users', dead_letter_path: path });
    // 40 rejected records, a state after every 5 (each state waits for the lines before it).
    const messages: unknown[] = [schema('p')];
    for (let i = 0; i < 40; i++) {
      messages.push(noUid(i));
      if ((i + 1) % 5 === 0) messages.push(state({ s: i + 1 }));
    }
    const input = singer(...messages);
    // 8 KiB: about 25 of the 40 lines fit.
    const full = await runTargetBin(ctx.dir, config, { input, shellPrefix: 'ulimit -f 8' });
    expect(full.code).toBe(2);
    expect(full.stderr).toMatch(/^target-fullstory: error: dead_letter_path: cannot write ".*full\.ndjson": EFBIG: .*the file ends in its last whole line/m);
    const kept = wholeLines(await readFile(path, 'utf8'));
    expect(kept.length).toBeGreaterThan(0);
    expect(kept.length).toBeLessThan(40);
    // No state printed covers a record whose line could not be written.
    const last = full.states[full.states.length - 1] as { s: number } | undefined;
    expect(last?.s ?? 0).toBeLessThanOrEqual(kept.length);

    const rerun = await runTargetBin(ctx.dir, config, { input });
    expect(rerun.code).toBe(0);
    expect(wholeLines(await readFile(path, 'utf8'))).toHaveLength(kept.length + 40);
  });

  it('defect 8: a file left ending in a torn line (a run killed mid-write) is cut back to its last whole line before new lines go in', async () => {
    const path = join(ctx.dir, 'torn.ndjson');
    await writeFile(path, '{"stream":"p","record":{"n":0},"reason":"x","code":"y","message":"z","at":"2026-01-01T00:00:00.000Z"}\n{"stream":"p","reco');
    const r = await runTargetBin(ctx.dir, binConfig(ctx.sandbox, ctx.dir, { data_type: 'users', dead_letter_path: path }), { input: singer(schema('p'), noUid(1)) });
    expect(r.code).toBe(0);
    const lines = wholeLines(await readFile(path, 'utf8')) as Array<{ record: { n: number } }>;
    expect(lines.map((l) => l.record.n)).toEqual([0, 1]);
    expect(r.stderr).toMatch(/ended in a torn line .* bytes_removed=\d+/);
  });

  it('defect 8: a dead_letter_path in a missing folder is created up front; one that cannot be written is exit 2 before anything is sent', async () => {
    const nested = join(ctx.dir, 'missing', 'deeper', 'rejected.ndjson');
    const ok = await runTargetBin(ctx.dir, binConfig(ctx.sandbox, ctx.dir, { data_type: 'users', dead_letter_path: nested }), {
      input: singer(schema('p'), record('p', { uid: 'a' }), noUid(1)),
    });
    expect(ok.code).toBe(0);
    expect(wholeLines(await readFile(nested, 'utf8'))).toHaveLength(1);

    ctx.sandbox.reset();
    const blocker = join(ctx.dir, 'a-file');
    await writeFile(blocker, 'not a folder');
    const bad = await runTargetBin(ctx.dir, binConfig(ctx.sandbox, ctx.dir, { data_type: 'users', dead_letter_path: join(blocker, 'rejected.ndjson') }), {
      input: singer(schema('p'), record('p', { uid: 'a' }), record('p', { uid: 'b' }), noUid(1)),
    });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/^target-fullstory: error: dead_letter_path: cannot write ".*a-file\/rejected\.ndjson": (ENOTDIR|EEXIST)/m);
    expect(ctx.sandbox.requests()).toEqual([]);
    expect(bad.states).toEqual([]);
  });

  it('a folder for the dead-letter file is only created, never a problem, when it already exists', async () => {
    await mkdir(join(ctx.dir, 'exists'), { recursive: true });
    const r = await runTargetBin(ctx.dir, binConfig(ctx.sandbox, ctx.dir, { data_type: 'users', dead_letter_path: join(ctx.dir, 'exists', 'r.ndjson') }), { input: singer(schema('p'), noUid(1)) });
    expect(r.code).toBe(0);
  });

  it('defect 8: a server that echoes the Authorization header in job error messages cannot put the key in the dead-letter file', async () => {
    ctx.sandbox.addFaults({ method: 'POST', path: '/v2/users/batch', action: 'reject_items', match: 'bad', body: { code: 'invalid', message: 'refused' } });
    const path = join(ctx.dir, 'echo.ndjson');
    const r = await runTargetBin(ctx.dir, binConfig(ctx.sandbox, ctx.dir, { data_type: 'users', dead_letter_path: path }), {
      apiKey: SECRET,
      input: singer(schema('p'), record('p', { uid: 'good' }), record('p', { uid: 'bad' })),
    });
    expect(r.code).toBe(0);
    const text = await readFile(path, 'latin1');
    expect(r.deadLetters).toEqual([expect.objectContaining({ record: { uid: 'bad' }, message: 'refused (request Authorization: Basic [REDACTED])' })]);
    for (const form of [SECRET, Buffer.from(SECRET).toString('base64'), 'DEAD-LETTER-SECRET']) {
      expect(text).not.toContain(form);
      expect(r.stderr).not.toContain(form);
      expect(r.stdout).not.toContain(form);
    }
    expectAccountedFor(r.stderr);
  });
});
