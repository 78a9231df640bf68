// The Segment Export window cursor as pure functions: reading bookmarks, planning windows, writing them back.
import { describe, expect, it } from '@jest/globals';
import { InputError } from '@fullstory-singer/singer-core';
import { unixFromIso } from '../src/time.js';
import { completeWindow, planWindows, readWindowCursor, windowBookmark, windowCheckpoint, windowEnd } from '../src/segment-export/windows.js';
import type { WindowPlan } from '../src/segment-export/windows.js';

const H = 3600;
const T0 = unixFromIso('2026-11-20T00:00:00Z')!;
const plan = (extra: Partial<WindowPlan> = {}): WindowPlan => ({ windowSeconds: H, startDate: T0, settledBefore: T0 + 5 * H, ...extra });
const take = <T>(it: Iterable<T>, n: number): T[] => {
  const out: T[] = [];
  for (const v of it) {
    out.push(v);
    if (out.length === n) break;
  }
  return out;
};

describe('planWindows', () => {
  it('cuts contiguous windows aligned to the window length, never ending after now - delay', () => {
    expect([...planWindows({}, plan())]).toEqual([0, 1, 2, 3, 4].map((k) => ({ start: T0 + k * H, end: T0 + (k + 1) * H, skip: 0 })));
    // settledBefore inside a window: that window waits for a later run.
    expect([...planWindows({}, plan({ settledBefore: T0 + 2 * H + 59 }))]).toHaveLength(2);
  });

  it('starts a misaligned start_date with a short window up to the next boundary, then aligned ones', () => {
    const windows = [...planWindows({}, plan({ startDate: T0 + 600, settledBefore: T0 + 3 * H }))];
    expect(windows).toEqual([
      { start: T0 + 600, end: T0 + H, skip: 0 },
      { start: T0 + H, end: T0 + 2 * H, skip: 0 },
      { start: T0 + 2 * H, end: T0 + 3 * H, skip: 0 },
    ]);
    // Aligned to multiples of the length since the epoch: a day window starts at midnight UTC.
    expect(windowEnd(T0 + 600, { windowSeconds: 86400 })).toBe(T0 + 86400);
    expect(windowEnd(T0 + 600, { windowSeconds: 900 })).toBe(T0 + 900);
  });

  it('end_date clips the last window and ends the plan', () => {
    expect([...planWindows({}, plan({ endDate: T0 + H + 1800 }))]).toEqual([
      { start: T0, end: T0 + H, skip: 0 },
      { start: T0 + H, end: T0 + H + 1800, skip: 0 },
    ]);
  });

  it('resumes after the bookmark; an in-progress window comes first, as saved, with its rows to skip', () => {
    const cursor = readWindowCursor({
      bookmarks: {
        events: {
          last_window_start: '2026-11-20T00:00:00Z',
          last_window_end: '2026-11-20T01:00:00Z',
          in_progress: { window_start: '2026-11-20T01:00:00Z', window_end: '2026-11-20T01:30:00Z', offset: 250, operation_id: 'op-7' },
        },
      },
    }, 'events');
    expect(take(planWindows(cursor, plan()), 3)).toEqual([
      { start: T0 + H, end: T0 + H + 1800, skip: 250, operationId: 'op-7' },
      { start: T0 + H + 1800, end: T0 + 2 * H, skip: 0 },
      { start: T0 + 2 * H, end: T0 + 3 * H, skip: 0 },
    ]);
    // The in-progress window is not exported while it ends inside the delay.
    expect([...planWindows(cursor, plan({ settledBefore: T0 + H + 60 }))]).toEqual([]);
  });

  it('is lazy: a backfill of years costs nothing up front', () => {
    const far = plan({ startDate: T0 - 10 * 365 * 86400, settledBefore: T0 });
    expect(take(planWindows({}, far), 2)[1]!.start).toBe(T0 - 10 * 365 * 86400 + H);
  });
});

