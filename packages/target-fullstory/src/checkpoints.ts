/**
 * Which STATE may be emitted, and when. The Singer spec asks a target to emit a state only once the
 * records before it are safely stored (https://hub.meltano.com/singer/spec/#state).
 *
 * Every record gets a sequence number in input order; a STATE is remembered with its position, the
 * number of records read before it. A state is safe once every record before its position is settled:
 * imported or dead-lettered (the dead-letter file is flushed before a state is written). The run tells
 * {@link Checkpoints.ready} the lowest sequence number not yet settled (the first record of the oldest
 * unsettled batch).
 *
 * Only a state that is a batch boundary is emitted (the batcher sealed every open batch at it, see
 * batcher.ts): a rerun from it rebuilds exactly the batches that followed it, under the same
 * `Idempotency-Key`s. A skipped state (open batches too empty to seal) is never emitted, unless it
 * becomes a boundary later: the open batches came of age and were sealed with no record read after it.
 * And when the input ends every open batch is sealed, and the last state read is emitted once its
 * records are settled, boundary or not ("at the end the latest state is emitted").
 *
 * States go out in input order; when several are safe at once only the newest is written, since it makes
 * the older ones redundant. `{}` and non-object values are never written, nor the same value twice in a row.
 */

import { stringifyJson } from '@fullstory-singer/singer-core';

interface PendingState {
  /** Records read before the state. */
  position: number;
  json: string;
}

/** Whether a STATE value could ever be emitted: a non-empty object (`{}`, null and non-objects never are). */
export function emittable(value: unknown): value is object {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false;
  for (const _ in value) return true;
  return false;
}

/** Record positions and pending states. */
export class Checkpoints {
  private seq = 0;
  /** Boundary states not yet emitted, oldest first. */
  private pending: PendingState[] = [];
  /** The newest state read, when it was skipped (not a boundary) and came after every pending one. */
  private skipped: PendingState | undefined;
  private lastEmitted: string | undefined;
  /** States written so far. */
  emitted = 0;

  /** Number the next record; returns its sequence number. */
  nextSeq(): number {
    return this.seq++;
  }

  /** Records numbered so far. */
  get recordsSeen(): number {
    return this.seq;
  }

  /**
   * Remember a STATE value read after every record numbered so far; `boundary`: the batcher sealed every
   * open batch at it. Values that are not {@link emittable} are ignored.
   */
  addState(value: unknown, boundary: boolean): void {
    if (!emittable(value)) return;
    const entry: PendingState = { position: this.seq, json: stringifyJson(value) };
    if (!boundary) {
      this.skipped = entry;
      return;
    }
    this.skipped = undefined;
    this.push(entry);
  }

  /** Whether the newest state read was skipped and no record came after it. */
  get skippedIsLast(): boolean {
    return this.skipped !== undefined && this.skipped.position === this.seq;
  }

  /**
   * The skipped state goes out once it is safe after all: the input ended (every open batch was sealed,
   * and the last state read is emitted, boundary or not), or the batches were sealed at its position
   * later, with no record after it ({@link skippedIsLast}: it is a boundary now).
   */
  promoteSkipped(): void {
    if (this.skipped) this.push(this.skipped);
    this.skipped = undefined;
  }

  /**
   * The newest state whose records are all settled, when every record before `lowestUnsettled` is,
   * and it differs from the last one written; that state and older ones are then forgotten. Call
   * {@link emitted} once it is written.
   */
  ready(lowestUnsettled: number): string | undefined {
    let i = -1;
    while (i + 1 < this.pending.length && this.pending[i + 1]!.position <= lowestUnsettled) i++;
    if (i < 0) return undefined;
    const state = this.pending[i]!;
    this.pending = this.pending.slice(i + 1);
    if (state.json === this.lastEmitted) return undefined;
    return state.json;
  }

  /** `json` (from {@link ready}) was written. */
  wrote(json: string): void {
    this.lastEmitted = json;
    this.emitted++;
  }

  private push(entry: PendingState): void {
    const last = this.pending[this.pending.length - 1];
    // Same position: the newer state covers exactly the same records, so it replaces the older one.
    if (last && last.position === entry.position) this.pending[this.pending.length - 1] = entry;
    else this.pending.push(entry);
  }
}
