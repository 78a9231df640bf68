/**
 * Which STATE may be emitted, and when. The Singer spec asks a target to emit a state only once the
 * records before it are safely stored (https://hub.meltano.com/singer/spec/#state).
 *
 * Every record gets a sequence number in input order; a STATE is remembered with its boundary, the
 * number of records read before it. A state is safe once every record before its boundary is settled:
 * imported or dead-lettered (the dead-letter file is flushed before a state is written). The run tells
 * {@link Checkpoints.ready} the lowest sequence number not yet settled (the first record of the oldest
 * unsettled batch).
 *
 * States go out in input order; when several are safe at once only the newest is written, since it makes
 * the older ones redundant. `{}` and non-object values are never written, nor the same value twice in a row.
 */

import { stringifyJson } from '@fullstory-singer/singer-core';

interface PendingState {
  boundary: number;
  json: string;
}

/** Record positions and pending states. */
export class Checkpoints {
  private seq = 0;
  private pending: PendingState[] = [];
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

  /** Remember a STATE value read after every record numbered so far. `{}`, null and non-objects are ignored. */
  addState(value: unknown): void {
    if (value === null || typeof value !== 'object' || Array.isArray(value)) return;
    let empty = true;
    for (const _ in value) {
      empty = false;
      break;
    }
    if (empty) return;
    const entry: PendingState = { boundary: this.seq, json: stringifyJson(value) };
    const last = this.pending[this.pending.length - 1];
    // Same boundary: the newer state covers exactly the same records, so it replaces the older one.
    if (last && last.boundary === entry.boundary) this.pending[this.pending.length - 1] = entry;
    else this.pending.push(entry);
  }

  /**
   * The newest state whose records are all settled, when every record before `lowestUnsettled` is,
   * and it differs from the last one written; that state and older ones are then forgotten. Call
   * {@link emitted} once it is written.
   */
  ready(lowestUnsettled: number): string | undefined {
    let i = -1;
    while (i + 1 < this.pending.length && this.pending[i + 1]!.boundary <= lowestUnsettled) i++;
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
}
