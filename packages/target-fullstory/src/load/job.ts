/**
 * The job pipeline (target.md, "Batches, jobs and state"): each sealed batch becomes one FullStory
 * batch import job — create (with the batch's Idempotency-Key), poll to `COMPLETED` or `FAILED`, and on
 * `FAILED` read the `/errors` pages and dead-letter each failed request's original record.
 *
 * - At most `maxJobsInFlight` jobs are created and unfinished at once, across streams. `submit` waits
 *   for a slot, and the caller awaits `submit` before reading more input: that is the backpressure on
 *   stdin that bounds memory by batch size × jobs in flight.
 * - A 429 anywhere (reported by the client through `throttle`) halves the cap (down to 1) for
 *   `throttleWindowMs` after the latest 429; the full cap returns after that.
 * - Users are upserted, so the last value must win: a users batch waits to be created while a job of
 *   the same stream that touches one of its uids is still running (FullStory runs jobs concurrently and
 *   in no promised order).
 * - Polling starts at 100 ms and doubles up to `pollIntervalMs`, so short jobs finish fast while long
 *   ones are polled at the configured pace. A job still processing after `jobTimeoutMs` is an
 *   `UnavailableError` (exit 5).
 * - The first fatal error (auth, unavailable after retries, a rejected request, a timeout) stops new
 *   jobs: `submit` and `drain` throw it. Jobs already running are allowed to finish.
 */

import { UnavailableError, type Logger } from '@fullstory-singer/singer-core';
import type { Batch, BatchKind } from './batcher.js';
import type { DeadLetterEntry } from './dead-letter.js';
import { requestKey } from './mapping.js';

/** Job status as the v2 batch status endpoint reports it (`GET /v2/{kind}/batch/{id}`). */
export interface JobStatusLike {
  id: string;
  status: string;
  imports?: number;
  errors?: number;
}

/** One item of a job's `/errors` page: FullStory echoes the failed request as `user` or `event`. */
export interface JobErrorItem {
  code: string;
  message: string;
  user?: Record<string, unknown>;
  event?: Record<string, unknown>;
}

/** The calls the pipeline makes; `ServerApiClient` of fullstory-client has this shape. */
export interface BatchApi {
  createBatch(kind: BatchKind, body: { requests: unknown[] }, idempotencyKey: string): Promise<{ id: string; status: string }>;
  getJob(kind: BatchKind, jobId: string): Promise<JobStatusLike>;
  getJobErrors(
    kind: BatchKind,
    jobId: string,
    pageToken?: string,
  ): Promise<{ results: JobErrorItem[]; nextPageToken?: string } | 'processing'>;
}

/** Options of {@link JobPipeline}. */
export interface JobPipelineOptions {
  api: BatchApi;
  maxJobsInFlight: number;
  pollIntervalMs: number;
  jobTimeoutMs: number;
  /** When false a batch counts as safe once its job is created (states may go out earlier). */
  waitForJobs: boolean;
  /** Where rejected records go. */
  deadLetter: { write(entry: DeadLetterEntry): Promise<void> };
  /** Called when a batch's records are safe (imported or dead-lettered, or created if !waitForJobs). */
  onBatchSafe: (batch: Batch) => void;
  /** Called once, with the first fatal error (the target stops reading input). */
  onFatal?: (err: Error) => void;
  logger?: Logger;
  sleep?: (ms: number) => Promise<void>;
  now?: () => number;
  /** How long the cap stays lowered after a 429 (default 60 s). */
  throttleWindowMs?: number;
}

/** Counters the summary reports. */
export interface PipelineStats {
  jobsCreated: number;
  jobsCompleted: number;
  jobsFailed: number;
  /** Requests sent in created jobs. */
  sent: number;
  imported: number;
  /** Requests FullStory rejected (dead-lettered). */
  rejected: number;
  /** Requests of FAILED jobs that FullStory neither imported nor listed as errors. */
  unaccounted: number;
  /** 429 answers seen. */
  throttled: number;
}

const FIRST_POLL_MS = 100;

/** Creates, polls and finishes batch jobs with a cap on jobs in flight. */
export class JobPipeline {
  readonly stats: PipelineStats = {
    jobsCreated: 0,
    jobsCompleted: 0,
    jobsFailed: 0,
    sent: 0,
    imported: 0,
    rejected: 0,
    unaccounted: 0,
    throttled: 0,
  };
  private readonly running = new Map<Batch, Promise<void>>();
  /** Per stream, the uids of its running users jobs, with counts. */
  private readonly busyUids = new Map<string, Map<string, number>>();
  private fatalError?: Error;
  private wakers: (() => void)[] = [];
  private queue: Promise<void> = Promise.resolve();
  private cap: number;
  private throttledUntil = 0;
  private readonly o: Required<Omit<JobPipelineOptions, 'logger' | 'onFatal'>> & Pick<JobPipelineOptions, 'logger' | 'onFatal'>;

