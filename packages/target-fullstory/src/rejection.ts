/**
 * Why a record was not imported. Every rejection becomes one dead-letter line (see dead-letter.ts) and a
 * count in the closing summary; nothing is dropped without both.
 */

/** Stable categories of rejection, written as `reason` in the dead-letter file. */
export type RejectionReason =
  /** The record does not match its stream's SCHEMA (ajv; `code` is the failing keyword). */
  | 'schema_validation'
  /** A field FullStory requires (uid, event name) is missing, null or empty. */
  | 'missing_required_field'
  /** A mapped field has a value FullStory cannot take (a timestamp that is not one, an object as uid). */
  | 'invalid_value'
  /** FullStory rejected the request in a finished job (`code`/`message` are FullStory's). */
  | 'rejected_by_fullstory';

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
