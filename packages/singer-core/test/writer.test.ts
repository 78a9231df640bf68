import { describe, expect, it } from '@jest/globals';
import { Writable } from 'node:stream';
import { setImmediate as nextMacrotask } from 'node:timers/promises';
import { MessageWriter, recordMessage, schemaMessage, stateMessage, StdoutClosedError } from '@fullstory-singer/singer-core';
import { MemoryWritable } from '@fullstory-singer/singer-core/testing';

describe('MessageWriter', () => {
  it('writes one compact JSON line per message, big integers as bare literals', async () => {
    const out = new MemoryWritable();
    const writer = new MessageWriter(out);
    await writer.write(schemaMessage('events', { type: 'object' }, ['id']));
    await writer.write(recordMessage('events', { id: 9007199254740993n, n: 1 }, '2026-01-01T00:00:00.000000Z'));
    await writer.writeJson({ bookmarks: { events: { id: 12345678901234567890n } } });
    await writer.writeLine('{"pre":"serialised"}');
    await writer.end();
    expect(out.lines()).toEqual([
      '{"type":"SCHEMA","stream":"events","schema":{"type":"object"},"key_properties":["id"]}',
      '{"type":"RECORD","stream":"events","record":{"id":9007199254740993,"n":1},"time_extracted":"2026-01-01T00:00:00.000000Z"}',
      '{"bookmarks":{"events":{"id":12345678901234567890}}}',
      '{"pre":"serialised"}',
    ]);
    expect(out.writableFinished).toBe(true);
  });

  it('waits on a paused, then slowly drained consumer: buffered bytes never exceed highWaterMark + one message', async () => {
    const highWaterMark = 16 * 1024;
    const out = new MemoryWritable({ highWaterMark, delayMs: 'immediate' });
    out.pause();
    const writer = new MessageWriter(out);
    const total = 200_000;
    let written = 0;
    let longest = 0;
    const producer = (async () => {
      for (let i = 0; i < total; i++) {
        const message = recordMessage('users', { uid: `user-${i}`, email: `user-${i}@example.com`, n: i });
        longest = Math.max(longest, JSON.stringify(message).length + 1);
        await writer.write(message);
        written += 1;
      }
      await writer.end();
    })();

    // While the consumer is paused, the producer must stop at the highWaterMark, not run ahead.
    for (let i = 0; i < 20; i++) await nextMacrotask();
    const whilePaused = written;
    expect(whilePaused).toBeLessThan(highWaterMark / 50);
    expect(out.writableLength).toBeLessThanOrEqual(highWaterMark + longest);

    out.resume(); // now drained slowly: one chunk acknowledged per event-loop turn
    await producer;
    expect(written).toBe(total);
    expect(out.maxWritableLength).toBeGreaterThanOrEqual(highWaterMark); // the buffer really filled...
    expect(out.maxWritableLength).toBeLessThanOrEqual(highWaterMark + longest); // ...and never beyond one message over
    const lines = out.lines();
    expect(lines).toHaveLength(total);
    expect(lines[total - 1]).toContain(`"n":${total - 1}`);
  });

  it('keeps order when callers do not await each write', async () => {
    const out = new MemoryWritable({ highWaterMark: 64, delayMs: 'immediate' });
    const writer = new MessageWriter(out);
    const pending: Array<Promise<void>> = [];
    for (let i = 0; i < 200; i++) pending.push(writer.writeJson({ i }));
    await Promise.all(pending);
    await writer.end();
    expect(out.lines().map((l) => (JSON.parse(l) as { i: number }).i)).toEqual(Array.from({ length: 200 }, (_, i) => i));
  });

  it('batches lines into writev on streams that support it, preserving content and order', async () => {
    const batches: number[] = [];
    const chunks: string[] = [];
    const out = new Writable({
      highWaterMark: 1024,
      writev(items, callback) {
        batches.push(items.length);
        for (const item of items) chunks.push(String(item.chunk));
        setImmediate(callback);
      },
    });
    const writer = new MessageWriter(out);
    for (let i = 0; i < 1000; i++) await writer.write(stateMessage({ i }));
    await writer.end();
    expect(chunks.join('').split('\n').filter(Boolean).map((l) => (JSON.parse(l) as { value: { i: number } }).value.i)).toEqual(
      Array.from({ length: 1000 }, (_, i) => i),
    );
    expect(Math.max(...batches)).toBeGreaterThan(1);
  });

  it('keeps other stream errors as they are', async () => {
    const out = new MemoryWritable({ highWaterMark: 16 });
    out.pause();
    const writer = new MessageWriter(out);
    const waiting = writer.writeJson({ a: 'this line alone fills the buffer' });
    out.destroy(Object.assign(new Error('no space left on device'), { code: 'ENOSPC' }));
    await expect(waiting).rejects.toMatchObject({ code: 'ENOSPC' });
  });

  it('rejects pending and later writes when the stream fails (e.g. EPIPE)', async () => {
    const out = new MemoryWritable({ highWaterMark: 16 });
    out.pause();
    const writer = new MessageWriter(out);
    const first = writer.writeJson({ a: 'this line alone fills the buffer' });
    const second = writer.writeJson({ b: 2 });
    out.destroy(Object.assign(new Error('write EPIPE'), { code: 'EPIPE' }));
    await expect(first).rejects.toBeInstanceOf(StdoutClosedError);
    await expect(second).rejects.toBeInstanceOf(StdoutClosedError);
    await expect(writer.writeJson({ c: 3 })).rejects.toBeInstanceOf(StdoutClosedError);
    await expect(writer.writeJson({ c: 3 })).rejects.toMatchObject({ exitCode: 141, code: 'STDOUT_CLOSED' });
    expect(out.text()).toBe('{"a":"this line alone fills the buffer"}\n');
  });

  it('rejects a waiting write when the stream closes without an error', async () => {
    const out = new MemoryWritable({ highWaterMark: 16 });
    out.pause();
    const writer = new MessageWriter(out);
    const waiting = writer.writeJson({ a: 'this line alone fills the buffer' });
    out.destroy();
    await expect(waiting).rejects.toBeInstanceOf(StdoutClosedError);
  });

  it('with endStream: false, end() flushes without ending the stream (as for stdout)', async () => {
    const out = new MemoryWritable({ delayMs: 5 });
    const writer = new MessageWriter(out, { endStream: false });
    await writer.writeJson({ a: 1 });
    await writer.writeJson({ b: 2 });
    await writer.end();
    expect(out.writableEnded).toBe(false);
    expect(out.writableLength).toBe(0);
    expect(out.lines()).toEqual(['{"a":1}', '{"b":2}']);
  });
});
