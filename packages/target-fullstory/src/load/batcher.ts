/**
 * Per-stream batching. Each stream has one open batch; it is sealed when it holds `batch_size`
 * records, at a STATE that becomes a boundary (below), when it is `max_batch_age_seconds` old, before
 * a changed SCHEMA for the stream takes effect, and at the end of input — at no other time.
 *
 * Boundaries. A STATE covers every stream, and a rerun from it starts every stream afresh; so a state
 * the target may emit must be a batch boundary in every stream: at such a STATE every open batch is
 * sealed (`state`), and the batches after it are a function of the input after it alone (sizes,
 * SCHEMA changes, the next boundaries), not of timing. A rerun from that state, given the same input,
 * builds the same batches — same records, same order, same `ordinal` — and so the same
 * `Idempotency-Key`s (idempotency.ts). To keep batches full, a STATE becomes a boundary only when no
 * batch is open or the fullest open batch holds at least half of `batch_size`
 * ({@link MIN_FILL_AT_STATE}); otherwise it is skipped: no batch is sealed and the state is never
 * emitted, except as the last state of the input (checkpoints.ts). The half is measured on the fullest
 * batch, not their sum, so many nearly empty streams do not make a boundary of many tiny jobs.
 *
 * A seal by age alone depends on when the input paused: a rerun does not build that batch again, so
 * its records (and those of its stream until the next boundary) may be imported twice if the run is
 * killed before the next state is printed. Such a batch is marked `sealedBy: 'age'`.
 *
 * Synchronous, with no timer of its own: the read loop asks for the next deadline, wakes up then, and
 * seals what has aged (run.ts). So there is one sender, and batches go to the scheduler in the order
 * they were sealed.
 */

import type { Clock } from '../clock.js';
import { advance, openBatch, type Batch, type BatchKind, type SealReason } from './batch.js';
import type { BatchPools } from './texts.js';

/** The share of `batch_size` the fullest open batch must hold for a STATE to seal the open batches. */
export const MIN_FILL_AT_STATE = 0.5;

/** Options of {@link Batcher}. */
export interface BatcherOptions {
  batchSize: number;
  maxAgeMs: number;
  /** Stamps when a batch opens (its age). */
  clock: Clock;
  /** Where batches take the buffers for their texts. */
  pools: BatchPools;
}

/** Holds the open batch of each stream. */
export class Batcher {
  private readonly open = new Map<string, Batch>();
  /** Per stream, the batches opened since the last boundary: the next batch's ordinal. */
  private readonly opened = new Map<string, number>();
  private nextId = 1;
  private readonly minFill: number;

  constructor(private readonly o: BatcherOptions) {
    this.minFill = Math.ceil(o.batchSize * MIN_FILL_AT_STATE);
  }

  /**
   * Add one mapped record. Returns the stream's batch, sealed, when this record filled it: the caller
   * hands it on.
   * @param request the request's JSON text
   * @param line the input line the record came in
   * @param uid the request's uid, for users batches
   */
  add(stream: string, kind: BatchKind, request: string, line: string, seq: number, uid?: string): Batch | undefined {
    let batch = this.open.get(stream);
    if (!batch) {
      const ordinal = this.opened.get(stream) ?? 0;
      this.opened.set(stream, ordinal + 1);
      batch = openBatch(this.o.pools, { id: this.nextId++, stream, kind, ordinal, firstSeq: seq, openedAt: this.o.clock.now() });
      this.open.set(stream, batch);
    }
    batch.requests.push(request);
    batch.records.push(line);
    if (uid !== undefined) batch.uids.push(uid);
    return batch.requests.length >= this.o.batchSize ? this.seal(stream, 'size') : undefined;
  }

  /**
   * A STATE was read: make it a boundary (see the module comment) and return the batches that sealed,
   * oldest first (none when none was open), or return undefined: the STATE is skipped.
   */
  atState(): Batch[] | undefined {
    let fullest = 0;
    for (const b of this.open.values()) fullest = Math.max(fullest, b.requests.length);
    if (fullest > 0 && fullest < this.minFill) return undefined;
    const sealed = this.sealEvery('state');
    this.opened.clear();
    return sealed;
  }

  /** Seal and detach the stream's open batch, if any. */
  seal(stream: string, reason: SealReason): Batch | undefined {
    const batch = this.open.get(stream);
    if (!batch) return undefined;
    this.open.delete(stream);
    advance(batch, 'sealed');
    batch.sealedBy = reason;
    return batch;
  }

  /** When the oldest open batch comes of age (ms, the run's clock); undefined when none is open. */
  nextDeadline(): number | undefined {
    let first: number | undefined;
    for (const b of this.open.values()) if (first === undefined || b.openedAt < first) first = b.openedAt;
    return first === undefined ? undefined : first + this.o.maxAgeMs;
  }

  /** Seal every batch that is `maxAgeMs` old at `now`, oldest first. */
  sealAged(now: number): Batch[] {
    const aged = [...this.open.values()].filter((b) => now - b.openedAt >= this.o.maxAgeMs).sort((a, b) => a.firstSeq - b.firstSeq);
    return aged.map((b) => this.seal(b.stream, 'age')!);
  }

  /** Seal every open batch, oldest first (end of input). */
  sealAll(): Batch[] {
    return this.sealEvery('end');
  }

  /** The open batches (still taking records). */
  openBatches(): IterableIterator<Batch> {
    return this.open.values();
  }

  private sealEvery(reason: SealReason): Batch[] {
    const all = [...this.open.values()].sort((a, b) => a.firstSeq - b.firstSeq);
    return all.map((b) => this.seal(b.stream, reason)!);
  }
}
