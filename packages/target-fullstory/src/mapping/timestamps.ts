/**
 * Timestamp normalisation for the `timestamp` of events, which FullStory takes as an ISO 8601 /
 * RFC 3339 string (https://developer.fullstory.com/server/events/create-event/).
 *
 * Accepted inputs, all turned into RFC 3339 UTC with milliseconds (`2024-01-02T03:04:05.678Z`):
 * - RFC 3339 date-times with an offset (`Z`, `z` or `±hh:mm`; `T`, `t` or a space between date and time);
 * - dates (`2024-01-02`, read as midnight UTC);
 * - epoch seconds or milliseconds, as JSON numbers or digit strings: a value of 100,000,000,000 or more
 *   is milliseconds (that is 5138 AD in seconds, but March 1973 in milliseconds).
 * Anything else — a date-time without an offset, an impossible calendar date, a negative or fractional
 * digit string, a boolean — is not a timestamp, and the caller rejects the record.
 *
 * Written with a regular expression and `Date.UTC` rather than luxon because it runs once per event on
 * the hot path; the round-trip check below catches impossible dates such as February 30.
 */

/** Epoch values at or above this are milliseconds; below, seconds. */
export const EPOCH_MILLIS_THRESHOLD = 100_000_000_000;

const DATE_TIME =
  /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(?:([Zz])|([+-])(\d{2}):(\d{2}))$/;
const DATE_ONLY = /^(\d{4})-(\d{2})-(\d{2})$/;
const DIGITS = /^\d{1,16}$/;
/** Already in the output form (`toISOString`): the common case, from taps that write UTC with milliseconds. */
const CANONICAL = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
/** Largest instant `Date` can hold, in milliseconds (ECMAScript time value range). */
const MAX_TIME_MS = 8.64e15;

/**
 * Turn a record's timestamp value into RFC 3339 UTC (`toISOString` form).
 * @returns the normalised string, or `undefined` when the value is not an accepted timestamp.
 */
export function normalizeTimestamp(value: unknown): string | undefined {
  if (typeof value === 'number') return fromEpoch(value);
  if (typeof value !== 'string') return undefined;
  if (value.length === 24 && CANONICAL.test(value)) return canonicalDate(value) ? value : undefined;
  if (DIGITS.test(value)) return fromEpoch(Number(value));
  if (value.length === 10) {
    const d = DATE_ONLY.exec(value);
    return d ? fromParts(+d[1]!, +d[2]!, +d[3]!, 0, 0, 0, 0, 0) : undefined;
  }
  const m = DATE_TIME.exec(value);
  if (!m) return undefined;
  const millis = m[7] ? Math.floor(Number(`0.${m[7]}`) * 1000 + 1e-6) : 0;
  let offsetMinutes = 0;
  if (!m[8]) {
    const oh = +m[10]!;
    const om = +m[11]!;
    if (oh > 23 || om > 59) return undefined;
    offsetMinutes = (m[9] === '-' ? -1 : 1) * (oh * 60 + om);
  }
  return fromParts(+m[1]!, +m[2]!, +m[3]!, +m[4]!, +m[5]!, +m[6]!, millis, offsetMinutes);
}

/**
 * Whether `value` is a real instant written in the canonical form (`toISOString`:
 * `2024-01-02T03:04:05.678Z`, no leap second). Every such string is also a valid JSON Schema
 * `date-time`, so the validator takes this shortcut before the full RFC 3339 check (validation.ts).
 */
export function isCanonicalInstant(value: string): boolean {
  return value.length === 24 && CANONICAL.test(value) && canonicalDate(value);
}

const DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/** Whether a string of the canonical shape names a real instant (no February 30, no hour 24). */
function canonicalDate(v: string): boolean {
  const num = (at: number, len: number): number => {
    let x = 0;
    for (let i = at; i < at + len; i++) x = x * 10 + (v.charCodeAt(i) - 48);
    return x;
  };
  const year = num(0, 4);
  const month = num(5, 2);
  const day = num(8, 2);
  if (month < 1 || month > 12 || day < 1) return false;
  const leap = month === 2 && year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  if (day > DAYS[month - 1]! + (leap ? 1 : 0)) return false;
  return num(11, 2) <= 23 && num(14, 2) <= 59 && num(17, 2) <= 59;
}

function fromEpoch(n: number): string | undefined {
  if (!Number.isFinite(n) || n < 0) return undefined;
  const ms = n >= EPOCH_MILLIS_THRESHOLD ? n : n * 1000;
  if (ms > MAX_TIME_MS) return undefined;
  return new Date(Math.floor(ms)).toISOString();
}

function fromParts(
  year: number,
  month: number,
  day: number,
  hour: number,
  minute: number,
  second: number,
  millis: number,
  offsetMinutes: number,
): string | undefined {
  // RFC 3339 allows second 60 (leap second); Date cannot hold it, so it is read as :59.999.
  const leap = second === 60;
  const sec = leap ? 59 : second;
  const ms = leap ? 999 : millis;
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || sec > 59) return undefined;
  const local = Date.UTC(year, month - 1, day, hour, minute, sec, ms);
  // Date.UTC maps years 0-99 to 1900-1999; set the full year explicitly.
  const check = new Date(local);
  if (year < 100) check.setUTCFullYear(year);
  if (check.getUTCDate() !== day || check.getUTCMonth() !== month - 1) return undefined;
  const utc = check.getTime() - offsetMinutes * 60_000;
  if (!Number.isFinite(utc) || utc < -62_167_219_200_000 /* 0000-01-01 */) return undefined;
  const out = new Date(utc);
  if (out.getUTCFullYear() > 9999) return undefined;
  return out.toISOString();
}
