/**
 * Per-stream batching. Each stream has one open batch; it is sealed when it holds `batch_size`
 * records, when it is `max_batch_age_seconds` old, before a changed SCHEMA for the stream takes
 * effect, and at the end of input — at no other time (a STATE does not cut a batch short).
 *
 * Synchronous, with no timer of its own: the read loop asks for the next deadline, wakes up then, and
 * seals what has aged (run.ts). So there is one sender, and batches go to the scheduler in the order
 * they were sealed.
 */

import type { Clock } from '../clock.js';
import { advance, openBatch, type Batch, type BatchKind, type SealReason } from './batch.js';
import type { BatchPools } from './texts.js';

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
  private nextId = 1;

  constructor(private readonly o: BatcherOptions) {}

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
      batch = openBatch(this.o.pools, this.nextId++, stream, kind, seq, this.o.clock.now());
      this.open.set(stream, batch);
    }
    batch.requests.push(request);
    batch.records.push(line);
    if (uid !== undefined) batch.uids.push(uid);
    return batch.requests.length >= this.o.batchSize ? this.seal(stream, 'size') : undefined;
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
    const all = [...this.open.values()].sort((a, b) => a.firstSeq - b.firstSeq);
    return all.map((b) => this.seal(b.stream, 'end')!);
  }

  /** The open batches (still taking records). */
  openBatches(): IterableIterator<Batch> {
    return this.open.values();
  }
}
