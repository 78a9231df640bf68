/**
 * Which STATE may be emitted, and when (target.md, "Batches, jobs and state"; singer.md §1.6).
 *
 * Every record gets a sequence number in input order; a STATE is remembered with its boundary, the
 * number of records read before it. Batches are "open" from their first record until their records are
 * safe (imported or dead-lettered; with `wait_for_jobs: false`, until the job is created). A state is safe
 * once no open batch started before its boundary — records rejected before batching are safe as soon as
 * their dead-letter line is flushed, which happens before any state is written.
 *
 * States go out in input order; when several are safe at once only the newest is written, since it makes
 * the older ones redundant. `{}` and non-object values are never written, nor the same value twice in a row.
 */

import { stringifyJson } from '@fullstory-singer/singer-core';

/** Anything with a first record sequence number: an open batch. */
export interface OpenUnit {
  readonly firstSeq: number;
}

/** Options of {@link StateTracker}. */
export interface StateTrackerOptions {
  /** Writes one state line (the bare value, serialised). */
  emit: (json: string) => Promise<void>;
  /** Runs before each state is written (flush the dead-letter file). */
  beforeEmit?: () => Promise<void>;
  /** False in a dry run: states are tracked but never written (nothing was imported). */
  enabled?: boolean;
}

interface PendingState {
  boundary: number;
  json: string;
}

/** Tracks record positions, open batches and pending states; writes states once they are safe. */
export class StateTracker {
  private seq = 0;
  private readonly openUnits = new Set<OpenUnit>();
  private pending: PendingState[] = [];
  private lastEmitted?: string;
  private chain: Promise<void> = Promise.resolve();
  private readonly emitLine: (json: string) => Promise<void>;
  private readonly beforeEmit: () => Promise<void>;
  private readonly enabled: boolean;
  /** States written so far. */
  emitted = 0;
  /** States received (non-empty objects). */
  received = 0;

  constructor(options: StateTrackerOptions) {
    this.emitLine = options.emit;
    this.beforeEmit = options.beforeEmit ?? (async () => {});
    this.enabled = options.enabled ?? true;
  }

  /** Number the next record; returns its sequence number. */
  nextSeq(): number {
    return this.seq++;
  }

  /** Records numbered so far. */
  get recordsSeen(): number {
    return this.seq;
  }

  /** Remember a STATE value read after every record numbered so far. `{}`, null and non-objects are ignored. */
  addState(value: unknown): boolean {
    if (value === null || typeof value !== 'object' || Array.isArray(value)) return false;
    let empty = true;
    for (const _ in value) {
      empty = false;
      break;
    }
    if (empty) return false;
    this.received++;
    const entry: PendingState = { boundary: this.seq, json: stringifyJson(value) };
    const last = this.pending[this.pending.length - 1];
    // Same boundary: the newer state covers exactly the same records, so it replaces the older one.
    if (last && last.boundary === entry.boundary) this.pending[this.pending.length - 1] = entry;
    else this.pending.push(entry);
    return true;
  }

  /** A batch received its first record. */
  open(unit: OpenUnit): void {
    this.openUnits.add(unit);
  }

  /** A batch's records are safe (imported or dead-lettered). */
  close(unit: OpenUnit): void {
    this.openUnits.delete(unit);
  }

  /** Lowest first sequence number among open batches (Infinity when none). */
  lowestOpen(): number {
    let low = Infinity;
    for (const u of this.openUnits) if (u.firstSeq < low) low = u.firstSeq;
    return low;
  }

  /** States waiting to become safe. */
  get pendingCount(): number {
    return this.pending.length;
  }

  /**
   * Write the newest state that is safe now, if any. Calls are serialised, so states come out in order
   * even when several jobs finish at once. Resolves when the write is done.
   */
  emitReady(): Promise<void> {
    const next = this.chain.then(() => this.emitSafe());
    // Keep the chain alive after a failed write; the caller of this call sees the error.
    this.chain = next.catch(() => {});
    return next;
  }

  private async emitSafe(): Promise<void> {
    if (this.pending.length === 0) return;
    const low = this.lowestOpen();
    let i = -1;
    while (i + 1 < this.pending.length && this.pending[i + 1]!.boundary <= low) i++;
    if (i < 0) return;
    const state = this.pending[i]!;
    this.pending = this.pending.slice(i + 1);
    if (!this.enabled || state.json === this.lastEmitted) return;
    await this.beforeEmit();
    await this.emitLine(state.json);
    this.lastEmitted = state.json;
    this.emitted++;
  }
}
