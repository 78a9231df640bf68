import { describe, expect, it } from '@jest/globals';
import { Batcher } from '../src/load/batcher.js';
import { BufferPool } from '../src/load/texts.js';
import { ManualClock } from './manual-clock.js';

describe('Batcher', () => {
  it('seals a batch at batch_size, per stream, saying why', () => {
    const b = new Batcher({ batchSize: 2, maxAgeMs: 1000, clock: new ManualClock(), pools: { requests: new BufferPool(4), records: new BufferPool(4) } });
    expect(b.add('a', 'users', '{"uid":"1"}', 'line 1', 0, '1')).toBeUndefined();
    expect(b.add('b', 'events', '{"name":"x"}', 'line 2', 1)).toBeUndefined();
    const full = b.add('a', 'users', '{"uid":"2"}', 'line 3', 2, '2')!;
    expect(full).toMatchObject({ stream: 'a', kind: 'users', firstSeq: 0, phase: 'sealed', sealedBy: 'size', uids: ['1', '2'] });
    expect(full.requests.slice(0, 2)).toEqual(['{"uid":"1"}', '{"uid":"2"}']);
    expect(full.records.slice(0, 2)).toEqual(['line 1', 'line 3']);
    b.add('a', 'users', '{"uid":"3"}', 'line 4', 3, '3');
    expect(b.sealAll().map((x) => [x.stream, x.firstSeq, x.sealedBy])).toEqual([
      ['b', 1, 'end'],
      ['a', 3, 'end'],
    ]);
    expect([...b.openBatches()]).toEqual([]);
  });

  it('knows when the oldest open batch comes of age, and seals what is aged, oldest first', () => {
    const clock = new ManualClock();
    const b = new Batcher({ batchSize: 100, maxAgeMs: 1000, clock, pools: { requests: new BufferPool(4), records: new BufferPool(4) } });
    expect(b.nextDeadline()).toBeUndefined();
    b.add('a', 'users', '{}', '', 0);
    clock.advance(500);
    b.add('b', 'users', '{}', '', 1);
    expect(b.nextDeadline()).toBe(1000);
    expect(b.sealAged(999)).toEqual([]);
    expect(b.sealAged(1000).map((x) => [x.stream, x.sealedBy])).toEqual([['a', 'age']]);
    expect(b.nextDeadline()).toBe(1500);
    expect(b.sealAged(1500).map((x) => x.stream)).toEqual(['b']);
  });

  it('seals one stream on demand (a changed SCHEMA)', () => {
    const b = new Batcher({ batchSize: 100, maxAgeMs: 1000, clock: new ManualClock(), pools: { requests: new BufferPool(4), records: new BufferPool(4) } });
    expect(b.seal('a', 'schema')).toBeUndefined();
    b.add('a', 'users', '{}', '', 0);
    expect(b.seal('a', 'schema')).toMatchObject({ sealedBy: 'schema' });
    expect(b.seal('a', 'schema')).toBeUndefined();
  });
});
