/**
 * The Idempotency-Key of a create (load/idempotency.ts): a function of what the create is — stream, data
 * type, place after the last state boundary, which part, the exact body bytes — and of nothing else, and a
 * fixed sequence after each 500.
 */
import { describe, expect, it } from '@jest/globals';
import { RecentSet, idempotencyKeys, type CreateSpec } from '../src/load/idempotency.js';

const spec = (over: Partial<CreateSpec> = {}): CreateSpec => ({
  stream: 'events',
  kind: 'events',
  ordinal: 0,
  lo: 0,
  hi: 2,
  body: Buffer.from('{"requests":[{"name":"a"},{"name":"b"}]}'),
  ...over,
});

describe('idempotencyKeys', () => {
  it('is the same for the same create, made again (another run), and fits a header: 43 base64url characters', () => {
    const a = idempotencyKeys(spec())(0);
    expect(idempotencyKeys(spec({ body: Buffer.from(spec().body) }))(0)).toBe(a);
    expect(a).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });

  it('differs when anything that makes the create what it is differs', () => {
    const base = idempotencyKeys(spec())(0);
    const others = [
      spec({ stream: 'events2' }),
      spec({ kind: 'users' }),
      spec({ ordinal: 1 }),
      spec({ lo: 1 }),
      spec({ hi: 3 }),
      spec({ body: Buffer.from('{"requests":[{"name":"b"},{"name":"a"}]}') }),
      spec({ body: Buffer.from('{"requests":[{"name":"a"},{"name":"b"}]} ') }),
      // Fields that run into each other must not collide.
      spec({ stream: 'a","events', kind: 'events' }),
    ].map((s) => idempotencyKeys(s)(0));
    expect(new Set([base, ...others]).size).toBe(others.length + 1);
  });

  it('after n 500s the key is base-n: a deterministic walk that a rerun repeats', () => {
    const keys = idempotencyKeys(spec());
    const base = keys(0);
    expect([1, 2, 8].map((n) => keys(n))).toEqual([`${base}-1`, `${base}-2`, `${base}-8`]);
    expect(idempotencyKeys(spec())(3)).toBe(keys(3));
  });
});

describe('RecentSet', () => {
  it('keeps the most recent ids up to its capacity, an id added again counting as recent', () => {
    const set = new RecentSet(3);
    for (const id of ['a', 'b', 'c']) set.add(id);
    set.add('a');
    set.add('d');
    expect(['a', 'b', 'c', 'd'].map((id) => set.has(id))).toEqual([true, false, true, true]);
  });

  it('a resend key differs from the key of the batch it repeats', () => {
    expect(idempotencyKeys(spec({ resend: 'run/7' }))(0)).not.toBe(idempotencyKeys(spec())(0));
  });
});
