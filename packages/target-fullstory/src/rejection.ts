/**
 * Why a record was not imported. Every rejection becomes one dead-letter line (dead-letter.ts) and a
 * count in the closing summary; nothing is dropped without both. The README's troubleshooting section
 * says what each code means and what to do.
 */

/** Stable categories of rejection, written as `reason` in the dead-letter file. */
export type RejectionReason =
  /** The record does not match its stream's SCHEMA (ajv; `code` is the failing keyword). */
  | 'schema_validation'
  /** A field FullStory requires (uid, event name) is missing, null or empty. */
  | 'missing_required_field'
  /**
   * A value FullStory cannot take: a timestamp that is not one, an object as uid, a value past a
   * documented limit, a number that is not finite, two property names that collide once rewritten.
   */
  | 'invalid_value'
  /** FullStory rejected the request: listed in a finished job's `/errors`, or a batch refused alone (`code`/`message` are FullStory's). */
  | 'rejected_by_fullstory'
  /**
   * FullStory's job did not say the record was imported: its counts fall short and neither `/errors`
   * nor `/imports` names it (`unaccounted`), or the key may not read those lists (`job_results_forbidden`).
   */
  | 'unaccounted';

/** A rejection before sending: reason, a short code and a one-line message. */
export interface Rejection {
  ok: false;
  reason: RejectionReason;
  code: string;
  message: string;
}

/** Build a {@link Rejection}. */
export function reject(reason: RejectionReason, code: string, message: string): Rejection {
  return { ok: false, reason, code, message };
}
