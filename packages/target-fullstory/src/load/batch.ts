/**
 * A batch: the requests of one stream sent as one FullStory batch import, with the records they came
 * from, and its life as an explicit phase:
 *
 *   open ──seal──▶ sealed ──create──▶ created ──account──▶ settled
 *                     │                  │
 *                     └──────────────────┴──▶ failed (the run stopped or failed before it settled)
 *
 * - open: in the batcher, taking records (batcher.ts).
 * - sealed: its boundaries are final; `sealedBy` says why (size, a STATE, age, a changed SCHEMA, end of
 *   input). Waiting for a job slot and for earlier batches holding its uids (scheduler.ts).
 * - created: FullStory accepted every part of it as a job (a refused batch is split, job.ts).
 * - settled: every record is imported or dead-lettered.
 * - failed: abandoned, its remaining records neither imported nor dead-lettered; they lie after the
 *   last state emitted, so a rerun sends them again.
 *
 * What makes a batch what it is — stream, kind, its place after the last state boundary (`ordinal`)
 * and the exact request bodies in order — is fixed at seal time and depends only on the input after
 * that boundary (batcher.ts), so its `Idempotency-Key` is derived from it (idempotency.ts) and a rerun
 * from the state rebuilds the same batch under the same key. Only a seal by `age` depends on timing.
 */

import { InternalError, parseJson, type RecordMessage } from '@fullstory-singer/singer-core';
import { TextList, type BatchPools } from './texts.js';

/** The FullStory batch endpoint family: audiences are users requests. */
export type BatchKind = 'users' | 'events';

/** Why a batch was sealed. Only `age` depends on timing rather than on the input. */
export type SealReason = 'size' | 'state' | 'age' | 'schema' | 'end';

/** See the module comment. */
export type BatchPhase = 'open' | 'sealed' | 'created' | 'settled' | 'failed';

const NEXT: Record<BatchPhase, readonly BatchPhase[]> = {
  open: ['sealed'],
  sealed: ['created', 'failed'],
  created: ['settled', 'failed'],
  settled: [],
  failed: [],
};

/** A batch of one stream's requests. */
export interface Batch {
  /** Sequence number within the run, in the order batches were opened (logs). */
  readonly id: number;
  readonly stream: string;
  readonly kind: BatchKind;
  /** Which batch of its stream this is since the last state boundary: 0, 1, ... (part of its key). */
  readonly ordinal: number;
  /** Input position (record sequence number) of the first record: state safety is judged by it. */
  readonly firstSeq: number;
  /** When the first record arrived (ms, the run's clock). */
  readonly openedAt: number;
  /** Each request's JSON text, in input order, framed as the batch body (texts.ts). */
  readonly requests: TextList;
  /** `records.text(i)` is the input line of the Singer record `requests[i]` was mapped from (see {@link recordAt}). */
  readonly records: TextList;
  /** Users batches: the uid of each request, in order (the load order across batches). */
  readonly uids: string[];
  phase: BatchPhase;
  sealedBy?: SealReason;
  /** Records imported or dead-lettered so far (all of them once settled). */
  accounted: number;
}

/** Head and tail of a batch body around its requests (the tail is written when the body is sent). */
const BODY_HEAD = '{"requests":[';
export const BODY_TAIL = ']}';

/** A new open batch, its texts in buffers from `pools`. */
export function openBatch(
  pools: BatchPools,
  at: { id: number; stream: string; kind: BatchKind; ordinal: number; firstSeq: number; openedAt: number },
): Batch {
  const { id, stream, kind, ordinal, firstSeq, openedAt } = at;
  return {
    id,
    stream,
    kind,
    ordinal,
    firstSeq,
    openedAt,
    requests: new TextList(pools.requests, BODY_HEAD, ','),
    records: new TextList(pools.records),
    uids: [],
    phase: 'open',
    accounted: 0,
  };
}

/** The Singer record of request `i` (parsed again from its input line: rare, for the dead-letter file). */
export function recordAt(batch: Batch, i: number): Record<string, unknown> {
  return (parseJson(batch.records.text(i)) as RecordMessage).record;
}

/**
 * The batch's buffers go back to the pool once it settled (no request can still be sending them);
 * a failed batch's are left to the garbage collector, since an aborted request may still hold them.
 */
export function releaseTexts(batch: Batch): void {
  if (batch.phase === 'settled') {
    batch.requests.release();
    batch.records.release();
  } else {
    batch.requests.drop();
    batch.records.drop();
  }
}

/** Move `batch` to `phase`; a move the diagram above does not allow is a bug. */
export function advance(batch: Batch, phase: BatchPhase): void {
  if (!NEXT[batch.phase].includes(phase)) throw new InternalError(`batch ${batch.id}: ${batch.phase} → ${phase} is not a step of its life`);
  batch.phase = phase;
}

/** Records of `batch` neither imported nor dead-lettered. */
export function unsettledRecords(batch: Batch): number {
  return batch.records.length - batch.accounted;
}
