/**
 * What the load path needs from a place that takes batch imports: FullStory's Server API v2
 * (fullstory.ts) or the dry run (dry-run.ts). The same scheduler, jobs and checkpoints drive both.
 */

import type { CreatedJob, ErrorItem, JobStatus, Page } from '@fullstory-singer/fullstory-client';
import type { BatchKind } from '../load/batch.js';

export type { CreatedJob, ErrorItem, JobStatus, Page };

/** One page of a job's `/errors` or `/imports`, or why there is none. */
export type ListPage<T> = Page<T> | 'processing' | 'forbidden';

/** One batch create. */
export interface Create {
  stream: string;
  kind: BatchKind;
  /** The JSON `{"requests": [...]}`, as UTF-8 bytes. */
  body: Buffer;
  /** The `Idempotency-Key` of the attempt after `savedFailures` answers FullStory saved under their key (load/idempotency.ts). */
  idempotencyKeys: (savedFailures: number) => string;
}

/** Batch imports: create, poll, read results (https://developer.fullstory.com/server/asynchronous-workflows/). */
export interface BatchApi {
  /** @throws BatchRefusedError (fullstory-client) when the body itself is refused (400, 413) */
  createBatch(create: Create, signal: AbortSignal): Promise<CreatedJob>;
  getJob(kind: BatchKind, jobId: string, signal: AbortSignal): Promise<JobStatus>;
  getJobErrors(kind: BatchKind, jobId: string, pageToken: string | undefined, signal: AbortSignal): Promise<ListPage<ErrorItem>>;
  getJobImports(kind: BatchKind, jobId: string, pageToken: string | undefined, signal: AbortSignal): Promise<ListPage<unknown>>;
}
