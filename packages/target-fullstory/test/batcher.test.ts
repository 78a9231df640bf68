import { describe, expect, it } from '@jest/globals';
import { Batcher, type Batch } from '../src/batcher.js';

describe('Batcher', () => {
  it('seals a batch at batch_size, per stream, with a fresh idempotency key', () => {
    let key = 0;
    const opened: Batch[] = [];
    const b = new Batcher({ batchSize: 2, maxAgeMs: 1000, now: () => 0, newKey: () => `k${++key}`, onOpen: (x) => opened.push(x) });
    expect(b.add('a', 'users', { uid: '1' }, { id: 1 }, 0)).toBeUndefined();
    expect(b.add('b', 'events', { name: 'x' }, { n: 1 }, 1)).toBeUndefined();
    const full = b.add('a', 'users', { uid: '2' }, { id: 2 }, 2)!;
    expect(full).toMatchObject({ stream: 'a', kind: 'users', firstSeq: 0, idempotencyKey: 'k1' });
    expect(full.requests).toEqual([{ uid: '1' }, { uid: '2' }]);
    expect(full.records).toEqual([{ id: 1 }, { id: 2 }]);
    expect(opened.map((o) => o.stream)).toEqual(['a', 'b']);
    expect(b.size).toBe(1);
    // The next record of stream a opens a new batch.
    b.add('a', 'users', { uid: '3' }, { id: 3 }, 3);
    expect(b.takeAll().map((x) => [x.stream, x.firstSeq, x.idempotencyKey])).toEqual([
      ['b', 1, 'k2'],
      ['a', 3, 'k3'],
    ]);
    expect(b.size).toBe(0);
  });

  it('hands back batches that reached their age, oldest first', () => {
    let t = 0;
    const b = new Batcher({ batchSize: 100, maxAgeMs: 1000, now: () => t });
    b.add('a', 'users', { uid: '1' }, {}, 0);
    t = 500;
    b.add('b', 'users', { uid: '2' }, {}, 1);
    expect(b.takeAged(999)).toEqual([]);
    expect(b.takeAged(1000).map((x) => x.stream)).toEqual(['a']);
    expect(b.takeAged(1500).map((x) => x.stream)).toEqual(['b']);
  });

  it('takes one stream on demand (SCHEMA change)', () => {
    const b = new Batcher({ batchSize: 100, maxAgeMs: 1000 });
    expect(b.take('a')).toBeUndefined();
    b.add('a', 'users', { uid: '1' }, {}, 0);
    expect(b.take('a')?.requests).toHaveLength(1);
    expect(b.take('a')).toBeUndefined();
  });
});
