/**
 * The one place an `Idempotency-Key` is made (https://developer.fullstory.com/server/idempotent-requests/).
 *
 * FullStory saves the answer to the first request with a key for 24 hours and gives it to every later
 * request with that key and the same body, without running it again. So a key is derived from what
 * makes a create what it is, and nothing else: the stream, the data type, the batch's place after the
 * last state boundary (its `ordinal`, batcher.ts), which part of it this is (the requests `[lo, hi)`,
 * when FullStory refused the whole and the target split it), and the exact request bodies in order
 * (the body's bytes). Hashed with SHA-256, as base64url: 43 characters, well within a header.
 *
 * - A retry of a create keeps its key: a lost answer cannot make a second job.
 * - A rerun from the last state printed rebuilds the same batches (batcher.ts) and sends them with the
 *   same keys: FullStory answers with the job the killed run created instead of importing the records
 *   again; the target polls that job and accounts for it as for any other.
 * - FullStory's production docs save a 500 too, "Subsequent requests with the same key return the same
 *   result, including 500 errors": after a 500 the create moves to the next key of a fixed sequence,
 *   `base`, `base-1`, `base-2`, ... (one step per 500, at most `max_retries` steps; fullstory-client
 *   counts them). A rerun walks the same sequence, meets the saved 500s again and then the saved
 *   success, so it does not make a second job either.
 * - A part of a split batch has its own body, so its own key; a refused whole keeps its refusal.
 *
 * Two identical creates (same stream, type, place and bodies) within 24 hours get one job. After a state
 * boundary that is the point. Across separate runs it means a batch byte for byte equal to one sent
 * less than 24 hours before, in the same place after the run's start, is not imported again: right for
 * events (they are the same events), wrong for users when a batch in between changed them (a full sync
 * that flips a value and back). So a users create that meets a job made before this run began waits for
 * that job and is sent once more under a `resend` key of this run (job.ts): its values are applied
 * again, after the earlier job, and the last value in the input is the last in FullStory. Within one
 * run the same holds for both kinds: a create answered with a job this run already got for another
 * batch is sent again (the input holds those records twice).
 */

import { createHash } from 'node:crypto';
import type { BatchKind } from './batch.js';

/** What one create sends, and where it lies. */
export interface CreateSpec {
  stream: string;
  kind: BatchKind;
  /** The batch's place among its stream's batches since the last state boundary. */
  ordinal: number;
  /** The requests of the batch this create sends: `[lo, hi)`. */
  lo: number;
  hi: number;
  /** The body as sent: `{"requests":[...]}`, the request bodies in order. */
  body: Buffer;
  /**
   * Set only when a batch is sent again after its create met an earlier create's job (job.ts): unique
   * to this run and batch, so this create is new to FullStory.
   */
  resend?: string;
}

/** Names this derivation: a change to it must not meet keys made the old way. */
const VERSION = 'target-fullstory/1';

/**
 * The `Idempotency-Key`s of one create: the key of the attempt after `savedFailures` 500s
 * (see the module comment).
 */
export function idempotencyKeys(create: CreateSpec): (savedFailures: number) => string {
  const base = createHash('sha256')
    .update(JSON.stringify([VERSION, create.stream, create.kind, create.ordinal, create.lo, create.hi, ...(create.resend === undefined ? [] : [create.resend])]))
    .update('\n')
    .update(create.body)
    .digest('base64url');
  return (savedFailures) => (savedFailures === 0 ? base : `${base}-${savedFailures}`);
}

/**
 * The most recent `capacity` ids added (job ids this run's creates were answered with). Bounded, so a
 * run of any length keeps a fixed amount: 100,000 ids are a few MB, and a batch equal to one sent more
 * than 100,000 jobs earlier in the same run is the rare case it gives up on (job.ts).
 */
export class RecentSet {
  private readonly ids = new Set<string>();

  constructor(private readonly capacity = 100_000) {}

  add(id: string): void {
    this.ids.delete(id);
    this.ids.add(id);
    if (this.ids.size > this.capacity) this.ids.delete(this.ids.values().next().value!);
  }

  has(id: string): boolean {
    return this.ids.has(id);
  }
}
