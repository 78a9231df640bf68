import { describe, expect, it } from '@jest/globals';
import { existsSync } from 'node:fs';
import { stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { InputError } from '@fullstory-singer/singer-core';
import {
  binPath,
  collectMessages,
  fixturePath,
  MemoryWritable,
  messagesOfType,
  parseOutputLines,
  removeTempDir,
  repoRoot,
  runBin,
  tempDir,
} from '@fullstory-singer/singer-core/testing';

const fixtureBin = (): string => join(repoRoot(), 'packages', 'singer-core', 'dist', 'test', 'fixtures', 'cli-fixture.js');

describe('output parsing', () => {
  it('parseOutputLines parses NDJSON losslessly and names a bad line', () => {
    expect(parseOutputLines('{"id":9007199254740993}\n\n{"a":1}\n')).toEqual([{ id: 9007199254740993n }, { a: 1 }]);
    expect(() => parseOutputLines('{"a":1}\nnope\n')).toThrow(/^output line 2 is not JSON: nope/);
  });

  it('collectMessages checks messages like the reader, and messagesOfType narrows them', () => {
    const messages = collectMessages(
      '{"type":"SCHEMA","stream":"s","schema":{},"key_properties":[]}\n{"type":"RECORD","stream":"s","record":{"a":1}}\n',
    );
    expect(messagesOfType(messages, 'RECORD').map((m) => m.record)).toEqual([{ a: 1 }]);
    expect(() => collectMessages('{"type":"RECORD","stream":"s"}\n')).toThrow(InputError);
    expect(() => collectMessages('{"type":"RECORD","stream":"s"}\n')).toThrow('output:1: RECORD has no "record"');
  });
});

describe('paths and temp dirs', () => {
  it('finds the repo root, fixtures and built bins', () => {
    expect(existsSync(join(repoRoot(), 'packages', 'singer-core', 'package.json'))).toBe(true);
    expect(fixturePath('singer', 'x.singer')).toBe(join(repoRoot(), 'fixtures', 'singer', 'x.singer'));
    expect(binPath('target-fullstory')).toBe(join(repoRoot(), 'packages', 'target-fullstory', 'dist', 'target-fullstory.js'));
    expect(binPath('fullstory-sandbox')).toBe(join(repoRoot(), 'packages', 'fullstory-sandbox', 'dist', 'src', 'bin.js'));
  });

  it('makes and removes a temp dir', async () => {
    const dir = await tempDir();
    await writeFile(join(dir, 'f.txt'), 'x');
    expect((await stat(dir)).isDirectory()).toBe(true);
    await removeTempDir(dir);
    expect(existsSync(dir)).toBe(false);
  });
});

describe('MemoryWritable', () => {
  it('collects chunks, and holds acknowledgements while paused', async () => {
    const out = new MemoryWritable({ highWaterMark: 8 });
    expect(out.write('a\n')).toBe(true);
    out.pause();
    out.write('bb\n');
    expect(out.write('cccccccc\n')).toBe(false);
    expect(out.writableLength).toBeGreaterThan(8);
    expect(out.maxWritableLength).toBe(out.writableLength);
    const drained = new Promise((resolve) => out.once('drain', resolve));
    out.resume();
    await drained;
    expect(out.writableLength).toBe(0);
    expect(out.lines()).toEqual(['a', 'bb', 'cccccccc']);
  });
});

describe('runBin', () => {
  it('pipes a stream to stdin and can kill the child from a stdout line', async () => {
    const input = new PassThrough();
    input.write('{"type":"RECORD","stream":"s","record":{"n":1}}\n');
    const seen: string[] = [];
    // The input never ends: only the kill ends the run.
    const result = await runBin(fixtureBin(), ['echo'], {
      input,
      onStdoutLine: (line, child) => {
        seen.push(line);
        child.kill('SIGKILL');
      },
    });
    expect(seen).toEqual(['{"type":"RECORD","stream":"s","record":{"n":1}}']);
    expect(result.signal).toBe('SIGKILL');
    expect(result.code).toBeNull();
    input.destroy();
  });

  it('kills a child that outlives timeoutMs', async () => {
    const input = new PassThrough();
    const result = await runBin(fixtureBin(), ['echo'], { input, timeoutMs: 300 });
    expect(result.signal).toBe('SIGKILL');
    input.destroy();
  });

  it('does not pass LOG_LEVEL or plugin variables from the parent environment', async () => {
    const saved = process.env.LOG_LEVEL;
    process.env.LOG_LEVEL = 'debug';
    try {
      const result = await runBin(fixtureBin(), ['args']);
      expect(result.stderr).toBe('');
    } finally {
      if (saved === undefined) delete process.env.LOG_LEVEL;
      else process.env.LOG_LEVEL = saved;
    }
  });
});
