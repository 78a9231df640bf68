/**
 * The one place an `Idempotency-Key` is made. A key is made once per create — a sealed batch, or one
 * part of a batch FullStory refused and the target split — and the client sends it unchanged on every
 * retry of that create, so a retry after a lost answer cannot make a second job
 * (https://developer.fullstory.com/server/idempotent-requests/). A part gets its own key: FullStory
 * keeps the first answer of a key for 24 hours and refuses the same key with another body.
 *
 * The key is random today. Everything a deterministic key would be derived from (stream, kind, the
 * exact request bodies in order: the body's bytes) is what this function is given.
 */

import { randomUUID } from 'node:crypto';
import type { BatchKind } from './batch.js';

/** What one create sends. */
export interface CreateSpec {
  stream: string;
  kind: BatchKind;
  /** The body as sent: `{"requests":[...]}`, the request bodies in order. */
  body: Buffer;
}

/** The `Idempotency-Key` of one create. */
export function idempotencyKey(_create: CreateSpec): string {
  return randomUUID();
}