describe('readWindowCursor', () => {
  it('reads the window bookmark, a carried-over Data Export bookmark, and the Python tap legacy state', () => {
    expect(readWindowCursor({}, 'events')).toEqual({});
    expect(readWindowCursor({ bookmarks: { individuals: { last_window_end: '2026-11-20T01:00:00Z' } } }, 'individuals')).toEqual({ emittedUntil: T0 + H });
    expect(readWindowCursor({ bookmarks: { events: { last_bundle_stop: '2026-11-20T00:00:00Z', last_bundle_id: 9 } } }, 'events')).toEqual({ emittedUntil: T0 });
    expect(readWindowCursor({ events: '2026-11-20T00:00:00Z' }, 'events')).toEqual({ emittedUntil: T0 });
    const bundleInProgress = { last_bundle_stop: '2026-11-20T00:00:00Z', in_progress: { bundle_id: 5, start: 'x', stop: 'y', offset: 3 } };
    expect(readWindowCursor({ bookmarks: { events: bundleInProgress } }, 'events')).toEqual({ emittedUntil: T0, droppedBundleInProgress: true });
  });

  it.each([
    [{ bookmarks: [] }, /"bookmarks" must be an object/],
    [{ bookmarks: { events: 7 } }, /events\. must be an object/],
    [{ bookmarks: { events: { last_window_end: 'soon' } } }, /last_window_end must be an RFC 3339/],
    [{ bookmarks: { events: { last_window_start: '2026-11-20T02:00:00Z', last_window_end: '2026-11-20T01:00:00Z' } } }, /last_window_start must be before/],
    [{ bookmarks: { events: { in_progress: { window_start: '2026-11-20T01:00:00Z', window_end: '2026-11-20T01:00:00Z', offset: 0 } } } }, /window_end must be after/],
    [{ bookmarks: { events: { in_progress: { window_start: '2026-11-20T01:00:00Z', window_end: '2026-11-20T02:00:00Z', offset: 1.5 } } } }, /offset must be an integer/],
    [{ bookmarks: { events: { in_progress: { window_start: '2026-11-20T01:00:00Z', window_end: '2026-11-20T02:00:00Z', offset: 0, operation_id: 4 } } } }, /operation_id must be/],
    // A window in progress that does not start where the last whole one ended would overlap or skip.
    [{ bookmarks: { events: { last_window_end: '2026-11-20T01:00:00Z', in_progress: { window_start: '2026-11-20T02:00:00Z', window_end: '2026-11-20T03:00:00Z', offset: 0 } } } }, /window_start must be 2026-11-20T01:00:00Z/],
  ])('rejects %j with an InputError naming the file and field', (state, message) => {
    expect(() => readWindowCursor(state as Record<string, unknown>, 'events', 'state.json')).toThrow(InputError);
    expect(() => readWindowCursor(state as Record<string, unknown>, 'events', 'state.json')).toThrow(message);
    expect(() => readWindowCursor(state as Record<string, unknown>, 'events', 'state.json')).toThrow(/^state\.json: /);
  });
});

describe('bookmarks written', () => {
  it('name the last whole window, and the window in progress with its offset and operation', () => {
    const done = completeWindow({ start: T0, end: T0 + H });
    expect(windowBookmark(done)).toEqual({ last_window_start: '2026-11-20T00:00:00Z', last_window_end: '2026-11-20T01:00:00Z' });
    const mid = windowCheckpoint(done, { start: T0 + H, end: T0 + 2 * H }, 300, 'op-1');
    const bookmark = windowBookmark(mid);
    expect(bookmark).toEqual({
      last_window_start: '2026-11-20T00:00:00Z',
      last_window_end: '2026-11-20T01:00:00Z',
      in_progress: { window_start: '2026-11-20T01:00:00Z', window_end: '2026-11-20T02:00:00Z', offset: 300, operation_id: 'op-1' },
    });
    // What is written reads back to the same cursor.
    expect(readWindowCursor({ bookmarks: { events: bookmark } }, 'events')).toEqual(mid);
  });
});
