/** RFC 3339 ↔ unix seconds, in UTC: how both cursors write and read their times. */
import { DateTime } from 'luxon';

/** Unix seconds → `2026-11-20T00:00:00Z`. */
export function isoFromUnix(seconds: number): string {
  return DateTime.fromSeconds(seconds, { zone: 'utc' }).toISO({ suppressMilliseconds: true })!;
}

/** RFC 3339 → unix seconds (fractions dropped), or undefined when not a valid timestamp. */
export function unixFromIso(iso: string): number | undefined {
  const dt = DateTime.fromISO(iso, { setZone: true });
  return dt.isValid ? Math.floor(dt.toSeconds()) : undefined;
}
