import { describe, expect, it } from '@jest/globals';
import { StateTracker } from '../src/state-tracker.js';

function tracker(enabled = true) {
  const out: string[] = [];
  const events: string[] = [];
  const t = new StateTracker({
    emit: async (json) => {
      out.push(json);
      events.push(`state ${json}`);
    },
    beforeEmit: async () => {
      events.push('flush');
    },
    enabled,
  });
  return { t, out, events };
}

describe('StateTracker', () => {
  it('emits a state at once when nothing before it is open', async () => {
    const { t, out, events } = tracker();
    t.nextSeq();
    t.addState({ a: 1 });
    await t.emitReady();
    expect(out).toEqual(['{"a":1}']);
    // The dead-letter file is flushed before the state is written.
    expect(events).toEqual(['flush', 'state {"a":1}']);
  });

  it('holds a state until every batch that started before it is safe', async () => {
    const { t, out } = tracker();
    const b1 = { firstSeq: t.nextSeq() };
    t.open(b1);
    t.addState({ s: 1 });
    const b2 = { firstSeq: t.nextSeq() };
    t.open(b2);
    t.addState({ s: 2 });
    await t.emitReady();
    expect(out).toEqual([]);
    // b2 (after state 1) finishing first does not release anything: b1 is still open.
    t.close(b2);
    await t.emitReady();
    expect(out).toEqual([]);
    t.close(b1);
    await t.emitReady();
    // Both are safe now; the newer makes the older redundant.
    expect(out).toEqual(['{"s":2}']);
  });

  it('emits states in input order as they become safe', async () => {
    const { t, out } = tracker();
    const b1 = { firstSeq: t.nextSeq() };
    t.open(b1);
    t.addState({ s: 1 });
    const b2 = { firstSeq: t.nextSeq() };
    t.open(b2);
    t.addState({ s: 2 });
    t.close(b1);
    await t.emitReady();
    expect(out).toEqual(['{"s":1}']);
    t.close(b2);
    await t.emitReady();
    expect(out).toEqual(['{"s":1}', '{"s":2}']);
    expect(t.pendingCount).toBe(0);
  });

  it('never emits {}, null or non-objects, nor the same state twice in a row', async () => {
    const { t, out } = tracker();
    expect(t.addState({})).toBe(false);
    expect(t.addState(null)).toBe(false);
    expect(t.addState([1])).toBe(false);
    expect(t.addState('x')).toBe(false);
    t.addState({ a: 1 });
    await t.emitReady();
    t.nextSeq();
    t.addState({ a: 1 });
    await t.emitReady();
    expect(out).toEqual(['{"a":1}']);
    expect(t.emitted).toBe(1);
  });

  it('keeps big integers exact', async () => {
    const { t, out } = tracker();
    t.addState({ id: 12345678901234567890n });
    await t.emitReady();
    expect(out).toEqual(['{"id":12345678901234567890}']);
  });

  it('writes nothing when disabled (dry run)', async () => {
    const { t, out } = tracker(false);
    t.addState({ a: 1 });
    await t.emitReady();
    expect(out).toEqual([]);
  });
});
