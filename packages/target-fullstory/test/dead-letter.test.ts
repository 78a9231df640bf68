import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { existsSync } from 'node:fs';
import { open, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ConfigError, Redactor } from '@fullstory-singer/singer-core';
import { removeTempDir, tempDir } from '@fullstory-singer/singer-core/testing';
import { DeadLetterFile, dryRunDeadLetterPath } from '../src/dead-letter.js';
import { FileWriteError, type LineFileHandle } from '../src/line-file.js';
import { ManualClock } from './manual-clock.js';

const entry = (n: number) => ({ stream: 's', record: { n }, reason: 'invalid_value' as const, code: 'x', message: 'y' });

/**
 * A real file handle that, from its `failAt`-th write on, writes half of what it is given and then
 * fails the way a full disk does.
 */
async function failingOpen(failAt: number, code = 'ENOSPC'): Promise<{ openFile: (p: string, f: string) => Promise<LineFileHandle>; writes: () => number }> {
  let writes = 0;
  return {
    writes: () => writes,
    openFile: async (path, flags) => {
      const fh = await open(path, flags);
      return {
        stat: () => fh.stat(),
        read: (buf, offset, length, position) => fh.read(buf, offset, length, position),
        truncate: (len) => fh.truncate(len),
        close: () => fh.close(),
        write: async (buf, offset, length) => {
          writes++;
          if (writes < failAt) return fh.write(buf, offset, length);
          await fh.write(buf, offset, Math.floor(length / 2));
          throw Object.assign(new Error(`${code}: no space left on device, write`), { code });
        },
      };
    },
  };
}

