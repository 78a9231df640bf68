/** RFC 3339 ↔ unix seconds, in UTC: how both cursors write and read their times. */
import { DateTime } from 'luxon';

/** Unix seconds → `2026-11-20T00:00:00Z`. */
export function isoFromUnix(seconds: number): string {
  return DateTime.fromSeconds(seconds, { zone: 'utc' }).toISO({ suppressMilliseconds: true })!;
}

/** RFC 3339 → unix seconds (fractions dropped), or undefined when not a valid timestamp with an offset. */
export function unixFromIso(iso: string): number | undefined {
  if (!HAS_OFFSET.test(iso)) return undefined;
  const dt = DateTime.fromISO(iso, { setZone: true });
  return dt.isValid ? Math.floor(dt.toSeconds()) : undefined;
}

/** Ends in `Z` or a `±hh:mm` / `±hhmm` / `±hh` offset. */
const HAS_OFFSET = /(?:[zZ]|[+-]\d{2}(?::?\d{2})?)$/;

/**
 * A timestamp read from a state file, as RFC 3339: one without a UTC offset is read as UTC (as the
 * Python tap reads it), never in the local time zone, and `onUtc` is told what it was read as.
 * @returns undefined when `value` is not a timestamp at all
 */
export function stateTimestamp(value: unknown, onUtc: (read: string) => void): string | undefined {
  if (typeof value !== 'string') return undefined;
  if (unixFromIso(value) !== undefined) return value;
  const utc = DateTime.fromISO(value, { zone: 'utc' });
  if (!utc.isValid || !/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/.test(value)) return undefined;
  const read = isoFromUnix(Math.floor(utc.toSeconds()));
  onUtc(read);
  return read;
}
