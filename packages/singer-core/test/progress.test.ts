import { describe, expect, it } from '@jest/globals';
import { ProgressReporter, Redactor } from '@fullstory-singer/singer-core';
import { MemoryWritable } from '@fullstory-singer/singer-core/testing';

function fakeClock(): { now: () => number; advance: (ms: number) => void } {
  let t = 1_000_000;
  return { now: () => t, advance: (ms) => (t += ms) };
}

describe('ProgressReporter', () => {
  it('on a TTY rewrites one live line, at most once per interval, and ends it', () => {
    const out = new MemoryWritable({ isTTY: true });
    const clock = fakeClock();
    const progress = new ProgressReporter({ out, clock: clock.now, intervalMs: 100 });
    progress.update('1 record');
    progress.update('2 records'); // same instant: dropped
    clock.advance(100);
    progress.update('3 records');
    progress.done('done: 3 records');
    expect(out.text()).toBe('\r1 record\u001b[K\r3 records\u001b[K\rdone: 3 records\u001b[K\n');
  });

  it('clears the live line when done without a final text', () => {
    const out = new MemoryWritable();
    const progress = new ProgressReporter({ out, isTTY: true, clock: fakeClock().now });
    progress.update('working');
    progress.done();
    expect(out.text()).toBe('\rworking\u001b[K\r\u001b[K');
  });

  it('otherwise prints one plain line per interval, the first one interval after start', () => {
    const out = new MemoryWritable();
    const clock = fakeClock();
    const progress = new ProgressReporter({ out, isTTY: false, clock: clock.now, intervalMs: 60_000 });
    progress.update('10 records');
    clock.advance(59_999);
    progress.update('20 records');
    clock.advance(1);
    progress.update('30 records');
    clock.advance(30_000);
    progress.update('40 records');
    clock.advance(30_000);
    progress.update('50 records\nsecond line');
    progress.done('finished');
    expect(out.lines()).toEqual(['INFO 30 records', 'INFO 50 records second line', 'INFO finished']);
    expect(out.text()).not.toContain('\r');
  });

  it('detects a TTY from the stream and redacts secrets', () => {
    const out = new MemoryWritable({ isTTY: true });
    const redactor = new Redactor();
    redactor.register('topsecret');
    const progress = new ProgressReporter({ out, redactor, clock: fakeClock().now });
    progress.update('key topsecret');
    expect(out.text()).toBe('\rkey [REDACTED]\u001b[K');
  });
});
