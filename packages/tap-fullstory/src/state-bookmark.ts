/**
 * Finding one stream's bookmark in a state object, as both cursors (bundles and export windows) read
 * it: under `bookmarks.<stream>`, or at the top level, where the Python tap kept its legacy one.
 */
import { InputError } from '@fullstory-singer/singer-core';
import { stateTimestamp } from './time.js';

export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A stream's bookmark as found, and the checks a cursor makes of its fields. */
interface Bookmark {
  /** The bookmark; undefined or null when the state has none for the stream. */
  raw: unknown;
  /** The error for a field of the bookmark that is not what it must be. */
  bad(field: string, expected: string): InputError;
  /**
   * A field's RFC 3339 timestamp; one without a UTC offset is read as UTC (never in the local time
   * zone) and `warn` is told.
   * @throws InputError when it is not a timestamp
   */
  timestamp(value: unknown, field: string): string;
}

/**
 * The bookmark of `stream` in `state`.
 * @param source named in errors (the state file path)
 * @throws InputError (exit 3) when `bookmarks` is not an object
 */
export function findBookmark(state: Record<string, unknown>, stream: string, source: string, warn?: (message: string) => void): Bookmark {
  const bookmarks = state['bookmarks'];
  if (bookmarks !== undefined && !isObject(bookmarks)) throw new InputError(`${source}: "bookmarks" must be an object`, { source });
  const bad = (field: string, expected: string): InputError =>
    new InputError(`${source}: bookmark ${stream}.${field} must be ${expected}`, { source });
  return {
    raw: bookmarks?.[stream] ?? state[stream],
    bad,
    timestamp: (value, field) => {
      const read = stateTimestamp(value, (utc) => warn?.(`${source}: bookmark ${stream}.${field} (${String(value)}) has no UTC offset; read as UTC: ${utc}`));
      if (read === undefined) throw bad(field, 'an RFC 3339 timestamp');
      return read;
    },
  };
}
