import { describe, expect, it } from '@jest/globals';
import { createLogger, ProgressReporter, Redactor } from '@fullstory-singer/singer-core';
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
    expect(out.text()).toBe('\r1 record\u001b[K\r3 records\u001b[K\r\u001b[K\r\u001b[KINFO done: 3 records\n');
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

  it("draws through the program's logger, so a log line never lands glued to the live line", () => {
    const out = new MemoryWritable({ isTTY: true });
    const logger = createLogger({ out, program: 'tap-x' });
    const progress = new ProgressReporter({ logger, clock: fakeClock().now });
    progress.update('events: bundle 1 of 2, 1.9 MB/s');
    logger.info('a log line');
    // The live line is erased, the log line written whole, and the live line drawn again below it.
    expect(out.text()).toBe(
      '\rtap-x events: bundle 1 of 2, 1.9 MB/s\u001b[K\r\u001b[Ktap-x INFO a log line\ntap-x events: bundle 1 of 2, 1.9 MB/s\u001b[K',
    );
  });

  it('adds the share done and, once there is enough to go on, the time left', () => {
    const out = new MemoryWritable({ isTTY: true });
    const clock = fakeClock();
    const logger = createLogger({ out });
    const progress = new ProgressReporter({ logger, clock: clock.now, intervalMs: 0 });
    const shown: string[] = [];
    const show = (done: number): void => {
      progress.update('bundles', { done, total: 4 });
      shown.push(out.text().split('\r').at(-1)!.replace('\u001b[K', ''));
    };
    show(0);
    clock.advance(1000);
    show(0); // no progress yet: no estimate
    clock.advance(29_000);
    show(1); // 1 of 4 in 30 s: 3 more take about 90 s
    clock.advance(30_000);
    show(2);
    clock.advance(1_200_000);
    show(3); // 3 of 4 in 21 min: 7 min left
    show(4);
    expect(shown).toEqual([
      'bundles, 0%',
      'bundles, 0%',
      'bundles, 25%, about 2 min left',
      'bundles, 50%, about 1 min left',
      'bundles, 75%, about 7 min left',
      'bundles, 100%',
    ]);
  });

  it('gives estimates in seconds, minutes or hours', () => {
    const out = new MemoryWritable();
    const clock = fakeClock();
    const progress = new ProgressReporter({ out, isTTY: false, clock: clock.now, intervalMs: 0 });
    progress.update('x', { done: 0, total: 1000 });
    clock.advance(10_000);
    progress.update('x', { done: 800, total: 1000 }); // 200 more at 80/s
    clock.advance(10_000_000);
    progress.update('x', { done: 900, total: 1000 }); // 100 more at 0.09/s: about 1111 s
    progress.update('x', { done: 1, total: 0 }); // an unknown total is 0%, never a division by zero
    expect(out.lines().slice(1)).toEqual(['INFO x, 80%, about 3 s left', 'INFO x, 90%, about 19 min left', 'INFO x, 0%']);
  });
});
