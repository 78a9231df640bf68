/** A clock for tests: time moves only when the test says so, and due timers then fire in order. */
import type { Clock } from '../src/clock.js';

export class ManualClock implements Clock {
  private t = 0;
  private timers: Array<{ at: number; fn: () => void; id: number }> = [];
  private nextId = 0;

  now(): number {
    return this.t;
  }

  setTimeout(fn: () => void, ms: number): unknown {
    const timer = { at: this.t + Math.max(0, ms), fn, id: ++this.nextId };
    this.timers.push(timer);
    return timer.id;
  }

  clearTimeout(handle: unknown): void {
    this.timers = this.timers.filter((t) => t.id !== handle);
  }

  /** Timers waiting. */
  get pending(): number {
    return this.timers.length;
  }

  /** Move time to the earliest timer and fire it (and any due at the same time); false when none waits. */
  advanceToNext(): boolean {
    if (this.timers.length === 0) return false;
    const at = Math.min(...this.timers.map((t) => t.at));
    this.advance(at - this.t);
    return true;
  }

  /**
   * Settle `promise`, moving time to the next timer whenever nothing else is left to do (so waits on
   * this clock take no real time). Throws if it never settles.
   */
  async drive<T>(promise: Promise<T>): Promise<T> {
    let done = false;
    promise.then(
      () => (done = true),
      () => (done = true),
    );
    for (let turns = 0; !done; turns++) {
      if (turns > 100_000) throw new Error('ManualClock.drive: the promise never settles');
      await new Promise((r) => setImmediate(r));
      if (!done && !this.advanceToNext() && turns > 1000) throw new Error('ManualClock.drive: nothing left to wait for, and not settled');
    }
    return promise;
  }

  /** Move time forward by `ms`, firing every timer that comes due (in time order). */
  advance(ms: number): void {
    const end = this.t + ms;
    for (;;) {
      const due = this.timers.filter((t) => t.at <= end).sort((a, b) => a.at - b.at || a.id - b.id)[0];
      if (!due) break;
      this.timers = this.timers.filter((t) => t !== due);
      this.t = due.at;
      due.fn();
    }
    this.t = end;
  }
}
