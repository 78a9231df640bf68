import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ConfigError } from '@fullstory-singer/singer-core';
import { removeTempDir, tempDir } from '@fullstory-singer/singer-core/testing';
import { DeadLetterWriter } from '../src/dead-letter.js';

describe('DeadLetterWriter', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await tempDir();
  });
  afterEach(async () => {
    await removeTempDir(dir);
  });

  it('appends one JSON line per rejected record with stream, record, reason, code, message, at', async () => {
    const path = join(dir, 'rejected.ndjson');
    const w = new DeadLetterWriter({ path, now: () => Date.UTC(2026, 0, 2) });
    await w.write({ stream: 's', record: { id: 1, big: 12345678901234567890n }, reason: 'schema_validation', code: 'type', message: '/id: bad' });
    await w.write({ stream: 's', record: null, request: { uid: 'x' }, reason: 'rejected_by_fullstory', code: 'c', message: 'm' });
    await w.close();
    const lines = (await readFile(path, 'utf8')).trimEnd().split('\n');
    expect(lines).toEqual([
      '{"stream":"s","record":{"id":1,"big":12345678901234567890},"reason":"schema_validation","code":"type","message":"/id: bad","at":"2026-01-02T00:00:00.000Z"}',
      '{"stream":"s","record":null,"reason":"rejected_by_fullstory","code":"c","message":"m","at":"2026-01-02T00:00:00.000Z","request":{"uid":"x"}}',
    ]);
    expect(w.count).toBe(2);
    expect(w.byReason).toEqual({ schema_validation: 1, rejected_by_fullstory: 1 });
    // Append mode: a second run adds to the file.
    const again = new DeadLetterWriter({ path });
    await again.write({ stream: 't', record: {}, reason: 'invalid_value', code: 'x', message: 'y' });
    await again.close();
    expect((await readFile(path, 'utf8')).trimEnd().split('\n')).toHaveLength(3);
  });

  it('creates no file when nothing is rejected', async () => {
    const path = join(dir, 'none.ndjson');
    const w = new DeadLetterWriter({ path });
    await w.flush();
    await w.close();
    expect(existsSync(path)).toBe(false);
  });

  it('reports an unwritable path as a config error naming dead_letter_path', async () => {
    const w = new DeadLetterWriter({ path: join(dir, 'missing-dir', 'x.ndjson') });
    await w.write({ stream: 's', record: {}, reason: 'invalid_value', code: 'x', message: 'y' });
    const err = await w.flush().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as Error).message).toMatch(/^dead_letter_path: cannot write/);
  });
});