describe('DeadLetterFile', () => {
  let dir: string;
  const clock = new ManualClock();
  beforeEach(async () => {
    dir = await tempDir();
  });
  afterEach(async () => {
    await removeTempDir(dir);
  });

  it('appends one JSON line per record with stream, record, reason, code, message, at', async () => {
    const path = join(dir, 'rejected.ndjson');
    clock.advance(Date.UTC(2026, 0, 2) - clock.now());
    const w = await DeadLetterFile.open({ path, dryRun: false, redactor: new Redactor(), clock });
    w.write({ stream: 's', record: { id: 1, big: 12345678901234567890n }, reason: 'schema_validation', code: 'type', message: '/id: bad' });
    w.write({ stream: 's', record: null, request: { uid: 'x' }, reason: 'rejected_by_fullstory', code: 'c', message: 'm' });
    await w.close();
    expect((await readFile(path, 'utf8')).trimEnd().split('\n')).toEqual([
      '{"stream":"s","record":{"id":1,"big":12345678901234567890},"reason":"schema_validation","code":"type","message":"/id: bad","at":"2026-01-02T00:00:00.000Z"}',
      '{"stream":"s","record":null,"reason":"rejected_by_fullstory","code":"c","message":"m","at":"2026-01-02T00:00:00.000Z","request":{"uid":"x"}}',
    ]);
    // Append mode: a second run adds to the file.
    const again = await DeadLetterFile.open({ path, dryRun: false, redactor: new Redactor(), clock });
    again.write(entry(3));
    await again.close();
    expect((await readFile(path, 'utf8')).trimEnd().split('\n')).toHaveLength(3);
  });

  it('redacts the key in every byte it writes', async () => {
    const redactor = new Redactor();
    redactor.register('na1.SECRET-KEY-1234');
    const path = join(dir, 'r.ndjson');
    const w = await DeadLetterFile.open({ path, dryRun: false, redactor, clock });
    w.write({ ...entry(1), message: 'echoed Basic na1.SECRET-KEY-1234', record: { note: Buffer.from('na1.SECRET-KEY-1234').toString('base64') } });
    await w.close();
    const text = await readFile(path, 'utf8');
    expect(text).not.toContain('SECRET-KEY');
    expect(text).not.toContain(Buffer.from('na1.SECRET-KEY-1234').toString('base64'));
    expect(JSON.parse(text)).toMatchObject({ message: 'echoed Basic [REDACTED]', record: { note: '[REDACTED]' } });
  });

  it('leaves no file when nothing was rejected, and keeps an existing one', async () => {
    const path = join(dir, 'none.ndjson');
    await (await DeadLetterFile.open({ path, dryRun: false, redactor: new Redactor(), clock })).close();
    expect(existsSync(path)).toBe(false);
    await writeFile(path, '');
    await (await DeadLetterFile.open({ path, dryRun: false, redactor: new Redactor(), clock })).close();
    expect(existsSync(path)).toBe(true);
  });

  it('a failed write (ENOSPC, part of the chunk on disk) cuts the file back to its last whole line and fails every later call', async () => {
    const path = join(dir, 'full.ndjson');
    const faulty = await failingOpen(2);
    const w = await DeadLetterFile.open({ path, dryRun: false, redactor: new Redactor(), clock, ...faulty });
    w.write(entry(1));
    await w.flush();
    w.write(entry(2));
    w.write(entry(3));
    const err = await w.flush().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(FileWriteError);
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as Error).message).toMatch(/^dead_letter_path: cannot write ".*full\.ndjson": ENOSPC: no space left on device, write; the file ends in its last whole line/);
    const text = await readFile(path, 'utf8');
    expect(text.endsWith('\n')).toBe(true);
    expect(text.trimEnd().split('\n').map((l) => (JSON.parse(l) as { record: { n: number } }).record.n)).toEqual([1]);
    expect(() => w.write(entry(4))).toThrow(FileWriteError);
    await expect(w.close()).rejects.toThrow(FileWriteError);
  });

  it('cuts a torn last line (an earlier run killed mid-write) before appending', async () => {
    const path = join(dir, 'torn.ndjson');
    await writeFile(path, `${JSON.stringify(entry(0))}\n{"stream":"s","rec`);
    const w = await DeadLetterFile.open({ path, dryRun: false, redactor: new Redactor(), clock });
    w.write(entry(1));
    await w.close();
    expect((await readFile(path, 'utf8')).trimEnd().split('\n').map((l) => (JSON.parse(l) as { record: { n: number } }).record.n)).toEqual([0, 1]);
    // A file that is one torn line and nothing else ends up holding only the new lines.
    await writeFile(path, '{"torn');
    const w2 = await DeadLetterFile.open({ path, dryRun: false, redactor: new Redactor(), clock });
    w2.write(entry(2));
    await w2.close();
    expect(await readFile(path, 'utf8')).toMatch(/^\{"stream":"s","record":\{"n":2\}.*\n$/);
  });

  it('a path that cannot be opened is a ConfigError naming dead_letter_path, at open', async () => {
    await writeFile(join(dir, 'file'), 'x');
    await expect(DeadLetterFile.open({ path: join(dir, 'file', 'x.ndjson'), dryRun: false, redactor: new Redactor(), clock })).rejects.toThrow(
      /^dead_letter_path: cannot write ".*file\/x\.ndjson": (ENOTDIR|EEXIST)/,
    );
  });

  it('writes a line for a record that cannot be serialised, keeping the fields that can', async () => {
    const path = join(dir, 'deep.ndjson');
    let deep: unknown = 1;
    for (let i = 0; i < 20_000; i++) deep = { a: deep };
    const w = await DeadLetterFile.open({ path, dryRun: false, redactor: new Redactor(), clock });
    w.write({ ...entry(0), record: { id: 7, deep } });
    await w.close();
    const line = JSON.parse(await readFile(path, 'utf8')) as Record<string, unknown>;
    expect(line).toMatchObject({ record: { id: 7, deep: expect.stringMatching(/^\[not serialisable: Maximum call stack size exceeded\]$/) }, code: 'x' });
    expect(line['record_error']).toMatch(/could not be written whole/);
  });

  it('a dry run writes beside the real file, afresh each run', async () => {
    expect(dryRunDeadLetterPath('/x/target-fullstory.rejected.ndjson')).toBe('/x/target-fullstory.rejected.dry-run.ndjson');
    expect(dryRunDeadLetterPath('rejects')).toBe('rejects.dry-run');
    const path = dryRunDeadLetterPath(join(dir, 'r.ndjson'));
    await writeFile(path, 'old\n');
    const w = await DeadLetterFile.open({ path, dryRun: true, redactor: new Redactor(), clock });
    w.write(entry(1));
    await w.close();
    expect((await readFile(path, 'utf8')).trimEnd().split('\n')).toHaveLength(1);
  });
});
