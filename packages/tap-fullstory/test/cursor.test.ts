import { describe, it, expect } from '@jest/globals';
import { InputError } from '@fullstory-singer/singer-core';
import { bundleBookmark, checkpoint, completeBundle, listStart, planBundles, readCursor as readStreamCursor, stateWithBookmark } from '../src/cursor.js';
import type { EventsCursor } from '../src/cursor.js';
import { isoFromUnix, unixFromIso } from '../src/time.js';

/** The bundle cursor of the `events` stream, as the tests below read and write it. */
const readCursor = (state: Record<string, unknown>, source?: string, warn?: (message: string) => void): EventsCursor =>
  readStreamCursor(state, 'events', source, warn);
const stateWithCursor = (base: Record<string, unknown>, cursor: EventsCursor): Record<string, unknown> =>
  stateWithBookmark(base, 'events', bundleBookmark(cursor));

const DAY = 86400;
const T0 = unixFromIso('2026-11-20T00:00:00Z')!;

describe('cursor', () => {
  it('converts between RFC 3339 and unix seconds in UTC', () => {
    expect(isoFromUnix(T0)).toBe('2026-11-20T00:00:00Z');
    expect(unixFromIso('2026-11-20T01:00:00+01:00')).toBe(T0);
    expect(unixFromIso('yesterday')).toBeUndefined();
    expect(unixFromIso('2026-11-20T00:00:00')).toBeUndefined();
  });

  it('starts from start_date on a fresh state, from last_bundle_stop otherwise', () => {
    expect(listStart(readCursor({}), '2026-11-19T00:00:00Z')).toBe(T0 - DAY);
    const cursor = readCursor({ bookmarks: { events: { last_bundle_stop: '2026-11-20T00:00:00Z', last_bundle_id: 7 } } });
    expect(cursor).toEqual({ lastBundleStop: '2026-11-20T00:00:00Z', lastBundleId: 7 });
    expect(listStart(cursor, '2020-01-01T00:00:00Z')).toBe(T0);
  });

  it("accepts the Python tap's legacy state", () => {
    expect(readCursor({ events: '2018-08-31T12:00:00Z' })).toEqual({ lastBundleStop: '2018-08-31T12:00:00Z' });
    expect(readCursor({ bookmarks: { events: '2018-08-31T12:00:00Z' } })).toEqual({ lastBundleStop: '2018-08-31T12:00:00Z' });
  });

  it('keeps a bundle id above 2^53 exact', () => {
    const big = 9007199254740993n;
    const cursor = readCursor({ bookmarks: { events: { last_bundle_stop: '2026-11-20T00:00:00Z', last_bundle_id: big } } });
    expect(cursor.lastBundleId).toBe(big);
  });

  it.each([
    [{ bookmarks: 3 }, /"bookmarks" must be an object/],
    [{ events: 'not a date' }, /events\.\(legacy\) must be an RFC 3339/],
    [{ bookmarks: { events: { last_bundle_stop: 5 } } }, /last_bundle_stop must be an RFC 3339/],
    [{ bookmarks: { events: { last_bundle_id: 'x' } } }, /last_bundle_id must be an integer/],
    [{ bookmarks: { events: { in_progress: { bundle_id: 1, start: '2026-11-20T00:00:00Z', stop: '2026-11-21T00:00:00Z', offset: -1 } } } }, /offset must be/],
    [{ bookmarks: { events: { in_progress: { bundle_id: 1, start: 'x', stop: '2026-11-21T00:00:00Z', offset: 0 } } } }, /in_progress\.start/],
    [{ bookmarks: { events: { last_window_end: '2026-11-20T00:00:00Z' } } }, /written with source segment_export/],
  ])('rejects a bad bookmark %j with an InputError naming the file', (state, message) => {
    expect(() => readCursor(state as Record<string, unknown>, 'state.json')).toThrow(InputError);
    expect(() => readCursor(state as Record<string, unknown>, 'state.json')).toThrow(message);
    expect(() => readCursor(state as Record<string, unknown>, 'state.json')).toThrow(/^state\.json: /);
  });

  it('plans bundles in Start order, applying end_date and the in-progress offset', () => {
    const listed = [
      { id: 3, start: T0 + DAY, stop: T0 + 2 * DAY },
      { id: 2, start: T0, stop: T0 + DAY },
      { id: 4, start: T0 + 2 * DAY, stop: T0 + 3 * DAY },
    ];
    expect(planBundles(listed, {}).bundles.map((b) => b.id)).toEqual([2, 3, 4]);
    expect(planBundles(listed, {}, T0 + 2 * DAY).bundles.map((b) => b.id)).toEqual([2, 3]);
    const resumed = planBundles(listed, readCursor({
      bookmarks: { events: { in_progress: { bundle_id: 2, start: isoFromUnix(T0), stop: isoFromUnix(T0 + DAY), offset: 30 } } },
    }));
    expect(resumed.bundles.map((b) => [b.id, b.skip, b.fromState])).toEqual([[2, 30, true], [3, 0, false], [4, 0, false]]);
  });

  it('never plans a bundle whose Stop is not after the bookmark, nor one ending before a bundle planned earlier', () => {
    const cursor = readCursor({ bookmarks: { events: { last_bundle_stop: isoFromUnix(T0 + DAY), last_bundle_id: 3 } } });
    const listed = [
      { id: 1, start: T0 - DAY, stop: T0 },
      { id: 2, start: T0, stop: T0 + DAY }, // ends at the bookmark: emitted already
      { id: 5, start: T0 + DAY, stop: T0 + 3 * DAY },
      { id: 6, start: T0 + 2 * DAY, stop: T0 + 2 * DAY + 60 }, // inside bundle 5's window, ends before it
      { id: 7, start: T0 + 3 * DAY, stop: T0 + 4 * DAY },
    ];
    const plan = planBundles(listed, cursor);
    expect(plan.bundles.map((b) => b.id)).toEqual([5, 7]);
    expect(plan.stale.map((b) => b.id)).toEqual([1, 2, 6]);
  });

  it('reads a timestamp without a UTC offset as UTC, whatever the local time zone, and says so', () => {
    const warnings: string[] = [];
    const cursor = readCursor({ bookmarks: { events: { last_bundle_stop: '2026-11-20T00:00:00', last_bundle_id: 1 } } }, 'state.json', (m) =>
      warnings.push(m),
    );
    expect(cursor.lastBundleStop).toBe('2026-11-20T00:00:00Z');
    expect(warnings).toEqual(['state.json: bookmark events.last_bundle_stop (2026-11-20T00:00:00) has no UTC offset; read as UTC: 2026-11-20T00:00:00Z']);
  });

  it('re-adds the in-progress bundle from the state when the listing no longer names it', () => {
    const cursor = checkpoint({}, { id: 1n, start: T0 - DAY, stop: T0 }, 5);
    const plan = planBundles([{ id: 2, start: T0, stop: T0 + DAY }], cursor);
    expect(plan.bundles).toEqual([
      { id: 1n, start: T0 - DAY, stop: T0, skip: 5, fromState: true },
      { id: 2, start: T0, stop: T0 + DAY, skip: 0, fromState: false },
    ]);
  });

  it('builds checkpoint and whole-bundle states, keeping other keys and dropping the legacy key', () => {
    const base = { events: '2018-08-31T12:00:00Z', bookmarks: { other: { x: 1 } }, currently_syncing: null };
    const prev = completeBundle({ id: 1, start: T0 - DAY, stop: T0 });
    const mid = checkpoint(prev, { id: 2, start: T0, stop: T0 + DAY }, 30000);
    expect(stateWithCursor(base, mid)).toEqual({
      currently_syncing: null,
      bookmarks: {
        other: { x: 1 },
        events: {
          last_bundle_stop: '2026-11-20T00:00:00Z',
          last_bundle_id: 1,
          in_progress: { bundle_id: 2, start: '2026-11-20T00:00:00Z', stop: '2026-11-21T00:00:00Z', offset: 30000 },
        },
      },
    });
    expect(readCursor(stateWithCursor(base, mid))).toEqual(mid);
    expect(stateWithCursor({}, completeBundle({ id: 2, start: T0, stop: T0 + DAY }))).toEqual({
      bookmarks: { events: { last_bundle_stop: '2026-11-21T00:00:00Z', last_bundle_id: 2 } },
    });
  });
});
