/**
 * One sealed batch through FullStory's asynchronous workflow
 * (https://developer.fullstory.com/server/asynchronous-workflows/), as one async function:
 * create → poll → account, until every record is imported or dead-lettered.
 *
 * - Create: `POST /v2/{users|events}/batch` with the batch's `Idempotency-Key`s (idempotency.ts: a
 *   rerun that meets the job a killed run created polls that job). Two answers are sent past: a job
 *   this run already got for another batch (a batch byte for byte equal to an earlier one of the run,
 *   at the same place after another boundary: the input holds it twice, so it is stored twice), and for
 *   users, a job made before this run began (its `created`: a batch an earlier run sent; applied again
 *   so a value changed in between and back ends as the input's last). Either way that job is waited
 *   for, so it cannot land after this one, and the batch is sent again under a key of this run. Events
 *   met from an earlier run are not sent again: the job met is accounted for. A 400 or 413 (the
 *   body refused as a whole: FullStory documents 400 for invalid input; a proxy answers 413) splits the
 *   batch in halves, recursively, each half with its own keys, until the bad requests stand alone; those
 *   are dead-lettered with FullStory's code and message and the rest land. The halves go one after the
 *   other, so requests for one uid keep their input order.
 * - Poll: `GET /v2/{kind}/batch/{id}`, first after 0.1 s, then doubling up to `job_poll_interval_seconds`,
 *   until COMPLETED or FAILED; still processing after `job_timeout_seconds` is an `UnavailableError`.
 * - Account, by the counts, not the status (FullStory's docs show a COMPLETED job with errors): when the
 *   job reports `errors` > 0, or fewer `imports` than requests sent, its `/errors` pages are read and each
 *   item is matched to the request it echoes (error-match.ts); the record is dead-lettered with
 *   FullStory's code. If the records left still outnumber the imports FullStory reports, `/imports` is
 *   read to find which landed; a record neither imported nor named in `/errors` is dead-lettered as
 *   `unaccounted` with FullStory's counts, never counted as imported. A key that may not read `/errors`
 *   (403: a Standard key) cannot say which records failed: the job's records are dead-lettered as
 *   `job_results_forbidden`, so none is lost track of.
 */

import { BatchRefusedError } from '@fullstory-singer/fullstory-client';
import { UnavailableError, type Logger } from '@fullstory-singer/singer-core';
import { sleep, type Clock } from '../clock.js';
import type { Rejection } from '../rejection.js';
import type { BatchApi, CreatedJob, JobStatus, ListPage } from '../sinks/batch-api.js';
import { advance, BODY_TAIL, recordAt, type Batch, type BatchKind } from './batch.js';
import { RequestMatcher } from './error-match.js';
import { idempotencyKeys, type RecentSet } from './idempotency.js';

/** What a job needs; everything with a side effect is passed in. */
export interface JobContext {
  api: BatchApi;
  clock: Clock;
  /** Aborted when the run gives up on its jobs: every call and wait ends at once. */
  signal: AbortSignal;
  pollIntervalMs: number;
  jobTimeoutMs: number;
  logger: Logger;
  /** When this run began (ms since the epoch): a job FullStory made before it is an earlier run's. */
  runStartedMs: number;
  /** This run's id, for the keys of batches sent again (idempotency.ts). */
  runId: string;
  /** The jobs this run's creates were answered with (the most recent ones: see {@link RecentSet}). */
  jobsMade: RecentSet;
  /** Writes a record's dead-letter line and counts it. */
  reject(stream: string, record: unknown, rejection: Omit<Rejection, 'ok'>, request?: unknown): void;
  /** Counts `n` records imported. */
  imported(stream: string, n: number): void;
  /** Counts a created job of `requests` requests. */
  created(requests: number): void;
  /** Called once FullStory accepted every part of the batch (with `wait_for_jobs: false` a state may then go out). */
  onCreated?(batch: Batch): void;
}

const FIRST_POLL_MS = 100;

/** Create, poll and account for `batch` until it is settled. @throws what stops the run (auth, outage, timeout, abort). */
export async function loadBatch(batch: Batch, ctx: JobContext): Promise<void> {
  await loadPart(batch, 0, batch.requests.length, ctx);
  advance(batch, 'settled');
}

