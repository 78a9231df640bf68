/**
 * The window cursor of a Segment Export stream, as pure functions: reading a stream's bookmark,
 * planning the windows to export, and the cursor after a checkpoint or a whole window.
 *
 * Windows are contiguous `[s, e)` in unix seconds. The first starts at the bookmark (else
 * `start_date`); each ends at the next multiple of the window length since the epoch, so windows
 * are aligned and every run cuts time the same way; `end_date` clips the last one. A window is
 * exported only once its end is at least the delay in the past (FullStory recommends 24 h for
 * settled values, https://help.fullstory.com/hc/en-us/articles/360020829273), so no window ever
 * ends inside the delay and the bookmark never has to move back. Row order within an export file
 * is not documented, so the bookmark is the end of the last window emitted whole, never a time
 * read from the rows.
 *
 * State shape, per stream:
 * ```json
 * {"bookmarks": {"events": {"last_window_start": "2026-11-20T00:00:00Z", "last_window_end": "2026-11-20T01:00:00Z",
 *   "in_progress": {"window_start": "2026-11-20T01:00:00Z", "window_end": "2026-11-20T02:00:00Z", "offset": 30000, "operation_id": "..."}}}}
 * ```
 */
import { findBookmark, isObject } from '../state-bookmark.js';
import { isoFromUnix, unixFromIso } from '../time.js';

/** One export window, unix seconds, end exclusive. */
interface Window {
  start: number;
  end: number;
}

/** A window that was being emitted when the last checkpoint was written. */
interface WindowInProgress extends Window {
  /** Rows of the window's file already emitted (0-based index of the next one). */
  offset: number;
  /** The export made for it, so a resumed run can download the same file instead of exporting again. */
  operationId?: string;
}

/** A Segment Export stream's bookmark. */
export interface WindowCursor {
  /**
   * Everything before this was emitted (unix seconds): the end of the last window emitted whole, or a
   * bookmark carried over from the legacy Data Export (`last_bundle_stop`) or the Python tap, so
   * switching sources needs no full resync.
   */
  emittedUntil?: number;
  /** The start of the last window emitted whole (for the record; resuming needs only its end). */
  lastWindowStart?: number;
  inProgress?: WindowInProgress;
  /** The state held a legacy bundle half emitted; its window is not one of ours, so it is left behind. */
  droppedBundleInProgress?: boolean;
}

/** How windows are cut. */
export interface WindowPlan {
  /** Window length, seconds. */
  windowSeconds: number;
  /** `start_date`, unix seconds. */
  startDate: number;
  /** `end_date`, unix seconds. */
  endDate?: number;
  /** No window may end after this (now minus the delay), unix seconds. */
  settledBefore: number;
}

/**
 * Reads the bookmark of `stream` from a state object. A timestamp without a UTC offset is read as
 * UTC, never in the local time zone, and `warn` is told (as the bundle cursor does).
 * @param source named in errors (the state file path)
 * @throws InputError (exit 3) naming the source and the bad field
 */
export function readWindowCursor(
  state: Record<string, unknown>,
  stream: string,
  source = 'state',
  warn?: (message: string) => void,
): WindowCursor {
  const { raw, bad, timestamp } = findBookmark(state, stream, source, warn);
  if (raw === undefined || raw === null) return {};
  const time = (value: unknown, field: string): number => unixFromIso(timestamp(value, field))!;
  // The Python tap's legacy state: one timestamp.
  if (typeof raw === 'string') return { emittedUntil: time(raw, '(legacy)') };
  if (!isObject(raw)) throw bad('', 'an object or a legacy RFC 3339 timestamp');
  const cursor: WindowCursor = {};
  if (raw['last_window_end'] !== undefined) {
    cursor.emittedUntil = time(raw['last_window_end'], 'last_window_end');
    if (raw['last_window_start'] !== undefined) {
      cursor.lastWindowStart = time(raw['last_window_start'], 'last_window_start');
      if (cursor.lastWindowStart > cursor.emittedUntil) throw bad('last_window_start', 'before last_window_end');
    }
  } else if (raw['last_bundle_stop'] !== undefined) {
    cursor.emittedUntil = time(raw['last_bundle_stop'], 'last_bundle_stop');
  }
  const ip = raw['in_progress'];
  if (ip !== undefined && ip !== null) {
    if (!isObject(ip)) throw bad('in_progress', 'an object');
    if (ip['bundle_id'] !== undefined) {
      cursor.droppedBundleInProgress = true;
      return cursor;
    }
    const start = time(ip['window_start'], 'in_progress.window_start');
    const end = time(ip['window_end'], 'in_progress.window_end');
    if (!(start < end)) throw bad('in_progress.window_end', 'after in_progress.window_start');
    const from = cursor.emittedUntil;
    if (from !== undefined && start !== from) {
      throw bad('in_progress.window_start', `${isoFromUnix(from)}, where the last whole window ends (windows never overlap or skip)`);
    }
    const offset = ip['offset'];
    if (typeof offset !== 'number' || !Number.isSafeInteger(offset) || offset < 0) throw bad('in_progress.offset', 'an integer ≥ 0');
    cursor.inProgress = { start, end, offset };
    const op = ip['operation_id'];
    if (op !== undefined && op !== null) {
      if (typeof op !== 'string' || op === '') throw bad('in_progress.operation_id', 'a non-empty string');
      cursor.inProgress.operationId = op;
    }
  }
  return cursor;
}

