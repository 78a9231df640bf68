import { describe, expect, it } from '@jest/globals';
import { Checkpoints } from '../src/checkpoints.js';

/** Takes what is ready at `lowest` and marks it written, as the run does. */
function take(c: Checkpoints, lowest: number): string | undefined {
  const json = c.ready(lowest);
  if (json !== undefined) c.wrote(json);
  return json;
}

describe('Checkpoints', () => {
  it('a state is ready once nothing before it is unsettled', () => {
    const c = new Checkpoints();
    c.nextSeq();
    c.addState({ a: 1 });
    expect(take(c, Infinity)).toBe('{"a":1}');
    expect(c.emitted).toBe(1);
  });

  it('holds a state until the oldest unsettled record is past its boundary; the newest safe one wins', () => {
    const c = new Checkpoints();
    const first = c.nextSeq();
    c.addState({ s: 1 });
    c.nextSeq();
    c.addState({ s: 2 });
    // Record 0 is unsettled: nothing is safe, even if record 1 settled first.
    expect(take(c, first)).toBeUndefined();
    // Record 1 still unsettled: state 1 only.
    expect(take(c, 1)).toBe('{"s":1}');
    expect(take(c, Infinity)).toBe('{"s":2}');
  });

  it('when several are safe at once only the newest is written; states at the same boundary replace each other', () => {
    const c = new Checkpoints();
    c.nextSeq();
    c.addState({ s: 1 });
    c.addState({ s: 1.5 });
    c.nextSeq();
    c.addState({ s: 2 });
    expect(take(c, Infinity)).toBe('{"s":2}');
    expect(take(c, Infinity)).toBeUndefined();
  });

  it('never emits {}, null or non-objects, nor the same state twice in a row', () => {
    const c = new Checkpoints();
    for (const v of [{}, null, [1], 'x']) c.addState(v);
    expect(take(c, Infinity)).toBeUndefined();
    c.addState({ a: 1 });
    expect(take(c, Infinity)).toBe('{"a":1}');
    c.nextSeq();
    c.addState({ a: 1 });
    expect(take(c, Infinity)).toBeUndefined();
    expect(c.emitted).toBe(1);
  });

  it('keeps big integers exact', () => {
    const c = new Checkpoints();
    c.addState({ id: 12345678901234567890n });
    expect(take(c, Infinity)).toBe('{"id":12345678901234567890}');
  });
});