/** Requests `[lo, hi)` of `batch` as one job, split while FullStory refuses the body. */
async function loadPart(batch: Batch, lo: number, hi: number, ctx: JobContext): Promise<void> {
  let job: CreatedJob;
  try {
    const body = batch.requests.framed(lo, hi, BODY_TAIL);
    const { stream, kind, ordinal } = batch;
    const create = (resend?: string) =>
      ctx.api.createBatch({ stream, kind, body, idempotencyKeys: idempotencyKeys({ stream, kind, ordinal, lo, hi, body, ...(resend === undefined ? {} : { resend }) }) }, ctx.signal);
    job = await create();
    const met = metBefore(job, kind, ctx);
    if (met !== undefined) {
      ctx.logger.info(`this ${kind} batch equals one sent ${met}: waiting for that job, then sending the batch again under a key of this run`, {
        stream,
        job_id: job.id,
        requests: hi - lo,
      });
      await poll(batch, job, ctx.clock.now(), ctx);
      job = await create(`${ctx.runId}/${batch.id}`);
    }
    ctx.jobsMade.add(job.id);
  } catch (err) {
    if (!(err instanceof BatchRefusedError)) throw err;
    if (hi - lo === 1) {
      ctx.reject(batch.stream, recordAt(batch, lo), { reason: 'rejected_by_fullstory', code: err.apiCode ?? 'invalid_argument', message: err.apiMessage });
      batch.accounted++;
      partCreated(batch, hi, ctx);
      return;
    }
    const mid = lo + Math.ceil((hi - lo) / 2);
    ctx.logger.warn(`FullStory refused a batch as a whole (${err.status}); splitting it to set the bad requests apart`, {
      stream: batch.stream,
      requests: hi - lo,
      code: err.apiCode,
    });
    await loadPart(batch, lo, mid, ctx);
    await loadPart(batch, mid, hi, ctx);
    return;
  }
  ctx.created(hi - lo);
  partCreated(batch, hi, ctx);
  ctx.logger.debug('batch job created', { stream: batch.stream, job_id: job.id, requests: hi - lo, sealed_by: batch.sealedBy });
  const started = ctx.clock.now();
  const status = await poll(batch, job, started, ctx);
  await account(batch, lo, hi, status, started, ctx);
  ctx.logger.metric('timer', 'job_duration', (ctx.clock.now() - started) / 1000, {
    job_type: batch.kind,
    stream: batch.stream,
    status: status.status === 'COMPLETED' && !status.errors ? 'succeeded' : 'failed',
  });
}

/**
 * Whether a create's answer is a job an earlier create made, to be waited for and sent past (see the
 * module comment): `'earlier in this run'` (any kind: the input holds the batch twice), `'by an earlier
 * run'` (users only: events keep the killed run's job, that is the exactly-once guarantee), or undefined.
 */
function metBefore(job: CreatedJob, kind: BatchKind, ctx: JobContext): string | undefined {
  if (ctx.jobsMade.has(job.id)) return 'earlier in this run';
  if (kind === 'users' && job.createdMs !== undefined && job.createdMs < ctx.runStartedMs) return 'by an earlier run';
  return undefined;
}

/** The part ending at `hi` was created (or refused alone): when it is the last, the whole batch is. */
function partCreated(batch: Batch, hi: number, ctx: JobContext): void {
  if (hi !== batch.requests.length) return;
  advance(batch, 'created');
  ctx.onCreated?.(batch);
}

function finished(status: string): boolean {
  return status === 'COMPLETED' || status === 'FAILED';
}

async function poll(batch: Batch, job: CreatedJob, started: number, ctx: JobContext): Promise<JobStatus> {
  // A create that answers a finished job (the dry run) is read at once.
  let delay = finished(job.status) ? 0 : Math.min(FIRST_POLL_MS, ctx.pollIntervalMs);
  for (;;) {
    if (delay > 0) await sleep(ctx.clock, delay, ctx.signal);
    const status = await ctx.api.getJob(batch.kind, job.id, ctx.signal);
    if (finished(status.status)) return status;
    checkTimeout(job.id, started, ctx);
    delay = Math.min(Math.max(delay * 2, FIRST_POLL_MS), ctx.pollIntervalMs);
  }
}

function checkTimeout(jobId: string, started: number, ctx: JobContext): void {
  const elapsed = ctx.clock.now() - started;
  if (elapsed > ctx.jobTimeoutMs) {
    throw new UnavailableError(`FullStory job ${jobId} still processing after ${Math.round(elapsed / 1000)} s (job_timeout_seconds)`);
  }
}

