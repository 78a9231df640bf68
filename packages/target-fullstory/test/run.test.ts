/**
 * The read loop on a manual clock, with an in-memory API: a batch comes of age on the run's clock and the
 * read loop itself seals and sends it while stdin stays open (no second sender), in seal order.
 */
import { describe, expect, it } from '@jest/globals';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { createLogger, MessageWriter, Redactor } from '@fullstory-singer/singer-core';
import { MemoryWritable, removeTempDir, tempDir } from '@fullstory-singer/singer-core/testing';
import { loadSettings } from '../src/config.js';
import { run } from '../src/run.js';
import type { BatchApi, Create } from '../src/sinks/batch-api.js';
import { until } from './bin-helpers.js';
import { ManualClock } from './manual-clock.js';

/** Jobs that are finished as soon as they are created. */
function instantApi(creates: Array<{ at: number; stream: string; requests: number }>, clock: ManualClock): BatchApi {
  return {
    createBatch: async (c: Create) => {
      creates.push({ at: clock.now(), stream: c.stream, requests: (JSON.parse(c.body.toString('utf8')) as { requests: unknown[] }).requests.length });
      return { id: `j${creates.length}`, status: 'COMPLETED' };
    },
    getJob: async (_k, id) => ({ id, status: 'COMPLETED' }),
    getJobErrors: async () => ({ results: [] }),
    getJobImports: async () => ({ results: [] }),
  };
}

const line = (m: unknown): string => `${JSON.stringify(m)}\n`;

describe('the read loop', () => {
  it('seals a batch once it is max_batch_age_seconds old on the run clock, while stdin stays open, and emits its state', async () => {
    const dir = await tempDir();
    try {
      const config = join(dir, 'c.json');
      await writeFile(config, JSON.stringify({ api_key: 'k-1234', data_type: 'users', batch_size: 100, max_batch_age_seconds: 30, dead_letter_path: join(dir, 'r') }));
      const clock = new ManualClock();
      const creates: Array<{ at: number; stream: string; requests: number }> = [];
      const stdout = new MemoryWritable();
      const input = new PassThrough();
      const running = run({
        settings: await loadSettings({ files: [config], env: {} }),
        input,
        output: new MessageWriter(stdout),
        logger: createLogger({ level: 'silent', out: new MemoryWritable() }),
        redactor: new Redactor(),
        clock,
        connect: () => instantApi(creates, clock),
      });
      const schema = (stream: string) => line({ type: 'SCHEMA', stream, schema: { type: 'object', properties: {} }, key_properties: [] });
      input.write(
        schema('a') + schema('b') + line({ type: 'RECORD', stream: 'a', record: { uid: 'a1' } }) + line({ type: 'RECORD', stream: 'b', record: { uid: 'b1' } }) + line({ type: 'STATE', value: { at: 2 } }),
      );
      // Once the chunk is read, the read loop waits for the oldest batch's age on the clock; nothing
      // else can send a batch before that.
      await until(() => clock.pending === 1, 'the age alarm');
      expect(creates).toEqual([]);
      clock.advance(29_999);
      expect(clock.pending).toBe(1);
      clock.advance(1);
      // Both came of age: the read loop sealed them and sent them, in input order.
      await until(() => stdout.text() !== '', 'the state');
      expect(creates).toEqual([
        { at: 30_000, stream: 'a', requests: 1 },
        { at: 30_000, stream: 'b', requests: 1 },
      ]);
      expect(stdout.text()).toBe('{"at":2}\n');
      input.end();
      const summary = await running;
      expect(summary).toMatchObject({ recordsRead: 2, imported: 2, jobs: 2, unsettled: 0 });
    } finally {
      await removeTempDir(dir);
    }
  });
});
