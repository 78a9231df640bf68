/**
 * Memory stays flat in input size: a long dry run (no HTTP) keeps the heap within a fixed margin.
 * A regression here once kept every input chunk alive (hundreds of MB for this input).
 */
import { describe, expect, it } from '@jest/globals';
import { Readable } from 'node:stream';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { join } from 'node:path';
import { writeFile } from 'node:fs/promises';
import { createLogger, MessageWriter, Redactor } from '@fullstory-singer/singer-core';
import { MemoryWritable, removeTempDir, tempDir } from '@fullstory-singer/singer-core/testing';
import { loadSettings } from '../src/config.js';
import { run } from '../src/run.js';

// A real collection before each sample, so the figures show what is retained, not GC laziness.
setFlagsFromString('--expose_gc');
const gc = runInNewContext('gc') as () => void;

describe('memory', () => {
  it('a 400,000-record dry run grows the heap by far less than its input', async () => {
    const dir = await tempDir();
    try {
      const total = 400_000;
      let peak = 0;
      let base = 0;
      async function* input(): AsyncGenerator<string> {
        yield `${JSON.stringify({ type: 'SCHEMA', stream: 'p', schema: { type: 'object', properties: { uid: { type: 'string' }, plan: { type: 'string' }, n: { type: 'integer' } } }, key_properties: [] })}\n`;
        const filler = 'x'.repeat(200);
        for (let i = 0; i < total; i += 1000) {
          let chunk = '';
          for (let j = i; j < i + 1000; j++) chunk += `{"type":"RECORD","stream":"p","record":{"uid":"u${j}","plan":"${filler}","n":${j}}}\n`;
          if (i % 50_000 === 0) {
            gc();
            const used = process.memoryUsage().heapUsed;
            if (i === 50_000) base = used;
            if (i > 50_000) peak = Math.max(peak, used);
          }
          yield chunk;
        }
      }
      const config = join(dir, 'config.json');
      await writeFile(config, JSON.stringify({ data_type: 'users', dry_run: true, dead_letter_path: join(dir, 'x') }));
      const summary = await run({
        settings: await loadSettings({ files: [config], env: {} }),
        input: Readable.from(input()),
        output: new MessageWriter(new MemoryWritable()),
        logger: createLogger({ level: 'silent', out: new MemoryWritable() }),
        redactor: new Redactor(),
      });
      expect(summary.sent).toBe(total);
      // The input is about 100 MB of JSON (far more as objects); what stays after a collection must not
      // grow with it (measured: under 1 MB; with the chunk leak, about 110 MB).
      expect((peak - base) / 2 ** 20).toBeLessThan(20);
    } finally {
      await removeTempDir(dir);
    }
  });
});
