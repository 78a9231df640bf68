import { describe, expect, it } from '@jest/globals';
import { Pacer } from '../src/pacer.js';

describe('Pacer', () => {
  it('lets the first download start at once and spaces the next ones 60/perMinute seconds apart', async () => {
    let now = 1_000_000;
    const waits: number[] = [];
    const pacer = new Pacer({
      perMinute: 2,
      now: () => now,
      sleep: (ms) => {
        waits.push(ms);
        now += ms;
        return Promise.resolve();
      },
    });
    await pacer.acquire();
    await pacer.acquire();
    now += 10_000; // emission took 10 s: only the rest of the interval is waited
    await pacer.acquire();
    expect(waits).toEqual([30_000, 20_000]);
  });

  it('reserves slots in call order for overlapping callers (a prefetch and a retry)', async () => {
    const now = 0;
    const waits: number[] = [];
    const pacer = new Pacer({ perMinute: 60, now: () => now, sleep: (ms) => (waits.push(ms), Promise.resolve()) });
    await Promise.all([pacer.acquire(), pacer.acquire(), pacer.acquire()]);
    expect(waits).toEqual([1000, 2000]);
  });
});