/** The end of the window that starts at `start`: the next multiple of `windowSeconds`, clipped to `endDate`. */
export function windowEnd(start: number, plan: Pick<WindowPlan, 'windowSeconds' | 'endDate'>): number {
  const aligned = (Math.floor(start / plan.windowSeconds) + 1) * plan.windowSeconds;
  return plan.endDate === undefined ? aligned : Math.min(aligned, plan.endDate);
}

/** A window to export, and how many of its first rows an earlier run already emitted. */
export interface PlannedWindow extends Window {
  skip: number;
  operationId?: string;
}

/**
 * The windows to export, in order: the window in progress first (as saved, with its rows to skip),
 * then contiguous aligned windows from the bookmark, while they are settled and start before
 * `end_date`. Lazy, so a long backfill costs nothing up front.
 */
export function* planWindows(cursor: WindowCursor, plan: WindowPlan): Generator<PlannedWindow> {
  let start = cursor.emittedUntil ?? plan.startDate;
  const ip = cursor.inProgress;
  if (ip !== undefined) {
    if (ip.end > plan.settledBefore || (plan.endDate !== undefined && ip.start >= plan.endDate)) return;
    yield { start: ip.start, end: ip.end, skip: ip.offset, ...(ip.operationId !== undefined ? { operationId: ip.operationId } : {}) };
    start = ip.end;
  }
  for (;;) {
    if (plan.endDate !== undefined && start >= plan.endDate) return;
    const end = windowEnd(start, plan);
    if (end > plan.settledBefore) return;
    yield { start, end, skip: 0 };
    start = end;
  }
}

/** The cursor once `window` was emitted whole. */
export function completeWindow(window: Window): WindowCursor {
  return { emittedUntil: window.end, lastWindowStart: window.start };
}

/** The cursor at a checkpoint inside `window`: `offset` rows emitted, from the export `operationId`. */
export function windowCheckpoint(cursor: WindowCursor, window: Window, offset: number, operationId?: string): WindowCursor {
  const next: WindowCursor = { inProgress: { start: window.start, end: window.end, offset, ...(operationId !== undefined ? { operationId } : {}) } };
  if (cursor.emittedUntil !== undefined) next.emittedUntil = cursor.emittedUntil;
  if (cursor.lastWindowStart !== undefined) next.lastWindowStart = cursor.lastWindowStart;
  return next;
}

/** The bookmark object of a cursor, as written in the state. */
export function windowBookmark(cursor: WindowCursor): Record<string, unknown> {
  const bookmark: Record<string, unknown> = {};
  if (cursor.lastWindowStart !== undefined) bookmark['last_window_start'] = isoFromUnix(cursor.lastWindowStart);
  if (cursor.emittedUntil !== undefined) bookmark['last_window_end'] = isoFromUnix(cursor.emittedUntil);
  const ip = cursor.inProgress;
  if (ip !== undefined) {
    bookmark['in_progress'] = {
      window_start: isoFromUnix(ip.start),
      window_end: isoFromUnix(ip.end),
      offset: ip.offset,
      ...(ip.operationId !== undefined ? { operation_id: ip.operationId } : {}),
    };
  }
  return bookmark;
}