/** Settle requests `[lo, hi)` of a finished job: see the module comment. */
async function account(batch: Batch, lo: number, hi: number, status: JobStatus, started: number, ctx: JobContext): Promise<void> {
  const n = hi - lo;
  const counts = `FullStory's job ${status.id} reported imports=${status.imports ?? 'none'} errors=${status.errors ?? 'none'} for ${n} requests`;
  const mayHaveErrors = (status.errors ?? 0) > 0 || (status.imports !== undefined && status.imports < n) || (status.status === 'FAILED' && status.imports === undefined);
  if (!mayHaveErrors) {
    imported(batch, n, ctx);
    return;
  }
  const matcher = new RequestMatcher(batch.kind, batch.requests, lo, hi);
  let rejected = 0;
  const errors = await readPages(status.id, started, ctx, (token) => ctx.api.getJobErrors(batch.kind, status.id, token, ctx.signal), (items) => {
    for (const item of items) {
      const echoed = batch.kind === 'users' ? item.user : item.event;
      const i = matcher.matchEcho(echoed);
      const rejection = { reason: 'rejected_by_fullstory' as const, code: item.code || 'unknown', message: item.message };
      if (i === undefined) {
        // FullStory named a request we cannot find in the batch: keep what it said.
        ctx.reject(batch.stream, null, rejection, echoed ?? null);
        continue;
      }
      ctx.reject(batch.stream, recordAt(batch, i), rejection);
      batch.accounted++;
      rejected++;
    }
  });
  if (errors === 'forbidden') {
    // Which records failed cannot be known: none of them is counted as imported.
    settleUnknown(batch, lo, hi, matcher, ctx, 'job_results_forbidden', `${counts}, and this key may not read the job's errors (403) to say which failed; an Admin or Architect key can`);
    return;
  }
  const left = n - rejected;
  if (status.imports !== undefined && status.imports >= left) {
    imported(batch, left, ctx);
  } else {
    const imports = await readPages(status.id, started, ctx, (token) => ctx.api.getJobImports(batch.kind, status.id, token, ctx.signal), (items) => {
      for (const item of items) {
        if (matcher.matchImport(item) !== undefined) imported(batch, 1, ctx);
      }
    });
    const why = imports === 'forbidden' ? `${counts}; its /imports could not be read (403) to find which landed` : `${counts}; neither its /errors nor its /imports names this record`;
    settleUnknown(batch, lo, hi, matcher, ctx, 'unaccounted', why);
  }
  if (rejected > 0) ctx.logger.warn('FullStory rejected records of a batch job; see the dead-letter file', { job_id: status.id, stream: batch.stream, rejected });
}

function imported(batch: Batch, k: number, ctx: JobContext): void {
  batch.accounted += k;
  ctx.imported(batch.stream, k);
}

/** Dead-letter every request of `[lo, hi)` the matcher has not placed. */
function settleUnknown(batch: Batch, lo: number, hi: number, matcher: RequestMatcher, ctx: JobContext, code: string, message: string): void {
  let count = 0;
  for (let i = lo; i < hi; i++) {
    if (matcher.matched(i)) continue;
    ctx.reject(batch.stream, recordAt(batch, i), { reason: 'unaccounted', code, message });
    batch.accounted++;
    count++;
  }
  if (count > 0) ctx.logger.warn('FullStory did not confirm some records of a batch job; they are in the dead-letter file', { stream: batch.stream, code, records: count });
}

/**
 * Read every page of a job's list, handing each page's items to `onItems`. A 202 ("still processing")
 * is asked again after the poll interval. Stops when there is no next page or the token repeats (as
 * FullStory's own Node SDK does).
 */
async function readPages<T>(
  jobId: string,
  started: number,
  ctx: JobContext,
  fetch: (token: string | undefined) => Promise<ListPage<T>>,
  onItems: (items: T[]) => void,
): Promise<'forbidden' | 'done'> {
  let token: string | undefined;
  const seen = new Set<string>();
  for (;;) {
    const page = await fetch(token);
    if (page === 'forbidden') return page;
    if (page === 'processing') {
      checkTimeout(jobId, started, ctx);
      await sleep(ctx.clock, ctx.pollIntervalMs, ctx.signal);
      continue;
    }
    onItems(page.results);
    token = page.nextPageToken;
    if (!token || seen.has(token)) return 'done';
    seen.add(token);
  }
}
