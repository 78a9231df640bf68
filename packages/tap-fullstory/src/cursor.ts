/**
 * The bundle-aware cursor of a Data Export stream, `events` (README "State and the bundle-aware cursor"), as pure
 * functions: reading the bookmark from a state object (the current shape or the Python tap's
 * legacy one), deciding where listing starts and which bundles to fetch, and building the STATE
 * values written after a checkpoint or a whole bundle.
 *
 * State shape:
 * ```json
 * {"bookmarks": {"events": {"last_bundle_stop": "2026-11-20T00:00:00Z", "last_bundle_id": 8812345,
 *   "in_progress": {"bundle_id": 8812346, "start": "...", "stop": "...", "offset": 30000}}}}
 * ```
 */
import { InputError } from '@fullstory-singer/singer-core';
import { findBookmark, isObject } from './state-bookmark.js';
import { isoFromUnix, unixFromIso } from './time.js';

/** One export bundle as listed by `export/list`: times in unix seconds. */
export interface BundleRef {
  id: number | bigint;
  start: number;
  stop: number;
}

/** A bundle that was being emitted when the last checkpoint was written. */
interface InProgress {
  bundleId: number | bigint;
  /** RFC 3339 */
  start: string;
  /** RFC 3339 */
  stop: string;
  /** Events of the bundle already emitted (0-based index of the next one). */
  offset: number;
}

/** The `events` bookmark, camelCased. */
export interface EventsCursor {
  /** RFC 3339 `Stop` of the last bundle emitted whole. */
  lastBundleStop?: string;
  lastBundleId?: number | bigint;
  inProgress?: InProgress;
}

/** A bundle to fetch, and how many of its first events to skip (already emitted by an earlier run). */
export interface PlannedBundle extends BundleRef {
  skip: number;
  /** True for the bundle the state's `in_progress` names. */
  fromState: boolean;
}

/** What {@link planBundles} decided. */
interface BundlePlan {
  /** The bundles to fetch, in order. */
  bundles: PlannedBundle[];
  /** Listed bundles left out because their `Stop` is not after the bookmark (a stale listing). */
  stale: BundleRef[];
}

function isInteger(value: unknown): value is number | bigint {
  return typeof value === 'bigint' || (typeof value === 'number' && Number.isInteger(value));
}

/**
 * Reads the bookmark of `stream` (`events`) from a state object.
 * Accepts the current shape, and the Python tap's legacy `{"events": "<RFC 3339>"}` (also under
 * `bookmarks`), so users can switch taps without a full resync. A timestamp without a UTC offset
 * is read as UTC (as the Python tap reads it), never in the local time zone, and `warn` is told.
 * @param source named in errors (the state file path)
 * @throws InputError (exit 3) naming the source and the bad field
 */
export function readCursor(
  state: Record<string, unknown>,
  stream: string,
  source = 'state',
  warn?: (message: string) => void,
): EventsCursor {
  const { raw, bad, timestamp } = findBookmark(state, stream, source, warn);
  if (raw === undefined || raw === null) return {};
  if (typeof raw === 'string') return { lastBundleStop: timestamp(raw, '(legacy)') };
  if (!isObject(raw)) throw bad('', 'an object or a legacy RFC 3339 timestamp');
  if (raw['last_window_end'] !== undefined || (isObject(raw['in_progress']) && raw['in_progress']['window_start'] !== undefined)) {
    // Windows and bundles do not line up: following the window bookmark would emit some events twice under other keys.
    throw new InputError(
      `${source}: bookmark ${stream} was written with source segment_export (it names export windows, not bundles); ` +
        'set source to segment_export to continue from it, or start from a state without it',
      { source },
    );
  }
  const cursor: EventsCursor = {};
  const stop = raw['last_bundle_stop'];
  if (stop !== undefined && stop !== null) cursor.lastBundleStop = timestamp(stop, 'last_bundle_stop');
  const id = raw['last_bundle_id'];
  if (id !== undefined && id !== null) {
    if (!isInteger(id)) throw bad('last_bundle_id', 'an integer');
    cursor.lastBundleId = id;
  }
  const ip = raw['in_progress'];
  if (ip !== undefined && ip !== null) {
    if (!isObject(ip)) throw bad('in_progress', 'an object');
    const { bundle_id: bundleId, start, stop: ipStop, offset } = ip;
    if (!isInteger(bundleId)) throw bad('in_progress.bundle_id', 'an integer');
    const startIso = timestamp(start, 'in_progress.start');
    const stopIso = timestamp(ipStop, 'in_progress.stop');
    if (typeof offset !== 'number' || !Number.isSafeInteger(offset) || offset < 0) throw bad('in_progress.offset', 'an integer ≥ 0');
    cursor.inProgress = { bundleId, start: startIso, stop: stopIso, offset };
  }
  return cursor;
}