  constructor(options: JobPipelineOptions) {
    this.o = {
      sleep: (ms) => new Promise((res) => setTimeout(res, ms)),
      now: Date.now,
      throttleWindowMs: 60_000,
      ...options,
    };
    this.cap = options.maxJobsInFlight;
  }

  /** The first fatal error, if any. */
  get fatal(): Error | undefined {
    return this.fatalError;
  }

  /** Jobs created (or being created) and not finished. */
  get inFlight(): number {
    return this.running.size;
  }

  /** The cap in force now (lowered for a while after a 429). */
  currentCap(): number {
    if (this.cap < this.o.maxJobsInFlight && this.o.now() >= this.throttledUntil) {
      this.o.logger?.info('jobs in flight back to the configured cap', { max_jobs_in_flight: this.o.maxJobsInFlight });
      this.cap = this.o.maxJobsInFlight;
    }
    return this.cap;
  }

  /** Report a 429: halve the cap (min 1) until `throttleWindowMs` after now. */
  throttle(retryAfterMs: number): void {
    this.stats.throttled++;
    this.throttledUntil = this.o.now() + Math.max(this.o.throttleWindowMs, retryAfterMs);
    const lowered = Math.max(1, Math.floor(this.cap / 2));
    if (lowered < this.cap) {
      this.o.logger?.warn('FullStory asked to slow down (429): fewer jobs in flight for a while', {
        max_jobs_in_flight: lowered,
        retry_after_ms: retryAfterMs,
      });
      this.cap = lowered;
    }
  }

  /**
   * Start a job for `batch` once a slot is free (and no running job of the stream shares a uid with it).
   * Resolves when the job has been started (not finished). Submissions are served in order.
   * @throws the pipeline's fatal error, once there is one.
   */
  submit(batch: Batch): Promise<void> {
    const next = this.queue.then(() => this.acquire(batch));
    this.queue = next.catch(() => {});
    return next;
  }

  /** Wait for every started job to end. @throws the fatal error, if any job had one. */
  async drain(): Promise<void> {
    await this.queue;
    while (this.running.size > 0) await Promise.allSettled([...this.running.values()]);
    if (this.fatalError) throw this.fatalError;
  }

  private async acquire(batch: Batch): Promise<void> {
    const uids = batch.kind === 'users' ? batch.requests.map((r) => String(r['uid'])) : [];
    for (;;) {
      if (this.fatalError) throw this.fatalError;
      if (this.running.size < this.currentCap() && !this.conflicts(batch.stream, uids)) break;
      await this.waitForChange();
    }
    this.markBusy(batch.stream, uids, 1);
    const job = this.run(batch).finally(() => {
      this.running.delete(batch);
      this.markBusy(batch.stream, uids, -1);
      this.wake();
    });
    this.running.set(batch, job);
  }

  private markBusy(stream: string, uids: string[], delta: 1 | -1): void {
    if (uids.length === 0) return;
    let busy = this.busyUids.get(stream);
    if (!busy) this.busyUids.set(stream, (busy = new Map()));
    for (const uid of uids) {
      const n = (busy.get(uid) ?? 0) + delta;
      if (n <= 0) busy.delete(uid);
      else busy.set(uid, n);
    }
    if (busy.size === 0) this.busyUids.delete(stream);
  }

  private conflicts(stream: string, uids: string[]): boolean {
    const busy = this.busyUids.get(stream);
    if (!busy) return false;
    for (const uid of uids) if (busy.has(uid)) return true;
    return false;
  }

  /** Resolves when a job ends, a fatal error arrives, or the throttle window closes. */
  private waitForChange(): Promise<void> {
    return new Promise((resolve) => {
      let timer: NodeJS.Timeout | undefined;
      const done = (): void => {
        if (timer) clearTimeout(timer);
        resolve();
      };
      this.wakers.push(done);
      if (this.cap < this.o.maxJobsInFlight) {
        timer = setTimeout(done, Math.max(0, this.throttledUntil - this.o.now()) + 1);
        timer.unref();
      }
    });
  }

  private wake(): void {
    const w = this.wakers;
    this.wakers = [];
    for (const f of w) f();
  }

  private fail(err: unknown): void {
    if (!this.fatalError) {
      this.fatalError = err instanceof Error ? err : new Error(String(err));
      this.o.onFatal?.(this.fatalError);
    }
    this.wake();
  }

