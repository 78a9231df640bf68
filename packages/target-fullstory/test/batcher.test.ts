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

  it('a STATE seals every open batch, in every stream, once the fullest holds half of batch_size; else it is skipped', () => {
    const b = new Batcher({ batchSize: 4, maxAgeMs: 1000, clock: new ManualClock(), pools: { requests: new BufferPool(4), records: new BufferPool(4) } });
    // Nothing open: a boundary at no cost.
    expect(b.atState()).toEqual([]);
    b.add('a', 'users', '{"uid":"1"}', '', 0, '1');
    b.add('b', 'events', '{}', '', 1);
    // One of four in the fullest: too empty to cut short.
    expect(b.atState()).toBeUndefined();
    expect([...b.openBatches()].map((x) => x.stream)).toEqual(['a', 'b']);
    b.add('a', 'users', '{"uid":"2"}', '', 2, '2');
    // Two of four: both streams' batches are sealed, oldest first, the nearly empty one too.
    expect(b.atState()!.map((x) => [x.stream, x.firstSeq, x.requests.length, x.sealedBy])).toEqual([
      ['a', 0, 2, 'state'],
      ['b', 1, 1, 'state'],
    ]);
    expect([...b.openBatches()]).toEqual([]);
  });

  it('numbers each stream’s batches from 0 after every boundary, so a rerun from a state numbers them the same', () => {
    const b = new Batcher({ batchSize: 4, maxAgeMs: 1000, clock: new ManualClock(), pools: { requests: new BufferPool(4), records: new BufferPool(4) } });
    const ordinals: Array<[string, number]> = [];
    let seq = 0;
    const add = (stream: string, n = 1) => {
      for (let i = 0; i < n; i++) {
        const full = b.add(stream, 'events', '{}', '', seq++);
        if (full) ordinals.push([full.stream, full.ordinal]);
      }
    };
    // a: two full batches (0, 1) and one open (2) with one record; b: one full batch (0).
    add('a', 9);
    add('b', 4);
    expect(b.atState()).toBeUndefined();
    add('a');
    expect(b.seal('a', 'schema')!.ordinal).toBe(2);
    add('a', 4);
    expect(ordinals).toEqual([['a', 0], ['a', 1], ['b', 0], ['a', 3]]);
    add('b');
    expect(b.atState()).toBeUndefined();
    add('b');
    expect(b.atState()!.map((x) => [x.stream, x.ordinal])).toEqual([['b', 1]]);
    add('a');
    add('b');
    expect(b.sealAll().map((x) => [x.stream, x.ordinal])).toEqual([['a', 0], ['b', 0]]);
  });
});