/** Where listing starts, in unix seconds: the last bundle's `Stop`, else `start_date`. */
export function listStart(cursor: EventsCursor, startDate: string): number {
  const from = cursor.lastBundleStop ?? startDate;
  const seconds = unixFromIso(from);
  if (seconds === undefined) throw new InputError(`not an RFC 3339 timestamp: ${from}`);
  return seconds;
}

/**
 * Orders the listed bundles and applies the cursor: bundles are fetched in `Start` order (then Id);
 * only bundles whose `Start` is before `endSeconds` (when given); the in-progress bundle, if any,
 * is fetched again with its first `offset` events skipped (added from the state if the listing no
 * longer names it).
 *
 * The bookmark never goes back: a bundle whose `Stop` is not after the bookmark (nor after the
 * `Stop` of a bundle planned before it) is left out, whatever the listing said, so a stale or
 * out-of-order listing can never make the tap emit old bundles again.
 */
export function planBundles(listed: readonly BundleRef[], cursor: EventsCursor, endSeconds?: number): BundlePlan {
  const byId = new Map<string, PlannedBundle>();
  for (const b of listed) {
    if (endSeconds !== undefined && b.start >= endSeconds) continue;
    byId.set(String(b.id), { id: b.id, start: b.start, stop: b.stop, skip: 0, fromState: false });
  }
  const ip = cursor.inProgress;
  if (ip) {
    const key = String(ip.bundleId);
    const found = byId.get(key);
    if (found) {
      found.skip = ip.offset;
      found.fromState = true;
    } else {
      byId.set(key, { id: ip.bundleId, start: unixFromIso(ip.start)!, stop: unixFromIso(ip.stop)!, skip: ip.offset, fromState: true });
    }
  }
  const sorted = [...byId.values()].sort((a, b) => a.start - b.start || compareIds(a.id, b.id));
  const plan: BundlePlan = { bundles: [], stale: [] };
  let bookmark = cursor.lastBundleStop === undefined ? -Infinity : unixFromIso(cursor.lastBundleStop)!;
  for (const b of sorted) {
    if (b.stop <= bookmark) {
      plan.stale.push({ id: b.id, start: b.start, stop: b.stop });
      continue;
    }
    plan.bundles.push(b);
    bookmark = b.stop;
  }
  return plan;
}

function compareIds(a: number | bigint, b: number | bigint): number {
  const x = BigInt(a);
  const y = BigInt(b);
  return x < y ? -1 : x > y ? 1 : 0;
}

/** The cursor after a bundle was emitted whole: its `Stop` and Id, no `in_progress`. */
export function completeBundle(bundle: BundleRef): EventsCursor {
  return { lastBundleStop: isoFromUnix(bundle.stop), lastBundleId: bundle.id };
}

/** The cursor at a mid-bundle checkpoint: `offset` events of `bundle` emitted. */
export function checkpoint(cursor: EventsCursor, bundle: BundleRef, offset: number): EventsCursor {
  return {
    ...(cursor.lastBundleStop !== undefined ? { lastBundleStop: cursor.lastBundleStop } : {}),
    ...(cursor.lastBundleId !== undefined ? { lastBundleId: cursor.lastBundleId } : {}),
    inProgress: { bundleId: bundle.id, start: isoFromUnix(bundle.start), stop: isoFromUnix(bundle.stop), offset },
  };
}

/** The bookmark object of a cursor, as written in the state. */
export function bundleBookmark(cursor: EventsCursor): Record<string, unknown> {
  const events: Record<string, unknown> = {};
  if (cursor.lastBundleStop !== undefined) events['last_bundle_stop'] = cursor.lastBundleStop;
  if (cursor.lastBundleId !== undefined) events['last_bundle_id'] = cursor.lastBundleId;
  if (cursor.inProgress) {
    const ip = cursor.inProgress;
    events['in_progress'] = { bundle_id: ip.bundleId, start: ip.start, stop: ip.stop, offset: ip.offset };
  }
  return events;
}

/**
 * The full state value to emit: the input state with `bookmarks.<stream>` replaced by `bookmark`
 * (other streams' bookmarks and top-level keys are kept; the Python tap's legacy top-level key of
 * the stream is dropped, since the bookmark now lives under `bookmarks`). Both cursors write through it.
 */
export function stateWithBookmark(base: Record<string, unknown>, stream: string, bookmark: Record<string, unknown>): Record<string, unknown> {
  const { [stream]: _legacy, ...rest } = base;
  const bookmarks = isObject(rest['bookmarks']) ? rest['bookmarks'] : {};
  return { ...rest, bookmarks: { ...bookmarks, [stream]: bookmark } };
}