  private async run(batch: Batch): Promise<void> {
    const { api, logger } = this.o;
    const started = this.o.now();
    try {
      const job = await api.createBatch(batch.kind, { requests: batch.requests }, batch.idempotencyKey);
      this.stats.jobsCreated++;
      this.stats.sent += batch.requests.length;
      // The requests are no longer needed once the job exists, except to match error items: keep
      // only their identities, so a batch in flight holds little more than its original records.
      batch.keys = batch.requests.map((r) => requestKey(batch.kind, r, false));
      batch.requests.length = 0;
      logger?.debug('batch job created', { stream: batch.stream, job_id: job.id, requests: batch.keys.length });
      if (!this.o.waitForJobs) this.o.onBatchSafe(batch);
      const status = await this.poll(batch.kind, job.id, started);
      if (status.status === 'COMPLETED') {
        this.stats.jobsCompleted++;
        this.stats.imported += batch.records.length;
      } else {
        this.stats.jobsFailed++;
        await this.deadLetterErrors(batch, job.id, status, started);
      }
      logger?.metric('timer', 'job_duration', (this.o.now() - started) / 1000, {
        job_type: batch.kind,
        stream: batch.stream,
        status: status.status === 'COMPLETED' ? 'succeeded' : 'failed',
      });
      if (this.o.waitForJobs) this.o.onBatchSafe(batch);
    } catch (err) {
      this.fail(err);
    }
  }

  private async poll(kind: BatchKind, jobId: string, started: number): Promise<JobStatusLike> {
    let delay = Math.min(FIRST_POLL_MS, this.o.pollIntervalMs);
    for (;;) {
      await this.o.sleep(delay);
      const status = await this.o.api.getJob(kind, jobId);
      if (status.status === 'COMPLETED' || status.status === 'FAILED') return status;
      this.checkTimeout(jobId, started);
      delay = Math.min(delay * 2, this.o.pollIntervalMs);
    }
  }

  private checkTimeout(jobId: string, started: number): void {
    const elapsed = this.o.now() - started;
    if (elapsed > this.o.jobTimeoutMs) {
      throw new UnavailableError(
        `FullStory job ${jobId} still processing after ${Math.round(elapsed / 1000)} s (job_timeout_seconds)`,
      );
    }
  }

  /** Read a FAILED job's `/errors` pages and dead-letter each failed request's record. */
  private async deadLetterErrors(batch: Batch, jobId: string, status: JobStatusLike, started: number): Promise<void> {
    const { api, deadLetter, logger } = this.o;
    // Index the batch by request identity only now: most jobs complete and never need it. Events are
    // also indexed without their timestamp, in case FullStory echoes one that differs from what was sent.
    const exact = new Map<string, number[]>();
    const loose = new Map<string, number[]>();
    const add = (index: Map<string, number[]>, k: string, i: number): void => {
      const list = index.get(k);
      if (list) list.push(i);
      else index.set(k, [i]);
    };
    (batch.keys ?? []).forEach((k, i) => {
      add(exact, k, i);
      if (batch.kind === 'events') add(loose, withoutTimestamp(k), i);
    });
    const used = new Set<number>();
    const take = (index: Map<string, number[]>, k: string): number | undefined => {
      const list = index.get(k);
      while (list && list.length > 0) {
        const i = list.shift()!;
        if (!used.has(i)) {
          used.add(i);
          return i;
        }
      }
      return undefined;
    };
    const match = (echoed: Record<string, unknown> | undefined): number | undefined => {
      const k = requestKey(batch.kind, echoed);
      return take(exact, k) ?? (batch.kind === 'events' ? take(loose, withoutTimestamp(k)) : undefined);
    };
    let rejected = 0;
    let token: string | undefined;
    const seen = new Set<string>();
    for (;;) {
      const page = await api.getJobErrors(batch.kind, jobId, token);
      if (page === 'processing') {
        this.checkTimeout(jobId, started);
        await this.o.sleep(this.o.pollIntervalMs);
        continue;
      }
      for (const item of page.results) {
        const echoed = batch.kind === 'users' ? item.user : item.event;
        const i = match(echoed);
        rejected++;
        await deadLetter.write({
          stream: batch.stream,
          record: i === undefined ? null : batch.records[i],
          reason: 'rejected_by_fullstory',
          code: String(item.code ?? 'unknown'),
          message: String(item.message ?? ''),
          ...(i === undefined ? { request: echoed ?? null } : {}),
        });
      }
      token = page.nextPageToken;
      // Stop when there is no next page, or the token repeats (fullstory-api.md §6, SDK withPageToken).
      if (!token || seen.has(token)) break;
      seen.add(token);
    }
    this.stats.rejected += rejected;
    const total = batch.records.length;
    const imported = status.imports ?? Math.max(0, total - rejected);
    this.stats.imported += imported;
    const missing = total - imported - rejected;
    if (missing > 0) {
      this.stats.unaccounted += missing;
      logger?.warn('FullStory job failed without listing every failed request', {
        job_id: jobId,
        stream: batch.stream,
        requests: total,
        imported,
        errors_listed: rejected,
      });
    }
    logger?.warn('FullStory rejected records in a batch job; see the dead-letter file', {
      job_id: jobId,
      stream: batch.stream,
      rejected,
    });
  }
}

/** An events request key without its last part (the timestamp). */
function withoutTimestamp(key: string): string {
  return key.slice(0, key.lastIndexOf('\u0000'));
}
