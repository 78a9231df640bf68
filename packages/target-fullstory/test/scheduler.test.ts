/**
 * When a sealed batch may become a job (load/scheduler.ts): the cap, the order rule across every
 * users-kind stream, the 429 back-off and stopping. Jobs are promises the test settles; time is a
 * manual clock. The same rules are tested end to end in load-order.test.ts.
 */
import { describe, expect, it } from '@jest/globals';
import { createLogger } from '@fullstory-singer/singer-core';
import { MemoryWritable } from '@fullstory-singer/singer-core/testing';
import { advance, openBatch, type Batch } from '../src/load/batch.js';
import { JobSlots, Scheduler } from '../src/load/scheduler.js';
import { BufferPool } from '../src/load/texts.js';
import { ManualClock } from './manual-clock.js';

/** Lets every promise that can move, move. */
const settle = (): Promise<void> => new Promise((r) => setImmediate(r));

let ids = 0;
function sealed(stream: string, kind: 'users' | 'events', uids: string[] = []): Batch {
  const b = openBatch({ requests: new BufferPool(1), records: new BufferPool(1) }, { id: ++ids, stream, kind, ordinal: 0, firstSeq: ids, openedAt: 0 });
  for (const uid of uids) b.uids.push(uid);
  advance(b, 'sealed');
  return b;
}

function setup(max = 2) {
  const clock = new ManualClock();
  const stderr = new MemoryWritable();
  const logger = createLogger({ level: 'debug', out: stderr });
  const slots = new JobSlots({ max, clock, windowMs: 1000, logger });
  const stop = new AbortController();
  const jobs = new Map<Batch, { finish: () => void; fail: (e: Error) => void }>();
  const settled: Batch[] = [];
  const failed: unknown[] = [];
  const scheduler = new Scheduler({
    slots,
    stop: stop.signal,
    load: (batch) =>
      new Promise<void>((resolve, reject) => {
        advance(batch, 'created');
        jobs.set(batch, {
          finish: () => {
            advance(batch, 'settled');
            resolve();
          },
          fail: reject,
        });
      }),
    onSettled: (b) => settled.push(b),
    onFailed: (_b, e) => failed.push(e),
  });
  /** Submits and reports whether the submit resolved. */
  const submit = (b: Batch) => {
    const state = { started: false };
    void scheduler.submit(b).then(() => (state.started = true));
    return state;
  };
  return { clock, slots, stop, jobs, settled, failed, scheduler, submit, stderr };
}

describe('Scheduler', () => {
  it('never runs more than the cap; a submit resolves once its batch has started', async () => {
    const t = setup(2);
    const [a, b, c] = [sealed('e', 'events'), sealed('e', 'events'), sealed('e', 'events')];
    expect((await Promise.all([t.scheduler.submit(a), t.scheduler.submit(b)])).length).toBe(2);
    const third = t.submit(c);
    await settle();
    expect(third.started).toBe(false);
    expect(t.scheduler.inFlight).toBe(2);
    t.jobs.get(a)!.finish();
    await settle();
    expect(third.started).toBe(true);
    expect(t.settled).toEqual([a]);
  });

  it('a users batch waits while a running batch of any users-kind stream holds one of its uids', async () => {
    const t = setup(5);
    const first = sealed('crm', 'users', ['u1', 'u2']);
    await t.scheduler.submit(first);
    const other = sealed('audience', 'users', ['u3', 'u2']);
    const waiting = t.submit(other);
    await settle();
    expect(waiting.started).toBe(false);
    t.jobs.get(first)!.finish();
    await settle();
    expect(waiting.started).toBe(true);
  });

  it('events batches are not held back by uids', async () => {
    const t = setup(5);
    await t.scheduler.submit(sealed('crm', 'users', ['u1']));
    const events = t.submit(sealed('clicks', 'events'));
    await settle();
    expect(events.started).toBe(true);
  });

  it('halves the cap on each 429 (down to 1) and restores it once the window passed', async () => {
    const t = setup(4);
    t.slots.throttle(50);
    expect(t.slots.current()).toBe(2);
    t.slots.throttle(50);
    t.slots.throttle(50);
    expect(t.slots.current()).toBe(1);
    expect(t.slots.throttled).toBe(3);
    const [a, b] = [sealed('e', 'events'), sealed('e', 'events')];
    await t.scheduler.submit(a);
    const second = t.submit(b);
    await settle();
    expect(second.started).toBe(false);
    t.clock.advance(999);
    await settle();
    expect(second.started).toBe(false);
    t.clock.advance(1);
    await settle();
    expect(t.slots.current()).toBe(4);
    expect(second.started).toBe(true);
    expect(t.stderr.text()).toMatch(/fewer jobs in flight for a while max_jobs_in_flight=2[\s\S]*back to the configured cap max_jobs_in_flight=4/);
  });

  it('a longer Retry-After keeps the cap lowered that long', async () => {
    const t = setup(4);
    t.slots.throttle(5000);
    t.clock.advance(1000);
    expect(t.slots.current()).toBe(2);
    t.clock.advance(4000);
    expect(t.slots.current()).toBe(4);
  });

  it('a stop releases a waiting submit without starting its batch, which is failed', async () => {
    const t = setup(1);
    const running = sealed('e', 'events');
    await t.scheduler.submit(running);
    const left = sealed('e', 'events');
    const waiting = t.scheduler.submit(left);
    t.stop.abort(new Error('stop'));
    await waiting;
    expect(left.phase).toBe('failed');
    expect(t.jobs.has(left)).toBe(false);
    // The running job may still finish.
    t.jobs.get(running)!.finish();
    await t.scheduler.drain();
    expect(t.settled).toEqual([running]);
  });

  it('a failed job is reported and its batch is failed', async () => {
    const t = setup(2);
    const b = sealed('e', 'events');
    await t.scheduler.submit(b);
    const err = new Error('auth');
    t.jobs.get(b)!.fail(err);
    await t.scheduler.drain();
    expect(t.failed).toEqual([err]);
    expect(b.phase).toBe('failed');
  });
});
