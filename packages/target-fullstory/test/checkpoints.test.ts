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
    c.addState({ a: 1 }, true);
    expect(take(c, Infinity)).toBe('{"a":1}');
    expect(c.emitted).toBe(1);
  });

  it('holds a state until the oldest unsettled record is past its boundary; the newest safe one wins', () => {
    const c = new Checkpoints();
    const first = c.nextSeq();
    c.addState({ s: 1 }, true);
    c.nextSeq();
    c.addState({ s: 2 }, true);
    // Record 0 is unsettled: nothing is safe, even if record 1 settled first.
    expect(take(c, first)).toBeUndefined();
    // Record 1 still unsettled: state 1 only.
    expect(take(c, 1)).toBe('{"s":1}');
    expect(take(c, Infinity)).toBe('{"s":2}');
  });

  it('when several are safe at once only the newest is written; states at the same boundary replace each other', () => {
    const c = new Checkpoints();
    c.nextSeq();
    c.addState({ s: 1 }, true);
    c.addState({ s: 1.5 }, true);
    c.nextSeq();
    c.addState({ s: 2 }, true);
    expect(take(c, Infinity)).toBe('{"s":2}');
    expect(take(c, Infinity)).toBeUndefined();
  });

  it('never emits {}, null or non-objects, nor the same state twice in a row', () => {
    const c = new Checkpoints();
    for (const v of [{}, null, [1], 'x']) c.addState(v, true);
    expect(take(c, Infinity)).toBeUndefined();
    c.addState({ a: 1 }, true);
    expect(take(c, Infinity)).toBe('{"a":1}');
    c.nextSeq();
    c.addState({ a: 1 }, true);
    expect(take(c, Infinity)).toBeUndefined();
    expect(c.emitted).toBe(1);
  });

  it('a skipped state (not a batch boundary) is never emitted; a later boundary state supersedes it', () => {
    const c = new Checkpoints();
    c.nextSeq();
    c.addState({ s: 1 }, false);
    expect(take(c, Infinity)).toBeUndefined();
    c.nextSeq();
    c.addState({ s: 2 }, true);
    c.nextSeq();
    c.addState({ s: 3 }, false);
    expect(take(c, Infinity)).toBe('{"s":2}');
    expect(take(c, Infinity)).toBeUndefined();
  });

  it('the last state read goes out at the end of input, boundary or not, once it is safe', () => {
    const c = new Checkpoints();
    c.nextSeq();
    c.addState({ s: 1 }, false);
    c.nextSeq();
    expect(c.skippedIsLast).toBe(false);
    c.promoteSkipped();
    // The batch holding records 0 and 1 (either side of the state) is unsettled.
    expect(take(c, 0)).toBeUndefined();
    expect(take(c, 2)).toBe('{"s":1}');
  });

  it('knows when a skipped state is the last thing read (the batches may still be sealed at it)', () => {
    const c = new Checkpoints();
    c.nextSeq();
    c.addState({ s: 1 }, false);
    expect(c.skippedIsLast).toBe(true);
    c.promoteSkipped();
    expect(c.skippedIsLast).toBe(false);
    expect(take(c, 1)).toBe('{"s":1}');
    c.promoteSkipped();
    expect(take(c, Infinity)).toBeUndefined();
  });

  it('keeps big integers exact', () => {
    const c = new Checkpoints();
    c.addState({ id: 12345678901234567890n }, true);
    expect(take(c, Infinity)).toBe('{"id":12345678901234567890}');
  });
});
