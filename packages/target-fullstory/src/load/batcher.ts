/**
 * Per-stream batching (target.md, "Batches, jobs and state"). Each stream has its own buffer, sent when
 * it holds `batch_size` records, when it is `max_batch_age_seconds` old, before a changed SCHEMA for the
 * stream takes effect, and at the end — at no other time (a STATE does not cut a batch short).
 *
 * A batch keeps the original Singer records beside the mapped requests until its job ends, so records
 * FullStory rejects can be written to the dead-letter file as they came in.
 */

import { randomUUID } from 'node:crypto';
import type { FullStoryRequest } from './mapping.js';

/** The FullStory batch endpoint family: audiences are users requests. */
export type BatchKind = 'users' | 'events';

/** A batch of mapped requests for one stream, with the records they came from. */
export interface Batch {
  /** Sequential id within the run (logs and tests). */
  readonly id: number;
  readonly stream: string;
  readonly kind: BatchKind;
  readonly requests: FullStoryRequest[];
  /** `records[i]` is the Singer record `requests[i]` was mapped from. */
  readonly records: Record<string, unknown>[];
  /** Input position (record sequence number) of the first record: state safety is judged by it. */
  readonly firstSeq: number;
  /** When the first record arrived (ms). */
  readonly openedAt: number;
  /** Made once when the batch is sealed and reused on every retry of its creation. */
  idempotencyKey: string;
  /**
   * Set by the job pipeline once the job is created, when `requests` is emptied: each request's
   * identity (`requestKey` in mapping.ts), to match FullStory's error items to `records`.
   */
  keys?: string[];
}

/** Options of {@link Batcher}. */
export interface BatcherOptions {
  batchSize: number;
  maxAgeMs: number;
  now?: () => number;
  /** Called when a stream's buffer receives its first record (the state tracker opens the batch). */
  onOpen?: (batch: Batch) => void;
  /** Idempotency key factory (tests). */
  newKey?: () => string;
}

/** Holds one open batch per stream. Synchronous: the caller sends what it hands back. */
export class Batcher {
  private readonly open = new Map<string, Batch>();
  private nextId = 1;
  private readonly batchSize: number;
  private readonly maxAgeMs: number;
  private readonly now: () => number;
  private readonly onOpen: (batch: Batch) => void;
  private readonly newKey: () => string;

  constructor(options: BatcherOptions) {
    this.batchSize = options.batchSize;
    this.maxAgeMs = options.maxAgeMs;
    this.now = options.now ?? Date.now;
    this.onOpen = options.onOpen ?? (() => {});
    this.newKey = options.newKey ?? randomUUID;
  }

  /**
   * Add one mapped record. Returns the stream's batch, sealed, when this record filled it; the caller
   * sends it.
   */
  add(stream: string, kind: BatchKind, request: FullStoryRequest, record: Record<string, unknown>, seq: number): Batch | undefined {
    let batch = this.open.get(stream);
    if (batch && batch.kind !== kind) {
      // A stream's data type is fixed by config; a kind change would be a bug in the caller.
      throw new Error(`batch kind changed for stream ${stream}`);
    }
    if (!batch) {
      batch = { id: this.nextId++, stream, kind, requests: [], records: [], firstSeq: seq, openedAt: this.now(), idempotencyKey: '' };
      this.open.set(stream, batch);
      this.onOpen(batch);
    }
    batch.requests.push(request);
    batch.records.push(record);
    return batch.requests.length >= this.batchSize ? this.take(stream) : undefined;
  }

  /** Detach and seal the stream's open batch, if any (SCHEMA change, end of input). */
  take(stream: string): Batch | undefined {
    const batch = this.open.get(stream);
    if (!batch) return undefined;
    this.open.delete(stream);
    batch.idempotencyKey = this.newKey();
    return batch;
  }

  /** Detach every batch that is `maxAgeMs` old or older, oldest first. */
  takeAged(now = this.now()): Batch[] {
    const out: Batch[] = [];
    for (const [stream, batch] of this.open) {
      if (now - batch.openedAt >= this.maxAgeMs) out.push(this.take(stream)!);
    }
    return out.sort((a, b) => a.firstSeq - b.firstSeq);
  }

  /** Detach every open batch, oldest first (end of input). */
  takeAll(): Batch[] {
    return [...this.open.keys()].map((s) => this.take(s)!).sort((a, b) => a.firstSeq - b.firstSeq);
  }

  /** Number of streams with an open batch. */
  get size(): number {
    return this.open.size;
  }
}
