/**
 * guardBody's read-ahead: what arrives while the reader is busy reaches it in one piece, and no more
 * than about READ_AHEAD_BYTES (256 KiB) is held ahead of it: beyond that the source is paused.
 */
import { describe, expect, it } from '@jest/globals';
import { PassThrough } from 'node:stream';
import { guardBody } from '../src/body-stream.js';

const PIECE = 64 * 1024;
const options = { idleTimeoutMs: 60_000, label: 'GET /x', secret: 'test-secret' };

/** Lets pending stream events run (no timer). */
async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
}

describe('guardBody read-ahead', () => {
  it('hands a reader that was busy everything that arrived meanwhile as one piece', async () => {
    const source = new PassThrough();
    for (let i = 0; i < 4; i++) source.write(Buffer.alloc(PIECE, i));
    const body = guardBody(source, options);
    const pieces = body[Symbol.asyncIterator]();
    const first = await pieces.next();
    // A 16 KiB buffer (a Readable's default) would have paused the source after the first 64 KiB.
    expect((first.value as Buffer).length).toBe(4 * PIECE);
    source.end();
    expect((await pieces.next()).done).toBe(true);
  });

  it('holds at most about 256 KiB ahead of a reader that stopped reading, then pauses the source', async () => {
    const source = new PassThrough({ highWaterMark: 64 * PIECE });
    const body = guardBody(source, options);
    const pieces = body[Symbol.asyncIterator]();
    source.write(Buffer.alloc(PIECE, 1));
    await pieces.next(); // the reader takes one piece, then stops reading
    for (let i = 0; i < 48; i++) source.write(Buffer.alloc(PIECE, 2)); // 3 MiB more arrive
    await settle();
    expect(body.readableLength).toBeGreaterThanOrEqual(256 * 1024);
    expect(body.readableLength).toBeLessThanOrEqual(256 * 1024 + PIECE);
    expect(source.isPaused()).toBe(true);
    // Nothing is lost: the rest arrives once the reader reads again.
    source.end();
    let rest = 0;
    for (let next = await pieces.next(); next.done !== true; next = await pieces.next()) rest += (next.value as Buffer).length;
    expect(rest).toBe(48 * PIECE);
  });
});
