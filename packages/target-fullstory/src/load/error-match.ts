/**
 * Which record of a job did FullStory mean? A job's `/errors` items echo the failed request
 * (`{code, message, user}` or `{code, message, event}`,
 * https://developer.fullstory.com/server/users/get-batch-user-import-errors/); its `/imports` items
 * describe what was imported (`{id, uid, ...}`, `{user, name, timestamp, ...}`).
 *
 * - An error item is matched by the whole content of the request it echoes: the first request not yet
 *   matched whose content is equal. So when one uid appears twice in a batch and only the second request
 *   fails, the second record is the one dead-lettered; of two equal requests, the first in the batch is
 *   taken first. Content is compared as canonical JSON: keys sorted, `null` left out, an event
 *   `timestamp` compared as the instant it names, so FullStory's spelling of an echo does not matter.
 * - An import item is matched by identity (users: uid; events: uid or session id, and name),
 *   again the first unmatched in batch order: imports only confirm records, they never reject one.
 *
 * Indexes are built only when a job has something to match: most jobs import everything.
 */

import { parseJson } from '@fullstory-singer/singer-core';
import { normalizeTimestamp } from '../mapping/timestamps.js';
import type { BatchKind } from './batch.js';
import type { TextList } from './texts.js';

/** Matches FullStory's items to the requests `requests[lo..hi)` of one job; each request at most once. */
export class RequestMatcher {
  private byContent?: Map<string, number[]>;
  private byIdentity?: Map<string, number[]>;
  private readonly used = new Set<number>();

  constructor(
    private readonly kind: BatchKind,
    private readonly requests: TextList,
    private readonly lo: number,
    private readonly hi: number,
  ) {}

  /** The request (index into `requests`) whose content `echoed` repeats, if one is left. */
  matchEcho(echoed: unknown): number | undefined {
    if (echoed === undefined || echoed === null) return undefined;
    this.byContent ??= this.index((r) => canonical(r));
    return this.take(this.byContent, canonical(echoed));
  }

  /** The request an `/imports` item stands for, if one is left. */
  matchImport(item: unknown): number | undefined {
    this.byIdentity ??= this.index((r) => identity(this.kind, r));
    return this.take(this.byIdentity, identity(this.kind, item));
  }

  /** Whether request `i` was matched. */
  matched(i: number): boolean {
    return this.used.has(i);
  }

  private index(key: (request: unknown) => string): Map<string, number[]> {
    const map = new Map<string, number[]>();
    for (let i = this.lo; i < this.hi; i++) {
      const k = key(parseJson(this.requests.text(i)));
      const list = map.get(k);
      if (list) list.push(i);
      else map.set(k, [i]);
    }
    return map;
  }

  private take(index: Map<string, number[]>, key: string): number | undefined {
    const list = index.get(key);
    while (list && list.length > 0) {
      const i = list.shift()!;
      if (!this.used.has(i)) {
        this.used.add(i);
        return i;
      }
    }
    return undefined;
  }
}

/** Canonical JSON: keys sorted, nulls dropped, a top-level event `timestamp` as its instant. */
function canonical(value: unknown, top = true): string {
  if (value === null || value === undefined) return 'null';
  if (typeof value === 'bigint') return value.toString();
  if (typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map((v) => canonical(v, false)).join(',')}]`;
  const obj = value as Record<string, unknown>;
  const parts: string[] = [];
  for (const k of Object.keys(obj).sort()) {
    const v = obj[k];
    if (v === null || v === undefined) continue;
    const text = top && k === 'timestamp' ? JSON.stringify(normalizeTimestamp(v) ?? v) : canonical(v, false);
    parts.push(`${JSON.stringify(k)}:${text}`);
  }
  return `{${parts.join(',')}}`;
}

/**
 * Who and what a request or an import item is about: users by uid; events by uid or session, and name
 * (not the time: FullStory sets one on an event sent without).
 */
function identity(kind: BatchKind, value: unknown): string {
  const r = (value ?? {}) as Record<string, unknown>;
  if (kind === 'users') return String(r['uid'] ?? '');
  const user = (r['user'] ?? {}) as Record<string, unknown>;
  const session = (r['session'] ?? {}) as Record<string, unknown>;
  return `${String(user['uid'] ?? '')}\u0000${String(session['id'] ?? '')}\u0000${String(r['name'] ?? '')}`;
}
