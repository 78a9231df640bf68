/**
 * When a sealed batch may become a job.
 *
 * - Order. FullStory promises no order between jobs
 *   (https://developer.fullstory.com/server/asynchronous-workflows/), and users are upserted by uid, so
 *   a batch holding a uid is not created while an earlier batch holding that uid — in any stream that
 *   writes users (users and audience streams) — is unsettled. Batches are started in the order they were
 *   sealed, so "earlier" is every batch still running.
 * - Slots. At most `max_jobs_in_flight` jobs run at once, across streams; {@link Scheduler.submit}
 *   resolves only once its batch has started, and the read loop awaits it, so at the cap the target
 *   stops reading stdin: memory is bounded by batch size × (jobs in flight + 1), not by input size.
 * - 429. Every 429 FullStory sends (the client reports it, {@link JobSlots.throttle}) halves the cap,
 *   down to 1, until a quiet window has passed; then the full cap returns.
 *
 * Only "a batch settled" (or its failure) flows back up, through the callbacks given at construction.
 */

import type { Logger } from '@fullstory-singer/singer-core';
import type { Clock, TimerHandle } from '../clock.js';
import { advance, type Batch } from './batch.js';

/** The cap on jobs in flight, lowered for a while after each 429. */
export class JobSlots {
  private cap: number;
  private throttledUntil = 0;
  private timer: TimerHandle | undefined;
  /** 429 answers seen. */
  throttled = 0;
  /** Called when the cap is raised again (the scheduler then starts what waits). */
  onRaised: () => void = () => {};

  constructor(
    private readonly o: { max: number; clock: Clock; windowMs: number; logger: Logger },
  ) {
    this.cap = o.max;
  }

  /** The cap in force now. */
  current(): number {
    return this.cap;
  }

  /** FullStory asked to slow down (429, waiting `retryAfterMs`). */
  throttle(retryAfterMs: number): void {
    const { clock, logger } = this.o;
    this.throttled++;
    this.throttledUntil = clock.now() + Math.max(this.o.windowMs, retryAfterMs);
    const lowered = Math.max(1, Math.floor(this.cap / 2));
    if (lowered < this.cap) {
      logger.warn('FullStory asked to slow down (429): fewer jobs in flight for a while', { max_jobs_in_flight: lowered, retry_after_ms: retryAfterMs });
      this.cap = lowered;
    }
    this.arm();
  }

  /** Stop the timer that would raise the cap (the run is over). */
  dispose(): void {
    if (this.timer !== undefined) this.o.clock.clearTimeout(this.timer);
    this.timer = undefined;
  }

  private arm(): void {
    this.dispose();
    if (this.cap >= this.o.max) return;
    this.timer = this.o.clock.setTimeout(() => {
      this.timer = undefined;
      if (this.o.clock.now() < this.throttledUntil) return this.arm();
      this.cap = this.o.max;
      this.o.logger.info('jobs in flight back to the configured cap', { max_jobs_in_flight: this.o.max });
      this.onRaised();
    }, Math.max(0, this.throttledUntil - this.o.clock.now()));
  }
}

/** Options of {@link Scheduler}. */
export interface SchedulerOptions {
  slots: JobSlots;
  /** Runs a started batch to the end (job.ts). */
  load: (batch: Batch) => Promise<void>;
  /** A batch settled: every record imported or dead-lettered. */
  onSettled: (batch: Batch) => void;
  /** A batch's job failed in a way that stops the run. */
  onFailed: (batch: Batch, err: unknown) => void;
  /** Aborted when the run stops: nothing more is started. */
  stop: AbortSignal;
}

/** Starts sealed batches as jobs, in order, within the cap and the order rule. */
export class Scheduler {
  private readonly running = new Map<Batch, Promise<void>>();
  /**
   * The running batch that holds each uid. One at most: a batch holding a uid another running batch
   * holds does not start.
   */
  private readonly holder = new Map<string, Batch>();
  private wakers: Array<() => void> = [];

  constructor(private readonly o: SchedulerOptions) {
    o.slots.onRaised = () => this.wake();
    o.stop.addEventListener('abort', () => this.wake(), { once: true });
  }

  /** Jobs running (created or being created, not settled). */
  get inFlight(): number {
    return this.running.size;
  }

  /**
   * Start `batch` once a slot is free and no running batch holds one of its uids. Resolves once it has
   * started, or at once when the run stops (the batch then stays unsettled). One batch at a time: the
   * caller awaits each.
   */
  async submit(batch: Batch): Promise<void> {
    while (!this.o.stop.aborted && !(this.running.size < this.o.slots.current() && !this.holdsBusyUid(batch))) {
      await new Promise<void>((resolve) => this.wakers.push(resolve));
    }
    if (this.o.stop.aborted) {
      advance(batch, 'failed');
      return;
    }
    this.start(batch);
  }

  /** Resolves once no batch is running (after a stop: once the running ones ended, however). */
  async drain(): Promise<void> {
    while (this.running.size > 0) await Promise.allSettled([...this.running.values()]);
  }

  /** Batches started and not yet ended. */
  runningBatches(): IterableIterator<Batch> {
    return this.running.keys();
  }

  private start(batch: Batch): void {
    for (const uid of batch.uids) this.holder.set(uid, batch);
    const job = (async () => {
      try {
        await this.o.load(batch);
      } catch (err) {
        advance(batch, 'failed');
        this.o.onFailed(batch, err);
        return;
      }
      this.o.onSettled(batch);
    })()
      .catch((err: unknown) => this.o.onFailed(batch, err))
      .finally(() => {
        this.running.delete(batch);
        for (const uid of batch.uids) this.holder.delete(uid);
        this.wake();
      });
    this.running.set(batch, job);
  }

  private holdsBusyUid(batch: Batch): boolean {
    if (this.holder.size === 0) return false;
    for (const uid of batch.uids) if (this.holder.has(uid)) return true;
    return false;
  }

  private wake(): void {
    const w = this.wakers;
    this.wakers = [];
    for (const f of w) f();
  }
}
